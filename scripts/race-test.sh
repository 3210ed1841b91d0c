#!/usr/bin/env bash
# Tier 3: concurrent first uses, which one session cannot show. Four
# sessions saving a segment model under one new name must all succeed and
# leave one model (they once failed with a false "belongs to another
# role"); three first refreshes into one new target must all succeed (they
# once failed with a duplicate key in pg_type, as each created the table).
source "$(dirname "$0")/common.sh"
cd "$ROOT"

bash scripts/cluster.sh start
DB=retailml_race
SESSIONS=4
PGOPTIONS="-c client_min_messages=warning" run_psql -q -d postgres \
  -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
run_psql -q -d "$DB" <<'SQL'
CREATE EXTENSION retailml;
-- 200,000 customers: a fit of about a second, so the sessions overlap.
CREATE TABLE customers (customer_id int PRIMARY KEY, recency float8, monetary float8);
INSERT INTO customers SELECT i, (i::bigint * 7919) % 365, (i::bigint * 104729) % 5000 FROM generate_series(1, 200000) i;
SQL

# Runs "$1" in $SESSIONS sessions at once; every one must succeed.
all_at_once() {
  local pids=() failed=0
  for _ in $(seq "$SESSIONS"); do
    PGOPTIONS="-c client_min_messages=warning" run_psql -q -d "$DB" -tA -c "$1" >/dev/null &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
  [ "$failed" -eq 0 ] || { echo "race test: $failed of $SESSIONS sessions failed: $1" >&2; exit 1; }
}
check() {
  local got
  got=$(run_psql -d "$DB" -tA -c "$2")
  [ "$got" = "$3" ] || { echo "race test: $1: expected $3, got $got" >&2; exit 1; }
  echo "race test: $1: ok"
}

all_at_once "SELECT count(*) FROM segment_customers('customers'::regclass, k => 3, model_name => 'race')"
check "$SESSIONS saves of one new model name (models of that name)" \
  "SELECT count(*) FROM retailml.segment_models WHERE name = 'race'" 1

all_at_once "CALL retailml.refresh_segments('race', 'customers', 'race_segments')"
check "$SESSIONS first refreshes into one new target (runs succeeded)" \
  "SELECT count(*) FILTER (WHERE status = 'succeeded') || '/' || count(*) FROM retailml.job_runs" "$SESSIONS/$SESSIONS"
check "the target holds one run's rows" \
  "SELECT count(*) || ' rows, ' || count(DISTINCT run_id) || ' run' FROM race_segments" "200000 rows, 1 run"

PGOPTIONS="-c client_min_messages=warning" run_psql -q -d postgres -c "DROP DATABASE $DB WITH (FORCE)"
