-- Scheduled jobs: retailml.refresh_forecasts and retailml.refresh_segments
-- replace a target's rows atomically and log every run in retailml.job_runs,
-- a failed one included. Each CALL here is top level (psql's autocommit),
-- as under pg_cron, so the procedures may commit.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_jobs_runner;
DROP ROLE IF EXISTS regress_jobs_outsider;
RESET client_min_messages;
-- Three daily series of 60 days with a weekly pattern.
CREATE TABLE jobs_sales (sku text, day date, units int);
INSERT INTO jobs_sales
SELECT 'sku-' || s, date '2024-01-01' + d, 10 * s + (d % 7) FROM generate_series(1, 3) s, generate_series(0, 59) d;
-- The latest run of the log, for comparing with what a target holds.
CREATE VIEW last_run AS SELECT * FROM retailml.job_runs ORDER BY run_id DESC LIMIT 1;

-- A target that does not exist yet is created, with this layout.
CALL retailml.refresh_forecasts('jobs_sales', 'day', 'units', 'sku', 7, 'sales_forecasts');
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'sales_forecasts'::regclass AND attnum > 0 ORDER BY attnum;
-- Every row carries the run id and the method; the rows are forecast_sales' own.
SELECT series_id, count(*) AS steps, min(period) AS first_period, bool_and(method = 'auto') AS auto,
       bool_and(run_id = (SELECT run_id FROM last_run)) AS this_run
  FROM sales_forecasts GROUP BY 1 ORDER BY 1;
SELECT count(*) AS differing FROM (
  (SELECT series_id, period, forecast, lower, upper FROM sales_forecasts
   EXCEPT ALL
   SELECT * FROM forecast_sales('jobs_sales'::regclass, 'day', 'units', 'sku', horizon => 7))
  UNION ALL
  (SELECT * FROM forecast_sales('jobs_sales'::regclass, 'day', 'units', 'sku', horizon => 7)
   EXCEPT ALL
   SELECT series_id, period, forecast, lower, upper FROM sales_forecasts)) d;
SELECT job, args, rows, status, error, sqlstate, owner = current_user AS mine,
       finished_at >= started_at AS finished_after_start
  FROM last_run;
-- Run again: the same rows under the new run id, not twice as many.
CREATE TABLE first_forecasts AS SELECT * FROM sales_forecasts;
CALL retailml.refresh_forecasts('jobs_sales', 'day', 'units', 'sku', 7, 'sales_forecasts');
SELECT count(*) AS rows, count(DISTINCT run_id) AS runs,
       min(run_id) = (SELECT run_id FROM last_run) AS newest_run,
       min(run_id) > (SELECT max(run_id) FROM first_forecasts) AS later_than_first
  FROM sales_forecasts;
SELECT count(*) AS differing FROM (
  (SELECT series_id, period, forecast, lower, upper FROM sales_forecasts
   EXCEPT SELECT series_id, period, forecast, lower, upper FROM first_forecasts)
  UNION ALL
  (SELECT series_id, period, forecast, lower, upper FROM first_forecasts
   EXCEPT SELECT series_id, period, forecast, lower, upper FROM sales_forecasts)) d;

-- An existing target of the DBA's own, in a schema whose name needs quoting,
-- with an extra column that has a default and an index: its rows are
-- replaced, the table, its index and its grants stay.
CREATE SCHEMA "Reports";
CREATE TABLE "Reports"."Weekly forecasts" (run_id bigint, method text, series_id text, period timestamptz,
                                           forecast float8, lower float8, upper float8,
                                           loaded_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX ON "Reports"."Weekly forecasts" (series_id, period);
INSERT INTO "Reports"."Weekly forecasts" (series_id, period, forecast) VALUES ('stale', '2000-01-01', 1);
SELECT '"Reports"."Weekly forecasts"'::regclass::oid AS target_oid \gset
CALL retailml.refresh_forecasts('jobs_sales', 'day', 'units', NULL, 3, '"Reports"."Weekly forecasts"',
                                method => 'ets', level => 0.8);
SELECT series_id, method, count(*) AS steps, bool_and(run_id = (SELECT run_id FROM last_run)) AS this_run,
       bool_and(loaded_at IS NOT NULL) AS defaults_filled
  FROM "Reports"."Weekly forecasts" GROUP BY 1, 2;
SELECT '"Reports"."Weekly forecasts"'::regclass::oid = :target_oid AS same_table,
       (SELECT count(*) FROM pg_index WHERE indrelid = :target_oid) AS indexes;
SELECT args->>'method' AS method, args->>'level' AS level, args->'series_column' AS series_column, rows, status
  FROM last_run;

-- A failing run: the error reaches the caller, the log keeps it with its
-- SQLSTATE, and the target keeps the previous run's rows.
SELECT count(*) AS before_rows, min(run_id) AS before_run FROM sales_forecasts \gset
CALL retailml.refresh_forecasts('jobs_sales', 'no_such_day', 'units', 'sku', 7, 'sales_forecasts');
SELECT job, args->>'time_column' AS time_column, rows, status, error, sqlstate, finished_at IS NOT NULL AS finished
  FROM last_run;
SELECT count(*) = :before_rows AS same_rows, min(run_id) = :before_run AS same_run FROM sales_forecasts;
-- The next run is not hindered.
CALL retailml.refresh_forecasts('jobs_sales', 'day', 'units', 'sku', 7, 'sales_forecasts');
SELECT status, rows, (SELECT min(run_id) FROM sales_forecasts) = run_id AS target_refreshed FROM last_run;

-- Each kind of failure is logged with its own SQLSTATE.
CALL retailml.refresh_forecasts('jobs_sales', 'day', 'units', 'sku', NULL, 'sales_forecasts');
CALL retailml.refresh_forecasts('jobs_sales', 'day', 'units', 'sku', 0, 'sales_forecasts');
CALL retailml.refresh_forecasts('jobs_sales', 'day', 'units', 'sku', 7, 'sales_forecasts', method => 'magic');
CREATE TABLE wrong_type (run_id bigint, method text, series_id text, period date,
                         forecast float8, lower float8, upper float8);
CALL retailml.refresh_forecasts('jobs_sales', 'day', 'units', 'sku', 7, 'wrong_type');
CREATE TABLE too_few (run_id bigint, series_id text, period timestamptz);
CALL retailml.refresh_forecasts('jobs_sales', 'day', 'units', 'sku', 7, 'too_few');
CREATE VIEW a_view AS SELECT * FROM sales_forecasts;
CALL retailml.refresh_forecasts('jobs_sales', 'day', 'units', 'sku', 7, 'a_view');
CALL retailml.refresh_forecasts('jobs_sales', 'day', 'units', 'sku', 7, 'not a "name');
SELECT args->>'target' AS target, status, sqlstate, error
  FROM retailml.job_runs ORDER BY run_id DESC LIMIT 7;
SELECT count(*) AS wrong_type_rows FROM wrong_type;
-- A run stopped by statement_timeout (1,000 series of 400 days take seconds)
-- is logged as failed too.
CREATE TABLE jobs_many (sku int, day date, units float8);
INSERT INTO jobs_many SELECT s, date '2020-01-01' + d, 10 + (s * d) % 7 FROM generate_series(1, 1000) s, generate_series(0, 399) d;
SET statement_timeout = '300ms';
CALL retailml.refresh_forecasts('jobs_many', 'day', 'units', 'sku', 7, 'many_forecasts');
RESET statement_timeout;
SELECT status, sqlstate, error FROM last_run;
-- The target it was to create is not left behind either.
SELECT to_regclass('many_forecasts') AS target;
-- A source that does not exist fails when CALL casts it to regclass, before
-- the procedure starts: nothing to log.
SELECT count(*) AS runs_before FROM retailml.job_runs \gset
CALL retailml.refresh_forecasts('no_such_table', 'day', 'units', 'sku', 7, 'sales_forecasts');
-- Inside a transaction block the procedure cannot commit its log row: the
-- call fails with 2D000 before touching anything, and leaves no row.
BEGIN;
CALL retailml.refresh_forecasts('jobs_sales', 'day', 'units', 'sku', 7, 'sales_forecasts');
ROLLBACK;
SELECT count(*) - :runs_before AS new_runs FROM retailml.job_runs;
-- A run whose session ended before it finished (here: a made-up row of a
-- backend that does not exist) is marked failed by the next run.
INSERT INTO retailml.job_runs (job, args, pid) VALUES ('refresh_forecasts', '{}', 0) RETURNING status;
CALL retailml.refresh_forecasts('jobs_sales', 'day', 'units', 'sku', 7, 'sales_forecasts');
SELECT status, error, finished_at IS NOT NULL AS finished FROM retailml.job_runs WHERE pid = 0;
SELECT count(*) AS still_running FROM retailml.job_runs WHERE status = 'running';

-- Segments: a model saved by segment_customers scores a customer table.
CREATE TABLE jobs_customers (customer text, recency_days int, frequency int, monetary numeric);
INSERT INTO jobs_customers
SELECT 'c' || i,
       CASE WHEN i % 3 = 0 THEN 300 + i % 17 WHEN i % 3 = 1 THEN 30 + i % 11 ELSE 3 + i % 5 END,
       CASE WHEN i % 3 = 0 THEN 1 + i % 2 WHEN i % 3 = 1 THEN 8 + i % 4 ELSE 30 + i % 6 END,
       CASE WHEN i % 3 = 0 THEN 20 + i % 13 WHEN i % 3 = 1 THEN 200 + i % 29 ELSE 2000 + i % 97 END
  FROM generate_series(1, 90) i;
SELECT count(*) AS fitted FROM segment_customers('jobs_customers'::regclass, 3, id_column => 'customer', model_name => 'jobs_rfm');
CALL retailml.refresh_segments('jobs_rfm', 'jobs_customers', 'customer_segments');
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'customer_segments'::regclass AND attnum > 0 ORDER BY attnum;
SELECT job, args, rows, status FROM last_run;
SELECT count(*) AS differing FROM customer_segments c
  FULL JOIN assign_segments('jobs_rfm', 'jobs_customers'::regclass) a USING (customer_id)
 WHERE c.segment IS DISTINCT FROM a.segment OR c.distance IS DISTINCT FROM a.distance
    OR c.model_name IS DISTINCT FROM 'jobs_rfm' OR c.run_id IS DISTINCT FROM (SELECT run_id FROM last_run);
CALL retailml.refresh_segments('jobs_rfm', 'jobs_customers', 'customer_segments');
SELECT count(*) AS rows, count(DISTINCT run_id) AS runs, count(DISTINCT customer_id) AS customers FROM customer_segments;
CALL retailml.refresh_segments('no_such_model', 'jobs_customers', 'customer_segments');
CALL retailml.refresh_segments(NULL, 'jobs_customers', 'customer_segments');
SELECT args->>'model_name' AS model_name, status, sqlstate, error FROM retailml.job_runs ORDER BY run_id DESC LIMIT 2;
SELECT count(*) AS rows, count(DISTINCT run_id) AS runs FROM customer_segments;
-- The later files count the saved models.
DELETE FROM retailml.segment_models WHERE name = 'jobs_rfm';

-- The log belongs to its roles: a role sees and writes only its own runs.
CREATE ROLE regress_jobs_runner;
CREATE ROLE regress_jobs_outsider;
CREATE SCHEMA jobs_runner AUTHORIZATION regress_jobs_runner;
GRANT SELECT ON jobs_sales TO regress_jobs_runner;
SET ROLE regress_jobs_runner;
SELECT count(*) AS visible_runs FROM retailml.job_runs;
CALL retailml.refresh_forecasts('public.jobs_sales', 'day', 'units', 'sku', 2, 'jobs_runner.forecasts');
SELECT job, owner, rows, status FROM retailml.job_runs;
UPDATE retailml.job_runs SET owner = 'postgres';
SET ROLE regress_jobs_outsider;
SELECT count(*) AS visible_runs FROM retailml.job_runs;
UPDATE retailml.job_runs SET status = 'failed';
RESET ROLE;
SELECT owner, status FROM retailml.job_runs WHERE owner <> current_user;
SET client_min_messages = warning;
DROP OWNED BY regress_jobs_runner;
RESET client_min_messages;
DELETE FROM retailml.job_runs WHERE owner = 'regress_jobs_runner';
DROP ROLE regress_jobs_runner;
DROP ROLE regress_jobs_outsider;
-- job_runs is kept by pg_dump, its run ids with it.
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) t(oid) JOIN pg_class c ON c.oid = t.oid
 WHERE e.extname = 'retailml' ORDER BY 1;
