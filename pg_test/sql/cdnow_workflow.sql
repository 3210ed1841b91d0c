-- The whole segmentation workflow on real data, in SQL: CDNOW purchases
-- (69,659 orders by 23,570 customers, 1997-01 to 1998-06; the file ships
-- with the core crate's tests) to RFM features, segments with k chosen by
-- silhouette and skewed money taken through log1p, a saved model, profiles,
-- and scoring customers with the saved model.
CREATE TABLE cdnow (customer_id int, order_date date, n_cds int, amount_usd numeric);
\copy cdnow FROM 'crates/segment/tests/data/cdnow_master.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE cdnow_rfm AS
SELECT * FROM customer_rfm('cdnow'::regclass, customer_column => 'customer_id', time_column => 'order_date',
                           amount_column => 'amount_usd', as_of => '1998-07-01');
SELECT count(*) AS customers, round(avg(frequency)::numeric, 3) AS mean_orders,
       round(avg(monetary)::numeric, 2) AS mean_spend, max(recency_days) AS max_recency
  FROM cdnow_rfm;
-- Customers who spent nothing (a few orders of $0) stay: log1p(0) = 0.
SELECT segment, count(*) AS customers
  FROM segment_customers('cdnow_rfm'::regclass, NULL,
                         features => ARRAY['recency_days', 'frequency', 'monetary'],
                         log_features => ARRAY['frequency', 'monetary'], model_name => 'cdnow')
 GROUP BY 1 ORDER BY 1;
SELECT k, row_count, metrics->>'k_chosen_by' AS k_chosen_by,
       round((metrics->>'silhouette')::numeric, 2) AS silhouette,
       (metrics->>'silhouette_rows')::int AS silhouette_rows
  FROM retailml.segment_models WHERE name = 'cdnow';
-- Who they are, in days, orders and dollars.
SELECT DISTINCT segment, customers, round(share::numeric, 3) AS share, label
  FROM segment_profiles('cdnow') ORDER BY segment;
SELECT segment, feature, round(mean::numeric, 1) AS mean, round(median::numeric, 1) AS median, round(z::numeric, 2) AS z
  FROM segment_profiles('cdnow') ORDER BY segment, feature;
-- Scoring: the training customers get their segments back, and customers
-- seen only in the first half of the data are scored with the saved model.
SELECT count(*) AS rescored_differently
  FROM assign_segments('cdnow', 'cdnow_rfm'::regclass) a
  JOIN segment_customers('cdnow_rfm'::regclass, (SELECT k FROM retailml.segment_models WHERE name = 'cdnow'),
                         features => ARRAY['recency_days', 'frequency', 'monetary'],
                         log_features => ARRAY['frequency', 'monetary']) s USING (customer_id)
 WHERE a.segment <> s.segment;
CREATE TABLE cdnow_1997 AS
SELECT * FROM customer_rfm('cdnow'::regclass, customer_column => 'customer_id', time_column => 'order_date',
                           amount_column => 'amount_usd', as_of => '1997-10-01');
SELECT segment, count(*) AS customers FROM assign_segments('cdnow', 'cdnow_1997'::regclass) GROUP BY 1 ORDER BY 1;
DELETE FROM retailml.segment_models WHERE name = 'cdnow';
DROP TABLE cdnow, cdnow_rfm, cdnow_1997;
