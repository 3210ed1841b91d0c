-- retailml 0.1.0 -> 0.2.0. Run by ALTER EXTENSION retailml UPDATE after the
-- 0.2.0 build is installed, before anything calls the extension: the new
-- library's segment_customers reads nine arguments, the 0.1.0 definition
-- passes five. Every object 0.2.0 adds or changes is created here exactly as
-- a fresh CREATE EXTENSION creates it (scripts/upgrade-test.sh compares the
-- two), and saved segment models are converted to the 0.2.0 layout.

\echo Use "ALTER EXTENSION retailml UPDATE" to load this file. \quit

-- segment_customers gained log_features, nulls, components and seed.
DROP FUNCTION segment_customers(regclass, int, text[], text, text);
CREATE  FUNCTION "segment_customers"(
	"customers" regclass, /* Option < PgRelation > */
	"k" INT, /* Option < i32 > */
	"features" TEXT[] DEFAULT NULL, /* :: std :: option :: Option < Vec < Option < String > > > */
	"id_column" TEXT DEFAULT NULL, /* Option < String > */
	"model_name" TEXT DEFAULT NULL, /* Option < String > */
	"log_features" TEXT[] DEFAULT NULL, /* :: std :: option :: Option < Vec < Option < String > > > */
	"nulls" TEXT DEFAULT 'impute', /* Option < String > */
	"components" INT DEFAULT 3, /* Option < i32 > */
	"seed" bigint DEFAULT 20260101 /* Option < i64 > */
) RETURNS TABLE (
	"customer_id" TEXT,  /* String */
	"segment" INT,  /* i32 */
	"distance" double precision  /* f64 */
)
VOLATILE COST 100000
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'segment_customers_wrapper';

-- Whether the current role is `owner` or a member of it. The EXISTS guards
-- pg_has_role against owners that have since been dropped.
CREATE FUNCTION retailml.owner_visible(owner name) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT owner = current_user
        OR EXISTS (SELECT FROM pg_catalog.pg_roles r
                    WHERE r.rolname = owner AND pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER'))
$$;
COMMENT ON FUNCTION retailml.owner_visible IS 'row-level security of retailml.segment_models and retailml.job_runs';

-- A 0.1.0 model fitted on columns that are all constant (possible with
-- k = 1) has no feature left in 0.2.0, which cannot score it.
DO $$
DECLARE
    unusable text := (SELECT string_agg(quote_literal(name), ', ' ORDER BY name)
                        FROM retailml.segment_models WHERE NOT 0 <> ANY (scales));
BEGIN
    IF unusable IS NOT NULL THEN
        RAISE EXCEPTION 'segment models % have no feature that varies, which retailml 0.2.0 cannot score', unusable
            USING ERRCODE = 'data_exception',
                  HINT = format('delete them (DELETE FROM retailml.segment_models WHERE name IN (%s)) and update again', unusable);
    END IF;
END
$$;

-- segment_models: the 0.2.0 table replaces the 0.1.0 one, whose models are
-- converted below (a new table rather than ALTER TABLE, so the columns are
-- in the order a fresh install has).
ALTER EXTENSION retailml DROP TABLE retailml.segment_models;
ALTER TABLE retailml.segment_models RENAME TO segment_models_0_1_0;
ALTER INDEX retailml.segment_models_pkey RENAME TO segment_models_0_1_0_pkey;
CREATE TABLE retailml.segment_models (
    name            text PRIMARY KEY,
    owner           name NOT NULL DEFAULT current_user,
    created_at      timestamptz NOT NULL DEFAULT now(),
    source          text NOT NULL,
    id_column       text NOT NULL,
    features        text[] NOT NULL,
    nulls           text NOT NULL,
    transforms      jsonb NOT NULL,
    encoded_features text[] NOT NULL,
    dropped         text[] NOT NULL,
    k               int NOT NULL,
    seed            bigint NOT NULL,
    row_count       bigint NOT NULL,
    centroids       float8[] NOT NULL,
    sizes           bigint[] NOT NULL,
    segment_means   float8[] NOT NULL,
    segment_medians float8[] NOT NULL,
    segment_z       float8[] NOT NULL,
    overall_means   float8[] NOT NULL,
    metrics         jsonb NOT NULL
);
COMMENT ON TABLE retailml.segment_models IS 'segment models saved by segment_customers(..., model_name => ...)';
COMMENT ON COLUMN retailml.segment_models.source IS 'the table or view the model was fitted on';
COMMENT ON COLUMN retailml.segment_models.id_column IS 'the customer key column of source';
COMMENT ON COLUMN retailml.segment_models.features IS 'the input columns, in the order of transforms';
COMMENT ON COLUMN retailml.segment_models.nulls IS 'impute (a NULL takes the column mean) or skip (the customer is left out)';
COMMENT ON COLUMN retailml.segment_models.transforms IS 'per input column how it maps into the space k-means saw: numeric (log1p, mean, scale), boolean, one_hot (categories, shares, scale), pca (mean, components, variances, explained, scale), constant (dropped)';
COMMENT ON COLUMN retailml.segment_models.encoded_features IS 'the features k-means saw, in the order of every per-feature array: numeric and boolean columns, column=value per text value, column_pcN per principal component';
COMMENT ON COLUMN retailml.segment_models.dropped IS 'input columns with a single value, which do not count';
COMMENT ON COLUMN retailml.segment_models.centroids IS 'k x encoded_features: segment centroids in the model space, segment 1 first';
COMMENT ON COLUMN retailml.segment_models.sizes IS 'customers per segment, segment 1 first';
COMMENT ON COLUMN retailml.segment_models.segment_means IS 'k x encoded_features: segment means in original units (shares for indicators, scores for components)';
COMMENT ON COLUMN retailml.segment_models.segment_medians IS 'k x encoded_features: segment medians in the same units';
COMMENT ON COLUMN retailml.segment_models.segment_z IS 'k x encoded_features: (segment mean - overall mean) / overall standard deviation in the model space';
COMMENT ON COLUMN retailml.segment_models.overall_means IS 'per encoded feature: the mean over every customer, in original units';
COMMENT ON COLUMN retailml.segment_models.metrics IS 'inertia, silhouette (on silhouette_rows rows), davies_bouldin, k_chosen_by, k_scores';
ALTER TABLE retailml.segment_models ENABLE ROW LEVEL SECURITY;
CREATE POLICY segment_models_by_owner ON retailml.segment_models
    USING (retailml.owner_visible(owner)) WITH CHECK (owner = current_user);
GRANT SELECT, INSERT, UPDATE, DELETE ON retailml.segment_models TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('retailml.segment_models', '');

-- A 0.1.0 model standardised every feature as numeric: the transforms say
-- so, constant features (scale 0, z always 0) become constant transforms
-- and leave the per-feature arrays, and segment_z is the z-score 0.1.0
-- computed on the fly, (segment mean - mean) / scale, which is the 0.2.0
-- definition for a numeric column (its standard deviation in the model
-- space is 1).
INSERT INTO retailml.segment_models
    (name, owner, created_at, source, id_column, features, nulls, transforms, encoded_features, dropped, k, seed,
     row_count, centroids, sizes, segment_means, segment_medians, segment_z, overall_means, metrics)
SELECT o.name, o.owner, o.created_at, o.source, o.id_column, o.features, 'impute',
       jsonb_build_object('nulls', 'impute', 'transforms', (
           SELECT jsonb_agg(CASE WHEN o.scales[j] = 0
                                 THEN jsonb_build_object('kind', 'constant', 'column', o.features[j])
                                 ELSE jsonb_build_object('kind', 'numeric', 'column', o.features[j], 'log1p', false,
                                                         'mean', o.means[j], 'scale', o.scales[j]) END
                            ORDER BY j)
             FROM generate_subscripts(o.features, 1) j)),
       ARRAY(SELECT o.features[j] FROM unnest(kept.columns) j ORDER BY j),
       o.dropped, o.k, o.seed, o.row_count,
       per_segment.centroids, o.sizes, per_segment.means, per_segment.medians, per_segment.z,
       ARRAY(SELECT o.means[j] FROM unnest(kept.columns) j ORDER BY j),
       o.metrics
  FROM retailml.segment_models_0_1_0 o,
       LATERAL (SELECT array_agg(j ORDER BY j) AS columns
                  FROM generate_subscripts(o.features, 1) j WHERE o.scales[j] <> 0) kept,
       LATERAL (SELECT array_agg(ARRAY(SELECT o.centroids[c][j] FROM unnest(kept.columns) j ORDER BY j) ORDER BY c) AS centroids,
                       array_agg(ARRAY(SELECT o.segment_means[c][j] FROM unnest(kept.columns) j ORDER BY j) ORDER BY c) AS means,
                       array_agg(ARRAY(SELECT o.segment_medians[c][j] FROM unnest(kept.columns) j ORDER BY j) ORDER BY c) AS medians,
                       array_agg(ARRAY(SELECT (o.segment_means[c][j] - o.means[j]) / o.scales[j]
                                         FROM unnest(kept.columns) j ORDER BY j) ORDER BY c) AS z
                  FROM generate_subscripts(o.centroids, 1) c) per_segment;
DROP TABLE retailml.segment_models_0_1_0;

-- Scheduled jobs (new in 0.2.0).
CREATE TABLE retailml.job_runs (
    run_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job         text NOT NULL,
    args        jsonb NOT NULL,
    owner       name NOT NULL DEFAULT current_user,
    pid         int NOT NULL DEFAULT pg_backend_pid(),
    started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    rows        bigint,
    status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
    error       text,
    sqlstate    text
);
CREATE INDEX ON retailml.job_runs (started_at);
COMMENT ON TABLE retailml.job_runs IS 'one row per run of retailml.refresh_forecasts and retailml.refresh_segments';
COMMENT ON COLUMN retailml.job_runs.args IS 'the arguments of the call, target included';
COMMENT ON COLUMN retailml.job_runs.pid IS 'the backend that ran it; a running row whose backend has gone is marked failed by the next run';
COMMENT ON COLUMN retailml.job_runs.rows IS 'rows written into the target';
COMMENT ON COLUMN retailml.job_runs.error IS 'the error message of a failed run';
COMMENT ON COLUMN retailml.job_runs.sqlstate IS 'the SQLSTATE of a failed run';
ALTER TABLE retailml.job_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY job_runs_by_owner ON retailml.job_runs
    USING (retailml.owner_visible(owner)) WITH CHECK (owner = current_user);
GRANT SELECT, INSERT, UPDATE, DELETE ON retailml.job_runs TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('retailml.job_runs', '');
SELECT pg_catalog.pg_extension_config_dump('retailml.job_runs_run_id_seq', '');

-- The target table: `target` (a table name, optionally schema-qualified)
-- is created with `columns` of `types` when no table of that name is on the
-- search path; an existing one must be a table with these columns of
-- exactly these types (more are fine if they take a default or NULL).
CREATE FUNCTION retailml.job_target(target text, columns text[], types regtype[]) RETURNS regclass
LANGUAGE plpgsql AS $$
DECLARE
    layout text := (SELECT string_agg(format('%I %s', c, t), ', ') FROM unnest(columns, types) u(c, t));
    rel regclass := pg_catalog.to_regclass(target);
    wrong record;
BEGIN
    IF rel IS NULL THEN
        -- Two first runs into one new target: the second waits here for the
        -- first to commit, then finds its table rather than colliding with it.
        PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('retailml.job_target'), pg_catalog.hashtext(target));
        EXECUTE format('CREATE TABLE IF NOT EXISTS %s (%s)',
                       (SELECT string_agg(quote_ident(part), '.') FROM unnest(parse_ident(target)) part), layout);
        rel := pg_catalog.to_regclass(target);
    END IF;
    IF (SELECT relkind FROM pg_catalog.pg_class WHERE oid = rel) NOT IN ('r', 'p') THEN
        RAISE EXCEPTION 'target % is not a table', rel USING ERRCODE = 'wrong_object_type';
    END IF;
    SELECT u.c AS name, u.t AS wanted, a.atttypid::regtype AS found INTO wrong
      FROM unnest(columns, types) WITH ORDINALITY u(c, t, i)
      LEFT JOIN pg_catalog.pg_attribute a
        ON a.attrelid = rel AND a.attname = u.c AND a.attnum > 0 AND NOT a.attisdropped
     WHERE a.atttypid IS DISTINCT FROM u.t
     ORDER BY u.i LIMIT 1;
    IF wrong.name IS NOT NULL THEN
        RAISE EXCEPTION '%', CASE WHEN wrong.found IS NULL THEN format('target %s has no column "%s"', rel, wrong.name)
                                  ELSE format('column "%s" of target %s is %s, not %s', wrong.name, rel, wrong.found, wrong.wanted) END
            USING ERRCODE = CASE WHEN wrong.found IS NULL THEN 'undefined_column' ELSE 'datatype_mismatch' END,
                  HINT = format('a target has the columns (%s); drop it and the next run creates it', layout);
    END IF;
    RETURN rel;
END
$$;

-- One logged run of `job`: the job_runs row is committed first, then the
-- job's query replaces the rows of the target args->>'target' in one
-- transaction with the success row; a failure is recorded and committed,
-- then raised again. Needs a non-atomic call: CALL at top level, as pg_cron
-- and psql's autocommit make it, not inside BEGIN ... COMMIT.
CREATE PROCEDURE retailml.run_job(job text, args jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    -- Arguments that may be NULL, the target's columns and their types, and
    -- a SELECT of every column but run_id, which may use $1 (the run id)
    -- and $2 (args).
    nullable text[];
    columns text[];
    types regtype[];
    query text;
    run bigint;
    rel regclass;
    missing text;
    written bigint;
    state text;
    message text;
    detail text;
    hint text;
BEGIN
    CASE job
    WHEN 'refresh_forecasts' THEN
        nullable := '{series_column}';
        columns := '{run_id,method,series_id,period,forecast,lower,upper}';
        types := '{bigint,text,text,timestamptz,float8,float8,float8}';
        query := $q$SELECT $2->>'method', f.*
                      FROM @extschema@.forecast_sales(($2->>'source')::regclass, time_column => $2->>'time_column',
                                                      value_column => $2->>'value_column', series_column => $2->>'series_column',
                                                      horizon => ($2->>'horizon')::int, method => $2->>'method',
                                                      level => ($2->>'level')::float8) f$q$;
    WHEN 'refresh_segments' THEN
        nullable := '{}';
        columns := '{run_id,model_name,customer_id,segment,distance}';
        types := '{bigint,text,text,int,float8}';
        query := $q$SELECT $2->>'model_name', a.*
                      FROM @extschema@.assign_segments($2->>'model_name', ($2->>'customers')::regclass) a$q$;
    END CASE;
    -- A run whose session ended (killed, server crash) never finished.
    UPDATE retailml.job_runs r
       SET status = 'failed', finished_at = clock_timestamp(), error = 'the session running it ended before it finished'
     WHERE r.status = 'running' AND r.owner = current_user
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_stat_activity a WHERE a.pid = r.pid AND a.backend_start <= r.started_at);
    INSERT INTO retailml.job_runs (job, args) VALUES (run_job.job, run_job.args) RETURNING run_id INTO run;
    COMMIT;
    BEGIN
        SELECT key INTO missing FROM jsonb_each(args) WHERE value = 'null' AND key <> ALL (nullable) ORDER BY key LIMIT 1;
        IF missing IS NOT NULL THEN
            RAISE EXCEPTION '% must not be NULL', missing USING ERRCODE = 'null_value_not_allowed';
        END IF;
        rel := retailml.job_target(args->>'target', columns, types);
        -- Readers never wait (SELECT's lock does not conflict); a second run
        -- into the same target waits for this one, then replaces its rows.
        EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', rel);
        EXECUTE format('DELETE FROM %s', rel);
        EXECUTE format('INSERT INTO %s (%s) SELECT $1, q.* FROM (%s) q',
                       rel, (SELECT string_agg(quote_ident(c), ', ') FROM unnest(columns) c), query)
          USING run, args;
        GET DIAGNOSTICS written = ROW_COUNT;
        UPDATE retailml.job_runs
           SET status = 'succeeded', finished_at = clock_timestamp(), rows = written
         WHERE run_id = run;
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                                detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    END;
    IF state IS NULL THEN
        RETURN;
    END IF;
    UPDATE retailml.job_runs
       SET status = 'failed', finished_at = clock_timestamp(), error = message, sqlstate = state
     WHERE run_id = run;
    COMMIT;
    -- RAISE prints an empty DETAIL or HINT as such, so only those there are given.
    IF detail <> '' AND hint <> '' THEN
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message, DETAIL = detail, HINT = hint;
    ELSIF detail <> '' THEN
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message, DETAIL = detail;
    ELSIF hint <> '' THEN
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message, HINT = hint;
    ELSE
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message;
    END IF;
END
$$;
COMMENT ON PROCEDURE retailml.run_job IS 'the logged, atomic replacement of a target behind refresh_forecasts and refresh_segments';

CREATE PROCEDURE retailml.refresh_forecasts(source regclass, time_column text, value_column text, series_column text,
                                            horizon int, target text, method text DEFAULT 'auto', level float8 DEFAULT 0.95)
LANGUAGE plpgsql AS $$
BEGIN
    CALL retailml.run_job('refresh_forecasts', jsonb_build_object(
        'source', source, 'time_column', time_column, 'value_column', value_column, 'series_column', series_column,
        'horizon', horizon, 'target', target, 'method', method, 'level', level));
END
$$;
COMMENT ON PROCEDURE retailml.refresh_forecasts IS
  'replaces the rows of target with forecast_sales over source, logged in retailml.job_runs; for pg_cron';

CREATE PROCEDURE retailml.refresh_segments(model_name text, customers regclass, target text)
LANGUAGE plpgsql AS $$
BEGIN
    CALL retailml.run_job('refresh_segments', jsonb_build_object(
        'model_name', model_name, 'customers', customers, 'target', target));
END
$$;
COMMENT ON PROCEDURE retailml.refresh_segments IS
  'replaces the rows of target with assign_segments of customers under a saved model, logged in retailml.job_runs; for pg_cron';

-- The report's charts, new in 0.2.0.
-- retailml::report::forecast_chart
CREATE  FUNCTION "forecast_chart"(
	"history_periods" timestamp with time zone[], /* :: std :: option :: Option < Vec < Option < TimestampWithTimeZone > > > */
	"history" double precision[], /* :: std :: option :: Option < Vec < Option < f64 > > > */
	"periods" timestamp with time zone[], /* :: std :: option :: Option < Vec < Option < TimestampWithTimeZone > > > */
	"forecast" double precision[], /* :: std :: option :: Option < Vec < Option < f64 > > > */
	"lower" double precision[], /* :: std :: option :: Option < Vec < Option < f64 > > > */
	"upper" double precision[], /* :: std :: option :: Option < Vec < Option < f64 > > > */
	"title" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS TEXT /* Option < String > */
STABLE PARALLEL SAFE COST 100
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'forecast_chart_wrapper';

-- retailml::report::segment_chart
CREATE  FUNCTION "segment_chart"(
	"model_name" TEXT /* Option < & str > */
) RETURNS TEXT /* Option < String > */
STABLE COST 100
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'segment_chart_wrapper';
