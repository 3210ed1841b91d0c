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
         >= 0.999 AS cosine_at_least_0_999
  FROM ref_lines r JOIN images i ON i.file = r.line::jsonb ->> 'file'
 ORDER BY 1;
-- STRICT: NULL in, NULL out.
SELECT embed_image(NULL) IS NULL AS null_gives_null;
-- Every edge image of pg_test/data/images (Pillow 13's test files): the ones
-- Pillow loads embed (1280 values, unit length), the others fail with a
-- clear SQLSTATE: 22P03 undecodable or truncated, 54000 over the pixel limit,
-- 0A000 a format not decoded here (AVIF).
\i pg_test/edge_images.sql
CREATE TEMP TABLE pillow (file text, bytes int, format text, mode text, width int, height int, frames int,
                          pillow13_result text, sha256_16 text, source text, licence text);
\copy pillow FROM 'pg_test/data/images/MANIFEST.csv' WITH (FORMAT csv, HEADER)
CREATE FUNCTION pg_temp.outcome(image bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE e real[];
BEGIN
  e := embed_image(image);
  RETURN format('ok: %s values, norm %s', array_length(e, 1), round(pg_temp.norm(e)::numeric, 4));
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT e.file, p.pillow13_result LIKE 'ok%' AS pillow_loads, pg_temp.outcome(e.image) AS embed_image
  FROM edge e JOIN pillow p USING (file) ORDER BY e.file;
-- EXIF orientation is applied (Pillow and torchvision ignore it): the
-- orientation-6 hopper is close to the upright hopper, not to its stored pixels.
SELECT round(pg_temp.cosine(embed_image(r.image), embed_image(u.image))::numeric, 2) >= 0.9 AS rotated_like_upright
  FROM edge r, edge u WHERE r.file = 'pillow_hopper_orientation_6.jpg' AND u.file = 'pillow_hopper.jpg';
-- Bad bytes: clear errors, never a crash.
SELECT pg_temp.error_of($$SELECT embed_image(''::bytea)$$) AS empty_bytes;
SELECT pg_temp.error_of($$SELECT embed_image('not an image at all'::bytea)$$) AS text_bytes;
SELECT pg_temp.error_of($$SELECT embed_image('\x89504e470d0a1a0a'::bytea)$$) AS png_signature_only;
-- A JPEG frame header claiming 65535x65535, refused before decoding.
SELECT pg_temp.error_of($$SELECT embed_image('\xffd8ffc0001108ffffffff03012200021101031101ffd9'::bytea)$$) AS jpeg_bomb;
-- The backend is still alive and well.
SELECT array_length(embed_image(image), 1) AS still_works FROM images WHERE file = 'opencv_apple.jpg';
