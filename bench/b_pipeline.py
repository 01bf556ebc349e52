"""Target 1: from vectors to a neighbour index, a 2-D map and clusters, on two data sets.

Baseline, the usual pipeline: a separate hnswlib build (ef_construction=200),
umap-learn with its defaults (its own pynndescent kNN, spectral init, 200 epochs,
parallel layout), and KMeans on the full vectors. Ours: ``explorer``'s defaults
(one lighter hnswlib build whose search breadth is tuned as ``explorer.ingest.build``
tunes it, a kNN graph searched at ``explorer.index.knn.graph_ef`` feeding the map, a landmark
spectral start from 40k points on, KMeans on a PCA-50 reduction) and the map's
quality, which every map stores.

Both sides get the same unit vectors; each side runs in a fresh process (after
a small run that loads numba's compiled code), and both maps' trustworthiness is
computed with the same function on the same 5,000-point sample.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import warnings
from typing import Any

import numpy as np

from bench.common import ROOT, Row, clustered

N_CLUSTERS = 20
DATA = ("glove", "minilm")


def _data(name: str, quick: bool) -> tuple[np.ndarray, str]:
    from bench.data import glove_words, minilm_words

    n = 20_000 if quick else 100_000
    if name == "glove":
        return glove_words(n)
    try:
        x, desc = minilm_words(n)
        if len(x) >= n * 0.95:
            return x, desc
    except Exception as exc:  # noqa: BLE001 - fall back to synthetic, and say so
        print(f"(MiniLM words unavailable: {exc}; using synthetic)")
    return clustered(n, 384), f"{n:,} × 384 clustered synthetic"


def baseline(x: np.ndarray) -> tuple[float, np.ndarray, dict[str, float]]:
    import hnswlib
    from sklearn.cluster import KMeans

    from explorer.maps.umap import import_umap

    umap = import_umap()
    parts: dict[str, float] = {}
    t0 = time.perf_counter()
    idx = hnswlib.Index(space="cosine", dim=x.shape[1])
    idx.init_index(max_elements=len(x), ef_construction=200, M=16)
    idx.add_items(x)
    parts["index"] = time.perf_counter() - t0
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coords = umap.UMAP().fit_transform(x)
    parts["umap"] = time.perf_counter() - t
    t = time.perf_counter()
    KMeans(n_clusters=N_CLUSTERS, n_init="auto", random_state=0).fit_predict(x)
    parts["cluster"] = time.perf_counter() - t
    return time.perf_counter() - t0, np.asarray(coords), parts


def ours(x: np.ndarray) -> tuple[float, np.ndarray, dict[str, float]]:
    import pandas as pd

    from explorer.cluster.clusterings import ClusterParams, cluster_space
    from explorer.core.space import make_space
    from explorer.index.hnsw import build_index, tune_ef
    from explorer.maps.projections import ProjectionParams, project_space

    space = make_space(pd.DataFrame({"id": np.arange(len(x)).astype(str)}), x)
    parts: dict[str, float] = {}
    t0 = time.perf_counter()
    # As explorer.ingest.build.index_space builds it: then its search breadth is tuned for
    # recall@10 ≥ 0.98 (the neighbour lists'; the map graph searches at graph_ef).
    index = tune_ef(build_index(space.vectors, space.metric))
    parts["index"] = time.perf_counter() - t0
    t = time.perf_counter()
    proj = project_space(space, ProjectionParams(), index=index)
    # Includes measuring the map's quality, which is stored with every map.
    parts["map+quality"] = time.perf_counter() - t
    t = time.perf_counter()
    cluster_space(space, ClusterParams(algorithm="kmeans", n_clusters=N_CLUSTERS), index=index)
    parts["cluster"] = time.perf_counter() - t
    return time.perf_counter() - t0, proj.coords, parts


def side(which: str, data: str, quick: bool) -> dict[str, Any]:
    """One side on one data set, in this process: seconds, parts and trustworthiness."""
    from explorer.maps.quality import trustworthiness
    from explorer.maps.umap import warm_up

    x, desc = _data(data, quick)
    fn = baseline if which == "baseline" else ours
    # numba loads (or compiles) its code; neither side pays that. warm_up is what
    # the app runs at start; it also loads the spectral start of big maps.
    warm_up()
    fn(x[:2000])
    seconds, coords, parts = fn(x)
    trust = trustworthiness(x, coords, k=10, sample=5000)
    return {"seconds": seconds, "parts": parts, "trust": trust, "data": desc}


def _fresh(which: str, data: str, quick: bool) -> dict[str, Any]:
    args = [sys.executable, "-m", "bench.b_pipeline", "--side", which, data]
    out = subprocess.run(
        args + (["--quick"] if quick else []),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _detail(p: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f}s" for k, v in p.items())


def _spread(runs: list[dict[str, Any]], key: str) -> str:
    return ", ".join(f"{r[key]:.4g}" for r in runs)


def run(quick: bool) -> list[Row]:
    """Each side REPEATS times per data set, each in a fresh process, alternating.

    Times are medians; trustworthiness is the mean, because one map's figure moves
    by about ±0.004 from run to run at 100k (umap-learn's included).
    """
    repeats = 1 if quick else 3
    rows = []
    for data in DATA:
        base, mine = [], []
        for _ in range(repeats):
            base.append(_fresh("baseline", data, quick))
            mine.append(_fresh("ours", data, quick))
        t_base = float(np.median([r["seconds"] for r in base]))
        t_ours = float(np.median([r["seconds"] for r in mine]))
        q_base = float(np.mean([r["trust"] for r in base]))
        q_ours = float(np.mean([r["trust"] for r in mine]))
        mid = sorted(mine, key=lambda r: r["seconds"])[len(mine) // 2]
        mid_base = sorted(base, key=lambda r: r["seconds"])[len(base) // 2]
        rows += [
            Row(
                "pipeline",
                f"vectors → index + 2-D map + clusters (median of {repeats})",
                t_ours,
                "s",
                t_base,
                "weak baseline: hnswlib ef_c=200, unused + umap-learn defaults + KMeans",
                "≥ 2.5× faster",
                t_base / t_ours >= 2.5,
                mine[0]["data"],
                f"runs: ours {_spread(mine, 'seconds')} s, baseline {_spread(base, 'seconds')} s;"
                f" ours: {_detail(mid['parts'])}; baseline: {_detail(mid_base['parts'])}",
            ),
            Row(
                "pipeline",
                f"map trustworthiness (k=10, same 5k sample, mean of {repeats})",
                q_ours,
                "",
                q_base,
                "umap-learn defaults",
                "at most 0.005 lower",
                q_ours >= q_base - 0.005,
                mine[0]["data"],
                f"runs: ours {_spread(mine, 'trust')}; baseline {_spread(base, 'trust')}",
                higher_is_better=True,
            ),
        ]
    return rows


if __name__ == "__main__":
    if "--side" in sys.argv:
        i = sys.argv.index("--side")
        res = side(sys.argv[i + 1], sys.argv[i + 2], "--quick" in sys.argv)
        print(json.dumps(res))
    else:
        for r in run("--quick" in sys.argv):
            print(r.as_dict())
