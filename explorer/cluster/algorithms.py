"""The clustering algorithms themselves, on a feature matrix: KMeans, agglomerative,
HDBSCAN, and the renumbering of their labels by cluster size.

Module-level functions, so tests can watch them (``explorer.cluster`` calls them
through this module).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

__all__ = [
    "AGGLO_MAX",
    "AGGLO_SAMPLE",
    "MINIBATCH_ABOVE",
    "by_size",
    "n_distinct",
    "nearest_centroid",
    "run_agglomerative",
    "run_hdbscan",
    "run_kmeans",
]

# Above this many points KMeans switches to MiniBatchKMeans (full Lloyd passes get slow).
# Chosen on the bench's tuning sets (docs/maps.md, "Which data chose what").
MINIBATCH_ABOVE = 20_000
# Agglomerative clustering needs O(n²) memory; above AGGLO_MAX points it clusters a
# seeded sample of AGGLO_SAMPLE points and gives every other point the cluster of
# the nearest sample-cluster centroid (in the features).
AGGLO_MAX = 20_000
AGGLO_SAMPLE = 10_000


def run_kmeans(w: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if w.shape[0] > MINIBATCH_ABOVE:
        km: Any = MiniBatchKMeans(n_clusters=k, n_init="auto", random_state=seed, batch_size=4096)
    else:
        km = KMeans(n_clusters=k, n_init="auto", random_state=seed)
    return np.asarray(km.fit_predict(w), dtype=np.int64)


def run_agglomerative(
    w: np.ndarray, k: int, linkage: str, seed: int, notes: list[str]
) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    n = w.shape[0]
    # Euclidean in the work space: ward requires it, and under cosine the vectors
    # are unit length, so Euclidean distance ranks pairs as cosine does.
    model = AgglomerativeClustering(n_clusters=k, linkage=linkage, metric="euclidean")
    if n <= AGGLO_MAX:
        return np.asarray(model.fit_predict(w), dtype=np.int64)
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, AGGLO_SAMPLE, replace=False))
    sub = np.asarray(model.fit_predict(w[sample]), dtype=np.int64)
    k_found = int(sub.max()) + 1
    cent = np.stack([w[sample[sub == c]].mean(0) for c in range(k_found)])
    labels = nearest_centroid(w, cent)
    labels[sample] = sub
    notes.append(
        f"Agglomerative clustering needs memory that grows with n², so it ran on a "
        f"sample of {AGGLO_SAMPLE:,} of the {n:,} points; the rest joined the cluster "
        "with the nearest centre. Use KMeans or HDBSCAN to cluster every point directly."
    )
    return labels


def nearest_centroid(w: np.ndarray, cent: np.ndarray, chunk: int = 8192) -> np.ndarray:
    out = np.empty(w.shape[0], dtype=np.int64)
    cc = (cent**2).sum(1)
    for s in range(0, w.shape[0], chunk):
        out[s : s + chunk] = np.argmin(cc[None, :] - 2 * w[s : s + chunk] @ cent.T, axis=1)
    return out


def run_hdbscan(w: np.ndarray, min_cluster_size: int, min_samples: int | None) -> np.ndarray:
    import hdbscan

    model = hdbscan.HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. numerical warnings on duplicate points
        return np.asarray(model.fit_predict(np.asarray(w, dtype=np.float64)), dtype=np.int64)


def n_distinct(x: np.ndarray) -> int:
    # One opaque byte string per row makes np.unique a fast 1-d sort.
    rows = np.ascontiguousarray(x).view(np.dtype((np.void, x.dtype.itemsize * x.shape[1])))
    return int(np.unique(rows).size)


def by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 0, 1, ... by size, largest first (ties: old number); keep -1."""
    out = np.full(labels.shape, -1, dtype=np.int64)
    found = labels[labels >= 0]
    if not found.size:
        return out
    ids, sizes = np.unique(found, return_counts=True)
    order = ids[np.lexsort((ids, -sizes))]
    remap = np.full(int(ids.max()) + 1, -1, dtype=np.int64)
    remap[order] = np.arange(order.size)
    out[labels >= 0] = remap[found]
    return out
