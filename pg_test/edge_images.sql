-- The edge images of pg_test/data/images (Pillow 13's broken, truncated,
-- bomb and odd test files) in a temporary table edge(file, image).
CREATE TEMP TABLE edge_files (file text, b64 text);
\copy edge_files FROM PROGRAM 'cd pg_test/data/images && for f in pillow_*.*; do printf "%s\t%s\n" "$f" "$(base64 -w0 "$f")"; done'
CREATE TEMP TABLE edge AS SELECT file, decode(b64, 'base64') AS image FROM edge_files;
ALTER TABLE edge ADD PRIMARY KEY (file);
DROP TABLE edge_files;
