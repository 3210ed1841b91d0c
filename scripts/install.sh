#!/usr/bin/env bash
# Everything a server needs: system set-up, the model files in the directory
# the server reads, and the extension built and installed (release profile).
source "$(dirname "$0")/common.sh"

bash "$ROOT/scripts/setup-system.sh"
MODEL_DIR="$("$PG_CONFIG" --sharedir)/retailml/models"
bash "$ROOT/models/fetch.sh" "$MODEL_DIR"
say "building and installing the extension"
(cd "$ROOT" && cargo pgrx install --release --pg-config "$PG_CONFIG")
