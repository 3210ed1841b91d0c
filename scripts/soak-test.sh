#!/usr/bin/env bash
# Soak: 8 pgbench clients call embed_review, forecast_sales, segment_customers
# and assign_segments for SOAK_SECONDS (default 120) on the project's cluster
# with the installed extension. Passes when no call fails and no backend's
# private memory (RssAnon, sampled every SOAK_SAMPLE_SECONDS from
# /proc/<pid>/status) grows by more than SOAK_GROWTH_KB (default 4 MB, 48
# times the largest growth measured; README "Robustness tests") after the warm-up
# (the first quarter of the run, in which each backend loads the text model
# and starts its threads). The curve goes to $PG_STATE/soak/rss.csv, the
# per-backend summary to $PG_STATE/soak/summary.txt.
source "$(dirname "$0")/common.sh"
cd "$ROOT"

SECONDS_TOTAL="${SOAK_SECONDS:-120}"
SAMPLE_EVERY="${SOAK_SAMPLE_SECONDS:-3}"
GROWTH_KB="${SOAK_GROWTH_KB:-4096}"
CLIENTS=8
DB=retailml_soak
OUT="$PG_STATE/soak"

bash scripts/cluster.sh start
rm -rf "$OUT"; mkdir -p "$OUT"
PGOPTIONS="-c client_min_messages=warning" run_psql -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
run_psql -q -d "$DB" <<'SQL'
CREATE EXTENSION retailml;
CREATE TABLE customers AS
  SELECT i AS id, (i % 97)::float8 AS spend, (i % 13)::float8 AS visits, (i % 7)::float8 AS recency
    FROM generate_series(1, 2000) i;
ALTER TABLE customers ADD PRIMARY KEY (id);
SELECT count(*) FROM segment_customers('customers'::regclass, 4, model_name => 'soak');
SQL

# One script per call, weighted so each kind takes a similar share of time.
cat >"$OUT/embed.sql" <<'SQL'
\set n random(1, 1000000)
SELECT array_length(embed_review('Review ' || :n || ': the coffee arrived quickly and tasted fresh'), 1);
SQL
cat >"$OUT/forecast.sql" <<'SQL'
\set n random(1, 1000)
SELECT count(*) FROM forecast_sales(ARRAY(SELECT 50 + 10 * sin(i * 2 * pi() / 7) + (i * :n) % 11 FROM generate_series(1, 200) i)::float8[], horizon => 14);
SQL
cat >"$OUT/segment.sql" <<'SQL'
SELECT count(*) FROM segment_customers('customers'::regclass, 4);
SQL
cat >"$OUT/assign.sql" <<'SQL'
SELECT count(*) FROM assign_segments('soak', 'customers'::regclass);
SQL

rss_of() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status" 2>/dev/null; }
echo "seconds,pid,vm_rss_kb,rss_anon_kb" >"$OUT/rss.csv"
PGAPPNAME=soak "$PG_BIN/pgbench" -n -h "$PG_SOCKET_DIR" -p "$RETAILML_PGPORT" -U postgres \
  -c "$CLIENTS" -j 2 -T "$SECONDS_TOTAL" \
  -f "$OUT/embed.sql@4" -f "$OUT/forecast.sql@4" -f "$OUT/segment.sql@1" -f "$OUT/assign.sql@2" \
  "$DB" >"$OUT/pgbench.log" 2>&1 &
bench=$!
start=$(date +%s)
while kill -0 "$bench" 2>/dev/null; do
  now=$(( $(date +%s) - start ))
  for pid in $(run_psql -qtA -d postgres -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'soak' AND backend_type = 'client backend'"); do
    rss=$(rss_of "$pid" VmRSS); anon=$(rss_of "$pid" RssAnon)
    [ -n "$rss" ] && echo "$now,$pid,$rss,$anon" >>"$OUT/rss.csv"
  done
  sleep "$SAMPLE_EVERY"
done
status=0
wait "$bench" || status=$?
cat "$OUT/pgbench.log"
if [ "$status" -ne 0 ] || grep -qE "aborted|ERROR" "$OUT/pgbench.log"; then
  echo "soak: FAILED: pgbench exited with $status or reported errors"; status=1
fi

# Per backend: RssAnon at the end of the warm-up and at the end, its maximum
# afterwards, and the growth between the two.
warmup=$(( SECONDS_TOTAL / 4 ))
awk -F, -v warmup="$warmup" -v limit="$GROWTH_KB" '
  NR > 1 {
    pid = $2
    if (!(pid in first)) { first[pid] = $4; order[++n] = pid }
    if ($1 >= warmup && !(pid in warm)) warm[pid] = $4
    if ($1 >= warmup && $4 > peak[pid]) peak[pid] = $4
    last[pid] = $4; rss[pid] = $3
  }
  END {
    printf "%-8s %12s %12s %12s %12s %12s %12s\n", "pid", "first_kb", "warm_kb", "end_kb", "max_kb", "growth_kb", "vm_rss_kb"
    worst = 0
    for (i = 1; i <= n; i++) {
      pid = order[i]
      if (!(pid in warm)) continue
      growth = last[pid] - warm[pid]
      if (growth > worst) worst = growth
      printf "%-8s %12d %12d %12d %12d %12d %12d\n", pid, first[pid], warm[pid], last[pid], peak[pid], growth, rss[pid]
    }
    printf "largest growth after the %d s warm-up: %d kB (bound %d kB)\n", warmup, worst, limit
    exit worst > limit
  }' "$OUT/rss.csv" | tee "$OUT/summary.txt" || { echo "soak: FAILED: a backend grew by more than $GROWTH_KB kB after the warm-up"; status=1; }
if ! grep -q "largest growth" "$OUT/summary.txt"; then
  echo "soak: FAILED: no backend was sampled after the warm-up"; status=1
fi
run_psql -q -d postgres -c "DROP DATABASE $DB"
exit $status
