\i pg_test/helpers.sql
\i pg_test/reference_images.sql
SELECT id, file FROM images ORDER BY id;
-- One row per element in input order, each equal to embed_image of that
-- element (more than one network batch: 7 photos and a NULL).
CREATE TEMP TABLE batch AS
SELECT i, e FROM embed_images(ARRAY(SELECT CASE WHEN id = 4 THEN NULL ELSE image END FROM images ORDER BY id)
                              || ARRAY[(SELECT image FROM images WHERE id = 4)])
       WITH ORDINALITY AS t(e, i);
SELECT b.i, coalesce(im.file, '(NULL element)') AS file, array_length(b.e, 1) AS dims,
       CASE WHEN b.e IS NOT NULL THEN pg_temp.cosine(b.e, embed_image(im.image)) > 0.99999 END AS same_as_embed_image
  FROM batch b
  LEFT JOIN images im ON im.id = CASE WHEN b.i = 8 THEN 4 WHEN b.i = 4 THEN NULL ELSE b.i END
 ORDER BY b.i;
-- STRICT: a NULL array gives no rows; so does an empty one.
SELECT count(*) AS null_array_rows FROM embed_images(NULL);
SELECT count(*) AS empty_array_rows FROM embed_images(ARRAY[]::bytea[]);
SELECT count(*) AS all_null_rows, count(e) AS embedded FROM embed_images(ARRAY[NULL, NULL]::bytea[]) e;
-- A bad element: embed_image's SQLSTATE, with its position in the array.
SELECT pg_temp.error_of(format('SELECT count(*) FROM embed_images(ARRAY[%L::bytea, NULL, %L::bytea, %L::bytea])',
                               (SELECT image FROM images WHERE id = 2), 'not an image', ''))
       LIKE '22P03: image 3 of the array: cannot decode image: %' AS undecodable_third;
-- (a 128x128 PNG header over a limit of 10000 pixels: refused before decoding)
SET retailml.max_image_pixels = 10000;
SELECT pg_temp.error_of($$SELECT count(*) FROM embed_images(ARRAY[NULL,
         '\x89504e470d0a1a0a0000000d4948445200000080000000800802000000'::bytea])$$);
RESET retailml.max_image_pixels;
-- The backend is still alive and well.
SELECT count(e) AS still_works FROM embed_images(ARRAY(SELECT image FROM images WHERE id <= 2)) AS e;
-- Every thread the model used is retailml's pool (sized by retailml.threads),
-- none of candle's own (candle-bp-N, which no setting can size).
SELECT count(*) FILTER (WHERE comm LIKE 'retailml-%') > 0 AS retailml_pool,
       count(*) FILTER (WHERE comm LIKE 'candle-bp%') AS candle_threads
  FROM (SELECT pg_read_file(format('/proc/%s/task/%s/comm', pg_backend_pid(), t)) AS comm
          FROM pg_ls_dir(format('/proc/%s/task', pg_backend_pid())) AS t) threads;
-- IMMUTABLE STRICT PARALLEL SAFE with a cost, so a big table gets parallel workers.
SELECT proname, provolatile, proisstrict, proparallel, procost
  FROM pg_proc WHERE proname IN ('embed_image', 'embed_images') ORDER BY proname;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
-- (temporary tables are never scanned in parallel, so a real one here)
CREATE TABLE photos AS SELECT * FROM images;
EXPLAIN (COSTS OFF) SELECT embed_image(image) FROM photos;
SELECT count(embed_image(image)) AS embedded_in_parallel FROM photos;
DROP TABLE photos;
