#!/usr/bin/env bash
# The demo's report, rendered: demo/report.sql over a small database shaped
# like the main job's tables (three departments' weekly sales, one name with
# markup in it, and a saved segment model 'households'), opened in headless
# Chromium. The DOM Chromium builds must hold every chart: the segment chart
# with a bar per segment and feature, and per department a fan chart with its
# band and both lines; the markup in the name must stay text.
source "$(dirname "$0")/common.sh"
cd "$ROOT"

bash scripts/cluster.sh start
DB=retailml_report_test
OUT="$PG_STATE/report-test"
rm -rf "$OUT"; mkdir -p "$OUT"
run_psql -d postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
run_psql -d postgres -qc "CREATE DATABASE $DB"
run_psql -d "$DB" -qc "CREATE EXTENSION retailml"
run_psql -d "$DB" -q <<'SQL'
CREATE TABLE department_weekly AS
SELECT d.department, w AS week, timestamptz '2017-01-02' + (w - 2) * interval '1 week' AS week_start,
       d.level * (1 + 0.1 * sin(w) + 0.004 * w) AS sales
  FROM (VALUES ('GROCERY', 50000.0), ('DRUG GM', 9000.0), ('MEAT & <DELI> "fresh"', 6000.0)) d(department, level),
       generate_series(2, 53) w;
CREATE TABLE department_forecasts AS
SELECT s.department, s.sales[cardinality(s.sales)] AS last_week, f.*
  FROM (SELECT department, array_agg(sales ORDER BY week) AS sales FROM department_weekly GROUP BY department) s
       CROSS JOIN LATERAL forecast_sales(s.sales, horizon => 8) f;
CREATE TABLE household_features AS
SELECT i AS household_id,
       CASE WHEN i % 3 = 0 THEN 900.0 + i ELSE 20.0 + i % 7 END AS monetary,
       CASE WHEN i % 3 = 1 THEN 40.0 + i % 5 ELSE 3.0 + i % 4 END AS frequency,
       (i % 4)::float8 AS kids
  FROM generate_series(1, 90) i;
CREATE TEMP TABLE fitted AS
SELECT * FROM segment_customers('household_features'::regclass, k => 3, id_column => 'household_id',
                                model_name => 'households');
SQL
run_psql -d "$DB" -At -f demo/report.sql > "$OUT/report.html"
run_psql -d postgres -qc "DROP DATABASE $DB"

timeout 120 chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$OUT/report.html" \
  > "$OUT/dom.html" 2> "$OUT/chromium.log"
timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,2400 \
  --screenshot="$OUT/report.png" "file://$OUT/report.html" >> "$OUT/chromium.log" 2>&1

failures=0
# expect WHAT TEST COUNT PATTERN: the number of times PATTERN occurs in the
# rendered DOM passes `[ found TEST COUNT ]` (-eq, -ge).
expect() {
  local found
  found=$(grep -oE "$4" "$OUT/dom.html" | wc -l || true)
  if [ "$found" "$2" "$3" ]; then
    echo "ok: $1 ($found)"
  else
    echo "FAILED: $1: expected $2 $3, found $found"; failures=$((failures + 1))
  fi
}
expect "charts" -eq 4 '<svg '
expect "segment panels" -eq 3 '^segment [0-9]+: '
expect "segment bars (3 segments x 3 features)" -eq 9 '<rect [^>]*fill="#(1F6FB4|E07B39)"'
expect "interval bands" -eq 3 '<polygon '
expect "history lines and legend keys" -eq 6 'stroke="#1F3A5F" stroke-width="2"'
expect "forecast lines and legend keys" -eq 6 'stroke="#D95F0E" stroke-width="2"'
expect "date labels, at least 4 a chart" -ge 12 '^20[0-9]{2}-[0-9]{2}-01$'
expect "the department name with markup, as text" -eq 2 'MEAT &amp; &lt;DELI&gt; "fresh"'
expect "elements made from that markup" -eq 0 '<deli'
[ -s "$OUT/report.png" ] || { echo "FAILED: no screenshot"; failures=$((failures + 1)); }
echo "report test: $failures failed; report, DOM and screenshot in $OUT"
exit $((failures > 0))
