\i pg_test/helpers.sql
-- multilingual-e5-small, chosen by name: 384 values of unit length.
SELECT array_length(embed_review('这个咖啡很好喝', model => 'multilingual-e5-small'), 1) AS dims,
       round(pg_temp.norm(embed_review('这个咖啡很好喝', model => 'multilingual-e5-small'))::numeric, 4) AS norm;
-- Cross-lingual: a sentence and its translation are closer than unrelated ones.
CREATE TEMP TABLE pairs (en text, zh text);
INSERT INTO pairs VALUES
  ('The coffee tastes great', '这咖啡味道很好'),
  ('The delivery was very slow', '快递非常慢'),
  ('The box arrived broken', '箱子到的时候破了');
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE pg_temp.cosine(embed_review(a.en, model => 'multilingual-e5-small'),
                                             embed_review(a.zh, model => 'multilingual-e5-small'))
                            > pg_temp.cosine(embed_review(a.en, model => 'multilingual-e5-small'),
                                             embed_review(b.zh, model => 'multilingual-e5-small'))) AS translation_closer
  FROM pairs a JOIN pairs b ON a.en <> b.en;
-- The batch form takes the same argument and gives the same vectors.
SELECT pg_temp.cosine(e, embed_review('好评', model => 'multilingual-e5-small')) > 0.99999 AS batch_same
  FROM embed_reviews(ARRAY['好评'], model => 'multilingual-e5-small') AS e;
-- The default model is all-minilm-l6-v2; naming it changes nothing.
SELECT embed_review('same model') = embed_review('same model', model => 'all-minilm-l6-v2') AS default_is_minilm;
-- An unknown model is 22023 with a hint; a NULL model gives NULL (STRICT).
SELECT pg_temp.error_of($$SELECT embed_review('x', model => 'gpt-5')$$) AS unknown_model;
\set VERBOSITY default
SELECT embed_review('x', model => 'gpt-5');
\set VERBOSITY terse
SELECT embed_review('x', model => NULL) IS NULL AS null_model_gives_null;
