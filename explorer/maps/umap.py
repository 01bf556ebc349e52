"""umap-learn, loaded with numba's disk cache, and the one UMAP layout call.

umap-learn compiles its numba functions on first use, which takes long, and marks
most of them without ``cache=True``, so every fresh process would compile them again
(docs/performance.md: the first map in a fresh process). Importing
umap through :func:`import_umap` turns numba's on-disk cache on for its functions;
:func:`warm_up` (run by ``make setup`` and at app start) compiles them once, so later
processes load machine code instead of compiling.

Maps (2-D/3-D, in ``explorer.maps.projections``) and clustering features (5-D, in
``explorer.cluster``) both call :func:`umap_layout`.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from explorer.core.linalg import distance_name, unit_rows
from explorer.maps.epochs import optimize_layout, place_by_neighbours

__all__ = [
    "THREADING_LAYER",
    "Knn",
    "LANDMARKS",
    "fuzzy_start",
    "import_umap",
    "landmark_start",
    "pin_threading_layer",
    "run_epochs",
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
    """UMAP epochs for n points: 500 for small maps, falling as 1/√n to 200 from 20k.

    umap-learn's own rule is a step (500 below 10k, 200 above). Fewer than 200 on big
    maps cost faithfulness, more cost time for little (trustworthiness by epochs on
    100k words, the tuning sets: docs/maps.md, "Epochs").
    """
    return int(np.clip(round(200 * np.sqrt(20_000 / max(n, 1))), 200, 500))


# init "auto": from twice this many points, UMAP starts from a spectral layout of
# this many seeded landmarks (the rest placed among their neighbours), below it from PCA.
# Chosen on the tuning sets, GloVe and MiniLM words (docs/maps.md, "Which data chose what").
LANDMARKS = 20_000


def _with_self(knn: Knn, k: int) -> tuple[np.ndarray, np.ndarray]:
    """umap-learn's ``precomputed_knn``: each row first, at distance 0, then k others."""
    nbr, dist = knn
    n = nbr.shape[0]
    idx = np.concatenate([np.arange(n)[:, None], nbr[:, :k]], axis=1)
    dst = np.concatenate([np.zeros((n, 1), np.float32), dist[:, :k]], axis=1)
    return idx.astype(np.int32), dst.astype(np.float32)


def fuzzy_start(
    x: np.ndarray,
    *,
    dims: int,
    n_neighbors: int,
    metric: str,
    seed: int,
    init: Any,
    knn: Knn | None = None,
    min_dist: float = 0.1,
) -> tuple[Any, np.ndarray]:
    """umap-learn's fuzzy graph and starting layout of (n, d) rows, without epochs.

    Returns (the fitted ``umap.UMAP``, whose ``graph_``, ``_a`` and ``_b`` the epochs
    need; the (n, dims) float32 start, scaled to 0..10). `knn` as in :func:`umap_layout`.
    """
    kwargs: dict[str, Any] = {}
    if knn is not None and knn[0].shape[1] >= n_neighbors - 1:
        kwargs["precomputed_knn"] = _with_self(knn, n_neighbors - 1)
    # n_epochs=0: umap-learn stops after the graph and the starting layout.
    reducer = import_umap().UMAP(
        n_components=dims,
        n_neighbors=n_neighbors,
        min_dist=min_dist,
        init=init,
        n_epochs=0,
        metric=distance_name(metric, ip="cosine"),
        random_state=seed,
        **kwargs,
    )
    with warnings.catch_warnings():
        # umap warns that a precomputed graph without an NNDescent index cannot
        # transform new data, and that a seed disables parallelism: both expected.
        warnings.simplefilter("ignore")
        start = reducer.fit_transform(x)
    return reducer, np.asarray(start, dtype=np.float32)


def run_epochs(
    reducer: Any,
    start: np.ndarray,
    epochs: int,
    *,
    seed: int,
    parallel: bool,
    until: Callable[[int, np.ndarray], bool] | None = None,
) -> np.ndarray:
    """UMAP's epochs over `reducer`'s fuzzy graph from `start` (``explorer.maps.epochs``).

    `until`: a convergence rule (``layout.optimize_layout``); `epochs` is then the most.
    """
    graph = reducer.graph_.tocoo()
    weight = graph.data.astype(np.float32)
    if epochs > 10:
        # As umap-learn does: edges too weak to be sampled once in all epochs are dropped.
        weight[weight < weight.max() / epochs] = 0.0
    return optimize_layout(
        start,
        graph.row,
        graph.col,
        weight,
        epochs,
        reducer._a,
        reducer._b,
        seed=seed,
        parallel=parallel,
        until=until,
    )


def landmark_start(
    x: np.ndarray, knn: Knn, *, dims: int, n_neighbors: int, metric: str, seed: int
) -> np.ndarray:
    """A starting layout for a big UMAP map: (n, dims) float32.

    umap-learn's spectral layout of :data:`LANDMARKS` seeded rows, with every other
    row placed at the mean of its nearest placed neighbours (``knn``). On big maps it is
    about as faithful as a spectral layout of all points and more than a PCA start on
    GloVe, in a fraction of the spectral layout's time (docs/maps.md, "The start").
    """
    from explorer.index.knn import graph_ef, rows_knn

    n = x.shape[0]
    rows = np.sort(np.random.default_rng(seed).choice(n, LANDMARKS, replace=False))
    k = n_neighbors - 1
    sub = rows_knn(x, metric, rows, k, ef=graph_ef(k))  # type: ignore[arg-type]
    _, start = fuzzy_start(
        x[rows],
        dims=dims,
        n_neighbors=n_neighbors,
        metric=metric,
        seed=seed,
        init="spectral",
        knn=sub,
    )
    return place_by_neighbours(knn[0], rows, start, seed)


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
    parallel: bool = False,
) -> np.ndarray:
    """UMAP of (n, d) rows to (n, dims) float32.

    umap-learn builds the fuzzy graph and the starting layout (:func:`fuzzy_start`);
    the epochs run in ``explorer.maps.epochs`` (the same arithmetic, on all cores when
    `parallel`).

    Args:
        metric: the space's metric (cosine, ip or l2); ip is laid out as cosine.
        init: spectral, pca, random, or auto: :func:`landmark_start` from
            2 × :data:`LANDMARKS` rows when `knn` is given, else pca.
        n_epochs: None scales them to n (:func:`scaled_epochs`).
        knn: each row's neighbours, self excluded (at least n_neighbors - 1 of
            them), e.g. from ``explorer.index.knn.rows_knn``; UMAP reuses it instead of
            searching. Fewer columns than that, and UMAP searches itself.
    """
    n = x.shape[0]
    start_at: Any = init
    if init == "auto":
        start_at = "pca"
        if knn is not None and knn[0].shape[1] >= n_neighbors - 1 and n >= 2 * LANDMARKS:
            start_at = landmark_start(
                x, knn, dims=dims, n_neighbors=n_neighbors, metric=metric, seed=seed
            )
    reducer, start = fuzzy_start(
        x,
        dims=dims,
        n_neighbors=n_neighbors,
        metric=metric,
        seed=seed,
        init=start_at,
        knn=knn,
        min_dist=min_dist,
    )
    epochs = n_epochs or scaled_epochs(n)
    return run_epochs(reducer, start, epochs, seed=seed, parallel=parallel)


def warm_up() -> float:
    """Run a tiny UMAP so numba compiles (or loads) everything; returns seconds."""
    from explorer.index.hnsw import build_index
    from explorer.index.knn import knn_graph

    t = time.perf_counter()
    rng = np.random.default_rng(0)
    x, _ = unit_rows(rng.normal(size=(300, 16)))
    knn = knn_graph(build_index(x, "cosine"), 14)
    for init, parallel in (("spectral", False), ("pca", True)):
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
            parallel=parallel,
        )
    return time.perf_counter() - t
