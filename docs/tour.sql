-- A tour of retailml on the demo database: run `make demo`, then `make psql`
-- and paste these statements (or: \i docs/tour.sql). The whole tour runs in a few seconds.
-- It reads the demo's tables and saves one segment model, 'tour'.

-- 1. A review's embedding: 384 numbers of unit length.
SELECT array_length(embed_review('Arrived fast, tastes great'), 1) AS dimensions,
       round(sqrt((SELECT sum(x * x) FROM unnest(embed_review('Arrived fast, tastes great')) x))::numeric, 3) AS length;

-- 2. How positive are the first reviews? (0 = negative, 1 = positive)
SELECT review_id, score AS stars, round(review_sentiment(review)::numeric, 2) AS positive,
       left(review, 60) AS review
  FROM reviews ORDER BY review_id LIMIT 5;

-- 3. The reviews nearest a question, among the 300 the demo embedded.
SELECT review_id, round(cosine_similarity(embedding, embed_review('strong fresh coffee'))::numeric, 3) AS cosine,
       left(review, 60) AS review
  FROM review_embeddings ORDER BY cosine DESC LIMIT 3;

-- 4. What is in the product photos (ImageNet classes).
SELECT p.name, c.label, round(c.probability::numeric, 2) AS probability
  FROM product_photos p CROSS JOIN LATERAL classify_image(p.photo, top_k => 1) c
 ORDER BY p.name LIMIT 5;

-- 5. The photos that look most like the orange.
SELECT b.name, round(cosine_similarity(a.embedding, b.embedding)::numeric, 3) AS cosine
  FROM photo_embeddings a JOIN photo_embeddings b ON b.name <> a.name
 WHERE a.name = 'opencv_orange.jpg' ORDER BY cosine DESC LIMIT 3;

-- 6. A forecast of a short series, with a 95% interval.
SELECT step, round(forecast::numeric, 1) AS forecast, round(lower::numeric, 1) AS lower_95, round(upper::numeric, 1) AS upper_95
  FROM forecast_sales(ARRAY[12, 15, 14, 18, 20, 19, 23]::float8[], horizon => 4);

-- 7. Every segment's weekly sales forecast 4 weeks ahead, straight from a table.
SELECT series_id AS segment, period::date AS week, round(forecast::numeric) AS forecast,
       round(lower::numeric) AS lower_95, round(upper::numeric) AS upper_95
  FROM forecast_sales('segment_weekly'::regclass, time_column => 'week', value_column => 'sales',
                      series_column => 'segment', horizon => 4)
 ORDER BY 1, 2 LIMIT 8;

-- 8. How well would that have worked? Four folds of 8 weeks on the PRODUCE department.
SELECT fold, origin, round(smape::numeric, 1) AS smape, round(mase::numeric, 2) AS mase,
       round(coverage::numeric, 2) AS coverage, method
  FROM backtest_sales((SELECT array_agg(sales ORDER BY week) FROM department_weekly WHERE department = 'PRODUCE'),
                      horizon => 8, folds => 4);

-- 9. Recency, frequency and monetary value per household, from 1.47 million transactions.
SELECT customer_id, round(recency_days::numeric, 1) AS recency_days, frequency, round(monetary::numeric) AS monetary
  FROM customer_rfm('transactions'::regclass, customer_column => 'household_id',
                    time_column => 'transaction_timestamp', amount_column => 'sales_value')
 ORDER BY monetary DESC LIMIT 5;

-- 10. Four segments of the households (the demo made household_features from
--     customer_rfm and the demographics), spend compared in log dollars, saved as 'tour'.
SELECT segment, count(*) AS households
  FROM segment_customers('household_features'::regclass, k => 4,
                         features => ARRAY['recency_days', 'frequency', 'monetary', 'kids', 'home_ownership'],
                         log_features => ARRAY['frequency', 'monetary'], model_name => 'tour')
 GROUP BY segment ORDER BY segment;

-- 11. What each segment is like.
SELECT DISTINCT segment, customers, round(share::numeric, 2) AS share, label
  FROM segment_profiles('tour') ORDER BY segment;

-- 12. Score households with the saved model (here the same table; new customers work the same way).
SELECT segment, count(*) AS households, round(avg(distance)::numeric, 2) AS mean_distance
  FROM assign_segments('tour', 'household_features'::regclass) GROUP BY segment ORDER BY segment;

-- 13. The models this install answers with, and their checksums.
SELECT name, kind, dimensions, left(sha256, 12) AS sha256, loaded FROM retailml.models;
