"""Target 1: from vectors to a neighbour index, a 2-D map and clusters.

Baseline, the usual pipeline: a separate hnswlib build (ef_construction=200),
umap-learn with its defaults (its own pynndescent kNN, spectral init), and KMeans
on the full vectors. Ours: one lighter hnswlib build whose kNN graph feeds UMAP
(PCA init, epochs scaled to n) and KMeans on a PCA-50 reduction.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from bench.common import Row, clustered, once

N_CLUSTERS = 20


def _data(quick: bool) -> tuple[np.ndarray, str]:
    from bench.data import minilm_words

    n = 20_000 if quick else 100_000
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

    from explorer.umap_run import import_umap

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
    # Includes measuring the map's quality, which is stored with every map.
    parts["umap+quality"] = time.perf_counter() - t
    t = time.perf_counter()
    KMeans(n_clusters=N_CLUSTERS, n_init="auto", random_state=0).fit_predict(x)
    parts["cluster"] = time.perf_counter() - t
    return time.perf_counter() - t0, np.asarray(coords), parts


def ours(x: np.ndarray) -> tuple[float, Any, dict[str, float]]:
    import pandas as pd

    from explorer.cluster import ClusterParams, cluster_space
    from explorer.index import build_index
    from explorer.project import ProjectionParams, project_space
    from explorer.space import make_space

    space = make_space(pd.DataFrame({"id": np.arange(len(x)).astype(str)}), x)
    parts: dict[str, float] = {}
    t0 = time.perf_counter()
    index = build_index(space.vectors, space.metric)
    parts["index"] = time.perf_counter() - t0
    t = time.perf_counter()
    proj = project_space(space, ProjectionParams(), index=index)
    # Includes measuring the map's quality, which is stored with every map.
    parts["umap+quality"] = time.perf_counter() - t
    t = time.perf_counter()
    cluster_space(space, ClusterParams(n_clusters=N_CLUSTERS), index=index)
    parts["cluster"] = time.perf_counter() - t
    return time.perf_counter() - t0, proj, parts


def run(quick: bool) -> list[Row]:
    from explorer.metrics import trustworthiness

    x, desc = _data(quick)
    # Compile numba code first, so neither side pays it.
    small = x[:2000]
    baseline(small)
    ours(small)
    t_base, c_base, p_base = baseline(x)
    t_ours, proj, p_ours = ours(x)
    _, trust_base = once(lambda: trustworthiness(x, c_base, k=10, sample=5000))
    # Ours is read from the map's stored quality: the same function on the same sample.
    trust_ours = proj.quality.trustworthiness
    detail = lambda p: ", ".join(f"{k} {v:.1f}s" for k, v in p.items())  # noqa: E731
    return [
        Row(
            "pipeline",
            "vectors → index + 2-D map + clusters",
            t_ours,
            "s",
            t_base,
            "hnswlib ef_c=200 + umap-learn defaults + KMeans",
            "≥ 2× faster",
            t_base / t_ours >= 2.0,
            desc,
            f"ours: {detail(p_ours)}; baseline: {detail(p_base)}",
        ),
        Row(
            "pipeline",
            "map trustworthiness (k=10, 5k sample)",
            trust_ours,
            "",
            trust_base,
            "umap-learn defaults",
            "at most 0.01 lower",
            trust_ours >= trust_base - 0.01,
            desc,
            higher_is_better=True,
        ),
    ]


if __name__ == "__main__":
    import sys

    for r in run("--quick" in sys.argv):
        print(r.as_dict())
