\i pg_test/helpers.sql
-- RFM-like customers in three well separated groups of 60, 40 and 20, in a
-- table made the way CREATE TABLE AS makes one: no primary key.
CREATE TABLE rfm (customer text, recency_days int, frequency int, monetary numeric, region int);
INSERT INTO rfm
SELECT 'c' || i,
       CASE WHEN i % 6 < 3 THEN 250 + (i * 7) % 101 WHEN i % 6 < 5 THEN 40 + (i * 7) % 41 ELSE 2 + i % 9 END,
       CASE WHEN i % 6 < 3 THEN 1 + i % 3 WHEN i % 6 < 5 THEN 7 + (i * 5) % 7 ELSE 25 + (i * 3) % 11 END,
       CASE WHEN i % 6 < 3 THEN 10 + (i * 13) % 31 WHEN i % 6 < 5 THEN 150 + (i * 11) % 101 ELSE 1500 + (i * 17) % 1001 END,
       7
  FROM generate_series(1, 120) i;
-- k => NULL picks k by mean silhouette, says so, and saves the model.
SELECT segment, count(*) AS customers
  FROM segment_customers('rfm'::regclass, NULL, id_column => 'customer', model_name => 'rfm_q4')
 GROUP BY 1 ORDER BY 1;
-- The saved model, readable as it is.
SELECT name, owner = current_user AS mine, source, id_column, features, k, seed, row_count, dropped,
       array_dims(centroids) AS centroid_dims, sizes, encoded_features, nulls,
       metrics->>'k_chosen_by' AS k_chosen_by,
       (SELECT array_agg(key::int ORDER BY key::int) FROM jsonb_object_keys(metrics->'k_scores') key) AS k_tried,
       round((metrics->>'silhouette')::numeric, 2) AS silhouette,
       (metrics->>'silhouette_rows')::int AS silhouette_rows,
       (metrics->>'davies_bouldin')::float8 < 0.3 AS compact_and_apart,
       (metrics->>'inertia')::float8 > 0 AS inertia_positive
  FROM retailml.segment_models WHERE name = 'rfm_q4';
-- Profiles in original units, z-scores and a label per segment.
SELECT segment, customers, round(share::numeric, 3) AS share, feature, round(mean::numeric, 2) AS mean,
       round(median::numeric, 2) AS median, round(overall_mean::numeric, 2) AS overall_mean,
       round(z::numeric, 2) AS z, label
  FROM segment_profiles('rfm_q4') ORDER BY segment, feature;
-- The profile agrees with SQL's own means and exact medians of the segments.
CREATE TABLE fitted AS
  SELECT * FROM segment_customers('rfm'::regclass, 3, id_column => 'customer');
SELECT count(*) AS profile_mismatches FROM segment_profiles('rfm_q4') p
  JOIN (SELECT f.segment, x.feature, avg(x.v) AS mean, percentile_cont(0.5) WITHIN GROUP (ORDER BY x.v) AS median
          FROM fitted f JOIN rfm r ON r.customer = f.customer_id,
               LATERAL (VALUES ('recency_days', r.recency_days::float8), ('frequency', r.frequency::float8),
                               ('monetary', r.monetary::float8), ('region', r.region::float8)) x(feature, v)
         GROUP BY 1, 2) s USING (segment, feature)
 WHERE abs(p.mean - s.mean) > 1e-9 OR abs(p.median - s.median) > 1e-9;
-- Scoring the training table gives the fit's segments and distances back.
SELECT count(*) AS rescored_differently FROM assign_segments('rfm_q4', 'rfm'::regclass) a
  JOIN fitted f USING (customer_id)
 WHERE a.segment <> f.segment OR abs(a.distance - f.distance) > 1e-9;
-- New customers, one like each group, scored with the saved transforms
-- (a table of three rows has its own, very different, means and spreads);
-- a NULL feature takes the saved mean.
CREATE TABLE new_customers (id int PRIMARY KEY, recency_days float8, frequency float8, monetary float8, region int);
INSERT INTO new_customers VALUES (1, 310, 1, 22, 7), (2, 62, 9, 205, 7), (3, 4, 31, 2010, 7), (4, 3, 33, NULL, 7);
SELECT customer_id, segment, round(distance::numeric, 1) AS distance
  FROM assign_segments('rfm_q4', 'new_customers'::regclass) ORDER BY customer_id;
SELECT customer_id, segment FROM assign_segments('rfm_q4', 'new_customers'::regclass, id_column => 'recency_days')
 ORDER BY segment, customer_id;
-- Same data and seed: the same model and segments again, replacing the old one.
CREATE TABLE first_fit AS SELECT centroids, created_at FROM retailml.segment_models WHERE name = 'rfm_q4';
SELECT count(*) AS differing_rows
  FROM segment_customers('rfm'::regclass, 3, id_column => 'customer', model_name => 'rfm_q4') a
  JOIN fitted f USING (customer_id)
 WHERE a.segment <> f.segment OR a.distance <> f.distance;
SELECT m.centroids = f.centroids AS same_centroids, m.created_at > f.created_at AS replaced,
       m.metrics->>'k_chosen_by' AS k_chosen_by, (SELECT count(*) FROM retailml.segment_models) AS models
  FROM retailml.segment_models m, first_fit f WHERE m.name = 'rfm_q4';
-- Errors.
SELECT pg_temp.error_of($$SELECT * FROM assign_segments('no_such_model', 'rfm'::regclass)$$) AS unknown_model;
SELECT pg_temp.error_of($$SELECT * FROM segment_profiles('no_such_model')$$) AS unknown_profile;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('rfm'::regclass, 2, id_column => 'customer', model_name => ' ')$$) AS blank_name;
CREATE TABLE partial (id int PRIMARY KEY, recency_days int, frequency int, region int);
INSERT INTO partial VALUES (1, 1, 1, 7);
SELECT pg_temp.error_of($$SELECT * FROM assign_segments('rfm_q4', 'partial'::regclass)$$) AS missing_feature;
CREATE TABLE texty (id int PRIMARY KEY, recency_days int, frequency int, monetary text, region int);
SELECT pg_temp.error_of($$SELECT * FROM assign_segments('rfm_q4', 'texty'::regclass)$$) AS text_feature;
INSERT INTO new_customers VALUES (5, 'NaN', 1, 1, 7);
SELECT pg_temp.error_of($$SELECT * FROM assign_segments('rfm_q4', 'new_customers'::regclass)$$) AS nan_value;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('rfm'::regclass, NULL, features => ARRAY['region'], id_column => 'customer')$$) AS nothing_to_choose_from;
SELECT count(*) AS null_model FROM assign_segments(NULL, 'rfm'::regclass);
SELECT count(*) AS null_profile FROM segment_profiles(NULL);
-- Models are private to their owner (and the roles that are members of it).
-- Superusers, like this script's own role, bypass row-level security.
SET client_min_messages = warning;
DROP ROLE IF EXISTS retailml_regress_alice;
DROP ROLE IF EXISTS retailml_regress_bob;
RESET client_min_messages;
CREATE ROLE retailml_regress_alice;
CREATE ROLE retailml_regress_bob;
GRANT SELECT ON rfm TO retailml_regress_alice, retailml_regress_bob;
SET ROLE retailml_regress_alice;
SELECT count(*) AS alice_rows
  FROM segment_customers('rfm'::regclass, 3, id_column => 'customer', model_name => 'alice_model');
SELECT name FROM retailml.segment_models ORDER BY name;
SET ROLE retailml_regress_bob;
SELECT count(*) AS bob_sees FROM retailml.segment_models;
SELECT pg_temp.error_of($$SELECT * FROM segment_profiles('alice_model')$$) AS bob_profiles_alice;
SELECT pg_temp.error_of($$SELECT * FROM assign_segments('alice_model', 'rfm'::regclass)$$) AS bob_assigns_alice;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('rfm'::regclass, 2, id_column => 'customer', model_name => 'alice_model')$$) AS bob_replaces_alice;
UPDATE retailml.segment_models SET k = 1 WHERE name = 'alice_model';
DELETE FROM retailml.segment_models WHERE name = 'alice_model';
SELECT left(pg_temp.error_of($$INSERT INTO retailml.segment_models (name, owner, source, id_column, features, nulls, transforms, encoded_features, dropped, k, seed, row_count, centroids, sizes, segment_means, segment_medians, segment_z, overall_means, metrics)
  VALUES ('forged', 'retailml_regress_alice', 'rfm', 'customer', '{}', 'impute', '{}', '{}', '{}', 1, 1, 1, '{}', '{}', '{}', '{}', '{}', '{}', '{}')$$), 5) AS bob_forges_owner;
SELECT count(*) AS bob_rows
  FROM segment_customers('rfm'::regclass, 2, id_column => 'customer', model_name => 'bob_model');
RESET ROLE;
SELECT name, owner, k FROM retailml.segment_models ORDER BY name;
-- Granted alice's role, bob sees (and may use) her model.
GRANT retailml_regress_alice TO retailml_regress_bob;
SET ROLE retailml_regress_bob;
SELECT name, owner FROM retailml.segment_models ORDER BY name;
SELECT count(*) AS bob_assigns_granted FROM assign_segments('alice_model', 'rfm'::regclass);
SET ROLE retailml_regress_alice;
SELECT name FROM retailml.segment_models ORDER BY name;
RESET ROLE;
DELETE FROM retailml.segment_models WHERE owner IN ('retailml_regress_alice', 'retailml_regress_bob');
REVOKE SELECT ON rfm FROM retailml_regress_alice, retailml_regress_bob;
DROP ROLE retailml_regress_bob;
DROP ROLE retailml_regress_alice;
