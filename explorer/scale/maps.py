"""The map of a Ray build: a kNN graph and a UMAP fitted on a sample, the rest placed.

A full UMAP of millions of points does not fit one machine's time; a UMAP fitted on a
representative sample places every other point with ``UMAP.transform`` (its nearest
fitted points and a short optimisation), and those placements are independent, so
they run as Ray tasks in parallel batches, the fitted reducer shared once
(``ray.put``).

The kNN graph of every point (hnswlib, the space's own index shared once and queried by
Ray tasks, one shard of queries each) is the map's ground truth: its stored quality
(trustworthiness, continuity, per-point preservation) is measured against it, as
``explorer.maps.projections`` measures every map. UMAP's fit builds its own small search
index over the sample (pynndescent), because ``transform`` needs one to find the
fitted neighbours of new points.

The result is stored as the space's default UMAP map (the stored step of
``ProjectionParams()``), so the app and ``explorer project`` open it at once; its record
and the manifest's ``map`` entry say how many points were fitted and placed, and the
items' ``umap_fitted`` column says which.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import replace
from typing import Any

import numpy as np

from explorer.core.progress import Progress, stage
from explorer.index.hnsw import VectorIndex
from explorer.index.knn import knn_graph
from explorer.maps.projections import ProjectionParams, projection_record, store_projection
from explorer.maps.quality import QUALITY_K
from explorer.opened.handle import OpenedSpace

__all__ = [
    "add_map",
    "fit_and_place",
    "fit_sample_rows",
    "fit_umap",
    "knn_graph_ray",
    "place_on_ray",
]


# Points one transform task places: its (points × fitted) work stays small in memory,
# and there are enough tasks to keep every CPU busy.
_PLACE_CHUNK = 20_000
# (fitted × placed) point pairs up to which UMAP's exact small-data transform is used.
_EXACT_PAIRS = 5_000_000


def fit_sample_rows(n: int, size: int, seed: int) -> np.ndarray:
    """Sorted rows of a seeded uniform random sample of `size` of `n` rows (all if fewer)."""
    if size >= n:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=size, replace=False)).astype(np.int64)


def _cpus() -> int:
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def _index_bytes(index: VectorIndex) -> int:
    """About what one copy of the hnswlib index takes in memory (0 for exact search):
    per element its vector (d·4 B), its level-0 links (2·M·4 B) and some 16 B more."""
    if index.exact:
        return 0
    return int(index.size * (index.vectors.shape[1] * 4 + 2 * index.params.M * 4 + 16) * 1.1)


def _knn_task(refs: list[Any], rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """One shard of the kNN graph: `knn_graph` of `rows` on the shared index."""
    import ray

    vectors, (metric, all_rows, params, hnsw) = ray.get(refs)
    index = VectorIndex(vectors, metric, all_rows, params, hnsw)
    return knn_graph(index, k, rows=rows)


def knn_graph_ray(
    index: VectorIndex, k: int, progress: Progress | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`explorer.index.knn.knn_graph` of every indexed row, in Ray tasks.

    The index is put in Ray's object store once; each task queries it with one shard
    of the rows (hnswlib's threads use the node's cores). Each task asks Ray for the
    memory of one index copy, so Ray runs no more of them on a node than it holds.

    Returns:
        (neighbours (size, k) row numbers, distances (size, k)), rows in ``index.rows``
        order, self excluded; as ``knn_graph(index, k)`` gives them.
    """
    import ray

    # The main index's hnswlib object: VectorIndex itself holds a lock and does not pickle.
    hnsw = index._hnsw
    # Every task needs all the vectors (hnswlib may fall back to exact search): one
    # copy per node, shared by its tasks (Ray's object store hands out numpy zero-copy).
    vec_ref = ray.put(np.asarray(index.vectors))
    index_ref = ray.put((index.metric, index.rows, index.params, hnsw))
    # hnswlib queries on all of a node's cores within one task, and each task loads a
    # copy of the index: so few large shards (one per 500,000 points, at least two).
    shards = min(_cpus(), max(2, math.ceil(index.size / 500_000)), index.size)
    parts = np.array_split(index.rows, shards)
    task = ray.remote(_knn_task).options(num_cpus=1, memory=_index_bytes(index) or None)
    refs = [task.remote([vec_ref, index_ref], rows, k) for rows in parts]
    results = _gather(refs, progress, "Neighbour graph")
    return np.concatenate([r[0] for r in results]), np.concatenate([r[1] for r in results])


def _gather(refs: list[Any], progress: Progress | None, what: str) -> list[Any]:
    """The results of `refs` in their order; a progress line as each task finishes."""
    import ray

    pending = list(refs)
    while progress and pending:
        _, pending = ray.wait(pending, num_returns=1)
        done = len(refs) - len(pending)
        progress(done / len(refs), f"{what}: {done} of {len(refs)} Ray tasks done")
    return list(ray.get(refs))


def fit_umap(x: np.ndarray, params: ProjectionParams, n_place: int = 0) -> Any:
    """A umap.UMAP fitted on the (m, d) sample `x` with `params` (cosine), able to place
    `n_place` more points with ``transform``.

    The settings of the single-machine UMAP map (``explorer.maps.umap.umap_layout``),
    except that UMAP finds the sample's neighbours itself: ``transform`` needs that
    search index.
    """
    from explorer.maps.umap import import_umap, scaled_epochs

    umap = import_umap()
    m = x.shape[0]
    reducer = umap.UMAP(
        n_components=params.dims,
        n_neighbors=params.n_neighbors,
        min_dist=params.min_dist,
        # "auto" is PCA below 40k points (umap_layout); a fitted sample is that small.
        init="pca" if params.init == "auto" else params.init,
        n_epochs=params.n_epochs or scaled_epochs(m),
        metric="cosine",
        random_state=params.seed,
        # Below 4,096 points umap-learn measures every (placed, fitted) pair by a Python
        # call: past _EXACT_PAIRS pairs its search index is cheaper, numba's compilation
        # of it (once per process) and each Ray worker's first query included
        # (docs/scale.md).
        force_approximation_algorithm=m * n_place > _EXACT_PAIRS,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "a seed disables parallelism": expected
        reducer.fit(np.asarray(x, dtype=np.float32))
    return reducer


def _place_task(reducer_ref: list[Any], x: np.ndarray) -> np.ndarray:
    """(len(x), dims) float32 positions of the rows `x` placed by the shared reducer."""
    import ray

    from explorer.maps.umap import import_umap

    import_umap()  # before the reducer is unpickled: numba's disk cache for umap's code
    reducer = ray.get(reducer_ref[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = reducer.transform(np.asarray(x, dtype=np.float32))
    return np.asarray(out, dtype=np.float32)


def place_on_ray(
    reducer: Any, vectors: np.ndarray, rows: np.ndarray, progress: Progress | None = None
) -> np.ndarray:
    """``reducer.transform`` of `rows` of `vectors`, in parallel Ray tasks.

    Returns (len(rows), dims) float32, in the order of `rows`. The reducer is put in
    the object store once; each task gets it and its own chunk of rows (never all the
    vectors, which would travel to every node).
    """
    import ray

    if rows.size == 0:
        return np.zeros((0, int(reducer.n_components)), dtype=np.float32)
    chunks = max(_cpus(), math.ceil(rows.size / _PLACE_CHUNK))
    parts = np.array_split(rows, min(chunks, rows.size))
    red_ref = ray.put(reducer)
    task = ray.remote(_place_task).options(num_cpus=1)
    # A ref inside a list is not resolved before the task starts (see _place_task).
    refs = [task.remote([red_ref], np.asarray(vectors[part])) for part in parts]
    return np.concatenate(_gather(refs, progress, "Placing points"))


def fit_and_place(
    vectors: np.ndarray,
    rows: np.ndarray,
    fitted: np.ndarray,
    params: ProjectionParams,
    progress: Progress | None = None,
) -> np.ndarray:
    """A UMAP map of `rows` of `vectors`: fitted on `fitted` rows, the rest placed.

    Args:
        vectors: (n, d) unit rows.
        rows: (m,) rows to map; `fitted` (sorted row numbers) among them are fitted.

    Returns:
        (n, dims) float32 coordinates; NaN outside `rows`.
    """
    fit = np.intersect1d(fitted, rows)
    place = np.setdiff1d(rows, fit)
    coords = np.full((vectors.shape[0], params.dims), np.nan, dtype=np.float32)
    if progress:
        progress(0.0, f"Fitting UMAP on {fit.size:,} sampled points")
    reducer = fit_umap(np.asarray(vectors[fit]), params, place.size)
    coords[fit] = reducer.embedding_
    coords[place] = place_on_ray(reducer, vectors, place, progress)
    return coords


def add_map(
    opened: OpenedSpace,
    fitted: np.ndarray,
    seed: int,
    seconds: dict[str, float],
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Make the fit-and-place map of the saved space `opened` (with its index) and store
    it as its default UMAP map, with its quality; returns the manifest's ``map`` record.

    `seconds` gains the stages' times ("knn", "map").
    """
    report = progress or (lambda f, msg: None)
    space = opened.space
    index = opened.index
    params = replace(ProjectionParams(), seed=seed)
    rows = space.mapped_rows
    t = time.perf_counter()
    report(0.8, f"Neighbour graph of {rows.size:,} points (hnswlib, Ray tasks)")
    k = max(params.n_neighbors - 1, QUALITY_K)
    nbr, _ = knn_graph_ray(index, k, stage(report, 0.8, 0.85))
    seconds["knn"] = time.perf_counter() - t
    t = time.perf_counter()
    coords = fit_and_place(space.vectors, rows, fitted, params, stage(report, 0.85, 0.97))
    n_fit = int(np.intersect1d(fitted, rows).size)
    seconds["map"] = time.perf_counter() - t
    report(0.97, "Measuring how faithful the map is")
    note = (
        f"UMAP fitted on {n_fit:,} points sampled at random (seed {seed}); the other "
        f"{rows.size - n_fit:,} were placed by UMAP.transform (column umap_fitted says which)."
    )
    # A Ray build maps every row (no map_rows), so the graph's rows are the map rows;
    # the record wants the neighbours as positions among them.
    pos = np.full(space.n, -1, dtype=np.int64)
    pos[rows] = np.arange(rows.size)
    graph = pos[nbr] if np.array_equal(index.rows, rows) else None
    fit = {"fit_and_place": {"fitted_rows": n_fit, "placed_rows": int(rows.size - n_fit)}}
    arrays, meta = projection_record(
        space, coords, index, "umap", [note], seconds["map"], graph, extra=fit
    )
    step = store_projection(opened, params, arrays, meta)
    return {
        "method": "umap fit-and-place",
        "step": step,
        "fitted_rows": n_fit,
        "placed_rows": int(rows.size - n_fit),
        "fit_sample_seed": seed,
        "fitted_column": "umap_fitted",
        "trustworthiness": meta["quality"]["trustworthiness"],
    }
