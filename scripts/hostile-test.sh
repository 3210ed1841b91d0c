#!/usr/bin/env bash
# Tier 3: the hostile-input suite (pg_test/sql/hostile.sql) gives its
# expected output and leaves the server standing: the postmaster is the one
# that was running before (same start time) and the server log gained no
# crashed backend while it ran.
source "$(dirname "$0")/common.sh"
cd "$ROOT"

bash scripts/cluster.sh start
started_before=$(run_psql -qtA -d postgres -c "SELECT pg_postmaster_start_time()")
log_offset=$(stat -c %s "$PG_LOG")

status=0
if ! bash scripts/regress.sh hostile; then
  echo "hostile: FAILED: the suite's output differs from pg_test/expected/hostile.out"; status=1
fi

started_after=$(run_psql -qtA -d postgres -c "SELECT pg_postmaster_start_time()" 2>/dev/null || echo "server down")
# A backend that dies by a signal, or exits abnormally, makes the postmaster
# log it and restart every backend.
crashes=$(tail -c +"$((log_offset + 1))" "$PG_LOG" |
  grep -E "terminated by signal|server process .* was terminated|server process .* exited with exit code|all server processes terminated|PANIC" || true)
if [ "$started_after" != "$started_before" ]; then
  echo "hostile: FAILED: the postmaster started at $started_before, now: $started_after"; status=1
fi
if [ -n "$crashes" ]; then
  echo "hostile: FAILED: the server log reports crashed backends:"; echo "$crashes"; status=1
fi
if [ "$status" -eq 0 ]; then
  echo "hostile: the suite passed and the postmaster started at $started_before is still the one running, with no crashed backend"
fi
exit $status
