"""How good an approximate index is: recall@k against exact search."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from explorer.core.errors import InputError

if TYPE_CHECKING:
    from explorer.core.space import Space
    from explorer.index.hnsw import VectorIndex

__all__ = ["index_recall", "recall_at_k"]


def recall_at_k(approx: np.ndarray, exact: np.ndarray, k: int = 10) -> float:
    """Mean over queries of |approx top-k ∩ exact top-k| / |exact top-k|.

    Args:
        approx, exact: (m, ≥k) int ids per query, best first; -1 pads missing ids.
        k: cut-off, clamped to the columns of ``exact``.
    """
    a, e = np.asarray(approx), np.asarray(exact)
    if a.ndim != 2 or e.ndim != 2 or a.shape[0] != e.shape[0]:
        raise InputError(
            f"approx and exact must be (queries, k) tables with the same number of rows; "
            f"got {a.shape} and {e.shape}."
        )
    if k < 1:
        raise InputError(f"k must be at least 1 (got {k}).")
    if a.shape[0] == 0:
        raise InputError("No queries: recall needs at least one row.")
    k = min(k, e.shape[1])
    a, e = a[:, :k], e[:, :k]
    valid = e >= 0
    hit = ((e[:, :, None] == a[:, None, :]).any(-1) & valid).sum(1)
    count = valid.sum(1)
    if not (count > 0).any():
        raise InputError("The exact neighbour table is empty.")
    return float(np.mean(hit[count > 0] / count[count > 0]))


def index_recall(
    index: VectorIndex, space: Space, k: int = 10, sample: int = 1000, seed: int = 0
) -> float:
    """Recall@k of the (approximate) index against brute force, on a random sample of rows.

    Each sampled indexed row is a query (itself excluded); 1.0 for an exact index.
    """
    if sample < 1:
        raise InputError(f"sample must be at least 1 (got {sample}).")
    rows = np.asarray(index.rows, dtype=np.int64)
    if rows.size < 2:
        raise InputError("Recall needs an index with at least two items.")
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(rows, size=min(sample, rows.size), replace=False))
    queries = space.vectors[picked]
    approx, _ = index.search(queries, k, exclude=picked[:, None])
    exact, _ = index.search(queries, k, exclude=picked[:, None], exact=True)
    return recall_at_k(approx, exact, k)
