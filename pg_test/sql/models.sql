-- The models this install knows, with the checksums of their installed files.
SELECT name, kind, dimensions, languages, licence, file IS NOT NULL AS installed
  FROM retailml.models ORDER BY name;
-- The pinned files are exactly the manifest's (models/MANIFEST.tsv).
SELECT name, sha256 FROM retailml.models
 WHERE name IN ('all-minilm-l6-v2', 'mobilenet-v2') ORDER BY name;
-- "loaded" is per backend: nothing until a function needs the model.
SELECT name, loaded FROM retailml.models ORDER BY name;
SELECT review_sentiment('load the text model and the head') IS NOT NULL AS scored;
SELECT name, loaded FROM retailml.models ORDER BY name;
-- A model directory without the files lists them as not installed.
SET retailml.model_dir = '/nonexistent/retailml-models';
SELECT name, file IS NULL AS no_file, sha256 IS NULL AS no_sha256, loaded FROM retailml.models ORDER BY name;
RESET retailml.model_dir;
