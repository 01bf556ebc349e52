"""What a clustering runs on: the vectors, a 50-d PCA of them, a 5-d UMAP of them, or
the 2-D/3-D map; and the rows that have a direction to cluster."""

from __future__ import annotations

from typing import Literal

import numpy as np

from explorer.core.errors import InputError
from explorer.core.linalg import pca, unit_rows
from explorer.core.space import Metric
from explorer.maps.umap import Knn, umap_layout

__all__ = [
    "FEATURES",
    "NEED_MAP",
    "PCA_DIMS",
    "UMAP_DIMS",
    "UMAP_NEIGHBORS",
    "Features",
    "directions",
    "features_of",
    "map_features",
]

Features = Literal["full", "pca50", "umap5", "map"]
FEATURES: tuple[Features, ...] = ("full", "pca50", "umap5", "map")

PCA_DIMS = 50
UMAP_DIMS = 5
UMAP_NEIGHBORS = 15

NEED_MAP = (
    "Clustering on the map needs the map's coordinates: make a map first, "
    "or choose other features (full, pca50 or umap5)."
)


def features_of(
    x: np.ndarray,
    features: Features,
    metric: Metric,
    seed: int,
    map_xy: np.ndarray | None,
    knn: Knn | None,
    notes: list[str],
) -> tuple[np.ndarray, str]:
    """(feature rows (n, k) the algorithm runs on, phrase naming them)."""
    n, d = x.shape
    if features == "map":
        assert map_xy is not None
        return map_xy, f"the {map_xy.shape[1]}-D map coordinates"
    if features == "umap5" and d <= UMAP_DIMS:
        notes.append(
            f"The vectors have only {d} dimensions, so they are clustered as they are "
            f"(a {UMAP_DIMS}-d UMAP would not reduce them)."
        )
        features = "full"
    if features == "umap5":
        if n > UMAP_NEIGHBORS + 1:
            # min_dist=0 packs clusters tightly, which is what density clustering
            # wants (UMAP docs' advice).
            w = umap_layout(
                x,
                dims=UMAP_DIMS,
                n_neighbors=UMAP_NEIGHBORS,
                min_dist=0.0,
                metric=metric,
                seed=seed,
                knn=knn,
            )
            return w, f"a {UMAP_DIMS}-d UMAP of the {d}-d vectors"
        features = "pca50" if d > PCA_DIMS else "full"
        notes.append(
            f"A 5-d UMAP needs more than {UMAP_NEIGHBORS + 1} points (there are {n}), "
            f"so {features} was used instead."
        )
    if features == "pca50":
        k = min(PCA_DIMS, n - 1, d)
        if 1 <= k < d:
            return pca(x, k, seed), f"a {k}-d PCA of the {d}-d vectors"
    return x, f"the {d}-d vectors"


def directions(x: np.ndarray, metric: Metric, notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(rows to cluster, (n,) bool: which have a direction). Under cosine, unit rows."""
    if metric != "cosine":
        return x, np.ones(x.shape[0], dtype=bool)
    unit, norms = unit_rows(x)
    keep = norms > 0
    if not keep.all():
        notes.append(
            f"{int((~keep).sum())} item(s) with a zero vector have no direction "
            "and are not clustered."
        )
    return unit, keep


def map_features(map_coords: np.ndarray | None, n: int) -> np.ndarray:
    """(n, 2|3) float32 map coordinates to cluster on, checked."""
    if map_coords is None:
        raise InputError(NEED_MAP)
    map_xy = np.asarray(map_coords, dtype=np.float32)
    if map_xy.ndim != 2 or map_xy.shape[0] != n or map_xy.shape[1] not in (2, 3):
        raise InputError(
            f"The map coordinates have shape {map_xy.shape}; they must be "
            f"({n}, 2) or ({n}, 3), one row per vector."
        )
    return map_xy
