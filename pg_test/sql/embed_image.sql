\i pg_test/helpers.sql
CREATE TEMP TABLE images (file text PRIMARY KEY, image bytea);
\set img `base64 -w0 crates/embed/tests/data/images/opencv_apple.jpg`
INSERT INTO images VALUES ('opencv_apple.jpg', decode(:'img', 'base64'));
\set img `base64 -w0 crates/embed/tests/data/images/opencv_box.png`
INSERT INTO images VALUES ('opencv_box.png', decode(:'img', 'base64'));
\set img `base64 -w0 crates/embed/tests/data/images/opencv_cards.png`
INSERT INTO images VALUES ('opencv_cards.png', decode(:'img', 'base64'));
\set img `base64 -w0 crates/embed/tests/data/images/opencv_orange.jpg`
INSERT INTO images VALUES ('opencv_orange.jpg', decode(:'img', 'base64'));
\set img `base64 -w0 crates/embed/tests/data/images/opencv_smarties.png`
INSERT INTO images VALUES ('opencv_smarties.png', decode(:'img', 'base64'));
\set img `base64 -w0 crates/embed/tests/data/images/skimage_coffee.png`
INSERT INTO images VALUES ('skimage_coffee.png', decode(:'img', 'base64'));
\set img `base64 -w0 crates/embed/tests/data/images/sklearn_china.jpg`
INSERT INTO images VALUES ('sklearn_china.jpg', decode(:'img', 'base64'));
-- Shape and unit length.
SELECT file, array_length(embed_image(image), 1) AS dims, round(pg_temp.norm(embed_image(image))::numeric, 4) AS norm
  FROM images ORDER BY file;
-- Parity with torchvision on the 7 reference images.
CREATE TEMP TABLE ref_lines (line text);
\copy ref_lines FROM 'crates/embed/tests/data/mobilenet_v2.jsonl' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')
SELECT r.line::jsonb ->> 'file' AS file,
       pg_temp.cosine(embed_image(i.image),
                      ARRAY(SELECT e::real FROM jsonb_array_elements_text(r.line::jsonb -> 'features') WITH ORDINALITY AS t(e, n) ORDER BY n))
         >= 0.99 AS cosine_at_least_0_99
  FROM ref_lines r JOIN images i ON i.file = r.line::jsonb ->> 'file'
 ORDER BY 1;
-- STRICT: NULL in, NULL out.
SELECT embed_image(NULL) IS NULL AS null_gives_null;
-- Other formats: WebP, GIF, greyscale JPEG, transparent PNG.
\set img `base64 -w0 crates/embed/tests/data/edge/pillow_hopper.webp`
SELECT array_length(embed_image(decode(:'img', 'base64')), 1) AS webp_dims;
\set img `base64 -w0 crates/embed/tests/data/edge/pillow_hopper.gif`
SELECT array_length(embed_image(decode(:'img', 'base64')), 1) AS gif_dims;
\set img `base64 -w0 crates/embed/tests/data/edge/pillow_hopper_gray.jpg`
SELECT array_length(embed_image(decode(:'img', 'base64')), 1) AS grey_jpeg_dims;
\set img `base64 -w0 crates/embed/tests/data/edge/pillow_transparent.png`
SELECT array_length(embed_image(decode(:'img', 'base64')), 1) AS transparent_png_dims;
-- Bad bytes: clear errors, never a crash.
SELECT pg_temp.error_of($$SELECT embed_image(''::bytea)$$) LIKE '22P03:%' AS empty_bytes;
SELECT pg_temp.error_of($$SELECT embed_image('not an image at all'::bytea)$$) LIKE '22P03:%' AS text_bytes;
SELECT pg_temp.error_of($$SELECT embed_image('\x89504e470d0a1a0a'::bytea)$$) LIKE '22P03:%' AS png_signature_only;
\set img `base64 -w0 crates/embed/tests/data/edge/pillow_truncated_jpeg.jpg`
SELECT pg_temp.error_of(format('SELECT embed_image(%L::bytea)', decode(:'img', 'base64'))) LIKE '22P03:%' AS truncated_jpeg;
\set img `base64 -w0 crates/embed/tests/data/edge/pillow_broken.png`
SELECT pg_temp.error_of(format('SELECT embed_image(%L::bytea)', decode(:'img', 'base64'))) LIKE '22P03:%' AS broken_png;
\set img `base64 -w0 crates/embed/tests/data/edge/pillow_decompression_bomb.gif`
SELECT pg_temp.error_of(format('SELECT embed_image(%L::bytea)', decode(:'img', 'base64'))) LIKE '54000:%' AS bomb_refused;
-- The backend is still alive and well.
SELECT array_length(embed_image(image), 1) AS still_works FROM images WHERE file = 'opencv_apple.jpg';
