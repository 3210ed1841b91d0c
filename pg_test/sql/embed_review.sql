\i pg_test/helpers.sql
-- Shape and length.
SELECT array_length(embed_review('Arrived fast, tastes great'), 1) AS dims,
       round(pg_temp.norm(embed_review('Arrived fast, tastes great'))::numeric, 4) AS norm;
-- STRICT: NULL in, NULL out.
SELECT embed_review(NULL) IS NULL AS null_gives_null;
-- The empty string and a long text still embed.
SELECT array_length(embed_review(''), 1) AS empty_dims,
       array_length(embed_review(repeat('very long review text ', 2000)), 1) AS long_dims;
-- Surrounding whitespace does not change the embedding.
SELECT pg_temp.cosine(embed_review('  good coffee  '), embed_review('good coffee')) > 0.99999 AS strip_whitespace;
-- Related texts are closer than unrelated ones.
SELECT pg_temp.cosine(embed_review('the coffee was bitter'), embed_review('this coffee tastes burnt'))
     > pg_temp.cosine(embed_review('the coffee was bitter'), embed_review('my dog loves these treats')) AS semantic_order;
-- Parity with sentence-transformers on all 40 reference texts.
CREATE TEMP TABLE ref_lines (line text);
\copy ref_lines FROM 'crates/embed/tests/data/minilm_l6_v2.jsonl' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')
CREATE TEMP TABLE ref AS
SELECT (line::jsonb) ->> 'text' AS body,
       ARRAY(SELECT e::real FROM jsonb_array_elements_text((line::jsonb) -> 'embedding') WITH ORDINALITY AS t(e, i) ORDER BY i) AS embedding
  FROM ref_lines;
SELECT count(*) AS texts,
       count(*) FILTER (WHERE pg_temp.cosine(embed_review(body), embedding) >= 0.999) AS cosine_at_least_0_999
  FROM ref;
-- A missing model directory is 58P01, with a hint.
SET retailml.model_dir = '/nonexistent/retailml-models';
SELECT left(pg_temp.error_of($$SELECT embed_review('x')$$), 5) AS missing_model;
\set VERBOSITY default
SELECT embed_review('x');
RESET retailml.model_dir;
-- A 10 MB review answers quickly (only its leading part can reach the model).
SET statement_timeout = '5s';
SELECT array_length(embed_review(repeat('great food ', 1000000)), 1) AS ten_mb_dims;
RESET statement_timeout;
-- Components are safe to multiply as real (no float4 underflow in SQL).
SELECT sum(a * b) > 0 AS real_dot_product FROM unnest(embed_review('x'), embed_review('y')) AS t(a, b);
-- A database that is not UTF8 is refused at CREATE EXTENSION.
\set regress_db :DBNAME
CREATE DATABASE retailml_latin1 ENCODING 'LATIN1' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C';
\c retailml_latin1
CREATE EXTENSION retailml;
\c :regress_db
DROP DATABASE retailml_latin1;
-- On a 100,000-row table of reviews the planner embeds in parallel workers
-- with its default settings: COST 5000 makes the function the expensive
-- part (Postgres scans in parallel only tables over
-- min_parallel_table_scan_size, 8 MB; these reviews of 400 bytes make 44 MB).
CREATE TABLE many_reviews AS
  SELECT i AS id, 'review ' || i || repeat(' fresh coffee, fast delivery.', 14) AS review FROM generate_series(1, 100000) i;
ANALYZE many_reviews;
EXPLAIN (COSTS OFF, VERBOSE) SELECT id, embed_review(review) FROM many_reviews;
DROP TABLE many_reviews;
