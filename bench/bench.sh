#!/usr/bin/env bash
# make bench: sets up everything (system packages, the extension, models, demo
# data, the benchmark's own data and its peer venv), then runs every pair
# side by side and writes bench/RESULTS.md.
#   bench/bench.sh [--quick] [--only text,image,forecast,segment,overhead]
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"

bash scripts/install.sh
bash data/fetch.sh
MODEL_DIR="$("$PG_CONFIG" --sharedir)/retailml/models"
OUT="$ROOT/bench/out"
VENV="$ROOT/bench/.venv"

bash scripts/fetch-packages.sh bench/MANIFEST.tsv "$OUT/downloads"
if [ ! -x "$VENV/bin/python" ] || ! cmp -s bench/requirements.txt "$VENV/requirements.txt"; then
  say "creating the peer venv in $VENV (torch, sentence-transformers, statsforecast, scikit-learn; a few minutes)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r bench/requirements.txt
  cp bench/requirements.txt "$VENV/requirements.txt"
fi
if [ ! -f "$OUT/data/.ready" ] || [ ! -f "$OUT/data/m3.csv" ]; then
  say "preparing the benchmark data in $OUT/data"
  rm -rf "$OUT/data"
  "$VENV/bin/python" bench/prepare.py "$OUT/downloads" data/cache/demo "$OUT/data"
  touch "$OUT/data/.ready"
fi
say "building the native benchmark binary"
cargo build --release -q -p retailml-bench

# A cluster this run starts is stopped at the end; one already running stays.
if ! sudo -u "$PG_OS_USER" "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
  trap 'bash scripts/cluster.sh stop' EXIT
fi
bash scripts/cluster.sh ensure-db retailml_bench
# The freshly installed build, not the catalogue of an older one of the same
# version; the benchmark's tables do not depend on the extension.
run_psql -d retailml_bench -qc "DROP EXTENSION retailml CASCADE; CREATE EXTENSION retailml"

say "running the benchmarks"
# Offline: the peers must use the model files given, never a hub.
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TQDM_DISABLE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 "$VENV/bin/python" bench/run.py "$@" \
  --socket-dir "$PG_SOCKET_DIR" --port "$RETAILML_PGPORT" --db retailml_bench \
  --model-dir "$MODEL_DIR" --demo-data data/cache/demo --data "$OUT/data" \
  --native "$ROOT/target/release/retailml-bench" --out bench/RESULTS.md
