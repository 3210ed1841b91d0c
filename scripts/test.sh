#!/usr/bin/env bash
# Every test tier: core crates (cargo test), #[pg_test] in the glue (cargo
# pgrx test), and the pg_regress suite in pg_test/ against the installed
# extension on the project's own cluster, and the demo report rendered in
# headless Chromium.
source "$(dirname "$0")/common.sh"
cd "$ROOT"

bash scripts/setup-system.sh
export RETAILML_MODEL_DIR="$("$PG_CONFIG" --sharedir)/retailml/models"
bash models/fetch.sh "$RETAILML_MODEL_DIR"

say "tier 1: core crates, the sentiment trainer, the native benchmark binary, the benchmark's scoring code"
cargo test --release -p retailml-embed -p retailml-forecast -p retailml-report -p retailml-segment -p retailml-train -p retailml-bench
python3 -m unittest discover -s bench -p 'test_*.py'

say "tier 2: #[pg_test] in the glue"
# A cluster this run starts is stopped at the end; one already running stays.
if ! sudo -u "$PG_OS_USER" "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
  trap 'bash scripts/cluster.sh stop' EXIT
fi
bash scripts/cluster.sh start  # also makes the checkout reachable for the postgres user
install -d -o "$PG_OS_USER" "$PG_STATE/pgrx-test"
CARGO_PGRX_TEST_RUNAS="$PG_OS_USER" CARGO_PGRX_TEST_PGDATA="$PG_STATE/pgrx-test/data" \
  cargo pgrx test --release pg$PG_MAJOR

# pgrx test installed a build with the test functions; put the real one back.
say "tier 3: pg_regress suite (pg_test/) against the installed extension"
bash scripts/install.sh
bash scripts/regress.sh
bash scripts/hostile-test.sh
bash scripts/upgrade-test.sh
bash scripts/cron-test.sh
bash scripts/race-test.sh
bash scripts/report-test.sh
bash scripts/cancel-test.sh
bash scripts/soak-test.sh
