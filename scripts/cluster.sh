#!/usr/bin/env bash
# The project's own PostgreSQL cluster: start | stop | status | psql [args].
# Data in .pg/data inside the checkout, socket in .pg/socket, port
# $RETAILML_PGPORT (default 28815), listening on its socket only, so it never
# meets another server on this machine.
source "$(dirname "$0")/common.sh"

# The postgres OS user must be able to reach .pg inside the checkout; a
# checkout under a private directory (mktemp -d is 0700) needs search
# permission on the way down. Only the execute bit is added.
grant_traverse() {
  local dir="$ROOT"
  while [ "$dir" != "/" ]; do
    if ! sudo -u "$PG_OS_USER" test -x "$dir"; then
      echo "granting search permission on $dir so the $PG_OS_USER user can reach the cluster"
      chmod o+x "$dir"
    fi
    dir="$(dirname "$dir")"
  done
}

start() {
  mkdir -p "$PG_STATE"
  grant_traverse
  if [ ! -s "$PGDATA_DIR/PG_VERSION" ]; then
    say "creating the cluster in $PGDATA_DIR"
    install -d -o "$PG_OS_USER" -m 0700 "$PGDATA_DIR"
    sudo -u "$PG_OS_USER" "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust \
      --encoding=UTF8 --no-locale >/dev/null
  fi
  install -d -o "$PG_OS_USER" -m 0700 "$PG_SOCKET_DIR"
  touch "$PG_LOG" && chown "$PG_OS_USER" "$PG_LOG"
  if sudo -u "$PG_OS_USER" "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
    # A cluster started before pg_cron was part of its settings gets them now.
    if [ "$(run_psql -d postgres -tAc "SELECT 'pg_cron' = ANY (regexp_split_to_array(current_setting('shared_preload_libraries'), '\s*,\s*'))")" = t ]; then
      return 0
    fi
    say "restarting the retailml cluster to load pg_cron"
    sudo -u "$PG_OS_USER" "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null
  fi
  say "starting PostgreSQL $PG_MAJOR on port $RETAILML_PGPORT (socket $PG_SOCKET_DIR)"
  # pg_cron: its launcher keeps its job table in the postgres database (which
  # always exists; cron.schedule_in_database runs a job in any other one) and
  # runs each job in a background worker, which needs no TCP or password
  # (the cluster listens on its socket only).
  sudo -u "$PG_OS_USER" "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PG_LOG" -w -t 60 start \
    -o "-p $RETAILML_PGPORT -k $PG_SOCKET_DIR -c listen_addresses='' \
        -c shared_preload_libraries=pg_cron -c cron.database_name=postgres -c cron.use_background_workers=on" >/dev/null
}

stop() {
  if [ -s "$PGDATA_DIR/PG_VERSION" ] && sudo -u "$PG_OS_USER" "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
    sudo -u "$PG_OS_USER" "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null
    echo "stopped the retailml cluster"
  else
    echo "the retailml cluster is not running"
  fi
}

# A fresh database with the extension, for the demo and the SQL tests.
ensure_db() {
  local db="$1"
  if [ -z "$(run_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
    run_psql -d postgres -qc "CREATE DATABASE $db"
  fi
  run_psql -d "$db" -qc "CREATE EXTENSION IF NOT EXISTS retailml"
}

cmd="${1:-status}"; shift || true
case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) sudo -u "$PG_OS_USER" "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status || true ;;
  ensure-db) start; ensure_db "$1" ;;
  psql) start; ensure_db "$DEMO_DB"; run_psql -d "$DEMO_DB" "$@" ;;
  *) echo "usage: $0 start|stop|status|ensure-db DB|psql [psql args]" >&2; exit 2 ;;
esac
