\i pg_test/helpers.sql
-- The batch form keeps the input order and matches embed_review row by row.
CREATE TEMP TABLE ref_lines (line text);
\copy ref_lines FROM 'crates/embed/tests/data/minilm_l6_v2.jsonl' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')
CREATE TEMP TABLE ref AS
SELECT row_number() OVER () AS i, (line::jsonb) ->> 'text' AS body FROM ref_lines;
SELECT count(*) AS texts,
       count(*) FILTER (WHERE pg_temp.cosine(e.embedding, embed_review(r.body)) > 0.99999) AS same_as_one_by_one
  FROM embed_reviews((SELECT array_agg(body ORDER BY i) FROM ref)) WITH ORDINALITY AS e(embedding, i)
  JOIN ref r USING (i);
-- NULL elements keep their place as NULL rows; a NULL or empty array gives no rows.
SELECT i, array_length(embedding, 1) AS dims
  FROM embed_reviews(ARRAY['good', NULL, 'bad', NULL]) WITH ORDINALITY AS e(embedding, i);
SELECT count(*) AS null_array_rows FROM embed_reviews(NULL);
SELECT count(*) AS empty_array_rows FROM embed_reviews(ARRAY[]::text[]);
-- retailml.threads changes the speed, never the result.
SET retailml.threads = 1;
SELECT pg_temp.cosine(embed_review('one thread'), e) > 0.99999 AS same_with_one_thread
  FROM embed_reviews(ARRAY['one thread']) AS e;
RESET retailml.threads;
SELECT pg_temp.cosine(embed_review('one thread'), e) > 0.99999 AS same_with_every_core
  FROM embed_reviews(ARRAY['one thread']) AS e;
SET retailml.threads = -1;
SET retailml.threads = 100000;
-- On a large table the planner embeds in parallel workers (not for a temp
-- table, which workers cannot read).
CREATE TABLE many_reviews AS
SELECT i, repeat('the coffee arrived fresh and tastes great ', 8) || i AS body
  FROM generate_series(1, 100000) i;
ANALYZE many_reviews;
EXPLAIN (VERBOSE, COSTS OFF) SELECT embed_review(body) FROM many_reviews;
DROP TABLE many_reviews;
