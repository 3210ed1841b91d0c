\i pg_test/helpers.sql
-- Hostile input to every function: NULLs, empty and huge arrays, NaN and
-- Infinity, megabyte texts, broken and odd images, random bytes, absurd
-- parameters, wrong types and hostile identifiers. Each case is a clear
-- ERROR with its documented SQLSTATE or the documented NULL or empty
-- result; scripts/hostile-test.sh also checks that the server never
-- restarted while this file ran.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET client_min_messages = warning;
-- Only the SQLSTATE and the start of the message, for errors whose message
-- quotes a megabyte of input.
CREATE FUNCTION pg_temp.short_error_of(statement text) RETURNS text LANGUAGE sql AS $$
  SELECT left(pg_temp.error_of(statement), 100)
$$;
-- Pseudo-random bytes, deterministic: chained sha256 blocks.
CREATE FUNCTION pg_temp.noise(bytes int, seed int DEFAULT 0) RETURNS bytea LANGUAGE sql AS $$
  SELECT substring(string_agg(sha256(int4send(seed) || int4send(i)), '' ORDER BY i) FROM 1 FOR bytes)
    FROM generate_series(0, (bytes - 1) / 32) i
$$;
-- A 24-bit uncompressed BMP whose header says width x height (negative
-- height: rows top-down) followed by `rows` rows of grey pixels, so a
-- header can promise more than the file holds.
CREATE FUNCTION pg_temp.le32(x bigint) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT set_byte(set_byte(set_byte(set_byte('\x00000000'::bytea, 0, (x & 255)::int), 1, ((x >> 8) & 255)::int),
                  2, ((x >> 16) & 255)::int), 3, ((x >> 24) & 255)::int)
$$;
CREATE FUNCTION pg_temp.bmp(width int, height int, rows int) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT 'BM'::bytea || pg_temp.le32(54 + row_bytes * rows) || '\x0000000036000000'::bytea
         || pg_temp.le32(40) || pg_temp.le32(width) || pg_temp.le32(height) || '\x01001800'::bytea
         || pg_temp.le32(0) || pg_temp.le32(row_bytes * rows) || pg_temp.le32(2835) || pg_temp.le32(2835)
         || pg_temp.le32(0) || pg_temp.le32(0)
         || decode(repeat('80', (row_bytes * rows)::int), 'hex')
    FROM (SELECT (greatest(width, 0)::bigint * 3 + 3) / 4 * 4 AS row_bytes) r
$$;
CREATE FUNCTION pg_temp.finite(x float8) RETURNS bool LANGUAGE sql IMMUTABLE AS $$
  SELECT x NOT IN ('NaN', 'Infinity', '-Infinity')
$$;

-- embed_review and review_sentiment
SELECT embed_review(NULL) IS NULL AS review_null, embed_review('x', NULL) IS NULL AS model_null;
SELECT array_length(embed_review(''), 1) AS empty_text, array_length(embed_review(E' \t\n '), 1) AS blank_text;
SELECT array_length(embed_review(repeat('fresh coffee ', 80000)), 1) AS one_mb_words,
       array_length(embed_review(repeat('x', 1048576)), 1) AS one_mb_word,
       array_length(embed_review(repeat(E'a\u0301', 524288)), 1) AS one_mb_combining,
       array_length(embed_review(repeat('😀', 262144)), 1) AS one_mb_emoji;
SELECT array_length(embed_review(repeat('好吃', 174763), model => 'multilingual-e5-small'), 1) AS one_mb_chinese_e5;
SELECT review_sentiment(repeat('好吃不贵', 87382)) BETWEEN 0 AND 1 AS one_mb_sentiment,
       review_sentiment('') BETWEEN 0 AND 1 AS empty_sentiment;
SELECT pg_temp.error_of($$SELECT embed_review('x', model => '')$$) AS model_empty;
SELECT pg_temp.error_of($$SELECT embed_review('x', model => 'all-minilm-l6-v2''; DROP TABLE x; --')$$) AS model_injection;
SELECT pg_temp.short_error_of($$SELECT embed_review('x', model => repeat('m', 1048576))$$) AS model_one_mb;
SELECT pg_temp.error_of($$SELECT review_sentiment('x', model => 'ALL-MINILM-L6-V2')$$) AS sentiment_model_case;
SELECT pg_temp.error_of($$SELECT embed_review(42)$$) AS review_int;
SELECT pg_temp.error_of($$SELECT embed_review(ARRAY['a'])$$) AS review_array;

-- embed_reviews
SELECT count(*) AS reviews_null FROM embed_reviews(NULL);
SELECT count(*) AS reviews_empty FROM embed_reviews('{}');
SELECT count(*) AS rows, count(e) AS embedded FROM embed_reviews(ARRAY[NULL, 'ok', NULL]::text[]) e;
SELECT count(*) AS rows, count(e) AS embedded FROM embed_reviews(array_fill(NULL::text, ARRAY[10000000])) e;
SELECT count(*) AS rows, min(array_length(e, 1)) AS dims
  FROM embed_reviews(ARRAY['', repeat('tea ', 262144), repeat('x', 1048576)]) e;
SELECT count(*) AS rows FROM embed_reviews(ARRAY[['a', 'b'], ['c', 'd']]);
SELECT pg_temp.error_of($$SELECT * FROM embed_reviews(ARRAY['x'], model => 'gpt-4')$$) AS reviews_unknown_model;

-- embed_image, classify_image and embed_images on bytes that are no image
SELECT embed_image(NULL) IS NULL AS image_null, (SELECT count(*) FROM classify_image(NULL)) AS classify_null,
       (SELECT count(*) FROM classify_image('\x00', NULL)) AS top_k_null;
SELECT pg_temp.error_of($$SELECT embed_image('')$$) AS image_empty;
SELECT pg_temp.error_of($$SELECT embed_image(pg_temp.noise(1048576))$$) AS image_random_mb;
SELECT pg_temp.error_of($$SELECT embed_image(decode(repeat('00', 1048576), 'hex'))$$) AS image_zeros_mb;
SELECT pg_temp.error_of($$SELECT embed_image(convert_to(repeat('not an image ', 1000), 'UTF8'))$$) AS image_text;
SELECT pg_temp.error_of($$SELECT embed_image('\x89504e470d0a1a0a'::bytea || pg_temp.noise(4096))$$) AS png_magic_noise;
SELECT pg_temp.error_of($$SELECT embed_image('\xffd8ffe0'::bytea || pg_temp.noise(4096))$$) AS jpeg_magic_noise;
SELECT pg_temp.error_of($$SELECT embed_image('\xffd8ff'::bytea)$$) AS jpeg_magic_only;
SELECT pg_temp.error_of($$SELECT embed_image(convert_to('GIF89a', 'UTF8') || pg_temp.noise(4096))$$) AS gif_magic_noise;
SELECT pg_temp.error_of($$SELECT embed_image(convert_to('RIFF', 'UTF8') || pg_temp.le32(4100) || convert_to('WEBPVP8 ', 'UTF8') || pg_temp.noise(4096))$$) AS webp_magic_noise;
SELECT pg_temp.error_of($$SELECT embed_image('\x49492a00'::bytea || pg_temp.noise(4096))$$) AS tiff_magic_noise;
SELECT pg_temp.error_of($$SELECT embed_image('BM'::bytea || pg_temp.noise(4096))$$) AS bmp_magic_noise;
-- BMP headers that lie: a 1x1 image embeds; no pixels, zero or negative
-- width, a header over the pixel limit, and one under it promising far
-- more rows than it holds.
SELECT array_length(embed_image(pg_temp.bmp(1, 1, 1)), 1) AS bmp_one_pixel,
       array_length(embed_image(pg_temp.bmp(3, -2, 2)), 1) AS bmp_top_down;
SELECT pg_temp.error_of($$SELECT embed_image(pg_temp.bmp(0, 0, 0))$$) AS bmp_zero_size;
SELECT pg_temp.error_of($$SELECT embed_image(pg_temp.bmp(-5, 5, 0))$$) AS bmp_negative_width;
SELECT pg_temp.error_of($$SELECT embed_image(pg_temp.bmp(2147483647, 2147483647, 0))$$) AS bmp_huge_header;
SELECT pg_temp.error_of($$SELECT embed_image(pg_temp.bmp(-2147483648, -2147483648, 0))$$) AS bmp_min_int_header;
SELECT pg_temp.error_of($$SELECT embed_image(pg_temp.bmp(8000, 8000, 2))$$) AS bmp_truncated_64mp;
-- Extreme aspect ratios: resizing the shorter side to 256 would make a
-- 256 x 15 million image; only the centre crop is computed.
SELECT array_length(embed_image(pg_temp.bmp(60000, 1, 1)), 1) AS bmp_one_row,
       array_length(embed_image(pg_temp.bmp(1, 60000, 60000)), 1) AS bmp_one_column;
SELECT pg_temp.error_of($$SELECT * FROM classify_image(pg_temp.noise(1000), top_k => 5)$$) AS classify_noise;
SELECT pg_temp.error_of($$SELECT * FROM classify_image(pg_temp.bmp(1, 1, 1), top_k => 0)$$) AS top_k_zero;
SELECT pg_temp.error_of($$SELECT * FROM classify_image(pg_temp.bmp(1, 1, 1), top_k => -2147483648)$$) AS top_k_min_int;
SELECT pg_temp.error_of($$SELECT * FROM classify_image(pg_temp.bmp(1, 1, 1), top_k => 1001)$$) AS top_k_1001;
SELECT pg_temp.error_of($$SELECT * FROM classify_image(pg_temp.bmp(1, 1, 1), top_k => 2147483647)$$) AS top_k_max_int;
SELECT count(*) AS classes, round(sum(probability)::numeric, 3) AS total
  FROM classify_image(pg_temp.bmp(1, 1, 1), top_k => 1000);
SELECT pg_temp.error_of($$SELECT embed_image('hello')$$) AS image_from_text_literal;
SELECT pg_temp.error_of($$SELECT embed_image(42)$$) AS image_int;
SELECT count(*) AS images_null FROM embed_images(NULL);
SELECT count(*) AS images_empty FROM embed_images('{}');
SELECT count(*) AS rows, count(e) AS embedded FROM embed_images(array_fill(NULL::bytea, ARRAY[10000000])) e;
SELECT count(*) AS rows, count(e) AS embedded FROM embed_images(ARRAY[NULL, pg_temp.bmp(2, 2, 2), NULL]) e;
SELECT pg_temp.error_of($$SELECT count(*) FROM embed_images(ARRAY[pg_temp.bmp(1, 1, 1), NULL, pg_temp.noise(64)])$$) AS images_bad_third;
SELECT pg_temp.error_of($$SELECT count(*) FROM embed_images(ARRAY[pg_temp.bmp(1, 1, 1), pg_temp.bmp(2147483647, 2147483647, 0)])$$) AS images_bomb_second;
SELECT count(*) AS rows FROM embed_images(ARRAY[[pg_temp.bmp(1, 1, 1), NULL], [NULL, pg_temp.bmp(2, 2, 2)]]);

-- Every edge image of pg_test/data/images (Pillow's broken, truncated, bomb
-- and odd files), through classify_image and, all at once, embed_images.
\i pg_test/edge_images.sql
SELECT file, pg_temp.error_of(format('SELECT * FROM classify_image(%L::bytea, top_k => 1)', image)) AS classify
  FROM edge ORDER BY file;
-- Each edge file cut in half, and with every byte after the first 64 replaced by noise.
SELECT file, left(pg_temp.error_of(format('SELECT embed_image(%L::bytea)', substring(image FROM 1 FOR length(image) / 2))), 5) AS half,
       left(pg_temp.error_of(format('SELECT embed_image(%L::bytea)',
              substring(image FROM 1 FOR 64) || pg_temp.noise(greatest(length(image) - 64, 1), length(image)))), 5) AS noise_after_64
  FROM edge ORDER BY file;
SELECT pg_temp.error_of($$SELECT count(*) FROM embed_images(ARRAY(SELECT image FROM edge ORDER BY file))$$) AS all_edge_at_once;

-- cosine_similarity, cosine_distance and avg_embedding
SELECT pg_temp.error_of($$SELECT cosine_similarity('{}', '{}')$$) AS cosine_empty;
SELECT pg_temp.error_of($$SELECT cosine_similarity('{1,2}', '{1,2,3}')$$) AS cosine_lengths;
SELECT pg_temp.error_of($$SELECT cosine_similarity('{1,NaN}', '{1,2}')$$) AS cosine_nan;
SELECT pg_temp.error_of($$SELECT cosine_distance('{1,2}', '{Infinity,2}')$$) AS cosine_infinity;
SELECT pg_temp.error_of($$SELECT cosine_similarity('{1,NULL}', '{1,2}')$$) AS cosine_null_element;
SELECT pg_temp.error_of($$SELECT cosine_similarity('{0,0,0}', '{1,2,3}')$$) AS cosine_zero_vector;
SELECT cosine_similarity(NULL, '{1}') IS NULL AS cosine_null;
SELECT round(cosine_similarity('{3e38,3e38}', '{3e38,3e38}')::numeric, 6) AS cosine_float4_max,
       round(cosine_similarity('{1e-45,1e-45}', '{1e-45,1e-45}')::numeric, 6) AS cosine_subnormal;
SELECT round(cosine_similarity(a, a)::numeric, 6) AS cosine_ten_million
  FROM (SELECT array_fill(0.5::real, ARRAY[10000000]) AS a) v;
SELECT round(cosine_similarity('{{1,2},{3,4}}', '{1,2,3,4}')::numeric, 6) AS cosine_two_dimensional;
SELECT pg_temp.error_of($$SELECT cosine_similarity('one', 'two')$$) AS cosine_text;
SELECT avg_embedding(e) IS NULL AS avg_no_rows FROM (SELECT '{1}'::real[] AS e WHERE false) t;
SELECT pg_temp.error_of($$SELECT avg_embedding(e) FROM (VALUES ('{1,2}'::real[]), ('{1,2,3}')) t(e)$$) AS avg_lengths;
SELECT pg_temp.error_of($$SELECT avg_embedding(e) FROM (VALUES ('{1,2}'::real[]), ('{NaN,2}')) t(e)$$) AS avg_nan;
SELECT pg_temp.error_of($$SELECT avg_embedding(e) FROM (VALUES ('{}'::real[]), ('{}')) t(e)$$) AS avg_empty_rows;
SELECT array_length(avg_embedding(e), 1) AS avg_ten_million
  FROM (SELECT array_fill(1::real, ARRAY[10000000]) AS e) t;
SELECT avg_embedding(e) AS avg_float4_max FROM (VALUES ('{3e38}'::real[]), ('{3e38}')) t(e);

-- forecast_sales over an array
SELECT count(*) AS series_null FROM forecast_sales(NULL::float8[]);
SELECT count(*) AS horizon_null FROM forecast_sales('{1,2,3}'::float8[], horizon => NULL);
SELECT count(*) AS level_null FROM forecast_sales('{1,2,3}'::float8[], level => NULL);
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('{}'::float8[])$$) AS series_empty;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(array_fill(NULL::float8, ARRAY[10]))$$) AS series_all_null;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('{1,2,NaN,4}'::float8[])$$) AS series_nan;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('{1,2,-Infinity}'::float8[])$$) AS series_infinity;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(array_fill(1::float8, ARRAY[10000000]))$$) AS series_ten_million;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('{1,2,3}'::float8[], horizon => 0)$$) AS horizon_zero;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('{1,2,3}'::float8[], horizon => -2147483648)$$) AS horizon_min_int;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('{1,2,3}'::float8[], horizon => 2147483647)$$) AS horizon_max_int;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('{1,2,3}'::float8[], level => 'NaN')$$) AS level_nan;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('{1,2,3}'::float8[], level => 'Infinity')$$) AS level_infinity;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('{1,2,3}'::float8[], level => 1)$$) AS level_one;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('{1,2,3}'::float8[], season_length => -2147483648)$$) AS season_min_int;
SELECT count(*) AS season_max_int FROM forecast_sales('{1,2,3,4,5,6}'::float8[], horizon => 2, season_length => 2147483647);
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('{1,2,3}'::float8[], method => 'ETS; DROP TABLE x')$$) AS method_hostile;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('{1,2,3}'::float8[], method => '')$$) AS method_empty;
-- Values at the edge of float8: the forecast stays finite or is refused.
SELECT count(*) AS rows, bool_and(pg_temp.finite(forecast) AND pg_temp.finite(lower) AND pg_temp.finite(upper)) AS finite
  FROM forecast_sales(ARRAY[1e308, -1e308, 1e308, -1e308, 1e308, -1e308, 1e308, -1e308]::float8[], horizon => 3, allow_negative => true);
SELECT count(*) AS rows, bool_and(pg_temp.finite(forecast) AND pg_temp.finite(lower) AND pg_temp.finite(upper)) AS finite
  FROM forecast_sales(ARRAY(SELECT 1.7e308 * (i % 2) FROM generate_series(1, 30) i)::float8[], horizon => 3);
SELECT count(*) AS rows, bool_and(pg_temp.finite(forecast) AND pg_temp.finite(lower) AND pg_temp.finite(upper)) AS finite
  FROM forecast_sales(ARRAY(SELECT 2e307 * (i % 7) FROM generate_series(1, 60) i)::float8[], horizon => 3, season_length => 7, method => 'mstl');
SELECT count(*) AS folds, bool_and(pg_temp.finite(smape)) AS finite
  FROM backtest_sales(ARRAY(SELECT 5e307 * (i % 3) FROM generate_series(1, 30) i)::float8[], horizon => 3, folds => 2);
SELECT count(*) AS rows, bool_and(pg_temp.finite(trend) AND pg_temp.finite(seasonal) AND pg_temp.finite(remainder)) AS finite
  FROM decompose_sales(ARRAY(SELECT 5e307 * (i % 3) FROM generate_series(1, 30) i)::float8[]);
SELECT count(*) AS rows, bool_and(forecast >= 0) AS finite
  FROM forecast_sales(ARRAY(SELECT i * 1e-310 FROM generate_series(1, 40) i)::float8[], horizon => 3);
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY['a'])$$) AS series_text;

-- the dated forecast_sales, backtest_sales and decompose_sales
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[date '2024-01-01'], '{1,2}'::float8[])$$) AS dated_lengths;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[date '2024-01-01', NULL], '{1,2}'::float8[])$$) AS dated_null_stamp;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[date '2024-01-01', 'infinity'], '{1,2}'::float8[])$$) AS dated_infinite_stamp;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[date '2024-01-01', date '2024-01-02'], '{1,2}'::float8[], frequency => 'fortnightly')$$) AS dated_unknown_frequency;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[date '2024-01-01', date '2024-01-02'], '{1,2}'::float8[], fill => 'bogus')$$) AS dated_unknown_fill;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[date '4713-01-01 BC', date '5874897-12-31'], '{1,2}'::float8[])$$) AS dated_extreme_dates;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[timestamptz '4713-01-01 00:00 BC', timestamptz '294276-12-31 00:00'], '{1,2}'::float8[], frequency => 'hourly')$$) AS dated_extreme_hourly;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[date '294276-12-30', date '294276-12-31'], '{1,2}'::float8[], horizon => 10)$$) AS dated_horizon_past_range;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(ARRAY[timestamptz '294276-12-31 22:00', timestamptz '294276-12-31 23:00'], '{1,2}'::float8[], horizon => 10)$$) AS dated_hours_past_range;
SELECT pg_temp.error_of($$SELECT * FROM backtest_sales('{1,2,3}'::float8[], horizon => 2147483647, folds => 2147483647)$$) AS backtest_overflow;
SELECT pg_temp.error_of($$SELECT * FROM backtest_sales('{1,2,3}'::float8[], folds => 0)$$) AS backtest_zero_folds;
SELECT pg_temp.error_of($$SELECT * FROM backtest_sales('{1,2,3}'::float8[], horizon => 1, folds => 2)$$) AS backtest_too_short;
SELECT pg_temp.error_of($$SELECT * FROM backtest_sales('{1,2,3,NaN,5,6,7,8,9,10}'::float8[], horizon => 2, folds => 2)$$) AS backtest_nan;
SELECT pg_temp.error_of($$SELECT * FROM backtest_sales(array_fill(1::float8, ARRAY[10000000]), horizon => 2, folds => 2)$$) AS backtest_ten_million;
SELECT count(*) AS backtest_null FROM backtest_sales(NULL::float8[]);
SELECT pg_temp.error_of($$SELECT * FROM decompose_sales('{}'::float8[])$$) AS decompose_empty;
SELECT pg_temp.error_of($$SELECT * FROM decompose_sales('{1,Infinity,3}'::float8[])$$) AS decompose_infinity;
SELECT pg_temp.error_of($$SELECT * FROM decompose_sales('{1,2,3}'::float8[], season_length => 0)$$) AS decompose_season_zero;
SELECT count(*) AS decompose_season_max_int FROM decompose_sales('{1,2,3,4}'::float8[], season_length => 2147483647);
SELECT pg_temp.error_of($$SELECT * FROM decompose_sales(array_fill(1::float8, ARRAY[10000000]))$$) AS decompose_ten_million;

-- Table functions: hostile identifiers (quotes, a semicolon, spaces,
-- unicode, 63 characters) are names, never SQL.
CREATE TABLE "Sales ""2024""; DROP TABLE edge; --" (
  "SKU ""id""; --" text,
  "día del año ☃" date,
  "units;)" numeric,
  "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc" float8
);
INSERT INTO "Sales ""2024""; DROP TABLE edge; --"
SELECT 'sku-' || s, date '2024-01-01' + d, 10 + s + d % 7, d FROM generate_series(1, 2) s, generate_series(0, 27) d;
SELECT series_id, count(*) AS periods FROM forecast_sales('"Sales ""2024""; DROP TABLE edge; --"'::regclass,
  time_column => 'día del año ☃', value_column => 'units;)', series_column => 'SKU "id"; --', horizon => 3) GROUP BY 1 ORDER BY 1;
SELECT count(*) AS long_column_periods FROM forecast_sales('"Sales ""2024""; DROP TABLE edge; --"'::regclass,
  time_column => 'día del año ☃', value_column => repeat('c', 63), horizon => 2);
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('"Sales ""2024""; DROP TABLE edge; --"'::regclass, time_column => 'día del año ☃', value_column => repeat('c', 64))$$) AS column_64_chars;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('"Sales ""2024""; DROP TABLE edge; --"'::regclass, time_column => 'día del año ☃', value_column => 'units;) FROM pg_class; --')$$) AS column_injection;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('"Sales ""2024""; DROP TABLE edge; --"'::regclass, time_column => '', value_column => 'units;)')$$) AS column_empty;
SELECT pg_temp.short_error_of($$SELECT * FROM forecast_sales('"Sales ""2024""; DROP TABLE edge; --"'::regclass, time_column => repeat('t', 1048576), value_column => 'units;)')$$) AS column_one_mb;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('"Sales ""2024""; DROP TABLE edge; --"'::regclass, time_column => 'SKU "id"; --', value_column => 'units;)')$$) AS time_column_text;
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales('"Sales ""2024""; DROP TABLE edge; --"'::regclass, time_column => 'día del año ☃', value_column => 'units;)', horizon => 0)$$) AS table_horizon_zero;
SELECT count(*) AS table_null FROM forecast_sales(NULL::regclass, 'a', 'b');
SELECT count(*) AS edge_table_survived FROM edge;
-- A relation OID that names nothing, and the wrong kinds of relation.
SELECT pg_temp.error_of($$SELECT * FROM forecast_sales(0::regclass, time_column => 'a', value_column => 'b')$$) AS table_oid_zero;
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm(4294967295::oid::regclass, 'a', 'b', 'c')$$) AS rfm_dangling_oid;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers(1::regclass, 2)$$) AS segment_dangling_oid;
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm('pg_class_oid_index'::regclass, 'a', 'b', 'c')$$) AS rfm_index;

-- customer_rfm with hostile identifiers and a NULL table.
SELECT customer_id, frequency FROM customer_rfm('"Sales ""2024""; DROP TABLE edge; --"'::regclass,
  customer_column => 'SKU "id"; --', time_column => 'día del año ☃', amount_column => 'units;)') ORDER BY 1;
SELECT count(*) AS rfm_null FROM customer_rfm(NULL::regclass, 'a', 'b', 'c');
SELECT pg_temp.error_of($$SELECT * FROM customer_rfm('"Sales ""2024""; DROP TABLE edge; --"'::regclass, 'SKU "id"; --', 'día del año', 'units;)')$$) AS rfm_unicode_prefix;

-- segment_customers and assign_segments: k, NULL and empty tables,
-- hostile identifiers, NaN (column types are segment_bad_input.sql's).
CREATE TABLE "Kunden ""β""; DELETE FROM edge; --" ("id ;""" text PRIMARY KEY, "spend €" float8, "visits""" float8);
INSERT INTO "Kunden ""β""; DELETE FROM edge; --" SELECT 'c' || i, i % 10, i % 7 FROM generate_series(1, 40) i;
SELECT count(DISTINCT segment) AS hostile_segments FROM segment_customers('"Kunden ""β""; DELETE FROM edge; --"'::regclass, 3,
  model_name => 'model''; DROP TABLE retailml.segment_models; --');
SELECT count(*) AS rows FROM assign_segments('model''; DROP TABLE retailml.segment_models; --', '"Kunden ""β""; DELETE FROM edge; --"'::regclass);
SELECT count(DISTINCT segment) AS profiled FROM segment_profiles('model''; DROP TABLE retailml.segment_models; --');
SELECT count(*) AS edge_table_kept FROM edge;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('"Kunden ""β""; DELETE FROM edge; --"'::regclass, 1001)$$) AS k_1001;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('"Kunden ""β""; DELETE FROM edge; --"'::regclass, 2147483647)$$) AS k_max_int;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('"Kunden ""β""; DELETE FROM edge; --"'::regclass, -1)$$) AS k_negative;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('"Kunden ""β""; DELETE FROM edge; --"'::regclass, 2, features => ARRAY['spend €', NULL])$$) AS features_null_element;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('"Kunden ""β""; DELETE FROM edge; --"'::regclass, 2, features => '{}')$$) AS features_empty;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('"Kunden ""β""; DELETE FROM edge; --"'::regclass, 2, features => ARRAY['spend € '])$$) AS features_trailing_space;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('"Kunden ""β""; DELETE FROM edge; --"'::regclass, 2, id_column => 'id ;"" OR 1=1')$$) AS id_column_injection;
SELECT pg_temp.short_error_of($$SELECT * FROM segment_customers('"Kunden ""β""; DELETE FROM edge; --"'::regclass, 2, model_name => repeat('m', 1048576))$$) AS model_name_one_mb;
SELECT count(*) AS segment_null FROM segment_customers(NULL::regclass, 2);
CREATE TABLE hostile_empty (id int PRIMARY KEY, spend float8);
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('hostile_empty'::regclass, 2)$$) AS segment_empty;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('hostile_empty'::regclass, NULL)$$) AS choose_k_empty;
INSERT INTO hostile_empty VALUES (1, 1);
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('hostile_empty'::regclass, NULL)$$) AS choose_k_one_row;
SELECT count(*) AS assign_empty FROM assign_segments('model''; DROP TABLE retailml.segment_models; --', 'hostile_empty'::regclass)
 WHERE false;
CREATE TABLE hostile_new ("id ;""" text PRIMARY KEY, "spend €" float8, "visits""" float8);
INSERT INTO hostile_new VALUES ('n1', 'NaN', 1);
SELECT pg_temp.error_of($$SELECT * FROM assign_segments('model''; DROP TABLE retailml.segment_models; --', 'hostile_new'::regclass)$$) AS assign_nan;
UPDATE hostile_new SET "spend €" = 'Infinity';
SELECT pg_temp.error_of($$SELECT * FROM assign_segments('model''; DROP TABLE retailml.segment_models; --', 'hostile_new'::regclass)$$) AS assign_infinity;
-- Finite, but the squared distance to every centroid overflows.
UPDATE hostile_new SET "spend €" = 1e308;
SELECT pg_temp.error_of($$SELECT * FROM assign_segments('model''; DROP TABLE retailml.segment_models; --', 'hostile_new'::regclass)$$) AS assign_1e308;
UPDATE hostile_new SET "spend €" = 1e200, "visits""" = -1e200;
SELECT pg_temp.error_of($$SELECT * FROM assign_segments('model''; DROP TABLE retailml.segment_models; --', 'hostile_new'::regclass)$$) AS assign_1e200;
DELETE FROM hostile_new;
SELECT count(*) AS assign_no_rows FROM assign_segments('model''; DROP TABLE retailml.segment_models; --', 'hostile_new'::regclass);
SELECT count(*) AS assign_null FROM assign_segments(NULL, 'hostile_new'::regclass);
SELECT pg_temp.error_of($$SELECT * FROM assign_segments('', 'hostile_new'::regclass)$$) AS assign_model_empty;
SELECT pg_temp.short_error_of($$SELECT * FROM assign_segments(repeat('m', 1048576), 'hostile_new'::regclass)$$) AS assign_model_one_mb;
SELECT pg_temp.error_of($$SELECT * FROM segment_profiles('model')$$) AS profiles_unknown;
SELECT count(*) AS profiles_null FROM segment_profiles(NULL);
SELECT pg_temp.error_of($$SELECT * FROM assign_segments('model''; DROP TABLE retailml.segment_models; --', 0::regclass)$$) AS assign_oid_zero;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers(42, 2)$$) AS segment_int_table;
DELETE FROM retailml.segment_models;
SELECT count(*) AS models_listed FROM retailml.models;
