"""The peer side of each benchmark pair: the Python tools an analyst would use
instead of retailml, on the same inputs and the same model files.

Run as a script, it measures a cold start in a fresh process:

    peers.py cold-text MODEL_DIR    -> one JSON line
"""

import io
import json
import os
import sys
import time


def resident_mb(pid="self"):
    """VmRSS of a process, in MB, from /proc."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc status")


def text_model(model_dir, threads):
    """sentence-transformers on the product's own all-MiniLM-L6-v2 files
    (mean pooling; at most 256 word pieces, as the product)."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    model = SentenceTransformer(os.path.join(model_dir, "all-minilm-l6-v2"), device="cpu")
    model.max_seq_length = 256
    return model


def embed_texts(model, texts):
    """sentence-transformers' encode with its default batch size (32)."""
    return model.encode(texts, normalize_embeddings=True, show_progress_bar=False)


class ImageModel:
    """torchvision MobileNetV2 on the product's own weights file, with the
    torchvision ImageNet preprocessing (Pillow decode, resize 256 bilinear,
    centre crop 224, normalise), run on batches of 32."""

    BATCH = 32

    def __init__(self, model_dir, threads):
        import torch
        import torchvision
        from safetensors.torch import load_file
        from torchvision import transforms

        torch.set_num_threads(threads)
        self.torch = torch
        self.model = torchvision.models.mobilenet_v2()
        self.model.load_state_dict(load_file(os.path.join(model_dir, "mobilenet-v2", "model.safetensors")))
        self.model.eval()
        self.preprocess = transforms.Compose([
            transforms.Resize(256),
            transforms.CenterCrop(224),
            transforms.ToTensor(),
            transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
        ])

    def embed(self, images):
        """Pooled 1280-d features of each image (bytes), L2-normalised."""
        from PIL import Image

        torch = self.torch
        out = []
        with torch.inference_mode():
            for start in range(0, len(images), self.BATCH):
                batch = torch.stack([
                    self.preprocess(Image.open(io.BytesIO(b)).convert("RGB"))
                    for b in images[start:start + self.BATCH]
                ])
                pooled = self.model.features(batch).mean(dim=(2, 3))
                out.append(torch.nn.functional.normalize(pooled, dim=1))
        return torch.cat(out).numpy()


def forecast_statsforecast(model_name, series, level=95):
    """statsforecast on `series`, a list of dicts with train, horizon and
    period, grouped by (period, horizon) since one StatsForecast call takes
    one season length and one horizon. Returns {series_id: (point, lower,
    upper)}. MSTL needs a season, so it is not run on yearly series."""
    import numpy as np
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL, AutoETS

    groups = {}
    for s in series:
        groups.setdefault((s["period"], s["horizon"]), []).append(s)
    result = {}
    for (period, horizon), members in groups.items():
        if model_name == "AutoETS":
            model = AutoETS(season_length=period)
        elif period > 1:
            model = MSTL(season_length=period)
        else:
            continue
        frame = pd.DataFrame({
            "unique_id": np.repeat([s["series_id"] for s in members], [len(s["train"]) for s in members]),
            "ds": np.concatenate([np.arange(len(s["train"])) for s in members]),
            "y": np.concatenate([np.asarray(s["train"], dtype=float) for s in members]),
        })
        fitted = StatsForecast(models=[model], freq=1, n_jobs=1).forecast(df=frame, h=horizon, level=[level])
        name = str(model)
        for series_id, rows in fitted.groupby("unique_id", sort=False):
            result[series_id] = (
                rows[name].tolist(), rows[f"{name}-lo-{level}"].tolist(), rows[f"{name}-hi-{level}"].tolist())
    return result


def kmeans_sklearn(matrix, k):
    """scikit-learn's StandardScaler (population standard deviation, as the
    product) and KMeans(k-means++, n_init=10). Returns (standardised matrix,
    labels)."""
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    z = StandardScaler().fit_transform(matrix)
    labels = KMeans(n_clusters=k, init="k-means++", n_init=10, random_state=0).fit(z).labels_
    return z, labels


def cold_text(model_dir):
    """Import, model load and first encode in this fresh process, with the
    resident memory after the import and after the first encode."""
    start = time.perf_counter()
    import sentence_transformers  # noqa: F401  (the import is what is timed)
    imported = time.perf_counter()
    rss_imported = resident_mb()
    model = text_model(model_dir, int(os.environ.get("BENCH_THREADS", "2")))
    embed_texts(model, ["first call"])
    done = time.perf_counter()
    return {
        "import_s": imported - start,
        "load_and_first_call_s": done - imported,
        "rss_after_import_mb": rss_imported,
        "rss_after_first_call_mb": resident_mb(),
    }


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "cold-text":
        print(json.dumps(cold_text(sys.argv[2])))
    else:
        sys.exit("usage: peers.py cold-text MODEL_DIR")
