//! Scheduled jobs for pg_cron: retailml.refresh_forecasts and
//! retailml.refresh_segments replace the rows of a target table with the
//! results of forecast_sales over a table and of assign_segments, and log
//! every run in retailml.job_runs. Plain PL/pgSQL: the work is the existing
//! table functions; what is new is transaction control, so a failed run
//! keeps its log row (committed before the work starts, marked failed and
//! committed again before the error is raised).
//!
//! Atomic means DELETE and INSERT into the target in one transaction, with
//! the success row of job_runs: readers keep seeing the previous run's rows
//! until the new ones commit, and never wait (the SHARE ROW EXCLUSIVE lock
//! the run takes conflicts with writers only, so two runs into one target
//! take turns). The target keeps its oid, grants, indexes and the views on
//! it, which a build-and-swap (rename) would not.

// job_runs is extension-owned like segment_models: pg_extension_config_dump
// keeps its rows (and the run id sequence) in pg_dump, every role may use it,
// and row-level security shows each role its own runs and those of roles it
// is a member of, and lets it write only its own.
pgrx::extension_sql!(
    r#"
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
"#,
    name = "jobs",
    requires = [
        "segment_models_table",
        forecast_table::forecast_sales_table,
        segment_models::assign_segments
    ]
);
