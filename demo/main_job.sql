-- The main job: segment households, forecast department sales, find similar
-- reviews and look-alike product photos, all inside the database.
\set ON_ERROR_STOP 1
\pset footer off

\echo
\echo '1. Customer segments: RFM from the transactions, with demographics, for households that have them'
CREATE TABLE household_features AS
SELECT r.customer_id, r.recency_days, r.frequency, r.monetary, r.avg_order_value,
       rtrim(d.household_size, '+')::float8 AS household_size,
       rtrim(d.kids_count, '+')::float8 AS kids,
       d.home_ownership, d.marital_status
  FROM customer_rfm('transactions'::regclass, customer_column => 'household_id',
                    time_column => 'transaction_timestamp', amount_column => 'sales_value') r
  JOIN demographics d ON d.household_id::text = r.customer_id;

-- Five segments (k => NULL would choose 2 here, at a weak mean silhouette
-- of 0.25); spend is skewed, so it is compared in log dollars;
-- the two text columns are one-hot encoded. The model is saved.
CREATE TABLE household_segments AS
SELECT * FROM segment_customers('household_features'::regclass, k => 5,
                                features => ARRAY['recency_days', 'frequency', 'monetary', 'avg_order_value',
                                                  'household_size', 'kids', 'home_ownership', 'marital_status'],
                                log_features => ARRAY['frequency', 'monetary', 'avg_order_value'],
                                model_name => 'households');

SELECT segment, customers AS households, round(share::numeric, 2) AS share,
       round(max(mean) FILTER (WHERE feature = 'recency_days')::numeric, 1) AS recency_days,
       round(max(mean) FILTER (WHERE feature = 'frequency')::numeric, 1) AS visits,
       round(max(median) FILTER (WHERE feature = 'monetary')::numeric, 0) AS median_spend,
       round(max(mean) FILTER (WHERE feature = 'household_size')::numeric, 1) AS household_size,
       round(max(mean) FILTER (WHERE feature = 'kids')::numeric, 1) AS kids,
       round(max(mean) FILTER (WHERE feature = 'home_ownership=Homeowner')::numeric, 2) AS homeowners,
       label
  FROM segment_profiles('households')
 GROUP BY segment, customers, share, label ORDER BY segment;

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
