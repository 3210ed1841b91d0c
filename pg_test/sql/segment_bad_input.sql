\i pg_test/helpers.sql
-- Bad input to segment_customers and customer_rfm: a clear ERROR with the
-- documented SQLSTATE, or documented behaviour; never a crash.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
CREATE TABLE bad_customers (id int PRIMARY KEY, spend float8, visits int, nothing float8, since date, vip bool, note text);
INSERT INTO bad_customers
SELECT i, i * 10, i % 3, NULL, date '2024-01-01' + i, i % 2 = 0, 'n' || i FROM generate_series(1, 10) i;
CREATE TABLE bad_tx (shopper int, day date, amount numeric, note text);
INSERT INTO bad_tx SELECT i % 4, date '2024-01-01' + i, i, 'n' || i FROM generate_series(1, 12) i;
-- An empty table: segment_customers has nothing to segment (22000);
-- customer_rfm has no customers (no rows).
CREATE TABLE bad_empty (id int PRIMARY KEY, spend float8, day date);
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('bad_empty'::regclass, 2)$$) AS segment_empty;
SELECT count(*) AS rfm_empty FROM customer_rfm('bad_empty'::regclass, 'id', 'day', 'spend');
-- Only NULL keys: skipped with a NOTICE, which leaves nothing.
CREATE TABLE bad_null_keys (id int, spend float8, day date);
INSERT INTO bad_null_keys VALUES (NULL, 1, '2024-01-01'), (NULL, 2, '2024-01-02');
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('bad_null_keys'::regclass, 1, id_column => 'id')$$) AS segment_null_keys;
SELECT count(*) AS rfm_null_keys FROM customer_rfm('bad_null_keys'::regclass, 'id', 'day', 'spend');
-- Fewer rows, or fewer distinct rows, than k.
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('bad_customers'::regclass, 11, features => ARRAY['spend'])$$) AS fewer_rows_than_k;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('bad_customers'::regclass, 4, features => ARRAY['visits'])$$) AS fewer_distinct_rows;
-- k: zero, negative, huge (a NULL k is segment_customers.sql's).
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('bad_customers'::regclass, 0, features => ARRAY['spend'])$$) AS zero_k;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('bad_customers'::regclass, -2147483648, features => ARRAY['spend'])$$) AS negative_k;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('bad_customers'::regclass, 2147483647)$$) AS huge_k;
-- An all-NULL feature column (the default features include it; the
-- message gives its position among the features).
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('bad_customers'::regclass, 2)$$) AS all_null_feature;
SELECT count(*) AS without_it FROM segment_customers('bad_customers'::regclass, 2, features => ARRAY['spend', 'visits']);
-- An all-NULL amount: monetary and avg_order_value are NULL, like sum().
UPDATE bad_tx SET amount = NULL;
SELECT count(*) AS customers, count(monetary) AS with_monetary, count(avg_order_value) AS with_aov, sum(frequency) AS occasions
  FROM customer_rfm('bad_tx'::regclass, 'shopper', 'day', 'amount');
UPDATE bad_tx SET amount = extract(day FROM day);
-- A date is no feature (a boolean is: true = 1), and columns of the wrong type.
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('bad_customers'::regclass, 2, features => ARRAY['spend', 'since'])$$) AS date_feature;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('bad_customers'::regclass, 2, features => ARRAY['vip'])$$) AS bool_feature;
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm('bad_tx'::regclass, 'shopper', 'note', 'amount')$$) AS text_time;
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm('bad_tx'::regclass, 'shopper', 'day', 'note')$$) AS text_amount;
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm('bad_tx'::regclass, 'shopper', 'day', 'day')$$) AS date_amount;
-- Unknown columns (42703), matched exactly.
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('bad_customers'::regclass, 2, features => ARRAY['Spend'])$$) AS segment_unknown_feature;
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm('bad_tx'::regclass, 'nope', 'day', 'amount')$$) AS rfm_unknown_customer;
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm('bad_tx'::regclass, 'shopper', 'Day', 'amount')$$) AS rfm_unknown_time;
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm('bad_tx'::regclass, 'shopper', 'day', 'amount ')$$) AS rfm_unknown_amount;
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm('no_such_table'::regclass, 'shopper', 'day', 'amount')$$) AS no_table;
-- Duplicate customer ids: segment_customers refuses them (one row per
-- customer); customer_rfm groups by the customer column, so its output
-- has one row per customer and feeds segment_customers as is.
CREATE TABLE bad_dups (id int, spend float8);
INSERT INTO bad_dups VALUES (1, 1), (2, 2), (1, 3);
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('bad_dups'::regclass, 2, id_column => 'id')$$) AS duplicate_ids;
SELECT count(*) AS rfm_customers, count(DISTINCT customer_id) AS distinct_ids
  FROM customer_rfm('bad_tx'::regclass, 'shopper', 'day', 'amount');
-- NaN and Infinity.
CREATE TABLE bad_odd (id int PRIMARY KEY, spend float8, day date);
INSERT INTO bad_odd VALUES (1, 1, '2024-01-01'), (2, 'NaN', '2024-01-02'), (3, 3, '2024-01-03');
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('bad_odd'::regclass, 2, features => ARRAY['spend'])$$) AS segment_nan;
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm('bad_odd'::regclass, 'id', 'day', 'spend')$$) AS rfm_nan;
UPDATE bad_odd SET spend = '-Infinity' WHERE id = 2;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('bad_odd'::regclass, 2, features => ARRAY['spend'])$$) AS segment_infinity;
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm('bad_odd'::regclass, 'id', 'day', 'spend')$$) AS rfm_infinity;
CREATE TABLE bad_odd_numeric (id int PRIMARY KEY, spend numeric, day date);
INSERT INTO bad_odd_numeric VALUES (1, 1, '2024-01-01'), (2, 'NaN', '2024-01-02');
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('bad_odd_numeric'::regclass, 1, features => ARRAY['spend'])$$) AS segment_numeric_nan;
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm('bad_odd_numeric'::regclass, 'id', 'day', 'spend')$$) AS rfm_numeric_nan;
-- Infinite times: -infinity is before every as_of and cannot be measured
-- from (22000); +infinity is after every as_of, so ignored; an infinite
-- as_of is a bad parameter.
UPDATE bad_odd SET spend = 2, day = '-infinity' WHERE id = 2;
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm('bad_odd'::regclass, 'id', 'day', 'spend')$$) AS minus_infinity_day;
UPDATE bad_odd SET day = 'infinity' WHERE id = 2;
SELECT * FROM customer_rfm('bad_odd'::regclass, 'id', 'day', 'spend');
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm('bad_odd'::regclass, 'id', 'day', 'spend', as_of => 'infinity')$$) AS infinite_as_of;
-- A view: no primary key, so segment_customers needs id_column; customer_rfm reads it like a table.
CREATE VIEW bad_view AS SELECT id, spend, visits FROM bad_customers WHERE id <= 8;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('bad_view'::regclass, 2)$$) AS view_without_key;
SELECT count(*) AS view_rows FROM segment_customers('bad_view'::regclass, 2, id_column => 'id');
CREATE VIEW bad_tx_view AS SELECT * FROM bad_tx WHERE shopper <> 0;
SELECT count(*) AS view_customers FROM customer_rfm('bad_tx_view'::regclass, 'shopper', 'day', 'amount');
-- A temporary table, including one that hides a permanent table of the
-- same name: each call reads the relation its regclass names.
CREATE TABLE bad_shadowed (id int PRIMARY KEY, spend float8, day date);
INSERT INTO bad_shadowed SELECT i, i, date '2024-01-01' + i FROM generate_series(1, 6) i;
CREATE TEMP TABLE bad_shadowed (id int PRIMARY KEY, spend float8, day date);
INSERT INTO bad_shadowed SELECT i, i, date '2024-01-01' + i FROM generate_series(1, 3) i;
SELECT (SELECT count(*) FROM segment_customers('bad_shadowed'::regclass, 2)) AS temp_segmented,
       (SELECT count(*) FROM segment_customers('public.bad_shadowed'::regclass, 2)) AS permanent_segmented,
       (SELECT count(*) FROM customer_rfm('bad_shadowed'::regclass, 'id', 'day', 'spend')) AS temp_rfm,
       (SELECT count(*) FROM customer_rfm('public.bad_shadowed'::regclass, 'id', 'day', 'spend')) AS permanent_rfm;
-- Not a table: a composite type, an unpopulated materialized view.
CREATE TYPE bad_pair AS (id int, spend float8, day date);
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('bad_pair'::regclass, 2, id_column => 'id')$$) AS segment_composite;
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm('bad_pair'::regclass, 'id', 'day', 'spend')$$) AS rfm_composite;
CREATE MATERIALIZED VIEW bad_unpopulated AS SELECT * FROM bad_tx WITH NO DATA;
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm('bad_unpopulated'::regclass, 'shopper', 'day', 'amount')$$) AS unpopulated;
-- A value too large for float8 is Postgres' own range error (22003).
CREATE TABLE bad_huge (id int PRIMARY KEY, spend numeric, day date);
INSERT INTO bad_huge VALUES (1, 1e400, '2024-01-01'), (2, 1, '2024-01-02');
SELECT left(pg_temp.error_of($$SELECT * FROM segment_customers('bad_huge'::regclass, 2)$$), 6) AS segment_huge;
SELECT left(pg_temp.error_of($$SELECT * FROM customer_rfm('bad_huge'::regclass, 'id', 'day', 'spend')$$), 6) AS rfm_huge;
-- An index or a sequence is not something to read customers from (42809).
CREATE TABLE bad_kinds (id int PRIMARY KEY, spend float8);
CREATE SEQUENCE bad_sequence;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('bad_kinds_pkey'::regclass, 2)$$) AS segment_index;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('bad_sequence'::regclass, 2, id_column => 'last_value')$$) AS segment_sequence;
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm('bad_kinds_pkey'::regclass, 'id', 'id', 'spend')$$) AS rfm_index;
-- A feature listed twice would silently weigh double.
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('bad_kinds'::regclass, 2, features => ARRAY['spend', 'spend'])$$) AS repeated_feature;
-- A domain over a domain over int is numeric.
CREATE DOMAIN bad_d1 AS int;
CREATE DOMAIN bad_d2 AS bad_d1;
CREATE TABLE bad_domains (id int PRIMARY KEY, spend bad_d2);
INSERT INTO bad_domains SELECT i, i % 5 FROM generate_series(1, 20) i;
SELECT count(DISTINCT segment) AS domain_segments FROM segment_customers('bad_domains'::regclass, 2);
