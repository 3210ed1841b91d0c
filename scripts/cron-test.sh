#!/usr/bin/env bash
# Tier 3: the scheduled jobs under the real pg_cron of the project's cluster,
# with the installed extension. A refresh scheduled every minute succeeds, a
# failing one is logged as failed with its error in cron.job_run_details and
# retailml.job_runs, and the refresh still succeeds on the minute after it.
# pg_cron 1.4 schedules by the minute (intervals in seconds came with 1.5),
# so this waits for two minute boundaries: 60 to 120 seconds. While it waits
# for the first, a refresh runs under a concurrent reader, which must see
# the old rows or the new ones, never a mix or none, and never wait.
source "$(dirname "$0")/common.sh"
cd "$ROOT"

bash scripts/cluster.sh start
DB=retailml_cron
GOOD=retailml-cron-test-refresh
BAD=retailml-cron-test-failing
TIMEOUT=150

run_psql -q -d postgres -c "CREATE EXTENSION IF NOT EXISTS pg_cron"
unschedule() {
  run_psql -q -d postgres -tAc "SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname IN ('$GOOD', '$BAD')" >/dev/null
}
unschedule
trap unschedule EXIT
PGOPTIONS="-c client_min_messages=warning" run_psql -q -d postgres \
  -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
run_psql -q -d "$DB" <<'SQL'
CREATE EXTENSION retailml;
CREATE TABLE sales AS
  SELECT 'sku-' || s AS sku, date '2024-01-01' + d AS day, 10 * s + d % 7 AS units
    FROM generate_series(1, 3) s, generate_series(0, 59) d;
-- 1,000 series of 400 days: a refresh of a few seconds.
CREATE TABLE many AS
  SELECT s AS sku, date '2020-01-01' + d AS day, 10 + (s * d) % 7 AS units
    FROM generate_series(1, 1000) s, generate_series(0, 399) d;
SQL

# The jobs' history is in the postgres database, where pg_cron keeps it.
cron_sql() { run_psql -d postgres -tA "$@"; }
started=$(date +%s)
deadline=$(( started + TIMEOUT ))
schedule() {
  cron_sql -c "SELECT cron.schedule_in_database('$1', '* * * * *',
    \$\$CALL retailml.refresh_forecasts('sales', '$2', 'units', 'sku', 7, 'sales_forecasts')\$\$, '$DB')"
}
good=$(schedule "$GOOD" day)
bad=$(schedule "$BAD" no_such_day)
echo "cron test: scheduled a refresh (job $good) and a failing refresh (job $bad) every minute in $DB"

failed=0
check() {
  if [ "$2" = "$3" ]; then echo "cron test: $1: ok"; else echo "cron test: $1: FAILED (got '$2', expected '$3')"; failed=1; fi
}
REFRESH="CALL retailml.refresh_forecasts('many', 'day', 'units', 'sku', 7, 'many_forecasts')"
run_psql -q -d "$DB" -c "$REFRESH"
PGAPPNAME=retailml-refresh-under-read run_psql -q -d "$DB" -c "$REFRESH" &
refresh=$!
# One statement at a time (a snapshot each) until the refresh has ended.
check "a reader during a refresh (observations, runs seen, all whole, none waited)" "$(run_psql -q -d "$DB" -tA <<'SQL'
CREATE TEMP TABLE seen (rows bigint, runs bigint, run bigint, took interval);
DO $$
DECLARE
  began timestamptz := clock_timestamp();
  t timestamptz;
BEGIN
  LOOP
    t := clock_timestamp();
    INSERT INTO seen SELECT count(*), count(DISTINCT run_id), min(run_id), clock_timestamp() - t FROM many_forecasts;
    PERFORM pg_stat_clear_snapshot();
    EXIT WHEN clock_timestamp() - began > interval '60 seconds'
      OR (clock_timestamp() - began > interval '1 second'
          AND NOT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'retailml-refresh-under-read'));
    PERFORM pg_sleep(0.05);
  END LOOP;
END
$$;
SELECT count(*) >= 10, count(DISTINCT run), bool_and(rows = 7000 AND runs = 1), max(took) < interval '1 second' FROM seen;
SQL
)" "t|2|t|t"
wait "$refresh"

# Waits until the query (a boolean over cron.job_run_details) is true.
wait_for() {
  until [ "$(cron_sql -c "$2")" = t ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "cron test: FAILED, no $1 within ${TIMEOUT}s; pg_cron's runs:"
      cron_sql -c "SELECT jobid, status, start_time, return_message FROM cron.job_run_details
                    WHERE jobid IN ($good, $bad) ORDER BY start_time"
      exit 1
    fi
    sleep 2
  done
}
wait_for "failed run of the failing job" \
  "SELECT EXISTS (SELECT FROM cron.job_run_details WHERE jobid = $bad AND status = 'failed')"
# One failure is enough; the refresh must then succeed on a later minute.
cron_sql -c "SELECT cron.unschedule($bad)" >/dev/null
wait_for "successful refresh after the failed run" \
  "SELECT EXISTS (SELECT FROM cron.job_run_details
                   WHERE jobid = $good AND status = 'succeeded'
                     AND start_time > (SELECT max(end_time) FROM cron.job_run_details WHERE jobid = $bad))"
echo "cron test: pg_cron ran both, and the refresh again after the failure ($(( $(date +%s) - started )) s)"
unschedule

check "pg_cron's record of the failure" \
  "$(cron_sql -c "SELECT DISTINCT split_part(return_message, E'\n', 1) FROM cron.job_run_details WHERE jobid = $bad")" \
  'ERROR: column "no_such_day" of sales does not exist'
check "the failed runs in retailml.job_runs" \
  "$(run_psql -d "$DB" -tA -c "SELECT DISTINCT status || ' ' || sqlstate || ' ' || error FROM retailml.job_runs
                                 WHERE args->>'time_column' = 'no_such_day'")" \
  'failed 42703 column "no_such_day" of sales does not exist'
check "a successful run after the last failure" \
  "$(run_psql -d "$DB" -tA -c "SELECT bool_and(rows = 21) AND max(started_at) > (SELECT max(finished_at) FROM retailml.job_runs
                                                                                   WHERE status = 'failed')
                                 FROM retailml.job_runs WHERE status = 'succeeded' AND args->>'source' = 'sales'")" \
  t
check "no run left running" \
  "$(run_psql -d "$DB" -tA -c "SELECT count(*) FROM retailml.job_runs WHERE status = 'running'")" 0
check "the target holds the last successful run only" \
  "$(run_psql -d "$DB" -tA -c "SELECT count(*) || ' rows, ' || count(DISTINCT run_id) || ' run, the last: '
                                      || (min(run_id) = (SELECT max(run_id) FROM retailml.job_runs
                                                             WHERE status = 'succeeded' AND args->>'source' = 'sales'))
                                 FROM sales_forecasts")" \
  '21 rows, 1 run, the last: true'
run_psql -q -d postgres -c "DROP DATABASE $DB WITH (FORCE)" \
  -c "DELETE FROM cron.job_run_details WHERE jobid IN ($good, $bad)"
echo "cron test: finished in $(( $(date +%s) - started )) s"
exit $failed
