"""UMAP's layout step (stochastic gradient descent over the fuzzy graph), on all cores.

umap-learn runs its epochs on one core once a seed is set, and its own parallel
mode does not speed them up: its threads write to rows anywhere in the layout, so
the cores spend their time handing cache lines to each other. Here the edges are
sorted by their head point and each thread takes a contiguous block of heads, so each
thread writes mostly to its own rows, and the layout speeds up with the cores at the
same trustworthiness (docs/maps.md has the measurements).

The arithmetic is UMAP's (McInnes et al. 2018; umap-learn's
``optimize_layout_euclidean`` with ``move_other``): each edge is sampled in
proportion to its weight, pulls both ends together, and pushes its head away from
``negative_rate`` random points, with a step size falling linearly to zero.

With one thread the result is the same for the same seed. With several, threads
read rows that others are writing, so maps differ a little from run to run; the
stored map, not the seed, is what makes a picture repeatable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np

__all__ = ["optimize_layout", "place_by_neighbours"]


@numba.njit(fastmath=True, inline="always", cache=True)
def _clip(v: float) -> float:
    return 4.0 if v > 4.0 else (-4.0 if v < -4.0 else v)


@numba.njit(fastmath=True, parallel=True, cache=True)
def _epoch(  # noqa: PLR0913 - a numba kernel takes its arrays one by one
    emb: np.ndarray,
    head: np.ndarray,
    tail: np.ndarray,
    bounds: np.ndarray,
    every: np.ndarray,
    next_at: np.ndarray,
    every_neg: np.ndarray,
    next_neg: np.ndarray,
    rng: np.ndarray,
    a: np.float32,
    b: np.float32,
    gamma: np.float32,
    alpha: np.float32,
    epoch: int,
) -> None:
    """One epoch over the edges in blocks ``bounds[c]:bounds[c + 1]`` (one block per task)."""
    nv, dim = emb.shape
    one = np.float32(1.0)
    for c in numba.prange(bounds.size - 1):
        for i in range(bounds[c], bounds[c + 1]):
            if next_at[i] > epoch:
                continue
            j = head[i]
            k = tail[i]
            d2 = np.float32(0.0)
            for d in range(dim):
                diff = emb[j, d] - emb[k, d]
                d2 += diff * diff
            if d2 > 0.0:
                pb = d2**b  # one pow: d2^(b-1) = d2^b / d2
                coeff = np.float32(-2.0) * a * b * (pb / d2) / (a * pb + one)
                for d in range(dim):
                    g = _clip(coeff * (emb[j, d] - emb[k, d])) * alpha
                    emb[j, d] += g
                    emb[k, d] -= g
            next_at[i] += every[i]
            n_neg = int((epoch - next_neg[i]) / every_neg[i])
            s = rng[j]
            for _ in range(n_neg):
                # xorshift64: each head has its own stream, written only by its block.
                s ^= s << 13
                s ^= s >> 7
                s ^= s << 17
                k = (s >> 1) % nv
                if k == j:
                    continue
                d2 = np.float32(0.0)
                for d in range(dim):
                    diff = emb[j, d] - emb[k, d]
                    d2 += diff * diff
                if d2 <= 0.0:
                    continue
                coeff = np.float32(2.0) * gamma * b / ((np.float32(0.001) + d2) * (a * d2**b + one))
                for d in range(dim):
                    emb[j, d] += _clip(coeff * (emb[j, d] - emb[k, d])) * alpha
            rng[j] = s
            next_neg[i] += n_neg * every_neg[i]


@dataclass
class _Schedule:
    """UMAP's step size, falling linearly from `initial_alpha` to 0 over `n_epochs`;
    once `until` (asked every `check_every` epochs) says stop, it falls from where it
    is to 0 over `decay_share` × the epochs done instead."""

    n_epochs: int
    initial_alpha: float
    until: Callable[[int, np.ndarray], bool] | None
    check_every: int
    decay_share: float
    # (epoch the decay began, step size then, its length) once `until` says so.
    decay: tuple[int, float, int] | None = None

    @property
    def end(self) -> int:
        """Epochs to run in all."""
        return self.n_epochs if self.decay is None else self.decay[0] + self.decay[2]

    def alpha(self, epoch: int) -> float:
        """The step size of epoch `epoch` (from 0)."""
        if self.decay is None:
            return self.initial_alpha * (1.0 - epoch / self.n_epochs)
        start, alpha, length = self.decay
        return alpha * (1.0 - (epoch - start) / length)

    def after(self, done: int, emb: np.ndarray) -> None:
        """Ask the rule, when due, after `done` epochs that left the layout `emb`."""
        if (
            self.until is not None
            and self.decay is None
            and done % self.check_every == 0
            and done < self.n_epochs
            and self.until(done, emb)
        ):
            length = max(1, min(self.n_epochs - done, round(self.decay_share * done)))
            self.decay = (done, self.alpha(done), length)


def _edges_by_head(
    head: np.ndarray, tail: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The edges of positive weight sorted by head (stable): (m,) int64 heads and
    tails, (m,) float64 weights."""
    keep = weight > 0
    order = np.argsort(head[keep], kind="stable")
    h = np.ascontiguousarray(head[keep][order], dtype=np.int64)
    t = np.ascontiguousarray(tail[keep][order], dtype=np.int64)
    return h, t, np.asarray(weight[keep][order], dtype=np.float64)


def _head_blocks(h: np.ndarray, threads: int) -> np.ndarray:
    """Bounds (int64, from 0 to m) of blocks of whole heads of the sorted (m,) heads `h`,
    with about equal edge counts, a few per thread."""
    # numba hands each thread a contiguous run of blocks; handing them out one at a time
    # (dynamic scheduling) is slower (docs/maps.md, "Tried and left out").
    cuts = np.linspace(0, h.size, 4 * threads + 1).astype(np.int64)[1:-1]
    bounds = np.unique(np.concatenate([[0], np.searchsorted(h, h[cuts]), [h.size]]))
    return bounds.astype(np.int64)


def optimize_layout(
    init: np.ndarray,
    head: np.ndarray,
    tail: np.ndarray,
    weight: np.ndarray,
    n_epochs: int,
    a: float,
    b: float,
    *,
    seed: int,
    parallel: bool = True,
    gamma: float = 1.0,
    negative_rate: float = 5.0,
    initial_alpha: float = 1.0,
    until: Callable[[int, np.ndarray], bool] | None = None,
    check_every: int = 10,
    decay_share: float = 0.5,
) -> np.ndarray:
    """Lay out n points along a weighted graph: (n, dims) float32, starting from `init`.

    Args:
        init: (n, dims) starting positions (umap-learn scales them to 0..10).
        head, tail, weight: the graph's edges (both directions of each), e.g. a
            symmetric fuzzy graph's COO rows, columns and values.
        n_epochs: passes; an edge of weight w is sampled n_epochs · w / max(w) times.
        a, b: the curve 1 / (1 + a·d^(2b)) that min_dist sets.
        parallel: all cores (not bit-identical between runs) or one (repeatable).
        until: a convergence rule, asked every `check_every` epochs with (epochs
            done, the layout so far, read-only). Once it answers True, the step
            size falls from where it is to 0 over `decay_share` × the epochs done,
            and n_epochs is only the most there can be. None (the default): UMAP's schedule,
            as no rule that watches the map can stop early without losing faithfulness
            (docs/maps.md, "A convergence rule").
    """
    emb = np.array(init, dtype=np.float32, order="C")  # a copy: the start is the caller's
    n = emb.shape[0]
    h, t, w = _edges_by_head(head, tail, weight)
    if h.size == 0 or n_epochs < 1:
        return emb
    every = w.max() / w  # epochs between two samples of an edge
    every_neg = every / negative_rate
    next_at, next_neg = every.copy(), every_neg.copy()
    threads = numba.get_num_threads() if parallel else 1
    bounds = _head_blocks(h, threads)
    rng = np.asarray(np.random.default_rng(seed).integers(1, 2**62, n, dtype=np.int64))
    f32 = np.float32
    previous = numba.get_num_threads()
    numba.set_num_threads(threads)  # per calling thread, so other sessions keep theirs
    schedule = _Schedule(n_epochs, initial_alpha, until, check_every, decay_share)
    try:
        epoch = 0
        while epoch < schedule.end:
            alpha = f32(schedule.alpha(epoch))
            _epoch(
                emb,
                h,
                t,
                bounds,
                every,
                next_at,
                every_neg,
                next_neg,
                rng,
                f32(a),
                f32(b),
                f32(gamma),
                alpha,
                epoch,
            )
            epoch += 1
            schedule.after(epoch, emb)
    finally:
        numba.set_num_threads(previous)
    return emb


def place_by_neighbours(
    neighbours: np.ndarray,
    fixed: np.ndarray,
    fixed_coords: np.ndarray,
    seed: int,
    max_rounds: int = 50,
) -> np.ndarray:
    """Positions for n points: `fixed` rows keep `fixed_coords`, the rest join their neighbours.

    Each round, every unplaced point that has placed neighbours goes to their mean,
    plus a jitter of 1e-3 × the layout's spread so that points with the same
    neighbours do not stack. Points that no chain of neighbours reaches sit on a
    random fixed point.

    Args:
        neighbours: (n, k) positions of each point's nearest other points; -1 for none.
        fixed: (m,) positions of the points already laid out.
        fixed_coords: (m, dims) their coordinates.

    Returns (n, dims) float32.
    """
    n, dims = neighbours.shape[0], fixed_coords.shape[1]
    rng = np.random.default_rng(seed)
    pos = np.zeros((n, dims), dtype=np.float32)
    pos[fixed] = fixed_coords
    placed = np.zeros(n, dtype=bool)
    placed[fixed] = True
    free = ~placed  # the rows this function places (and jitters)
    valid = neighbours >= 0
    nbr = np.where(valid, neighbours, 0)
    for _ in range(max_rounds):
        todo = np.flatnonzero(~placed)
        ok = valid[todo] & placed[nbr[todo]]
        count = ok.sum(axis=1)
        ready = count > 0
        if not ready.any():
            break
        rows = todo[ready]
        ok = ok[ready]
        # All means of a round are taken before any is written: order cannot matter.
        total = np.where(ok[..., None], pos[nbr[rows]], 0.0).sum(axis=1)
        pos[rows] = total / count[ready, None]
        placed[rows] = True
    rest = np.flatnonzero(~placed)
    if rest.size:
        pos[rest] = fixed_coords[rng.integers(0, len(fixed), rest.size)]
    spread = float(fixed_coords.std()) or 1.0
    pos[free] += rng.normal(scale=1e-3 * spread, size=(int(free.sum()), dims)).astype(np.float32)
    return pos
