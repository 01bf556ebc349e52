"""k-nearest-neighbour graphs over a space: the one graph that maps, clusterings and
map quality share, searched in the index where it holds the rows asked for."""

from __future__ import annotations

import numpy as np

from explorer.core.errors import InputError
from explorer.core.progress import Progress
from explorer.core.space import Metric, Space
from explorer.index.hnsw import IndexParams, VectorIndex, build_index

__all__ = ["graph_ef", "knn_graph", "map_graph", "map_knn", "rows_knn"]


def graph_ef(k: int) -> int:
    """hnswlib's search breadth for a map's or clustering's k-NN graph: 2k, at least 16.

    Neighbour lists use the index's tuned ef_search (recall@10 ≥ 0.98), which can be
    as wide as 512 where the index's own graph caps recall. A map graph queries every
    point, and its time grows with ef, while a map needs each point's near neighbours,
    not all of them exactly: a breadth of about 2k keeps the map as trustworthy as a
    wider one, in less time, on the tuning sets (docs/maps.md, "How our map is made",
    step 1, and "Which data chose what").
    """
    return max(16, 2 * k)


def knn_graph(
    index: VectorIndex,
    k: int,
    rows: np.ndarray | None = None,
    exact: bool = False,
    ef: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest other rows of each of `rows` (default: all indexed rows).

    `ef`: hnswlib's search breadth (default: the index's ef_search).
    Returns (neighbours (m, k) int64 row numbers, distances (m, k) float32), where
    distance is 1 - cos (cosine), 1 - dot (ip) or Euclidean (l2). k is clamped to n - 1.
    """
    rows = index.rows if rows is None else np.asarray(rows, dtype=np.int64)
    k = min(k, index.size - 1)
    if k < 1:
        raise InputError("A neighbour graph needs at least two items with usable vectors.")
    nbr, sims = index.search(index.vectors[rows], k, exclude=rows[:, None], exact=exact, ef=ef)
    dist = -sims if index.metric == "l2" else 1.0 - sims
    return nbr, np.maximum(dist, 0.0).astype(np.float32)


def rows_knn(
    vectors: np.ndarray,
    metric: Metric,
    rows: np.ndarray,
    k: int,
    index: VectorIndex | None = None,
    ef: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The k-NN graph among `rows` of `vectors`, numbered by position in `rows`.

    Reuses `index` when it holds exactly those rows (one graph for maps, clusters
    and metrics); otherwise builds a light temporary index over them. `ef` as in
    :func:`knn_graph` (maps pass :func:`graph_ef`).
    Returns (neighbours (m, k) positions, distances (m, k)), self excluded.
    """
    if index is not None and index.size == rows.size and np.array_equal(index.rows, rows):
        nbr, dist = knn_graph(index, k, ef=ef)
        # The index returns row numbers of the space; callers want positions in `rows`.
        pos = np.full(int(rows.max()) + 1, -1, dtype=np.int64)
        pos[rows] = np.arange(rows.size)
        return pos[nbr], dist
    sub = build_index(
        np.asarray(vectors[rows], dtype=np.float32), metric, params=IndexParams(ef_construction=64)
    )
    return knn_graph(sub, k, ef=ef)


def map_knn(
    space: Space, index: VectorIndex | None, k: int, graph: np.ndarray | None = None
) -> np.ndarray:
    """The k nearest other map rows of every map row: the map's "true neighbours".

    Args:
        graph: optional (m, ≥k) neighbour positions among the map rows that have a
            direction (as ``rows_knn`` returns them), e.g. the graph UMAP just used;
            reused instead of searching again.

    Returns (n_map, k') int64 row numbers, best first (k' = k clamped to the rows
    with a direction, minus one); rows with no direction (zero vectors under
    cosine) get a row of -1. Reuses `index` when it holds exactly the map rows.
    """
    n_map = space.n_map
    rows = space.mapped_rows
    if rows.size < 2:
        return np.full((n_map, 0), -1, dtype=np.int64)
    k = min(k, rows.size - 1)
    if graph is not None and graph.shape == (rows.size, graph.shape[1]) and graph.shape[1] >= k:
        pos = graph[:, :k]
    else:
        pos, _ = rows_knn(space.vectors, space.metric, rows, k, index)
    out = np.full((n_map, pos.shape[1]), -1, dtype=np.int64)
    out[rows] = rows[pos]  # positions among `rows` → row numbers
    return out


def map_graph(
    space: Space,
    k: int,
    index: VectorIndex | None = None,
    progress: Progress | None = None,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """The map rows that have a direction, and the kNN graph among them.

    Returns (rows (m,) row numbers, (neighbours (m, k) positions in `rows`,
    distances (m, k))). One graph serves UMAP, HDBSCAN's 5-d UMAP and the map's
    quality; it comes from `index` when that holds exactly these rows, searched
    with :func:`graph_ef` rather than the neighbour lists' tuned breadth.
    """
    rows = space.mapped_rows
    if progress:
        progress(0.05, f"Finding {k} neighbours of {rows.size:,} points")
    return rows, rows_knn(space.vectors, space.metric, rows, k, index, ef=graph_ef(k))
