-- The main job: segment households, forecast department sales, find similar
-- reviews and look-alike product photos, all inside the database.
\set ON_ERROR_STOP 1
\pset footer off

\echo
\echo '1. Customer segments: one row of features per household (with demographics), k = 5'
CREATE TABLE household_features AS
SELECT t.household_id,
       extract(epoch FROM (SELECT max(transaction_timestamp) FROM transactions) - max(t.transaction_timestamp)) / 86400
         AS recency_days,
       count(DISTINCT t.basket_id)::float8 AS frequency,
       sum(t.sales_value) AS monetary,
       sum(t.sales_value) / count(DISTINCT t.basket_id) AS basket_value,
       sum(t.quantity)::float8 / count(DISTINCT t.basket_id) AS basket_items,
       rtrim(d.household_size, '+')::float8 AS household_size,
       rtrim(d.kids_count, '+')::float8 AS kids
  FROM transactions t JOIN demographics d USING (household_id)
 GROUP BY t.household_id, d.household_size, d.kids_count;
ALTER TABLE household_features ADD PRIMARY KEY (household_id);

CREATE TABLE household_segments AS
SELECT * FROM segment_customers('household_features'::regclass, k => 5, model_name => 'households');

SELECT s.segment,
       count(*) AS households,
       round(avg(f.recency_days)::numeric, 1) AS recency_days,
       round(avg(f.frequency)::numeric, 1) AS baskets,
       round(avg(f.monetary)::numeric, 0) AS spend,
       round(avg(f.basket_value)::numeric, 2) AS basket_value,
       round(avg(f.basket_items)::numeric, 1) AS basket_items,
       round(avg(f.household_size)::numeric, 1) AS household_size,
       round(avg(f.kids)::numeric, 1) AS kids,
       round(avg(s.distance)::numeric, 2) AS mean_distance
  FROM household_segments s JOIN household_features f ON f.household_id::text = s.customer_id
 GROUP BY s.segment ORDER BY s.segment;

\echo
\echo '2. Weekly sales of the ten largest departments (weeks 2-53 of 2017; week 1 is a single day), forecast 8 weeks ahead, 95% interval'
-- week_start dates each week for the report's charts: the Monday of the
-- week's first sale (plus three days, as a week's first sale can fall late on
-- the Sunday before).
CREATE TABLE department_weekly AS
SELECT p.department, t.week, date_trunc('week', min(t.transaction_timestamp) + interval '3 days') AS week_start,
       sum(t.sales_value) AS sales
  FROM transactions t JOIN products p USING (product_id)
 WHERE t.week >= 2
 GROUP BY p.department, t.week;

CREATE TABLE department_forecasts AS
WITH top AS (
  SELECT department FROM department_weekly GROUP BY department ORDER BY sum(sales) DESC LIMIT 10
), series AS (
  SELECT department, array_agg(sales ORDER BY week) AS sales
    FROM department_weekly WHERE department IN (SELECT department FROM top) GROUP BY department
)
SELECT s.department, s.sales[array_length(s.sales, 1)] AS last_week, f.*
  FROM series s CROSS JOIN LATERAL forecast_sales(s.sales, horizon => 8) f;

SELECT f.department,
       round(f.last_week::numeric) AS last_week,
       f.step AS week_ahead,
       round(f.forecast::numeric) AS forecast,
       round(f.lower::numeric) AS lower_95,
       round(f.upper::numeric) AS upper_95
  FROM department_forecasts f
 WHERE f.step IN (1, 4, 8)
 ORDER BY f.last_week DESC, f.step;

\echo
\echo '3. Review embeddings: 300 Amazon Fine Food reviews, and the three nearest neighbours of one of them'
CREATE TABLE review_embeddings AS
SELECT review_id, product, review, embed_review(review) AS embedding
  FROM reviews ORDER BY review_id LIMIT 300;

-- Embeddings have unit length, so the dot product is the cosine similarity.
CREATE FUNCTION pg_temp.dot(a real[], b real[]) RETURNS float8 LANGUAGE sql IMMUTABLE AS
  'SELECT sum(x::float8 * y) FROM unnest(a, b) AS u(x, y)';

-- The query is a real review: the first one about coffee.
SELECT review_id AS query_id, left(regexp_replace(review, '\s+', ' ', 'g'), 150) AS query_review
  FROM review_embeddings WHERE review ILIKE '%coffee%' ORDER BY review_id LIMIT 1 \gset
\echo 'query: review' :query_id '-' :query_review
SELECT round(pg_temp.dot(r.embedding, q.embedding)::numeric, 3) AS cosine,
       r.review_id, left(regexp_replace(r.review, '\s+', ' ', 'g'), 110) AS review
  FROM review_embeddings r, review_embeddings q
 WHERE q.review_id = :query_id AND r.review_id <> q.review_id
 ORDER BY 1 DESC LIMIT 3;

\echo
\echo '4. Product photo embeddings: the closest pair of photos'
CREATE TABLE photo_embeddings AS SELECT name, embed_image(photo) AS embedding FROM product_photos;
SELECT array_length(embedding, 1) AS dims, count(*) AS photos FROM photo_embeddings GROUP BY 1;
SELECT a.name AS photo, b.name AS closest_photo, round(pg_temp.dot(a.embedding, b.embedding)::numeric, 3) AS cosine
  FROM photo_embeddings a JOIN photo_embeddings b ON a.name < b.name
 ORDER BY 3 DESC LIMIT 3;
