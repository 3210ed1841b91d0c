\i pg_test/helpers.sql
-- customer_rfm: recency, frequency and monetary features from transactions.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
-- Hand-checked: a buys twice on 2024-01-01 (one occasion, 15) and on
-- 01-11; b once on the last day; c has a NULL amount (an occasion, no
-- money); d only NULL amounts; a NULL customer and a NULL day are skipped
-- (e then has no rows left). as_of defaults to the last day, 2024-01-31.
CREATE TABLE rfm_sales (shopper text, day date, amount numeric);
INSERT INTO rfm_sales VALUES
  ('a', '2024-01-01', 10), ('a', '2024-01-01', 5), ('a', '2024-01-11', 20),
  ('b', '2024-01-31', 7),
  ('c', '2024-01-05', NULL), ('c', '2024-01-06', 4),
  ('d', '2024-01-20', NULL),
  (NULL, '2024-01-15', 100),
  ('e', NULL, 50);
SELECT * FROM customer_rfm('rfm_sales'::regclass, 'shopper', 'day', 'amount');
-- Rows after as_of are ignored: b and d bought only later and are absent;
-- the NULL customer's row is after it too.
SELECT * FROM customer_rfm('rfm_sales'::regclass, 'shopper', 'day', 'amount', as_of => '2024-01-10');
-- An as_of after the data.
SELECT customer_id, recency_days, tenure_days
  FROM customer_rfm('rfm_sales'::regclass, 'shopper', 'day', 'amount', as_of => '2024-02-29 12:00+00')
 WHERE customer_id = 'a';
-- Dates and timestamps are wall-clock days in the session's TimeZone, so
-- a day across the DST change is still 1 day; timestamptz is elapsed time
-- (47 hours there).
SET TimeZone = 'Europe/Berlin';
CREATE TABLE rfm_dst (shopper int, day date, at timestamptz, local_at timestamp, units int);
INSERT INTO rfm_dst VALUES
  (1, '2024-03-30', '2024-03-30 00:00+01', '2024-03-30 00:00', 1),
  (1, '2024-04-01', '2024-04-01 00:00+02', '2024-04-01 00:00', 2);
SELECT 'date' AS kind, tenure_days, avg_order_value FROM customer_rfm('rfm_dst'::regclass, 'shopper', 'day', 'units')
UNION ALL
SELECT 'timestamp', tenure_days, avg_order_value FROM customer_rfm('rfm_dst'::regclass, 'shopper', 'local_at', 'units')
UNION ALL
SELECT 'timestamptz', round(tenure_days::numeric, 4), avg_order_value FROM customer_rfm('rfm_dst'::regclass, 'shopper', 'at', 'units');
RESET TimeZone;
SET TimeZone = 'UTC';
-- Line items of one basket share a timestamp and count as one occasion;
-- as_of defaults to the last timestamp (2024-01-02 22:00).
CREATE TABLE rfm_lines (household bigint, at timestamp, sales_value float4);
INSERT INTO rfm_lines VALUES
  (7, '2024-01-01 10:00', 1.5), (7, '2024-01-01 10:00', 2.5), (7, '2024-01-02 22:00', 4),
  (8, '2024-01-02 10:00', 3);
SELECT * FROM customer_rfm('rfm_lines'::regclass, 'household', 'at', 'sales_value');
-- Domains over the accepted types work.
CREATE DOMAIN rfm_day AS date;
CREATE DOMAIN rfm_amount AS numeric(12, 2) CHECK (VALUE > -1000000);
CREATE TABLE rfm_domains (shopper int, day rfm_day, amount rfm_amount);
INSERT INTO rfm_domains VALUES (1, '2024-01-01', 1.25), (1, '2024-01-03', 2.75);
SELECT * FROM customer_rfm('rfm_domains'::regclass, 'shopper', 'day', 'amount');
-- Against an independent plain-SQL computation on a generated table with
-- repeated days, NULL amounts and negative amounts (returns).
CREATE TABLE rfm_generated AS
SELECT (i * 7919) % 97 AS customer,
       date '2023-01-01' + (i * 104729) % 365 AS day,
       CASE WHEN i % 23 = 0 THEN NULL ELSE ((i * 31) % 200 - 20) / 4.0 END AS amount
  FROM generate_series(1, 5000) i;
WITH reference AS (
  SELECT customer::text AS customer_id,
         (SELECT max(day) FROM rfm_generated) - max(day) AS recency_days,
         count(DISTINCT day) AS frequency,
         sum(amount) AS monetary,
         (SELECT max(day) FROM rfm_generated) - min(day) AS tenure_days
    FROM rfm_generated GROUP BY customer)
SELECT count(*) AS customers,
       count(*) FILTER (WHERE r.recency_days IS DISTINCT FROM f.recency_days
                           OR r.frequency IS DISTINCT FROM f.frequency
                           OR r.tenure_days IS DISTINCT FROM f.tenure_days
                           OR round(r.monetary, 6) IS DISTINCT FROM round(f.monetary::numeric, 6)
                           OR round(r.monetary / r.frequency, 6) IS DISTINCT FROM round(f.avg_order_value::numeric, 6)) AS differing
  FROM reference r FULL JOIN customer_rfm('rfm_generated'::regclass, 'customer', 'day', 'amount') f USING (customer_id);
-- Rows come ordered by the customer column in its own type's order (9 before 10).
SELECT bool_and(customer_id::int > previous) AS ordered
  FROM (SELECT customer_id, lag(customer_id::int, 1, -1) OVER (ORDER BY n) AS previous
          FROM customer_rfm('rfm_generated'::regclass, 'customer', 'day', 'amount') WITH ORDINALITY f(customer_id, r, fr, m, t, a, n)) o;
-- Feeding segment_customers: materialise; a table made by CREATE TABLE AS
-- has no primary key, so its customer_id column is the key.
CREATE TABLE rfm_features AS SELECT * FROM customer_rfm('rfm_generated'::regclass, 'customer', 'day', 'amount');
SELECT count(*) AS customers, count(DISTINCT segment) AS segments
  FROM segment_customers('rfm_features'::regclass, k => 3);
SELECT count(*) AS customers, count(DISTINCT segment) AS segments
  FROM segment_customers('rfm_features'::regclass, k => 3, id_column => 'customer_id');
ALTER TABLE rfm_features ADD PRIMARY KEY (customer_id);
SELECT count(*) AS customers, count(DISTINCT segment) AS segments
  FROM segment_customers('rfm_features'::regclass, k => 3);
-- NULL arguments give no rows; a NULL as_of is the default.
SELECT count(*) AS null_column FROM customer_rfm('rfm_sales'::regclass, NULL, 'day', 'amount');
SELECT count(*) AS null_as_of FROM customer_rfm('rfm_sales'::regclass, 'shopper', 'day', 'amount', NULL);
-- Nothing up to as_of gives no customers.
SELECT count(*) AS before_first FROM customer_rfm('rfm_sales'::regclass, 'shopper', 'day', 'amount', as_of => '2023-12-31');
-- Bad input and errors: segment_bad_input.sql; privileges and RLS: segment_security.sql.
-- STABLE (the result depends on TimeZone) and PARALLEL RESTRICTED (it may read temp tables).
SELECT provolatile, proparallel, prosecdef FROM pg_proc WHERE proname = 'customer_rfm';
