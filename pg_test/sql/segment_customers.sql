\i pg_test/helpers.sql
-- Three well separated groups of customers, with a text column that is ignored.
CREATE TABLE shoppers (shopper_id int PRIMARY KEY, spend float8, visits int, recency numeric, name text);
INSERT INTO shoppers
SELECT i,
       CASE i % 3 WHEN 0 THEN 1000 WHEN 1 THEN 100 ELSE 10 END + (i % 7),
       CASE i % 3 WHEN 0 THEN 50 WHEN 1 THEN 20 ELSE 2 END + (i % 5),
       CASE i % 3 WHEN 0 THEN 3 WHEN 1 THEN 30 ELSE 300 END,
       'shopper ' || i
  FROM generate_series(1, 90) i;
-- Each group becomes one segment; segments are numbered 1..k.
SELECT count(*) AS customers, count(DISTINCT segment) AS segments, min(segment) AS first, max(segment) AS last
  FROM segment_customers('shoppers'::regclass, 3);
SELECT count(*) AS mixed_segments FROM (
  SELECT s.segment FROM segment_customers('shoppers'::regclass, 3) s
    JOIN shoppers c ON c.shopper_id::text = s.customer_id
   GROUP BY s.segment HAVING count(DISTINCT c.shopper_id % 3) > 1) m;
-- Deterministic: the same call gives the same segments.
SELECT count(*) AS differing_rows FROM segment_customers('shoppers'::regclass, 3) a
  JOIN segment_customers('shoppers'::regclass, 3) b USING (customer_id)
 WHERE a.segment <> b.segment OR a.distance <> b.distance;
-- Numbered by size, largest first.
INSERT INTO shoppers SELECT 1000 + i, 1000, 50, 3, 'big ' || i FROM generate_series(1, 30) i;
SELECT segment, count(*) AS customers FROM segment_customers('shoppers'::regclass, 3) GROUP BY 1 ORDER BY 1;
-- Chosen features and an explicit key column.
SELECT count(DISTINCT segment) AS segments
  FROM segment_customers('shoppers'::regclass, 2, features => ARRAY['spend'], id_column => 'name');
-- Works on a view too, and distances are non-negative.
CREATE VIEW big_spenders AS SELECT shopper_id, spend, visits FROM shoppers WHERE spend > 50;
SELECT bool_and(distance >= 0) AS nonnegative
  FROM segment_customers('big_spenders'::regclass, 2, id_column => 'shopper_id');
-- A NULL k is chosen by silhouette (more in segment_models.sql); a NULL table gives no rows.
SELECT count(DISTINCT segment) AS chosen_k FROM segment_customers('shoppers'::regclass, NULL);
SELECT count(*) AS null_table FROM segment_customers(NULL, 3);
-- Bad input: clear errors with the documented SQLSTATE.
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('shoppers'::regclass, 0)$$) AS zero_k;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('shoppers'::regclass, -1)$$) AS negative_k;
SELECT left(pg_temp.error_of($$SELECT * FROM segment_customers('shoppers'::regclass, 1000)$$), 5) AS k_above_rows;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('shoppers'::regclass, 2, features => ARRAY['nope'])$$) AS unknown_column;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('shoppers'::regclass, 2, features => ARRAY['name'])$$) AS text_column;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('shoppers'::regclass, 2, id_column => 'nope')$$) AS unknown_key;
CREATE TABLE words (id int PRIMARY KEY, word text);
INSERT INTO words VALUES (1, 'a'), (2, 'b');
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('words'::regclass, 2)$$) AS no_numeric_column;
CREATE TABLE empty_shoppers (id int PRIMARY KEY, spend float8);
SELECT left(pg_temp.error_of($$SELECT * FROM segment_customers('empty_shoppers'::regclass, 2)$$), 5) AS empty_table;
CREATE TABLE keyless (spend float8);
INSERT INTO keyless VALUES (1), (2);
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('keyless'::regclass, 2)$$) AS no_key;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('no_such_table'::regclass, 2)$$) AS no_table;
-- Hostile identifiers are quoted, never spliced.
CREATE TABLE "odd ""name""; DROP TABLE shoppers; --" ("key; --" int PRIMARY KEY, "x""y" float8);
INSERT INTO "odd ""name""; DROP TABLE shoppers; --" SELECT i, i FROM generate_series(1, 10) i;
SELECT count(*) AS odd_names FROM segment_customers('"odd ""name""; DROP TABLE shoppers; --"'::regclass, 2);
SELECT count(*) AS shoppers_still_there FROM shoppers;
-- The caller's privileges hold.
SET client_min_messages = warning;
DROP ROLE IF EXISTS retailml_regress_reader;
RESET client_min_messages;
CREATE ROLE retailml_regress_reader;
GRANT SELECT ON words TO retailml_regress_reader;
SET ROLE retailml_regress_reader;
SELECT left(pg_temp.error_of($$SELECT * FROM segment_customers('shoppers'::regclass, 2)$$), 5) AS no_select_privilege;
RESET ROLE;
REVOKE SELECT ON words FROM retailml_regress_reader;
DROP ROLE retailml_regress_reader;
-- oid and money columns are not features by default; named, they are refused.
CREATE TABLE with_oid (id int PRIMARY KEY, spend float8, o oid, m money);
INSERT INTO with_oid SELECT i, i, i, i FROM generate_series(1, 10) i;
SELECT count(*) AS rows_with_oid FROM segment_customers('with_oid'::regclass, 2);
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('with_oid'::regclass, 2, features => ARRAY['o'])$$) AS oid_feature;
-- One row per customer: duplicate keys are an error, not two segments for one customer.
CREATE TABLE dup_keys (id int, spend float8);
INSERT INTO dup_keys VALUES (1, 1), (1, 100), (2, 2), (2, 200);
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('dup_keys'::regclass, 2, id_column => 'id')$$) AS duplicate_keys;
-- An empty feature list and an absurd k.
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('shoppers'::regclass, 2, features => '{}')$$) AS empty_features;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('shoppers'::regclass, 2, features => ARRAY[NULL]::text[])$$) AS null_feature;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('shoppers'::regclass, 5000)$$) AS huge_k;
