"""umap-learn, loaded with numba's disk cache, and the one UMAP layout call.

umap-learn compiles its numba functions on first use (about 25 s here) and marks
most of them without ``cache=True``, so every fresh process paid again. Importing
umap through :func:`import_umap` turns numba's on-disk cache on for its functions;
:func:`warm_up` (run by ``make setup`` and at app start) compiles them once, so later
processes load machine code instead of compiling.

Maps (2-D/3-D, in ``explorer.project``) and clustering features (5-D, in
``explorer.cluster``) both call :func:`umap_layout`.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import warnings
from types import ModuleType
from typing import Any

import numpy as np

from .linalg import distance_name, unit_rows

__all__ = [
    "THREADING_LAYER",
    "Knn",
    "import_umap",
    "pin_threading_layer",
    "scaled_epochs",
    "umap_layout",
    "warm_up",
]

# (neighbours (n, k) int positions, distances (n, k) float32), self excluded.
Knn = tuple[np.ndarray, np.ndarray]

# numba.njit is swapped for the length of one import; two threads importing at once
# must not interleave.
_import_lock = threading.Lock()
# Several sessions may run numba's parallel code at once. Numba's fallback
# "workqueue" layer aborts the whole process on concurrent use; "threadsafe" picks
# OpenMP or TBB, which are safe (numba reads this when it first runs parallel code).
THREADING_LAYER = "threadsafe"
os.environ.setdefault("NUMBA_THREADING_LAYER", THREADING_LAYER)


def pin_threading_layer() -> None:
    """Make numba use a thread-safe threading layer, also if it was imported already."""
    numba = sys.modules.get("numba")
    if numba is not None and numba.config.THREADING_LAYER in ("default", "workqueue"):
        numba.config.THREADING_LAYER = os.environ["NUMBA_THREADING_LAYER"]


def import_umap() -> ModuleType:
    """Import umap with numba's disk cache on for the functions it defines at import."""
    if "umap" in sys.modules:
        return sys.modules["umap"]
    import numba

    pin_threading_layer()
    with _import_lock:
        if "umap" in sys.modules:
            return sys.modules["umap"]
        original = numba.njit

        def njit(*args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("cache", True)
            return original(*args, **kwargs)

        numba.njit = njit
        try:
            import umap
        finally:
            numba.njit = original
    return umap


def scaled_epochs(n: int) -> int:
    """UMAP epochs for n points: 500 for small maps, falling as 1/√n to 100 from 80k.

    Each epoch visits every edge of the kNN graph, so large maps converge in fewer
    epochs; umap-learn's own rule is a step (500 below 10k, 200 above).
    """
    return int(np.clip(round(200 * np.sqrt(20_000 / max(n, 1))), 100, 500))


def umap_layout(
    x: np.ndarray,
    *,
    dims: int,
    n_neighbors: int,
    min_dist: float,
    metric: str,
    seed: int,
    init: str = "pca",
    n_epochs: int | None = None,
    knn: Knn | None = None,
) -> np.ndarray:
    """UMAP of (n, d) rows to (n, dims) float32.

    Args:
        metric: the space's metric (cosine, ip or l2); ip is laid out as cosine.
        n_epochs: None scales them to n (:func:`scaled_epochs`).
        knn: each row's neighbours, self excluded (at least n_neighbors - 1 of
            them), e.g. from ``explorer.index.rows_knn``; UMAP reuses it instead of
            searching. Fewer columns than that, and UMAP searches itself.
    """
    umap = import_umap()
    kwargs: dict[str, Any] = {}
    if knn is not None and knn[0].shape[1] >= n_neighbors - 1:
        nbr, dist = knn
        n = x.shape[0]
        # umap-learn wants each point as its own first neighbour at distance 0.
        idx = np.concatenate([np.arange(n)[:, None], nbr[:, : n_neighbors - 1]], axis=1)
        dst = np.concatenate([np.zeros((n, 1), np.float32), dist[:, : n_neighbors - 1]], 1)
        kwargs["precomputed_knn"] = (idx.astype(np.int32), dst.astype(np.float32))
    reducer = umap.UMAP(
        n_components=dims,
        n_neighbors=n_neighbors,
        min_dist=min_dist,
        init=init,
        n_epochs=n_epochs or scaled_epochs(x.shape[0]),
        metric=distance_name(metric, ip="cosine"),
        random_state=seed,
        **kwargs,
    )
    with warnings.catch_warnings():
        # umap warns that a precomputed graph without an NNDescent index cannot
        # transform new data, and that a seed disables parallelism: both expected.
        warnings.simplefilter("ignore")
        out = reducer.fit_transform(x)
    return np.asarray(out, dtype=np.float32)


def warm_up() -> float:
    """Run a tiny UMAP so numba compiles (or loads) everything; returns seconds."""
    from .index import build_index, knn_graph

    t = time.perf_counter()
    rng = np.random.default_rng(0)
    x, _ = unit_rows(rng.normal(size=(300, 16)))
    knn = knn_graph(build_index(x, "cosine"), 14)
    for init in ("spectral", "pca"):
        umap_layout(
            x,
            dims=2,
            n_neighbors=15,
            min_dist=0.1,
            metric="cosine",
            seed=42,
            init=init,
            n_epochs=20,
            knn=knn,
        )
    return time.perf_counter() - t
