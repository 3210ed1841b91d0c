\i pg_test/helpers.sql
\i pg_test/reference_images.sql
SELECT id, file FROM images ORDER BY id;
-- torchvision's top-5 (class index, probability) for each reference image.
CREATE TEMP TABLE ref_lines (line text);
\copy ref_lines FROM 'crates/embed/tests/data/mobilenet_v2.jsonl' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')
CREATE TEMP TABLE ref_top5 AS
SELECT r.line::jsonb ->> 'file' AS file, t.rank, (t.c ->> 0)::int AS class_index, (t.c ->> 1)::float8 AS probability
  FROM ref_lines r, jsonb_array_elements(r.line::jsonb -> 'top5') WITH ORDINALITY AS t(c, rank);
-- The installed class names, numbered from 0 as the model's logits are.
CREATE TEMP TABLE class_names AS
SELECT n - 1 AS class_index, name
  FROM regexp_split_to_table(rtrim(pg_read_file(
         coalesce(nullif(current_setting('retailml.model_dir', true), ''),
                  (SELECT setting FROM pg_config WHERE name = 'SHAREDIR') || '/retailml/models')
         || '/imagenet-classes/labels.txt'), E'\n'), E'\n') WITH ORDINALITY AS t(name, n);
SELECT count(*) AS classes, count(DISTINCT name) AS distinct_names FROM class_names;
-- classify_image's top 5 against torchvision's: the same labels in the same
-- order. PNG pixels decode exactly, so probabilities agree within 1e-3; JPEG
-- decoding differs from libjpeg-turbo by a unit here and there (see embed_image).
CREATE TEMP TABLE ours AS
SELECT i.file, c.rank, c.label, c.probability
  FROM images i, classify_image(i.image) WITH ORDINALITY AS c(label, probability, rank);
SELECT r.file, r.rank, o.label, o.label = n.name AS same_label,
       abs(o.probability - r.probability) < CASE WHEN r.file LIKE '%.png' THEN 1e-3 ELSE 1.5e-2 END AS same_probability
  FROM ref_top5 r
  JOIN class_names n USING (class_index)
  JOIN ours o USING (file, rank)
 ORDER BY r.file, r.rank;
-- Default top_k is 5; rows come most probable first.
SELECT file, count(*) AS rows, bool_and(probability > 0 AND probability <= 1) AS probabilities,
       bool_and(probability <= previous) AS descending
  FROM (SELECT *, lag(probability, 1, 1.0::real) OVER (PARTITION BY file ORDER BY rank) AS previous FROM ours) o
 GROUP BY file ORDER BY file;
SELECT label, round(probability::numeric, 2) AS probability
  FROM images, classify_image(image, top_k => 3) WHERE file = 'skimage_coffee.png';
-- All 1000 classes: a distribution.
SELECT count(*) AS classes, round(sum(probability)::numeric, 4) AS total
  FROM images, classify_image(image, top_k => 1000) WHERE file = 'opencv_box.png';
-- STRICT: NULL image or top_k, no rows.
SELECT count(*) AS null_image_rows FROM classify_image(NULL);
SELECT count(*) AS null_top_k_rows FROM images, classify_image(image, top_k => NULL) WHERE file = 'opencv_box.png';
-- Bad arguments: 22023 for top_k outside 1..1000, the image errors of embed_image.
SELECT pg_temp.error_of($$SELECT * FROM classify_image('\x00'::bytea, top_k => 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM classify_image('\x00'::bytea, top_k => 1001)$$);
SELECT pg_temp.error_of($$SELECT * FROM classify_image('not an image'::bytea)$$) LIKE '22P03:%' AS undecodable;
-- A missing class-name file is a missing model file (58P01).
SET retailml.model_dir = '/nonexistent/retailml-models';
SELECT pg_temp.error_of($$SELECT * FROM classify_image('\x00'::bytea)$$);
RESET retailml.model_dir;
-- IMMUTABLE STRICT PARALLEL SAFE, with a cost.
SELECT proname, provolatile, proisstrict, proparallel, procost FROM pg_proc WHERE proname = 'classify_image';
