-- The integrated workflow: customers segmented on what they buy and what
-- they write, sales forecast per segment, and a new product with no sales
-- forecast from the products whose photos look most like it.
--
-- The public data sets do not meet: no Complete Journey household wrote an
-- Amazon review, and the sample photos are of no Complete Journey product.
-- So this script makes two links, both made up and both plain:
-- - reviews: the first 1,602 Fine Food reviews go two each to the 801
--   households with demographics, in household order;
-- - photos: eight photos stand for eight product categories (an apple photo
--   for APPLES, the orange for CITRUS, ...).
-- Everything after the links is the real workflow on real transactions.
\set ON_ERROR_STOP 1
\pset footer off

\echo
\echo '5. Integrated workflow: segments from purchases and reviews, forecasts per segment, a cold-start forecast'
CREATE TABLE household_reviews AS
WITH households AS (
  SELECT household_id, row_number() OVER (ORDER BY household_id) - 1 AS slot FROM demographics
), numbered AS (
  SELECT review, row_number() OVER (ORDER BY review_id) - 1 AS n FROM reviews
)
SELECT h.household_id, r.review
  FROM numbered r JOIN households h ON h.slot = r.n % (SELECT count(*) FROM households)
 WHERE r.n < 2 * (SELECT count(*) FROM households);

CREATE TABLE household_profile AS
SELECT f.customer_id, f.recency_days, f.frequency, f.monetary, f.avg_order_value,
       r.sentiment, r.review_embedding
  FROM customer_rfm('transactions'::regclass, customer_column => 'household_id',
                    time_column => 'transaction_timestamp', amount_column => 'sales_value') f
  JOIN (SELECT household_id::text AS customer_id, avg(review_sentiment(review)) AS sentiment,
               avg_embedding(embed_review(review)) AS review_embedding
          FROM household_reviews GROUP BY household_id) r USING (customer_id);

\echo '5a. Segments on RFM, review sentiment and the average review embedding (3 principal components)'
CREATE TABLE household_segments_reviews AS
SELECT * FROM segment_customers('household_profile'::regclass, k => 4,
                                log_features => ARRAY['frequency', 'monetary', 'avg_order_value'],
                                components => 3, model_name => 'households_reviews');
SELECT segment, customers AS households, round(share::numeric, 2) AS share,
       round(max(mean) FILTER (WHERE feature = 'recency_days')::numeric, 1) AS recency_days,
       round(max(median) FILTER (WHERE feature = 'monetary')::numeric, 0) AS median_spend,
       round(max(mean) FILTER (WHERE feature = 'sentiment')::numeric, 2) AS sentiment,
       label
  FROM segment_profiles('households_reviews')
 GROUP BY segment, customers, share, label ORDER BY segment;

\echo '5b. Weekly sales per segment, forecast 8 weeks ahead (95% interval), and each method''s backtest error'
CREATE TABLE segment_weekly AS
SELECT s.segment, date_trunc('week', t.transaction_timestamp) AS week, sum(t.sales_value) AS sales
  FROM transactions t JOIN household_segments_reviews s ON s.customer_id = t.household_id::text
 WHERE t.week >= 2
 GROUP BY 1, 2;
SELECT segment, week_ahead, week, forecast, lower_95, upper_95
  FROM (SELECT series_id AS segment, row_number() OVER (PARTITION BY series_id ORDER BY period) AS week_ahead,
               period::date AS week, round(forecast::numeric) AS forecast,
               round(lower::numeric) AS lower_95, round(upper::numeric) AS upper_95
          FROM forecast_sales('segment_weekly'::regclass, time_column => 'week', value_column => 'sales',
                              series_column => 'segment', horizon => 8)) f
 WHERE week_ahead IN (1, 8)
 ORDER BY 1, 2;
-- Four folds of 8 weeks each; the method is the last fold's (the one
-- nearest the forecast above), since auto may choose differently per fold.
SELECT w.segment, round(avg(b.smape)::numeric, 1) AS backtest_smape, round(avg(b.mase)::numeric, 2) AS backtest_mase,
       round(avg(b.coverage)::numeric, 2) AS interval_coverage, (array_agg(b.method ORDER BY b.fold DESC))[1] AS method
  FROM (SELECT segment, array_agg(sales ORDER BY week) AS sales FROM segment_weekly GROUP BY segment) w,
       LATERAL backtest_sales(w.sales, horizon => 8, folds => 4) b
 GROUP BY w.segment ORDER BY 1;

\echo '5c. Cold start: CITRUS as if it were new, forecast from the categories whose photos look most like the orange'
CREATE TABLE photo_categories (photo text PRIMARY KEY, product_category text NOT NULL);
INSERT INTO photo_categories VALUES
  ('opencv_apple.jpg', 'APPLES'), ('opencv_orange.jpg', 'CITRUS'), ('opencv_fruits.jpg', 'TROPICAL FRUIT'),
  ('opencv_smarties.png', 'CANDY - PACKAGED'), ('skimage_coffee.png', 'COFFEE'),
  ('sklearn_flower.jpg', 'FLORAL-FRESH CUT'), ('opencv_plant.jpg', 'FLORAL-FOLIAGE PLANTS'),
  ('opencv_cards.png', 'GREETING CARDS/WRAP/PARTY SPLY');
CREATE TABLE category_weekly AS
SELECT p.product_category, t.week, sum(t.sales_value) AS sales
  FROM transactions t JOIN products p USING (product_id)
 WHERE p.product_category IN (SELECT product_category FROM photo_categories) AND t.week >= 2
 GROUP BY 1, 2;
-- The two photos nearest the orange, by cosine of their MobileNetV2 embeddings.
CREATE TABLE analogues AS
SELECT c.product_category, cosine_similarity(embed_image(p.photo), embed_image(o.photo)) AS cosine
  FROM photo_categories c JOIN product_photos p ON p.name = c.photo,
       product_photos o
 WHERE o.name = 'opencv_orange.jpg' AND c.photo <> 'opencv_orange.jpg'
 ORDER BY cosine DESC LIMIT 2;
SELECT product_category AS analogue, round(cosine::numeric, 3) AS cosine FROM analogues ORDER BY cosine DESC;
-- "Launch" after week 45: the analogues' mean weekly sales up to then,
-- forecast 8 weeks, against what CITRUS actually sold in weeks 46-53.
CREATE TABLE cold_start AS
WITH analogue_mean AS (
  SELECT week, avg(sales) AS sales FROM category_weekly
   WHERE product_category IN (SELECT product_category FROM analogues) AND week <= 45 GROUP BY week
)
SELECT f.step, 45 + f.step AS week, f.forecast, f.lower, f.upper, c.sales AS actual
  FROM forecast_sales((SELECT array_agg(sales ORDER BY week) FROM analogue_mean), horizon => 8) f
  JOIN category_weekly c ON c.product_category = 'CITRUS' AND c.week = 45 + f.step;
SELECT week, round(forecast::numeric) AS forecast, round(lower::numeric) AS lower_95,
       round(upper::numeric) AS upper_95, round(actual::numeric) AS citrus_actual
  FROM cold_start ORDER BY week;
SELECT 'auto (mean of Theta and AutoETS) on the analogues'' mean' AS method,
       round(avg(200 * abs(actual - forecast) / (abs(actual) + abs(forecast)))::numeric, 1) AS smape_vs_citrus,
       round(avg((actual BETWEEN lower AND upper)::int)::numeric, 2) AS interval_coverage
  FROM cold_start;
