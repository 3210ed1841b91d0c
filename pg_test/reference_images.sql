-- The 7 reference photos (crates/embed/tests/data/images) in a temporary
-- table images(id, file, image), numbered in file-name order.
CREATE TEMP TABLE image_files (file text, b64 text);
\copy image_files FROM PROGRAM 'cd crates/embed/tests/data/images && for f in *.jpg *.png; do printf "%s\t%s\n" "$f" "$(base64 -w0 "$f")"; done'
CREATE TEMP TABLE images AS
SELECT row_number() OVER (ORDER BY file)::int AS id, file, decode(b64, 'base64') AS image FROM image_files;
DROP TABLE image_files;
