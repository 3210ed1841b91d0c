"""Renders the raw benchmark figures (bench/out/results.json) as bench/RESULTS.md.

    report.py [results.json [RESULTS.md]]   (re-renders without re-running)
"""

import json
import sys
from pathlib import Path

from scoring import median

HERE = Path(__file__).resolve().parent
SECTIONS = ("text", "image", "forecast", "segment", "overhead")
# The published M3 figures (sMAPE, MASE), for the held-back check.
PUBLISHED = {"M3": {"Theta": (12.76, 1.39), "ForecastPro": (13.06, 1.47), "R ets": (13.07, 1.43),
                    "auto.arima": (13.57, 1.45), "statsforecast AutoETS (issue)": (12.84, 1.38)}}
PUBLISHED_SERIES = {"M3": 3003}
# Scores that print the same (two decimals) are ties, not losses.
TIE_DECIMALS = 2


def f(value, digits=2):
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def ratio(product, peer):
    return None if product is None or not peer else product / peer


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


class Report:
    def __init__(self, results):
        self.r = results
        self.parts = []
        self.losses = []

    def add(self, text):
        self.parts.append(text)

    def lose_if(self, condition, text):
        if condition:
            self.losses.append(text)

    def header(self):
        e = self.r["environment"]
        peers = ", ".join(f"{name} {version}" for name, version in e["peers"].items())
        dates = sorted({self.r[k].get("measured_at", e["date"]) for k in SECTIONS if k in self.r})
        when = dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]} (pairs re-run with `--only`)"
        self.add(f"""# Benchmark results

Produced by `make bench` on {when}{' with `--quick` (small inputs: not the figures to quote)' if self.r['quick'] else ''}.
How each pair is run and why: bench/README.md.

- Machine: {e['cpu']}, {e['cores']} cores, {e['memory_gb']} GB, Linux {e['kernel']}.
- Product: retailml {e['retailml']} ({e['rustc']}), {e['postgres'].split(',')[0]}, server defaults.
- Peers: Python {e['python']}; {peers}.
- Every figure is the median of the runs stated; product and peer runs alternate.
  Ratios are product/peer: above 1 means retailml is faster for throughput,
  slower for wall time.
""")

    def text(self):
        t = self.r.get("text")
        if not t:
            return
        p, q = median(t["product_texts_per_s"]), median(t["peer_texts_per_s"])
        b = median(t["product_batch_texts_per_s"]) if "product_batch_texts_per_s" in t else None
        cp = median([c["first_call_s"] for c in t["cold_product"]])
        cq = median([c["load_and_first_call_s"] for c in t["cold_peer"]])
        imp = median([c["import_s"] for c in t["cold_peer"]])
        mp = median([c["rss_after_first_call_mb"] for c in t["cold_product"]])
        mp0 = median([c["rss_before_mb"] for c in t["cold_product"]])
        mq = median([c["rss_after_first_call_mb"] for c in t["cold_peer"]])
        size = t["texts"] // t["chunks"]
        self.add(f"""## 1. Review embeddings (all-MiniLM-L6-v2, {t['texts']:,} Amazon Fine Food reviews, {t['threads']} threads)

retailml: `SELECT embed_review(review) FROM reviews`, one row at a time, and
the batch form `embed_reviews(array_agg(review))`. Peer: sentence-transformers
`encode` (batches of 32) on the same model files. Throughput is the median
over {t['chunks']} chunks of {size:,} reviews, each chunk run by all three in turn.

""" + table(["measure", "retailml", "sentence-transformers", "ratio"], [
            ["throughput one row at a time (`embed_review`), texts/s", f(p, 1), f(q, 1), f(ratio(p, q))],
            ["throughput of the batch form (`embed_reviews`), texts/s",
             f(b, 1) if b else "not built yet", f(q, 1), f(ratio(b, q))],
            ["first call in a new session/process: model load + one text, s", f(cp, 3),
             f"{f(cq, 3)} (plus {f(imp, 1)} s to import)", f(ratio(cp, cq))],
            ["resident memory after the first call, MB", f"{f(mp, 0)} (fresh backend: {f(mp0, 0)})",
             f(mq, 0), f(ratio(mp, mq))],
            *([[f"`embed_review` over {t['parallel_rows']:,} rows in a parallel scan (2 workers and the leader, "
                f"1 thread each) against one backend, texts/s",
                f"{f(median(t['parallel_texts_per_s']), 1)} against {f(median(t['serial_texts_per_s']), 1)}", "",
                f"speed-up {f(ratio(median(t['parallel_texts_per_s']), median(t['serial_texts_per_s'])))}"]]
              if "parallel_texts_per_s" in t else []),
            [f"agreement: cosine to the peer's vector, over {t['cosine_texts']} reviews",
             f"min {t['cosine_min']:.6f}, mean {t['cosine_mean']:.6f}", "", ""],
        ]))
        self.lose_if(b is None or b < q, f"review embeddings, batch form: {f(b, 1)} texts/s against "
                                         f"sentence-transformers' {f(q, 1)} ({f(ratio(b, q))}x)")
        self.lose_if(p < q / 2, f"review embeddings, one row at a time: {f(p, 1)} texts/s, under half "
                                f"of sentence-transformers' {f(q, 1)}")
        self.lose_if(mp > mq, f"review embeddings: the backend holds {f(mp, 0)} MB against the peer's {f(mq, 0)} MB")

    def image(self):
        t = self.r.get("image")
        if not t:
            return
        p, q = median(t["product_images_per_s"]), median(t["peer_images_per_s"])
        b = median(t["product_batch_images_per_s"]) if "product_batch_images_per_s" in t else None
        self.add(f"""## 2. Image embeddings (MobileNetV2, {t['images']} product photos, {t['threads']} threads)

retailml: `SELECT embed_image(photo) FROM photos`, one row at a time, and
the batch form `embed_images(array_agg(photo))` (decoding on every thread,
the network on batches of 4). Peer: torchvision MobileNetV2 on the same
weights, Pillow decoding and torchvision's ImageNet preprocessing, batches
of 32. The {t['distinct_photos']} distinct photos are repeated in turn; the
three run in turn, median of {t['runs']} runs.

""" + table(["measure", "retailml", "torchvision", "ratio"], [
            ["throughput one row at a time (`embed_image`), images/s", f(p, 1), f(q, 1), f(ratio(p, q))],
            ["throughput of the batch form (`embed_images`), images/s", f(b, 1), f(q, 1), f(ratio(b, q))]
            if b is not None else ["batch form `embed_images`", "not measured in this run", "", ""],
            [f"agreement: cosine to the peer's vector, {t['distinct_photos']} photos",
             f"min {t['cosine_min']:.6f}, mean {t['cosine_mean']:.6f}"
             + (f" (batch form: min {t['batch_cosine_min']:.6f})" if "batch_cosine_min" in t else ""), "", ""],
        ]))
        self.lose_if(p < q, f"image embeddings: {f(p, 1)} images/s against torchvision's {f(q, 1)} ({f(ratio(p, q))}x)")
        self.lose_if(b is None or b < q, f"image embeddings, batch form: {f(b, 1)} images/s against "
                                         f"torchvision's {f(q, 1)} ({f(ratio(b, q))}x)")

    def forecast(self):
        t = self.r.get("forecast")
        if not t:
            return
        self.add(f"""## 3. Forecasting (M1, Tourism and M3, official horizons, 95% intervals, 1 thread)

retailml: `forecast_sales(train, horizon, season_length => period, level => 0.95,
method => ...)` through LATERAL over a table of series, for the default
`auto` (the mean of Theta and AutoETS, after STL when the series is
seasonal) and each single method. Peers: statsforecast `AutoETS` and `MSTL`
(its default AutoETS trend) through `StatsForecast(n_jobs=1)`, one call per
season length and horizon; MSTL needs a season, so it has no yearly
figures. Seasonal naive and Naive2 (the M4 definition) come from
bench/scoring.py, which scores every method the same way: sMAPE and MASE
(scaled by the in-sample seasonal-naive MAE) averaged over each series'
horizon and then over series, and the share of test values inside the 95%
interval averaged over series. M1 and Tourism are the development sets; M3
is held back and nothing is tuned on it. Wall time is the median of
{t['runs']} run(s) for auto ({t['autoets_runs']} for statsforecast AutoETS, which takes
minutes per pass, and 1 for retailml's single methods).
""")
        for dataset, d in t["datasets"].items():
            methods = d["methods"]
            product_name = "retailml auto"
            product_seconds = median(methods[product_name]["seconds"])
            freqs = [k for k in ("yearly", "quarterly", "monthly", "other")
                     if k in methods[product_name]["scores"]] + ["all"]
            rows = []
            for name, m in methods.items():
                seconds = median(m["seconds"]) if m["seconds"] else None
                # "all" only for a method that forecast every series (MSTL
                # skips the yearly ones), so that the column compares alike.
                s = {k: v for k, v in m["scores"].items() if k != "all" or v["series"] == d["series"]}
                peer = seconds and not name.startswith("retailml")
                row = [name, f(seconds, 2) if seconds else "", f(ratio(product_seconds, seconds)) if peer else ""]
                row += [f(s[k]["smape"]) if k in s else "n/a" for k in freqs]
                row += [f(s[k]["mase"], 3) if k in s else "n/a" for k in freqs]
                covered = m["scores"].get("all", {})
                coverage = covered.get("coverage")
                partial = covered.get("series") != d["series"]
                row.append("" if coverage is None else f(coverage, 3) + (" (seasonal series)" if partial else ""))
                rows.append(row)
            counts = ", ".join(f"{methods[product_name]['scores'][k]['series']} {k}" for k in freqs[:-1])
            self.add(f"\n### {dataset}: {d['series']} series ({counts})\n\n" + table(
                ["method", "wall s", "retailml/peer time"] + [f"sMAPE {k}" for k in freqs]
                + [f"MASE {k}" for k in freqs] + ["95% coverage"], rows))
            ours_by_frequency = methods[product_name]["scores"]
            ours = ours_by_frequency["all"]
            for name, m in methods.items():
                if name == product_name:
                    continue
                # auto against its own members overall; against the peers and
                # baselines in every frequency too.
                own = name.startswith("retailml")
                for k in ["all"] if own else freqs:
                    other = m["scores"].get(k)
                    if other is None or (k == "all" and other["series"] != d["series"]):
                        continue
                    mine = ours_by_frequency[k]
                    self.lose_if(round(other["smape"], TIE_DECIMALS) < round(mine["smape"], TIE_DECIMALS),
                                 f"{dataset} {k}: {name} has a lower sMAPE "
                                 f"({f(other['smape'])} against {f(mine['smape'])})")
                if m["seconds"] and not own:
                    self.lose_if(median(m["seconds"]) < product_seconds,
                                 f"{dataset}: {name} is faster ({f(median(m['seconds']))} s against {f(product_seconds)} s)")
            # The published figures are for the whole set, not a --quick sample.
            if dataset in PUBLISHED and d["series"] == PUBLISHED_SERIES[dataset]:
                self.add(f"\nPublished for {dataset} (the issue's figures: Hyndman's Mcomp re-computation of the "
                         "competition table; statsforecast 2.1 AutoETS as measured on this machine):\n\n"
                         + table(["method", "sMAPE all", "MASE all"],
                                 [[name, f(a), f(b, 2)] for name, (a, b) in PUBLISHED[dataset].items()]))
                for name, (smape_all, mase_all) in PUBLISHED[dataset].items():
                    self.lose_if(round(ours["smape"], 2) > smape_all or round(ours["mase"], 2) > mase_all,
                                 f"{dataset}: auto scores sMAPE {f(ours['smape'])} / MASE {f(ours['mase'], 3)}, "
                                 f"not better than {name}'s published {smape_all} / {mase_all}")
            self.lose_if(ours["coverage"] is not None and not 0.9 <= ours["coverage"] <= 0.98,
                         f"{dataset}: 95% intervals cover {f(100 * ours['coverage'], 1)}% of test values "
                         "(the goal is 90 to 98%)")

    def segment(self):
        t = self.r.get("segment")
        if not t:
            return
        self.add(f"""## 4. Segmentation (k-means++, 10 runs, {t['threads']} threads)

retailml: `CREATE TABLE ... AS SELECT * FROM segment_customers(table, k)` (reads
the table, standardises, clusters, writes the assignments). Peer:
scikit-learn `StandardScaler` then `KMeans(init='k-means++', n_init=10)` on the
same values, already in memory. Inertia is computed by bench/scoring.py for
both from the assignments, in the same standardised space.

""")
        rows = []
        for name, c in t["cases"].items():
            p, q = median(c["product_seconds"]), median(c["peer_seconds"])
            ri = ratio(c["product_inertia"], c["peer_inertia"])
            rows.append([f"{name} ({c['rows']:,} x {c['features']}, k = {c['k']}, {c['runs']} run(s))",
                         f(p, 2), f(q, 2), f(ratio(p, q)), f(c["product_inertia"], 1), f(c["peer_inertia"], 1),
                         f"{ri:.5f}"])
            self.lose_if(p > q, f"segmentation, {name}: {f(p)} s against scikit-learn's {f(q)} s ({f(ratio(p, q))}x)")
            self.lose_if(ri > 1.001, f"segmentation, {name}: inertia {ri:.4f}x scikit-learn's")
        self.add(table(["data", "retailml s", "scikit-learn s", "time ratio", "retailml inertia",
                        "scikit-learn inertia", "inertia ratio"], rows))

    def overhead(self):
        t = self.r.get("overhead")
        if not t:
            return
        rows = []
        for name, w in t["workloads"].items():
            s, n = median(w["sql_seconds"]), median(w["native_seconds"])
            rows.append([name, f(s, 3), f(n, 3), f(ratio(s, n))])
        self.add(f"""## 5. What the SQL layer costs

The same work in SQL on the cluster and from `retailml-bench`
(bench/native), a plain binary calling the core crates on the same inputs
(model loading and input parsing outside the timing). Median of {t['runs']} runs.

""" + table(["workload", "SQL s", "native s", "SQL/native"], rows))

    def render(self):
        self.header()
        for section in (self.text, self.image, self.forecast, self.segment, self.overhead):
            section()
        losses = "\n".join(f"- {line}" for line in self.losses) or "- nowhere in this run"
        self.add(f"## Where retailml loses\n\n{losses}\n")
        self.add((HERE / "MEASURED.md").read_text())
        return "\n".join(self.parts)


def render(results):
    return Report(results).render()


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "out" / "results.json"
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else HERE / "RESULTS.md"
    target.write_text(render(json.loads(source.read_text())))
