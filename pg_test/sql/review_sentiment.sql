\i pg_test/helpers.sql
-- A probability between 0 and 1, high for praise and low for complaints.
SELECT review_sentiment('Absolutely delicious, fresh and fast shipping. Will buy again!') > 0.8 AS praise_is_positive,
       review_sentiment('Stale, tasteless and overpriced. Never again.') < 0.2 AS complaint_is_negative;
SELECT min(p) >= 0 AND max(p) <= 1 AS in_range
  FROM (SELECT review_sentiment(t) AS p
          FROM unnest(ARRAY['', 'ok', 'meh', repeat('great ', 1000), 'terrible']) t) s;
-- STRICT: NULL in, NULL out; the same review always gets the same score.
SELECT review_sentiment(NULL) IS NULL AS null_gives_null,
       review_sentiment('nice') = review_sentiment('nice') AS deterministic;
-- Without the installed head it is 58P01, like a missing model.
SET retailml.model_dir = '/nonexistent/retailml-models';
SELECT left(pg_temp.error_of($$SELECT review_sentiment('x')$$), 5) AS missing_head;
RESET retailml.model_dir;
-- Chinese goes to the multilingual head by itself ('auto'), or by name.
SELECT review_sentiment('质量很好，物流也快，非常满意') > 0.5 AS zh_praise_is_positive,
       review_sentiment('太差了，用了两天就坏了，不推荐') < 0.5 AS zh_complaint_is_negative;
SELECT review_sentiment('质量很好，物流也快，非常满意')
     = review_sentiment('质量很好，物流也快，非常满意', model => 'multilingual-e5-small') AS auto_picks_multilingual,
       review_sentiment('Lovely coffee') = review_sentiment('Lovely coffee', model => 'all-minilm-l6-v2') AS auto_picks_english;
SELECT review_sentiment('Lovely coffee, will buy again', model => 'multilingual-e5-small') > 0.5 AS multilingual_reads_english;
SELECT left(pg_temp.error_of($$SELECT review_sentiment('x', model => 'gpt-5')$$), 5) AS unknown_model;
-- A review of 3 MB is read only as far as the models look (512 pieces, 4,096 characters of n-grams).
SET statement_timeout = '5s';
SELECT review_sentiment(repeat('很好', 500000)) > 0.5 AS long_zh_review_is_positive;
RESET statement_timeout;
