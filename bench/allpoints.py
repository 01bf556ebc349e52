"""Map quality over every point, not a sample: exact neighbours, trustworthiness and
neighbour preservation at k for several maps of one data set in one pass.

The product stores trustworthiness measured on a 5,000-point sample (quick enough to
run with every map). A bench comparing methods must not lean on a sample: here each
point's exact distances to all others are computed block by block (unit rows, so
1 - dot), and every map's k map-neighbours are ranked among them.

Trustworthiness (Venna & Kaski 2006), rank r counted from 1 among the other points:
    T = 1 - 2 / (n k (2n - 3k - 1)) · Σ_i Σ_{j ∈ map k-NN(i)} max(r(i, j) - k, 0)
Preservation: the mean share of each point's k exact neighbours among its k nearest on
the map.
"""

from __future__ import annotations

import numba
import numpy as np

from explorer.maps.quality import map_neighbours

BLOCK = 512


@numba.njit(parallel=True, cache=True)
def _ranks(dist: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """For each row, how many of its distances are below each threshold, plus one."""
    m, t = thresholds.shape
    out = np.empty((m, t), dtype=np.int64)
    for i in numba.prange(m):
        order = np.argsort(thresholds[i])
        sorted_t = thresholds[i][order]
        hist = np.zeros(t + 1, dtype=np.int64)
        for v in dist[i]:
            hist[np.searchsorted(sorted_t, v, side="right")] += 1
        below = np.cumsum(hist)  # below[q]: values v with v < sorted_t[q]
        for q in range(t):
            out[i, order[q]] = below[q] + 1
    return out


def evaluate(
    x: np.ndarray, maps: dict[str, np.ndarray], k: int = 10, graph_k: int = 15
) -> tuple[dict[str, dict[str, float]], np.ndarray]:
    """Per map: trustworthiness and preservation at k over all n points.

    Returns ({name: {"trust", "preservation"}}, exact (n, graph_k) neighbours), the
    second for measuring kNN graphs' recall.
    """
    n = len(x)
    x = np.ascontiguousarray(x, dtype=np.float32)
    names = list(maps)
    # The product's one definition of a map-side neighbour (every point here is drawn).
    low = {name: map_neighbours(c, k) for name, c in maps.items()}
    penalty = dict.fromkeys(names, 0)
    kept = dict.fromkeys(names, 0)
    exact = np.empty((n, graph_k), dtype=np.int64)
    for start in range(0, n, BLOCK):
        stop = min(n, start + BLOCK)
        rows = np.arange(start, stop)
        dist = 1.0 - x[start:stop] @ x.T
        dist[rows - start, rows] = np.inf  # a point is not its own neighbour
        near = np.argpartition(dist, graph_k, axis=1)[:, :graph_k]
        order = np.argsort(np.take_along_axis(dist, near, axis=1), axis=1)
        exact[start:stop] = np.take_along_axis(near, order, axis=1)
        true_k = exact[start:stop, :k]
        cand = np.concatenate([low[name][start:stop] for name in names], axis=1)
        thr = np.take_along_axis(dist, cand, axis=1)
        ranks = _ranks(dist, thr)
        for j, name in enumerate(names):
            r = ranks[:, j * k : (j + 1) * k]
            penalty[name] += int(np.maximum(r - k, 0).sum())
            m = low[name][start:stop]
            kept[name] += int((m[:, :, None] == true_k[:, None, :]).any(axis=2).sum())
    scale = 2.0 / (n * k * (2 * n - 3 * k - 1))
    out = {
        name: {"trust": 1.0 - scale * penalty[name], "preservation": kept[name] / (n * k)}
        for name in names
    }
    return out, exact


def recall(graph: np.ndarray, exact: np.ndarray) -> float:
    """Share of each point's exact k neighbours found in a kNN graph's k columns."""
    k = min(graph.shape[1], exact.shape[1])
    g, e = graph[:, :k], exact[:, :k]
    return float((g[:, :, None] == e[:, None, :]).any(axis=2).mean())
