\i pg_test/helpers.sql
-- Cosine similarity and distance of small vectors.
SELECT cosine_similarity('{1,0}'::real[], '{0,3}'::real[]) AS orthogonal,
       cosine_similarity('{1,2}'::real[], '{2,4}'::real[]) AS parallel,
       cosine_similarity('{1,2}'::real[], '{-1,-2}'::real[]) AS opposite,
       round(cosine_similarity('{1,1}'::real[], '{1,0}'::real[])::numeric, 6) AS diagonal;
SELECT cosine_distance('{1,2}'::real[], '{2,4}'::real[]) AS same_direction,
       cosine_distance('{1,0}'::real[], '{0,1}'::real[]) AS orthogonal,
       cosine_distance('{1,0}'::real[], '{-1,0}'::real[]) AS opposite;
-- Scale does not matter, and tiny values do not underflow.
SELECT round(cosine_similarity('{3,4}'::real[], '{300,400}'::real[])::numeric, 12) AS scaled,
       round(cosine_similarity('{1e-30,2e-30}'::real[], '{2e-30,4e-30}'::real[])::numeric, 12) AS tiny;
-- STRICT: NULL in, NULL out.
SELECT cosine_similarity(NULL, '{1}'::real[]) IS NULL AS null_a, cosine_distance('{1}'::real[], NULL) IS NULL AS null_b;
-- No angle, no answer: 22023 errors, never NaN.
SELECT pg_temp.error_of($$SELECT cosine_similarity('{1,2,3}'::real[], '{1,2}'::real[])$$);
SELECT pg_temp.error_of($$SELECT cosine_distance('{1}'::real[], '{1,2}'::real[])$$);
SELECT pg_temp.error_of($$SELECT cosine_similarity('{}'::real[], '{}'::real[])$$);
SELECT pg_temp.error_of($$SELECT cosine_similarity('{0,0}'::real[], '{1,2}'::real[])$$);
SELECT pg_temp.error_of($$SELECT cosine_similarity('{1,2}'::real[], '{0,0}'::real[])$$);
SELECT pg_temp.error_of($$SELECT cosine_similarity('{1,NULL}'::real[], '{1,2}'::real[])$$);
SELECT pg_temp.error_of($$SELECT cosine_similarity('{1,NaN}'::real[], '{1,2}'::real[])$$);
SELECT pg_temp.error_of($$SELECT cosine_similarity('{1,2}'::real[], '{Infinity,2}'::real[])$$);
-- Real embeddings: the nearest review to a query, by distance.
CREATE TEMP TABLE reviews (id int, body text);
INSERT INTO reviews VALUES (1, 'The coffee tastes burnt and bitter'), (2, 'Great dark roast, smooth and rich'),
                           (3, 'The package arrived two weeks late'), (4, 'Shipping was slow and the box was crushed');
CREATE TEMP TABLE review_embeddings AS SELECT id, embed_review(body) AS e FROM reviews;
SELECT r.id, round(cosine_distance(r.e, embed_review('delivery took forever'))::numeric, 2) < 0.8 AS close
  FROM review_embeddings r ORDER BY cosine_distance(r.e, embed_review('delivery took forever')), r.id LIMIT 2;
-- avg_embedding: the element-wise mean; NULL rows are skipped; no rows, NULL.
SELECT avg_embedding(e) FROM (VALUES ('{1,2,3}'::real[]), ('{3,4,5}'), (NULL)) v(e);
SELECT avg_embedding(e) IS NULL AS no_rows FROM (SELECT '{1}'::real[] WHERE false) v(e);
SELECT avg_embedding(e) IS NULL AS only_null_rows FROM (VALUES (NULL::real[])) v(e);
SELECT g, avg_embedding(e) FROM (VALUES (1, '{1,1}'::real[]), (1, '{3,3}'), (2, '{5,7}')) v(g, e) GROUP BY g ORDER BY g;
-- Different lengths, NULL or NaN elements: 22023.
SELECT pg_temp.error_of($$SELECT avg_embedding(e) FROM (VALUES ('{1,2}'::real[]), ('{1,2,3}')) v(e)$$);
SELECT pg_temp.error_of($$SELECT avg_embedding(e) FROM (VALUES ('{1,2}'::real[]), ('{1,NULL}')) v(e)$$);
SELECT pg_temp.error_of($$SELECT avg_embedding(e) FROM (VALUES ('{1,NaN}'::real[])) v(e)$$);
SELECT pg_temp.error_of($$SELECT avg_embedding(e) FROM (VALUES ('{}'::real[])) v(e)$$);
-- The mean of unit vectors is not re-normalised: shorter than 1, but with
-- the same direction, so cosine to it is unchanged by normalising.
SELECT round(pg_temp.norm(avg_embedding(e))::numeric, 4) AS norm_of_mean,
       round(cosine_similarity(avg_embedding(e), '{1,1}'::real[])::numeric, 6) AS cosine_to_diagonal
  FROM (VALUES ('{1,0}'::real[]), ('{0,1}')) v(e);
SELECT round(pg_temp.norm(avg_embedding(e))::numeric, 2) < 1 AS shorter_than_one,
       round(cosine_similarity(avg_embedding(e), (SELECT e FROM review_embeddings WHERE id = 3))::numeric, 2) > 0.5 AS near_its_rows
  FROM review_embeddings WHERE id IN (3, 4);
-- In parallel: partial aggregates in the workers, combined in the leader,
-- the same mean as in one process.
CREATE TABLE similarity_rows AS
SELECT i % 3 AS g, ARRAY[i, i % 7, 1.5]::real[] AS e FROM generate_series(1, 30000) i;
ANALYZE similarity_rows;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT avg_embedding(e) FROM similarity_rows;
SELECT avg_embedding(e) FROM similarity_rows;
SELECT g, avg_embedding(e) FROM similarity_rows GROUP BY g ORDER BY g;
SET max_parallel_workers_per_gather = 0;
SELECT avg_embedding(e) FROM similarity_rows;
RESET max_parallel_workers_per_gather;
DROP TABLE similarity_rows;
-- IMMUTABLE STRICT PARALLEL SAFE; the aggregate is parallel safe with a combine function.
SELECT proname, provolatile, proisstrict, proparallel FROM pg_proc
 WHERE proname IN ('cosine_similarity', 'cosine_distance', 'avg_embedding') ORDER BY proname;
SELECT aggcombinefn::regproc AS combine, aggtranstype::regtype AS state, agginitval
  FROM pg_aggregate WHERE aggfnoid = 'avg_embedding'::regproc;
