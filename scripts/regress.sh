#!/usr/bin/env bash
# Runs pg_test/sql/*.sql (or the tests named as arguments) with pg_regress
# against the installed extension on the project's cluster and compares with
# pg_test/expected/*.out.
source "$(dirname "$0")/common.sh"
cd "$ROOT"

bash scripts/cluster.sh start
OUT="$PG_STATE/regress"
rm -rf "$OUT"; mkdir -p "$OUT"
tests=${*:-$(cd pg_test/sql && ls *.sql | sed 's/\.sql$//' | sort)}
status=0
"$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress" \
  --bindir="$PG_BIN" --host="$PG_SOCKET_DIR" --port="$RETAILML_PGPORT" --user=postgres \
  --inputdir=pg_test --outputdir="$OUT" --dbname=retailml_regress --load-extension=retailml \
  $tests | tee "$OUT/summary.txt" || status=$?
if [ "$status" -ne 0 ] && [ -f "$OUT/regression.diffs" ]; then
  head -200 "$OUT/regression.diffs"
fi
total=$(echo $tests | wc -w)
passed=$(grep -cE '^test .* \.\.\. ok' "$OUT/summary.txt" || true)
echo "pg_regress: $passed passed, $((total - passed)) failed"
exit $status
