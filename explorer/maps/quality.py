"""How faithful a map is: trustworthiness, continuity and per-point neighbourhood
preservation, measured once when a map is made and stored with it.

Map measures (Venna & Kaski 2006), for n points, k neighbours and ranks r:

* trustworthiness: are the map's neighbours real? Points among the k nearest on
  the map but not in the original space are penalised by their rank in the
  original space:  T = 1 - 2 / (n k (2n - 3k - 1)) · Σ_i Σ_{j ∈ U_k(i)} (r_high(i, j) - k).
* continuity: are real neighbours kept? Points among the k nearest in the original
  space but not on the map are penalised by their rank on the map:
  C = 1 - 2 / (n k (2n - 3k - 1)) · Σ_i Σ_{j ∈ V_k(i)} (r_low(i, j) - k).

Both lie in [0, 1] (1 is perfect; a random map is about 0.5). They cost O(n²), so
above ``sample`` points they are computed on a random subsample of ``sample``
points (neighbours are then sought within the subsample). The original space's
neighbours are ranked as its index ranks them (cosine, the dot product or Euclidean);
the map's by Euclidean distance (:func:`map_neighbours`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import (
    pairwise_distances,
)
from sklearn.neighbors import NearestNeighbors

from explorer.core.errors import InputError
from explorer.core.linalg import distance_name
from explorer.core.validate import check_matrix

__all__ = [
    "MapQuality",
    "QUALITY_K",
    "QUALITY_SAMPLE",
    "continuity",
    "map_neighbours",
    "map_quality",
    "neighbourhood_preservation",
    "subsample",
    "trustworthiness",
]

_BLOCK = 256  # rows per block when ranks are computed
QUALITY_K = 10  # neighbourhood size of the quality stored with every map
QUALITY_SAMPLE = 5000  # points trustworthiness and continuity are measured on, at most


def _pair(high: object, low: object) -> tuple[np.ndarray, np.ndarray]:
    x = check_matrix(high, "original vectors")
    y = check_matrix(low, "map coordinates")
    if x.shape[0] != y.shape[0]:
        raise InputError(
            f"The original space has {x.shape[0]} points but the map has {y.shape[0]}; "
            "they must match one to one."
        )
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise InputError("The vectors or map coordinates hold NaN or infinite values.")
    return x, y


def subsample(n: int, sample: int | None, seed: int) -> np.ndarray | None:
    """Sorted random rows to keep when n > sample, else None (use all)."""
    if sample is None or n <= sample:
        return None
    if sample < 3:
        raise InputError(f"sample must be at least 3 points (got {sample}).")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=sample, replace=False))


def _clamp_k(k: int, n: int) -> int:
    """k for an n-point trustworthiness: sklearn needs k < n / 2."""
    if k < 1:
        raise InputError(f"k must be at least 1 (got {k}).")
    k = min(k, (n - 1) // 2)
    if k < 1:
        raise InputError(f"Trustworthiness and continuity need at least 3 points (got {n}).")
    return k


def _distances(a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    """Distances from rows of `a` to rows of `b`; ``ip`` ranks by minus the dot product."""
    if metric == "ip":
        return -(a.astype(np.float64) @ b.T.astype(np.float64))
    return pairwise_distances(a, b, metric=distance_name(metric))


def _k_smallest(d: np.ndarray, k: int) -> np.ndarray:
    """Per row, the columns of the k smallest values (ties: lower column first), unordered."""
    kth = np.partition(d, k - 1, axis=1)[:, k - 1 : k]
    less = d < kth
    equal = d == kth
    room = k - less.sum(axis=1, keepdims=True)
    take = less | (equal & (np.cumsum(equal, axis=1) <= room))
    return np.nonzero(take)[1].reshape(d.shape[0], k)


def _rank_penalty(
    rank_space: np.ndarray, rank_metric: str, other: np.ndarray, other_metric: str, k: int
) -> float:
    """1 - normalised Σ (rank in `rank_space` - k) over points that are k-neighbours
    in `other` but not in `rank_space`. Trustworthiness when rank_space is the
    original space and other the map; continuity the other way round.

    Ranks are 1-based among the other n-1 points (ties broken by row, as argsort).
    Works in blocks of rows: memory O(block · n), not O(n²). Only the k selected
    ranks are counted, so no row is fully sorted.
    """
    n = rank_space.shape[0]
    total = 0.0
    cols = np.arange(n)
    for s in range(0, n, _BLOCK):
        rows = np.arange(s, min(s + _BLOCK, n))
        at = np.arange(rows.size)
        d_rank = _distances(rank_space[rows], rank_space, rank_metric)
        d_other = _distances(other[rows], other, other_metric)
        d_rank[at, rows] = np.inf
        d_other[at, rows] = np.inf
        chosen = _k_smallest(d_other, k)  # (b, k) columns, ties broken by column
        v = np.take_along_axis(d_rank, chosen, 1)[:, :, None]  # (b, k, 1)
        below = d_rank[:, None, :] < v
        tied = (d_rank[:, None, :] == v) & (cols[None, None, :] < chosen[:, :, None])
        rank = 1 + below.sum(axis=2) + tied.sum(axis=2)
        total += float(np.maximum(rank - k, 0).sum())
    return 1.0 - total * 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0))


def trustworthiness(
    high: np.ndarray,
    low: np.ndarray,
    k: int = 10,
    metric: str = "cosine",
    sample: int | None = 5000,
    seed: int = 0,
) -> float:
    """Trustworthiness of a map (Venna & Kaski 2006; see the module docstring), 0..1.

    Args:
        high: (n, d) original vectors; ``metric`` (cosine, l2, ip or any sklearn
            metric) ranks their neighbours.
        low: (n, 2|3) map coordinates (Euclidean).
        k: neighbourhood size; clamped below n / 2.
        sample: above this many points, a random subsample of ``sample`` points
            (chosen with ``seed``) is evaluated instead; None: always all points.

    ``sklearn.manifold.trustworthiness``'s formula (for ``ip`` on minus the dot
    product), with only the k needed ranks counted instead of a full sort of each row;
    equal to sklearn's figure wherever no two distances tie.
    """
    x, y = _pair(high, low)
    keep = subsample(x.shape[0], sample, seed)
    if keep is not None:
        x, y = x[keep], y[keep]
    k = _clamp_k(k, x.shape[0])
    return _rank_penalty(x, metric, y, "euclidean", k)


def continuity(
    high: np.ndarray,
    low: np.ndarray,
    k: int = 10,
    metric: str = "cosine",
    sample: int | None = 5000,
    seed: int = 0,
) -> float:
    """Continuity of a map (Venna & Kaski 2006), 0..1: are original neighbours kept?

    For each point, the k nearest in the original space (under ``metric``) that are
    not among its k nearest on the map are penalised by their Euclidean rank on the
    map. It is trustworthiness with the roles of the spaces swapped:
    ``continuity(X, Y) == trustworthiness(Y, X)`` when both use Euclidean distance.
    Same arguments and subsampling as :func:`trustworthiness`; ranks are computed
    here in blocks of rows.
    """
    x, y = _pair(high, low)
    keep = subsample(x.shape[0], sample, seed)
    if keep is not None:
        x, y = x[keep], y[keep]
    k = _clamp_k(k, x.shape[0])
    return _rank_penalty(y, "euclidean", x, metric, k)


def neighbourhood_preservation(high_nbrs: np.ndarray, low: np.ndarray, k: int = 10) -> np.ndarray:
    """Per point, the share (0..1) of its k original neighbours that are k-neighbours on the map.

    Args:
        high_nbrs: (n, ≥k) int row positions of each point's nearest neighbours in the
            original space, best first (e.g. from ``explorer.index.knn.knn_graph``); -1
            marks a missing neighbour and is not counted.
        low: (n, 2|3) map coordinates; the point itself is never its own neighbour.
        k: neighbourhood size, clamped to the columns given and to n - 1.

    Returns:
        (n,) float32; NaN for a point with no valid original neighbour.
    """
    nbrs = np.asarray(high_nbrs)
    y = check_matrix(low, "map coordinates")
    n = y.shape[0]
    if nbrs.ndim != 2 or nbrs.shape[0] != n:
        raise InputError(
            f"The neighbour table must have one row per map point ({n}); got shape {nbrs.shape}."
        )
    if not np.issubdtype(nbrs.dtype, np.integer):
        raise InputError("The neighbour table must hold integer row positions.")
    if ((nbrs < -1) | (nbrs >= n)).any():
        raise InputError(f"The neighbour table holds row positions outside 0..{n - 1}.")
    if k < 1:
        raise InputError(f"k must be at least 1 (got {k}).")
    k = min(k, nbrs.shape[1], n - 1)
    if k < 1:
        raise InputError("Neighbourhood preservation needs at least two points and one neighbour.")
    high = nbrs[:, :k].astype(np.int64)
    low_nbrs = map_neighbours(y, k)
    out = np.empty(n, dtype=np.float32)
    for s in range(0, n, 65_536):
        h, lo = high[s : s + 65_536], low_nbrs[s : s + 65_536]
        valid = h >= 0
        found = ((h[:, :, None] == lo[:, None, :]).any(-1) & valid).sum(1)
        count = valid.sum(1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[s : s + 65_536] = np.where(count > 0, found / np.maximum(count, 1), np.nan)
    return out


def map_neighbours(coords: np.ndarray, k: int, rows: np.ndarray | None = None) -> np.ndarray:
    """The k nearest points on the map (Euclidean in 2-D or 3-D) of each of `rows` (default:
    every drawn point), itself excluded: the one definition of a map-side neighbour.

    Rows with NaN coordinates are not drawn: never a neighbour, and given none (-1).
    Returns (len(rows), k') int64 row numbers, nearest first (ties: the lower row),
    with k' = k clamped to the drawn points but one.
    """
    y = np.asarray(coords, dtype=np.float64)
    drawn = np.flatnonzero(np.isfinite(y).all(axis=1))
    asked = drawn if rows is None else np.asarray(rows, dtype=np.int64).reshape(-1)
    k = min(k, drawn.size - 1)
    if k < 1 or asked.size == 0:
        return np.full((asked.size, max(k, 0)), -1, dtype=np.int64)
    out = np.full((asked.size, k), -1, dtype=np.int64)
    ok = np.isfinite(y[asked]).all(axis=1)
    if ok.any():
        found = _nearest(y[drawn], y[asked[ok]], k + 1)
        found = drawn[found]  # positions among the drawn points → row numbers
        # Drop each point itself (wherever a tie put it), keep the k nearest others.
        others = found != asked[ok][:, None]
        order = np.argsort(~others, axis=1, kind="stable")[:, :k]
        out[ok] = np.take_along_axis(found, order, axis=1)
    return out


def _nearest(points: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Positions in `points` of each query's k nearest, nearest first; ties by position."""
    nn = NearestNeighbors(n_neighbors=min(k, points.shape[0])).fit(points)
    dist, pos = nn.kneighbors(queries)
    order = np.lexsort((pos, np.round(dist, 12)), axis=1)
    return np.take_along_axis(pos, order, axis=1)


@dataclass(frozen=True)
class MapQuality:
    """How faithful one map is, at neighbourhood size k.

    Attributes:
        k: neighbourhood size.
        trustworthiness, continuity: 0..1 (NaN with fewer than 3 drawn points),
            measured on at most ``sample`` drawn points.
        preservation: (n,) float32 per map row, the share of its k nearest items
            that are among its k nearest points on the map; NaN where not drawn.
        sample: points the two global figures were measured on.
    """

    k: int
    trustworthiness: float
    continuity: float
    preservation: np.ndarray
    sample: int

    @property
    def sampled(self) -> bool:
        """Whether the global figures come from a subsample of the drawn points."""
        return self.sample < int(np.isfinite(self.preservation).sum())


def map_quality(
    high: np.ndarray,
    coords: np.ndarray,
    nbrs: np.ndarray,
    metric: str,
    k: int = QUALITY_K,
    sample: int = QUALITY_SAMPLE,
) -> MapQuality:
    """Trustworthiness, continuity and per-point preservation of a map: the one definition.

    Args:
        high: (n, d) vectors of the map rows.
        coords: (n, 2|3) map coordinates; NaN rows are not drawn and not measured.
        nbrs: (n, ≥k) row positions of each row's nearest other rows in `high`,
            best first (``explorer.index.knn.map_knn``); -1 marks none.
        metric: the space's metric (cosine, ip or l2), ranked as the index ranks it.
    """
    drawn = np.flatnonzero(np.isfinite(coords).all(axis=1))
    n = coords.shape[0]
    per_point = np.full(n, np.nan, dtype=np.float32)
    if drawn.size < 3:
        return MapQuality(k, float("nan"), float("nan"), per_point, int(drawn.size))
    # Neighbours as positions among the drawn rows; undrawn neighbours become -1.
    pos = np.full(n + 1, -1, dtype=np.int64)
    pos[drawn] = np.arange(drawn.size)
    local = pos[np.asarray(nbrs)[drawn]]
    per_point[drawn] = neighbourhood_preservation(local, coords[drawn], k)
    x, y = np.asarray(high)[drawn], coords[drawn]
    # The neighbours the index ranks (cosine, the dot product, Euclidean), in every figure.
    name = distance_name(metric)
    return MapQuality(
        k=k,
        trustworthiness=trustworthiness(x, y, k=k, metric=name, sample=sample),
        continuity=continuity(x, y, k=k, metric=name, sample=sample),
        preservation=per_point,
        sample=min(sample, int(drawn.size)),
    )
