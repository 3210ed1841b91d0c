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
echo "main job and workflow finished in $(( $(date +%s) - start )) s"

REPORT="$PG_STATE/report.html"
run_psql -d "$DEMO_DB" -At -f demo/report.sql > "$REPORT"
echo "report with the segment and forecast charts: $REPORT (one self-contained HTML file; open it in a browser)"

# The README's tour is docs/tour.sql, word for word; run it as an analyst would.
say "running the README's tour (docs/tour.sql)"
if ! awk '/^## Tour$/ { tour = 1 } tour && /^```$/ { exit } tour && copy { print } tour && /^```sql$/ { copy = 1 }' README.md |
     cmp -s - docs/tour.sql; then
  echo "the README's Tour block differs from docs/tour.sql" >&2
  exit 1
fi
start=$(date +%s)
run_psql -d "$DEMO_DB" -f docs/tour.sql > "$PG_STATE/tour.out"
echo "tour: $(grep -c '^SELECT' docs/tour.sql) statements in $(( $(date +%s) - start )) s, output in .pg/tour.out; explore with: make psql"
