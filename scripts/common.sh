# Shared settings for the project's scripts; sourced, never run.
# The cluster lives inside the checkout (.pg/, ignored by git) and runs as the
# postgres OS user, because PostgreSQL refuses to run as root.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_MAJOR=15
PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"
PG_CONFIG="$PG_BIN/pg_config"
PGRX_VERSION=0.18.1
RETAILML_PGPORT="${RETAILML_PGPORT:-28815}"
PG_STATE="$ROOT/.pg"
PGDATA_DIR="$PG_STATE/data"
PG_SOCKET_DIR="$PG_STATE/socket"
PG_LOG="$PG_STATE/server.log"
PG_OS_USER=postgres
DEMO_DB=retailml_demo

export PATH="$HOME/.cargo/bin:$PATH"
# cargo-pgrx links the extension with -Wl,--no-gc-sections, passed as
# rustflags; different rustflags make cargo rebuild every dependency (candle
# and all) between `cargo test` and `cargo pgrx install`. The workaround is
# for targets whose linker drops pgrx's schema section; on x86_64 Linux the
# section survives without it (the schema step checks), so one set of flags
# serves every build.
export CARGO_PGRX_DISABLE_GC_SECTIONS_WORKAROUND=1

say() { printf '\n==> %s\n' "$*"; }

# psql against our own cluster only: explicit socket directory and port.
run_psql() {
  "$PG_BIN/psql" -X -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$RETAILML_PGPORT" -U postgres "$@"
}
