"""Runs every benchmark pair and writes bench/RESULTS.md (and the raw figures
to bench/out/results.json). Started by bench/bench.sh, which sets up the
cluster, the data and this venv; see bench/README.md.

Product and peer runs alternate within each pair, so that drift of this
shared machine hits both; each figure is the median of the runs.
"""

import argparse
import csv
import datetime
import io
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import psycopg

import peers
import scoring

HERE = Path(__file__).resolve().parent
THREADS = os.cpu_count()


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="small inputs and fewer runs, for development")
    p.add_argument("--only", default="text,image,forecast,segment,overhead",
                   help="comma-separated pairs to run (default: all)")
    p.add_argument("--socket-dir", required=True)
    p.add_argument("--port", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--model-dir", required=True)
    p.add_argument("--demo-data", required=True, type=Path)
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--native", required=True, help="the retailml-bench binary")
    p.add_argument("--out", required=True, type=Path)
    return p.parse_args()


class Database:
    def __init__(self, args):
        self.conninfo = dict(host=args.socket_dir, port=args.port, user="postgres", dbname=args.db)
        self.conn = self.connect()

    def connect(self):
        return psycopg.connect(**self.conninfo, autocommit=True)

    def timed(self, query, params=None, conn=None):
        """Runs `query` and fetches every row; returns (seconds, rows)."""
        cur = (conn or self.conn).cursor()
        start = time.perf_counter()
        cur.execute(query, params)
        rows = cur.fetchall() if cur.description else []
        return time.perf_counter() - start, rows

    def execute(self, query, params=None):
        self.conn.execute(query, params)

    def copy_rows(self, table, columns, rows):
        with self.conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def alternate(runs, product, peer_runs, peer_limits=None):
    """Runs product() and each peer in turn, `runs` times (a peer named in
    `peer_limits` at most that often); returns the list of product results
    and, per peer name, the list of its results."""
    limits = peer_limits or {}
    product_results, peer_results = [], {name: [] for name in peer_runs}
    for i in range(runs):
        product_results.append(product())
        for name, run in peer_runs.items():
            if i < limits.get(name, runs):
                peer_results[name].append(run())
    return product_results, peer_results


def timed(fn, *args):
    start = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - start, value


def cosines(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def read_reviews(args, limit):
    with open(args.demo_data / "reviews.csv", newline="") as f:
        return [row["review"] for row in csv.DictReader(f)][:limit]


def read_photos(args):
    folder = args.demo_data / "photos"
    return [folder / name for name in sorted(os.listdir(folder))]


# Each bench_* function returns a section of the results (a dict).

def bench_text(db, args):
    n, chunks = (500, 5) if args.quick else (5000, 5)
    texts = read_reviews(args, n)
    db.execute("DROP TABLE IF EXISTS bench_reviews")
    db.execute("CREATE TABLE bench_reviews (id int PRIMARY KEY, review text NOT NULL)")
    db.copy_rows("bench_reviews", ["id", "review"], enumerate(texts, 1))
    db.execute("ANALYZE bench_reviews")

    model = peers.text_model(args.model_dir, THREADS)
    peers.embed_texts(model, ["warm up"])
    db.timed("SELECT embed_review('warm up')")
    size = n // chunks
    product, batch, peer = [], [], []
    for c in range(chunks):
        lo, hi = c * size + 1, (c + 1) * size
        seconds, _ = db.timed(
            "SELECT sum(array_length(embed_review(review), 1)) FROM bench_reviews WHERE id BETWEEN %s AND %s",
            (lo, hi))
        product.append(size / seconds)
        seconds, _ = db.timed(
            "SELECT sum(array_length(e, 1)) FROM embed_reviews((SELECT array_agg(review ORDER BY id) "
            "FROM bench_reviews WHERE id BETWEEN %s AND %s)) AS e", (lo, hi))
        batch.append(size / seconds)
        seconds, _ = timed(peers.embed_texts, model, texts[lo - 1:hi])
        peer.append(size / seconds)

    # The same rows in one backend, then in a parallel scan (leader and two
    # workers, each loading the model, one inference thread each), forced on
    # this small table by zero parallel costs.
    parallel_rows = min(n, 1000)
    query = "SELECT sum(array_length(embed_review(review), 1)) FROM bench_reviews WHERE id <= %s"
    parallel_settings = ("SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; "
                         "SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2")
    serial_runs, parallel_runs = alternate(
        2, lambda: parallel_rows / db.timed(query, (parallel_rows,))[0],
        {"parallel": lambda: parallel_scan(db, parallel_settings, query, parallel_rows)})

    check = min(n, 200)
    _, rows = db.timed("SELECT embed_review(review) FROM bench_reviews WHERE id <= %s ORDER BY id", (check,))
    agreement = cosines([r[0] for r in rows], peers.embed_texts(model, texts[:check]))
    del model

    cold_product, cold_peer = [], []
    for _ in range(3):
        with db.connect() as conn:
            pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            before = peers.resident_mb(pid)
            seconds, _ = db.timed("SELECT embed_review('first call')", conn=conn)
            cold_product.append({"first_call_s": seconds, "rss_before_mb": before,
                                 "rss_after_first_call_mb": peers.resident_mb(pid)})
        out = subprocess.run([sys.executable, str(HERE / "peers.py"), "cold-text", args.model_dir],
                             check=True, capture_output=True, text=True,
                             env={**os.environ, "BENCH_THREADS": str(THREADS)})
        cold_peer.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "texts": n, "chunks": chunks, "threads": THREADS,
        "product_texts_per_s": product, "product_batch_texts_per_s": batch, "peer_texts_per_s": peer,
        "cosine_min": float(agreement.min()), "cosine_mean": float(agreement.mean()), "cosine_texts": check,
        "cold_product": cold_product, "cold_peer": cold_peer,
        "parallel_rows": parallel_rows, "serial_texts_per_s": serial_runs, "parallel_texts_per_s": parallel_runs["parallel"],
    }


def parallel_scan(db, settings, query, rows):
    db.execute(settings)
    seconds, _ = db.timed(query, (rows,))
    plan = db.timed(f"EXPLAIN (COSTS OFF) {query}", (rows,))[1]
    db.execute("RESET ALL")
    if not any("Parallel" in r[0] for r in plan):
        raise SystemExit("the parallel-scan measurement got no parallel plan")
    return rows / seconds


def bench_image(db, args):
    n, runs = (50, 3) if args.quick else (200, 5)
    photos = read_photos(args)
    images = [photos[i % len(photos)].read_bytes() for i in range(n)]
    db.execute("DROP TABLE IF EXISTS bench_photos")
    db.execute("CREATE TABLE bench_photos (id int PRIMARY KEY, photo bytea NOT NULL)")
    db.copy_rows("bench_photos", ["id", "photo"], enumerate(images, 1))
    db.execute("ANALYZE bench_photos")

    model = peers.ImageModel(args.model_dir, THREADS)
    model.embed(images[:1])
    db.timed("SELECT embed_image(photo) FROM bench_photos WHERE id = 1")
    batch_query = ("SELECT sum(array_length(e, 1)) FROM embed_images("
                   "(SELECT array_agg(photo ORDER BY id) FROM bench_photos)) AS e")
    product, peer = alternate(
        runs,
        lambda: n / db.timed("SELECT sum(array_length(embed_image(photo), 1)) FROM bench_photos")[0],
        {"embed_images": lambda: n / db.timed(batch_query)[0],
         "torchvision": lambda: n / timed(model.embed, images)[0]})
    unique = len(photos)
    _, rows = db.timed("SELECT embed_image(photo) FROM bench_photos WHERE id <= %s ORDER BY id", (unique,))
    agreement = cosines([r[0] for r in rows], model.embed(images[:unique]))
    _, rows = db.timed("SELECT e FROM embed_images((SELECT array_agg(photo ORDER BY id) FROM bench_photos "
                       "WHERE id <= %s)) AS e", (unique,))
    batch_agreement = cosines([r[0] for r in rows], model.embed(images[:unique]))
    return {
        "images": n, "distinct_photos": unique, "runs": runs, "threads": THREADS,
        "product_images_per_s": product, "product_batch_images_per_s": peer["embed_images"],
        "peer_images_per_s": peer["torchvision"],
        "cosine_min": float(agreement.min()), "cosine_mean": float(agreement.mean()),
        "batch_cosine_min": float(batch_agreement.min()),
    }


def read_competition(args, quick, name):
    series = []
    with open(args.data / name, newline="") as f:
        for i, row in enumerate(csv.DictReader(f)):
            if quick and i % 10:
                continue
            series.append({
                "dataset": row["dataset"], "series_id": row["series_id"], "frequency": row["frequency"],
                "period": int(row["period"]), "horizon": int(row["horizon"]),
                "train": [float(v) for v in row["train"].strip("{}").split(",")],
                "test": [float(v) for v in row["test"].strip("{}").split(",")],
            })
    return series


PRODUCT_FORECASTS = """
SELECT s.series_id, array_agg(f.forecast ORDER BY f.step), array_agg(f.lower ORDER BY f.step),
       array_agg(f.upper ORDER BY f.step)
  FROM bench_series s
 CROSS JOIN LATERAL forecast_sales(s.train, horizon => s.horizon, season_length => s.period, level => 0.95,
                                   method => %s) f
 WHERE s.dataset = %s
 GROUP BY s.series_id
"""


def score_forecasts(series, forecasts, with_intervals):
    """Per frequency and overall: mean sMAPE, mean MASE (series with an
    undefined scale left out), mean 95% coverage."""
    groups = {}
    for s in series:
        if s["series_id"] not in forecasts:
            continue
        point, lower, upper = forecasts[s["series_id"]]
        for key in (s["frequency"], "all"):
            g = groups.setdefault(key, {"smape": [], "mase": [], "coverage": []})
            g["smape"].append(scoring.smape(s["test"], point))
            m = scoring.mase(s["train"], s["test"], point, s["period"])
            if m is not None:
                g["mase"].append(m)
            if with_intervals:
                g["coverage"].append(scoring.coverage(s["test"], lower, upper))
    mean = lambda v: sum(v) / len(v) if v else None  # noqa: E731
    return {key: {"series": len(g["smape"]), "smape": mean(g["smape"]), "mase": mean(g["mase"]),
                  "coverage": mean(g["coverage"])} for key, g in groups.items()}


# statsforecast's seasonal AutoETS takes minutes per pass over these series
# on one core; one pass keeps the pair within its time budget.
AUTOETS_RUNS = 1


# Every method of forecast_sales, scored side by side; `auto` is the default
# and the one timed against the peers.
PRODUCT_METHODS = ("auto", "naive", "snaive", "ets", "mstl", "theta")


def bench_forecast(db, args):
    runs = 1 if args.quick else 3
    # M1 and Tourism are the development sets; M3 is the held-back check.
    series = read_competition(args, args.quick, "competition.csv") + read_competition(args, args.quick, "m3.csv")
    db.execute("DROP TABLE IF EXISTS bench_series")
    db.execute("""CREATE TABLE bench_series (dataset text, series_id text, frequency text, period int,
                  horizon int, train float8[], PRIMARY KEY (dataset, series_id))""")
    db.copy_rows("bench_series", ["dataset", "series_id", "frequency", "period", "horizon", "train"],
                 ((s["dataset"], s["series_id"], s["frequency"], s["period"], s["horizon"], s["train"])
                  for s in series))
    db.execute("ANALYZE bench_series")
    # statsforecast compiles its models on first use; keep that out of the timings.
    warm = [{"series_id": "warm", "period": 4, "horizon": 2, "train": [float(v % 4 + v) for v in range(24)]}]
    for name in ("AutoETS", "MSTL"):
        peers.forecast_statsforecast(name, warm)

    out = {"runs": runs, "autoets_runs": min(runs, AUTOETS_RUNS), "threads": 1, "datasets": {}}
    for dataset in ("M1", "Tourism", "M3"):
        members = [s for s in series if s["dataset"] == dataset]
        product_runs, peer_runs = alternate(
            runs,
            lambda: db.timed(PRODUCT_FORECASTS, ("auto", dataset)),
            {name: (lambda name=name: timed(peers.forecast_statsforecast, name, members))
             for name in ("AutoETS", "MSTL")},
            {"AutoETS": AUTOETS_RUNS})
        methods = {"retailml auto": (product_runs, True)}
        for method in PRODUCT_METHODS[1:]:
            methods[f"retailml {method}"] = ([db.timed(PRODUCT_FORECASTS, (method, dataset))], True)
        for name, results in peer_runs.items():
            methods[f"statsforecast {name}"] = (results, True)
        baselines = {
            "seasonal naive": {s["series_id"]: (scoring.seasonal_naive(s["train"], s["horizon"], s["period"]),
                                                None, None) for s in members},
            "naive2": {s["series_id"]: (scoring.naive2(s["train"], s["horizon"], s["period"]), None, None)
                       for s in members},
        }
        section = {"series": len(members), "methods": {}}
        for name, (results, intervals) in methods.items():
            forecasts = results[-1][1]
            if name.startswith("retailml"):
                forecasts = {r[0]: (r[1], r[2], r[3]) for r in forecasts}
            section["methods"][name] = {"seconds": [r[0] for r in results],
                                        "scores": score_forecasts(members, forecasts, intervals)}
        for name, forecasts in baselines.items():
            section["methods"][name] = {"seconds": None, "scores": score_forecasts(members, forecasts, False)}
        out["datasets"][dataset] = section
    return out


def read_matrix(path, limit=None):
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        ids, values = [], []
        for i, row in enumerate(reader):
            if limit is not None and i >= limit:
                break
            ids.append(row[0])
            values.append([float(v) for v in row[1:]])
    return header, ids, np.array(values)


def load_matrix_table(db, table, header, ids, matrix):
    """A table keyed by the first CSV column, one float8 column per feature."""
    db.execute(f"DROP TABLE IF EXISTS {table}")
    columns = ", ".join(f"{c} float8 NOT NULL" for c in header[1:])
    db.execute(f"CREATE TABLE {table} ({header[0]} text PRIMARY KEY, {columns})")
    db.copy_rows(table, header, ([i, *row] for i, row in zip(ids, matrix.tolist())))
    db.execute(f"VACUUM ANALYZE {table}")


def bench_segment(db, args):
    cases = [("CDNOW RFM", "cdnow_rfm.csv", None, 5, 3 if args.quick else 5),
             ("synthetic", "synthetic.csv", 100_000 if args.quick else None, 8, 1 if args.quick else 3)]
    out = {"threads": THREADS, "cases": {}}
    for name, file, limit, k, runs in cases:
        header, ids, matrix = read_matrix(args.data / file, limit)
        table = "bench_" + file.split(".")[0]
        load_matrix_table(db, table, header, ids, matrix)

        def product():
            db.execute("DROP TABLE IF EXISTS bench_segments")
            # A utility statement takes no bind parameters; k is our own int.
            seconds, _ = db.timed(
                f"CREATE TABLE bench_segments AS SELECT * FROM segment_customers('{table}', {int(k)})")
            return seconds

        product_runs, peer_runs = alternate(
            runs, product, {"scikit-learn": lambda: timed(peers.kmeans_sklearn, matrix, k)})
        z, peer_labels = peer_runs["scikit-learn"][-1][1]
        _, rows = db.timed("SELECT customer_id, segment, distance FROM bench_segments")
        segment_of = {r[0]: r[1] for r in rows}
        product_labels = [segment_of[i] for i in ids]
        out["cases"][name] = {
            "rows": len(ids), "features": matrix.shape[1], "k": k, "runs": runs,
            "product_seconds": product_runs,
            "peer_seconds": [r[0] for r in peer_runs["scikit-learn"]],
            "product_inertia": scoring.inertia(z.tolist(), product_labels),
            "product_inertia_reported": sum(r[2] ** 2 for r in rows),
            "peer_inertia": scoring.inertia(z.tolist(), peer_labels.tolist()),
        }
        db.execute(f"DROP TABLE bench_segments; DROP TABLE {table}")
    return out


def bench_overhead(db, args):
    """Each workload in SQL and from the native binary, alternately."""
    native_dir = args.out.parent / "out" / "native"
    native_dir.mkdir(parents=True, exist_ok=True)
    runs = 2 if args.quick else 3

    def native(*argv):
        out = subprocess.run([args.native, *map(str, argv)], check=True, capture_output=True, text=True)
        return json.loads(out.stdout)["seconds"]

    n_texts = 100 if args.quick else 500
    texts = read_reviews(args, n_texts)
    (native_dir / "reviews.jsonl").write_text("".join(json.dumps(t) + "\n" for t in texts))
    photos = read_photos(args)
    n_images = 50 if args.quick else 200
    (native_dir / "photos.jsonl").write_text(
        "".join(json.dumps(str(photos[i % len(photos)])) + "\n" for i in range(n_images)))
    m1 = [s for s in read_competition(args, args.quick, "competition.csv") if s["dataset"] == "M1"]
    (native_dir / "m1.jsonl").write_text("".join(
        json.dumps({"train": s["train"], "horizon": s["horizon"], "period": s["period"]}) + "\n" for s in m1))
    header, ids, cdnow = read_matrix(args.data / "cdnow_rfm.csv")
    (native_dir / "cdnow.jsonl").write_text("".join(json.dumps(r) + "\n" for r in cdnow.tolist()))
    load_matrix_table(db, "bench_cdnow", header, ids, cdnow)

    # The text, image and forecast pairs made the other tables.
    for table in ("bench_reviews", "bench_photos", "bench_series"):
        if db.timed("SELECT to_regclass(%s) IS NULL", (table,))[1][0][0]:
            raise SystemExit(f"the overhead pair reuses {table}: run it after the text, image "
                             "and forecast pairs (--only text,image,forecast,overhead)")
    db.timed("SELECT embed_review('warm up'), embed_image(photo) FROM bench_photos WHERE id = 1")

    workloads = {
        f"embed_review, {n_texts} reviews one per row": (
            lambda: db.timed("SELECT sum(array_length(embed_review(review), 1)) FROM bench_reviews "
                             "WHERE id <= %s", (n_texts,))[0],
            lambda: native("text", args.model_dir, native_dir / "reviews.jsonl")),
        f"embed_image, {n_images} photos": (
            lambda: db.timed("SELECT sum(array_length(embed_image(photo), 1)) FROM bench_photos "
                             "WHERE id <= %s", (n_images,))[0],
            lambda: native("image", args.model_dir, native_dir / "photos.jsonl")),
        # 4: the network batch of embed_images (IMAGES_PER_BATCH in src/image.rs)
        f"embed_images, {n_images} photos in one array": (
            lambda: db.timed("SELECT sum(array_length(e, 1)) FROM embed_images((SELECT array_agg(photo ORDER BY id) "
                             "FROM bench_photos WHERE id <= %s)) AS e", (n_images,))[0],
            lambda: native("image-batch", args.model_dir, native_dir / "photos.jsonl", 4)),
        f"forecast_sales, {len(m1)} M1 series": (
            lambda: db.timed(PRODUCT_FORECASTS, ("auto", "M1"))[0],
            lambda: native("forecast", native_dir / "m1.jsonl")),
        f"segment_customers, CDNOW {len(cdnow)} x 3, k = 5": (
            lambda: db.timed("SELECT count(*) FROM segment_customers('bench_cdnow', 5)")[0],
            lambda: native("segment", native_dir / "cdnow.jsonl", 5)),
    }
    out = {"runs": runs, "workloads": {}}
    for name, (sql, plain) in workloads.items():
        sql_runs, native_runs = alternate(runs, sql, {"native": plain})
        out["workloads"][name] = {"sql_seconds": sql_runs, "native_seconds": native_runs["native"]}
    db.execute("DROP TABLE bench_cdnow")
    return out


def environment(db):
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        memory_gb = int(f.readline().split()[1]) / 1024 / 1024
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    packages = ["torch", "torchvision", "sentence-transformers", "transformers", "statsforecast",
                "scikit-learn", "numpy", "pandas", "pillow"]
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(memory_gb, 1),
        "kernel": platform.release(), "python": platform.python_version(), "rustc": rustc,
        "postgres": db.timed("SELECT version()")[1][0][0],
        "retailml": db.timed("SELECT extversion FROM pg_extension WHERE extname = 'retailml'")[1][0][0],
        "peers": {p: metadata.version(p) for p in packages},
    }


def main():
    args = parse_args()
    db = Database(args)
    results_path = args.out.parent / "out" / "results.json"
    results = {"quick": args.quick, "environment": environment(db)}
    pairs = {"text": bench_text, "image": bench_image, "forecast": bench_forecast,
             "segment": bench_segment, "overhead": bench_overhead}
    # With --only, the other pairs' last figures of the same mode are kept,
    # each with the time it was measured.
    if results_path.exists():
        previous = json.loads(results_path.read_text())
        if previous.get("quick") == args.quick:
            results.update({name: previous[name] for name in pairs if name in previous})
    for name in args.only.split(","):
        print(f"==> benchmark: {name}", flush=True)
        start = time.perf_counter()
        results[name] = pairs[name](db, args)
        results[name]["wall_seconds"] = time.perf_counter() - start
        results[name]["measured_at"] = results["environment"]["date"]
        print(f"    {results[name]['wall_seconds']:.0f} s", flush=True)
        results_path.parent.mkdir(parents=True, exist_ok=True)
        results_path.write_text(json.dumps(results, indent=1))
    import report
    args.out.write_text(report.render(results))
    print(f"wrote {args.out} and {results_path}")


if __name__ == "__main__":
    main()
