#!/usr/bin/env bash
# The main job on real data: set up everything, start the project's cluster,
# load the demo data into a fresh retailml_demo database, run demo/main_job.sql
# and the integrated workflow (demo/workflow.sql), and write the charts to
# .pg/report.html (demo/report.sql).
source "$(dirname "$0")/common.sh"
cd "$ROOT"

bash scripts/install.sh
bash data/fetch.sh
bash scripts/cluster.sh start

say "loading the demo data into a fresh $DEMO_DB database"
run_psql -d postgres -qc "DROP DATABASE IF EXISTS $DEMO_DB WITH (FORCE)"
run_psql -d postgres -qc "CREATE DATABASE $DEMO_DB"
run_psql -d "$DEMO_DB" -qc "CREATE EXTENSION retailml"
run_psql -d "$DEMO_DB" -q -f demo/load.sql

say "running the main job"
start=$(date +%s)
run_psql -d "$DEMO_DB" -q -f demo/main_job.sql
run_psql -d "$DEMO_DB" -q -f demo/workflow.sql
echo
echo "main job and workflow finished in $(( $(date +%s) - start )) s; explore with: make psql"

REPORT="$PG_STATE/report.html"
run_psql -d "$DEMO_DB" -At -f demo/report.sql > "$REPORT"
echo "report with the segment and forecast charts: $REPORT (one self-contained HTML file; open it in a browser)"
