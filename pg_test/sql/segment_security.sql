\i pg_test/helpers.sql
-- segment_customers and customer_rfm read tables with the caller's rights:
-- grants, column privileges and row-level security hold, and identifiers
-- are quoted, never spliced.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_rfm_reader;
DROP ROLE IF EXISTS regress_rfm_outsider;
RESET client_min_messages;
CREATE ROLE regress_rfm_reader;
CREATE ROLE regress_rfm_outsider;
-- Both functions run as the caller, not as their owner.
SELECT proname, prosecdef FROM pg_proc WHERE proname IN ('segment_customers', 'customer_rfm') ORDER BY 1;
-- 60 customers in two regions; the south buys later (days 20..29) than the north (days 0..9).
CREATE TABLE sec_customers (customer_id int PRIMARY KEY, region text, spend float8, visits int);
INSERT INTO sec_customers
SELECT i, CASE WHEN i % 2 = 0 THEN 'north' ELSE 'south' END, (i % 3) * 100 + i, i % 3 FROM generate_series(1, 60) i;
CREATE TABLE sec_transactions (customer int, region text, day date, amount numeric);
INSERT INTO sec_transactions
SELECT c.customer_id, c.region, date '2024-01-01' + CASE c.region WHEN 'north' THEN d ELSE 20 + d END, d + 1
  FROM sec_customers c, generate_series(0, 9) d;
-- No SELECT privilege: 42501 from both.
SET ROLE regress_rfm_outsider;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('sec_customers'::regclass, 2)$$) AS segment_no_privilege;
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm('sec_transactions'::regclass, 'customer', 'day', 'amount')$$) AS rfm_no_privilege;
RESET ROLE;
-- Column privileges: the granted columns can be read, the others cannot.
GRANT SELECT (customer_id, spend) ON sec_customers TO regress_rfm_outsider;
GRANT SELECT (customer, day) ON sec_transactions TO regress_rfm_outsider;
SET ROLE regress_rfm_outsider;
SELECT count(*) AS granted_columns FROM segment_customers('sec_customers'::regclass, 2, features => ARRAY['spend']);
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('sec_customers'::regclass, 2)$$) AS ungranted_column;
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm('sec_transactions'::regclass, 'customer', 'day', 'amount')$$) AS rfm_ungranted_column;
RESET ROLE;
-- Row-level security: the reader sees the north only. Superusers and the
-- table's owner bypass it, so the reader is an ordinary role.
GRANT SELECT ON sec_customers, sec_transactions TO regress_rfm_reader;
ALTER TABLE sec_customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE sec_transactions ENABLE ROW LEVEL SECURITY;
CREATE POLICY sec_north ON sec_customers FOR SELECT TO regress_rfm_reader USING (region = 'north');
CREATE POLICY sec_north ON sec_transactions FOR SELECT TO regress_rfm_reader USING (region = 'north');
SELECT count(*) AS customers_as_superuser FROM segment_customers('sec_customers'::regclass, 2);
SELECT count(*) AS customers, min(recency_days) AS min_recency, max(recency_days) AS max_recency
  FROM customer_rfm('sec_transactions'::regclass, 'customer', 'day', 'amount');
SET ROLE regress_rfm_reader;
SELECT count(*) AS customers_as_reader, bool_and(customer_id::int % 2 = 0) AS all_north
  FROM segment_customers('sec_customers'::regclass, 2);
-- The default as_of comes from the visible rows too: the north's last day,
-- so the north's recency is 0 here and 20 days above.
SELECT count(*) AS customers, min(recency_days) AS min_recency, max(recency_days) AS max_recency,
       bool_and(customer_id::int % 2 = 0) AS all_north
  FROM customer_rfm('sec_transactions'::regclass, 'customer', 'day', 'amount');
RESET ROLE;
-- Hostile identifiers: quotes, spaces, semicolons, mixed case, in the
-- schema, table and column names. They work, must match exactly, and
-- drop nothing.
CREATE TABLE sec_victim (y int);
INSERT INTO sec_victim VALUES (1);
CREATE SCHEMA "Sec; Schema";
CREATE TABLE "Sec; Schema"."Tx ""1""; DROP TABLE sec_victim; --" (
  "Customer ID" text, "Day'); DROP TABLE sec_victim; --" timestamptz, "Spend ""$""; DROP TABLE sec_victim; --" numeric);
INSERT INTO "Sec; Schema"."Tx ""1""; DROP TABLE sec_victim; --"
SELECT 'c' || (i % 5), timestamptz '2024-01-01 00:00+00' + i * interval '1 day', i FROM generate_series(1, 20) i;
SELECT * FROM customer_rfm('"Sec; Schema"."Tx ""1""; DROP TABLE sec_victim; --"'::regclass,
                           'Customer ID', 'Day''); DROP TABLE sec_victim; --', 'Spend "$"; DROP TABLE sec_victim; --');
CREATE TABLE "Sec; Schema"."RFM; --" AS
SELECT * FROM customer_rfm('"Sec; Schema"."Tx ""1""; DROP TABLE sec_victim; --"'::regclass,
                           'Customer ID', 'Day''); DROP TABLE sec_victim; --', 'Spend "$"; DROP TABLE sec_victim; --');
ALTER TABLE "Sec; Schema"."RFM; --" RENAME COLUMN monetary TO "Spend ""$""; DROP TABLE sec_victim; --";
ALTER TABLE "Sec; Schema"."RFM; --" RENAME COLUMN customer_id TO "Customer ID";
SELECT count(*) AS customers, count(DISTINCT segment) AS segments
  FROM segment_customers('"Sec; Schema"."RFM; --"'::regclass, 2,
                         features => ARRAY['Spend "$"; DROP TABLE sec_victim; --', 'frequency'], id_column => 'Customer ID');
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm('"Sec; Schema"."Tx ""1""; DROP TABLE sec_victim; --"'::regclass,
                           'customer id', 'Day''); DROP TABLE sec_victim; --', 'Spend "$"; DROP TABLE sec_victim; --')$$) AS case_matters;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('"Sec; Schema"."RFM; --"'::regclass, 2,
                           features => ARRAY['frequency::text'], id_column => 'Customer ID')$$) AS no_expressions;
SELECT count(*) AS victim_still_there FROM sec_victim;
SELECT count(*) AS sec_customers_still_there FROM sec_customers;
-- Clean up: the roles are cluster-wide.
SET client_min_messages = warning;
DROP SCHEMA "Sec; Schema" CASCADE;
RESET client_min_messages;
DROP TABLE sec_customers, sec_transactions, sec_victim;
DROP ROLE regress_rfm_reader;
DROP ROLE regress_rfm_outsider;
