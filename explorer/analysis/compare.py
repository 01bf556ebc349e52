"""Two spaces of the same items side by side: two models, or a space and its rebuild.

Items are matched by id. On the shared items: how far each item's k nearest neighbours
agree (Jaccard@k), linear CKA, the two maps aligned by orthogonal Procrustes, the ARI of
the two default clusterings and, for word spaces, analogy accuracy over the shared
vocabulary. Every figure is a pure function of the two spaces and :class:`CompareParams`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from explorer.cluster.agreement import cluster_agreement
from explorer.cluster.clusterings import cluster_space
from explorer.core.errors import InputError
from explorer.core.linalg import procrustes
from explorer.core.progress import Progress, stage
from explorer.core.space import Space, make_space
from explorer.core.validate import MAX_K, is_int
from explorer.index.hnsw import VectorIndex
from explorer.index.knn import rows_knn
from explorer.maps.projections import ProjectionParams, default_params, project_space
from explorer.opened.handle import OpenedSpace, open_version

__all__ = [
    "AnalogyComparison",
    "ChangedItem",
    "CompareParams",
    "Comparison",
    "Matched",
    "align_maps",
    "compare_analogies",
    "compare_opened",
    "compare_spaces",
    "compare_task",
    "is_word_source",
    "linear_cka",
    "map_rows_of",
    "match_ids",
    "neighbour_jaccard",
    "selection_table",
]

_SHOWN_NEIGHBOURS = 5  # neighbours listed per changed item (the Jaccard uses all k)


@dataclass(frozen=True)
class CompareParams:
    """What a comparison is made with.

    k: neighbours per item for Jaccard@k (clamped to the compared items - 1).
    cka_sample: CKA runs on at most this many shared items (a seeded sample above).
    seed: the sample's seed.
    n_listed: items listed as most and as least changed.
    restrict_vocab: analogy vocabulary, the most frequent shared words (word spaces).
    """

    k: int = 10
    cka_sample: int = 5000
    seed: int = 0
    n_listed: int = 20
    restrict_vocab: int = 30_000

    def validate(self) -> None:
        """Raise InputError naming the first bad setting and what it may be."""
        bounds = {
            "k": (1, MAX_K),
            "cka_sample": (3, 20_000),
            "n_listed": (1, 1_000),
            "restrict_vocab": (1, 1_000_000),
        }
        for name, (low, high) in bounds.items():
            v = getattr(self, name)
            if not is_int(v) or not low <= v <= high:
                raise InputError(
                    f"{name} must be a whole number from {low:,} to {high:,}, not {str(v)[:40]!r}."
                )
        if not is_int(self.seed) or not 0 <= self.seed < 2**32:
            raise InputError(f"seed must be a whole number from 0 to 2³²-1, not {self.seed!r}.")


@dataclass(frozen=True)
class Matched:
    """The items of A and B matched by id: rows_a, rows_b (shared,) int64 rows of the
    shared ids in A and in B, in A's row order; only_a, only_b: ids in one space only."""

    rows_a: np.ndarray
    rows_b: np.ndarray
    only_a: int
    only_b: int

    @property
    def shared(self) -> int:
        return int(self.rows_a.size)


def match_ids(a: Space, b: Space) -> Matched:
    """Match the items of `a` and `b` by exact id (ids are unique in a space)."""
    pos = pd.Index(b.ids).get_indexer(pd.Index(a.ids))
    rows_a = np.flatnonzero(pos >= 0).astype(np.int64)
    rows_b = pos[rows_a].astype(np.int64)
    return Matched(rows_a, rows_b, a.n - rows_a.size, b.n - rows_b.size)


def map_rows_of(space: Space, ids: Sequence[str]) -> np.ndarray:
    """Sorted map rows (< n_map) of those `ids` that the space holds; others are skipped."""
    row_of = space.row_of
    rows = {row_of[str(i)] for i in ids if str(i) in row_of}
    return np.asarray(sorted(r for r in rows if r < space.n_map), dtype=np.int64)


def _knn_among(space: Space, rows: np.ndarray, k: int, index: VectorIndex | None) -> np.ndarray:
    """(m, k') k nearest others of each of `rows` among `rows`, as positions in `rows`."""
    # rows_knn wants sorted rows (to reuse the index when it holds exactly them).
    order = np.argsort(rows, kind="stable")
    nbr, _ = rows_knn(space.vectors, space.metric, rows[order], k, index)
    inv = np.empty_like(order)
    inv[order] = np.arange(order.size)
    return order[nbr[inv]]


def _jaccard(na: np.ndarray, nb: np.ndarray, chunk: int = 16_384) -> np.ndarray:
    """(m,) |A ∩ B| / |A ∪ B| of the neighbour sets in each row of `na` and `nb`."""
    out = np.empty(na.shape[0], dtype=np.float64)
    for s in range(0, na.shape[0], chunk):
        x, y = na[s : s + chunk], nb[s : s + chunk]
        inter = (x[:, :, None] == y[:, None, :]).any(-1).sum(1)
        out[s : s + chunk] = inter / (x.shape[1] + y.shape[1] - inter)
    return out


def neighbour_jaccard(
    a: Space,
    b: Space,
    matched: Matched,
    k: int,
    index_a: VectorIndex | None = None,
    index_b: VectorIndex | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Jaccard@k of each shared item's neighbours among the shared items, in A and in B.

    Only shared items with a usable vector in both spaces take part (zero vectors
    under cosine have no neighbours). An index is reused when it holds exactly those
    rows; otherwise a light one is built over them (exact below 5,000 rows).

    Returns:
        keep (m,) positions among the shared items that were compared; jaccard (m,)
        in [0, 1]; neighbours in A and in B, (m, k') positions among the compared.

    Raises:
        InputError: fewer than 3 shared items with usable vectors.
    """
    usable = a.indexable[matched.rows_a] & b.indexable[matched.rows_b]
    keep = np.flatnonzero(usable)
    if keep.size < 3:
        raise InputError(
            f"Only {keep.size} shared item(s) have a usable vector in both spaces; comparing "
            "neighbourhoods needs at least 3. Compare spaces of the same items (ids must match)."
        )
    kk = min(k, keep.size - 1)
    na = _knn_among(a, matched.rows_a[keep], kk, index_a)
    nb = _knn_among(b, matched.rows_b[keep], kk, index_b)
    return keep, _jaccard(na, nb), na, nb


def linear_cka(
    x: np.ndarray, y: np.ndarray, sample: int = 5000, seed: int = 0
) -> tuple[float | None, int]:
    """Linear CKA between paired rows (Kornblith et al. 2019).

    Columns are centred; CKA = ||Yᵀ X||²_F / (||Xᵀ X||_F ||Yᵀ Y||_F), in [0, 1]: 1 for
    spaces equal up to rotation, reflection and overall scale.

    Args:
        x: (n, d1) and y: (n, d2) rows of the same items.
        sample: above this many rows, a seeded random sample of that many is used.

    Returns:
        (CKA, or None when one side has no spread; rows used).
    """
    n = x.shape[0]
    if y.shape[0] != n:
        raise InputError(f"CKA needs the same items on both sides ({n} and {y.shape[0]} rows).")
    pick = np.arange(n)
    if n > sample:
        pick = np.sort(np.random.default_rng(seed).choice(n, size=sample, replace=False))
    xs = np.asarray(x[pick], dtype=np.float64)
    ys = np.asarray(y[pick], dtype=np.float64)
    xs -= xs.mean(0)
    ys -= ys.mean(0)
    if xs.shape[0] < min(xs.shape[1], ys.shape[1]):
        # Fewer rows than columns: the (n, n) Gram form is cheaper and equal.
        kx, ky = xs @ xs.T, ys @ ys.T
        num, den = float((kx * ky).sum()), float(np.linalg.norm(kx) * np.linalg.norm(ky))
    else:
        num = float(np.linalg.norm(ys.T @ xs) ** 2)
        den = float(np.linalg.norm(xs.T @ xs) * np.linalg.norm(ys.T @ ys))
    if not den > 0 or not np.isfinite(num):
        return None, int(pick.size)
    return float(min(max(num / den, 0.0), 1.0)), int(pick.size)


def align_maps(
    map_a: np.ndarray, map_b: np.ndarray, pairs_a: np.ndarray, pairs_b: np.ndarray
) -> tuple[np.ndarray, float | None]:
    """B's map moved onto A's, so that the same item sits in about the same place.

    On the paired rows (drawn in both maps) B is centred, scaled to A's spread and
    turned by the orthogonal Procrustes rotation (a reflection allowed: a map's
    handedness means nothing), then placed at A's centre. A's map is not moved.

    Args:
        map_a: (n_a, dims), map_b: (n_b, dims) coordinates; NaN rows are not drawn.
        pairs_a, pairs_b: (p,) rows of one item in each map.

    Returns:
        (B's map aligned, (n_b, dims) float32, NaN rows kept; disparity: squared
        distance of paired points after alignment over A's squared spread, 0 = the
        same picture, None (B's map returned as it is) below 3 drawn pairs or spread).
    """
    a, b = np.asarray(map_a, np.float64), np.asarray(map_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise InputError(
            f"Two maps to align must have the same number of dimensions ({a.shape[-1]}-D and "
            f"{b.shape[-1]}-D); make both 2-D maps."
        )
    drawn = np.isfinite(a[pairs_a]).all(1) & np.isfinite(b[pairs_b]).all(1)
    pa, pb = a[pairs_a[drawn]], b[pairs_b[drawn]]
    if pa.shape[0] < 3:
        return b.astype(np.float32), None
    mu_a, mu_b = pa.mean(0), pb.mean(0)
    ca, cb = pa - mu_a, pb - mu_b
    norm_a, norm_b = float(np.linalg.norm(ca)), float(np.linalg.norm(cb))
    if norm_a == 0 or norm_b == 0:
        return b.astype(np.float32), None
    scale = norm_a / norm_b
    rot = procrustes(cb * scale, ca)
    aligned = ((b - mu_b) * scale) @ rot + mu_a
    disparity = float(np.linalg.norm(cb * scale @ rot - ca) ** 2 / norm_a**2)
    return aligned.astype(np.float32), disparity


def _cluster_ari(
    labels_a: np.ndarray, labels_b: np.ndarray, matched: Matched
) -> tuple[float | None, int]:
    """(ARI of the two clusterings on the shared items clustered in both, items used)."""
    la, lb = np.asarray(labels_a), np.asarray(labels_b)
    inside = (matched.rows_a < la.size) & (matched.rows_b < lb.size)
    ca, cb = la[matched.rows_a[inside]], lb[matched.rows_b[inside]]
    both = (ca >= 0) & (cb >= 0)
    if both.sum() < 2:
        return None, int(both.sum())
    return float(cluster_agreement(cb[both], ca[both])["ari"]), int(both.sum())


@dataclass(frozen=True)
class AnalogyComparison:
    """Analogy accuracy of each space on the same questions over the shared vocabulary."""

    questions: int
    answered_a: int
    answered_b: int
    accuracy_a: float
    accuracy_b: float
    vocabulary: int


def is_word_source(source: Mapping[str, Any]) -> bool:
    """Whether a space's source record (``Space.source``, a manifest's ``source``) says
    its items are words: a word-vector file, or a built-in word sample."""
    if source.get("kind") == "words":
        return True
    from explorer.ingest.samples import SAMPLES

    sample = SAMPLES.get(str(source.get("sample")))
    return sample is not None and sample.kind == "words"


def _subspace(space: Space, rows: np.ndarray) -> Space:
    items = space.items.iloc[rows][["id"]].reset_index(drop=True)
    return make_space(items, space.vectors[rows], metric=space.metric)


def compare_analogies(
    a: Space, b: Space, matched: Matched, path: str | Path, restrict_vocab: int = 30_000
) -> AnalogyComparison:
    """Each space's accuracy on the analogy file `path` (gensim's way, see
    ``explorer.analysis.evaluate``), both restricted to the shared words in A's (frequency)
    order, so the two answer the same questions from the same candidates."""
    from explorer.analysis.evaluate import evaluate_analogies

    sub_a, sub_b = _subspace(a, matched.rows_a), _subspace(b, matched.rows_b)
    ev_a = evaluate_analogies(sub_a, path, restrict_vocab=restrict_vocab)
    ev_b = evaluate_analogies(sub_b, path, restrict_vocab=restrict_vocab)
    return AnalogyComparison(
        questions=ev_a.questions,
        answered_a=ev_a.answered,
        answered_b=ev_b.answered,
        accuracy_a=ev_a.accuracy,
        accuracy_b=ev_b.accuracy,
        vocabulary=min(restrict_vocab, matched.shared),
    )


@dataclass(frozen=True)
class ChangedItem:
    """One shared item, its Jaccard@k and its first neighbours (ids) in each space."""

    id: str
    text: str
    jaccard: float
    neighbours_a: tuple[str, ...]
    neighbours_b: tuple[str, ...]

    def row(self) -> dict[str, Any]:
        """A table row: neighbours joined into one string each."""
        return {
            "id": self.id,
            "text": self.text,
            "jaccard": round(self.jaccard, 4),
            "neighbours in A": ", ".join(self.neighbours_a),
            "neighbours in B": ", ".join(self.neighbours_b),
        }


@dataclass
class Comparison:
    """What :func:`compare_spaces` found. A is the first space, B the second.

    shared / only_a / only_b: ids in both, in A only, in B only.
    compared: shared items with a usable vector in both (the neighbour figures' items).
    ids, jaccard: (compared,) their ids (A's row order) and Jaccard@k in [0, 1].
    jaccard_a, jaccard_b: (n_map,) Jaccard@k per map row of A and of B, NaN where
        an item was not compared (to colour the maps by).
    cka: linear CKA on the shared items (``cka_items`` of them; ``cka_sampled`` when a
        seeded sample); None when a space has no spread.
    ari: adjusted Rand index of the two default clusterings on the shared items
        clustered in both (``ari_items``); None when not measured.
    map_a, map_b: (n_map, 2) A's map and B's map aligned onto it (None: not made);
        map_disparity as :func:`align_maps` measures it.
    """

    n_a: int
    n_b: int
    shared: int
    only_a: int
    only_b: int
    compared: int
    k: int
    ids: np.ndarray
    jaccard: np.ndarray
    jaccard_a: np.ndarray
    jaccard_b: np.ndarray
    cka: float | None
    cka_items: int
    cka_sampled: bool
    most_changed: list[ChangedItem]
    least_changed: list[ChangedItem]
    ari: float | None = None
    ari_items: int = 0
    map_a: np.ndarray | None = None
    map_b: np.ndarray | None = None
    map_disparity: float | None = None
    analogies: AnalogyComparison | None = None
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def mean_jaccard(self) -> float:
        return float(self.jaccard.mean())

    def summary(self) -> dict[str, Any]:
        """The figures as a JSON-able dict (what ``python -m explorer compare --json`` prints)."""
        counts = ("n_a", "n_b", "shared", "only_a", "only_b", "compared", "k", "cka_items")
        out: dict[str, Any] = {f: getattr(self, f) for f in counts}
        figures = {
            "mean_jaccard": self.mean_jaccard,
            "median_jaccard": float(np.median(self.jaccard)),
            "cka": self.cka,
            "ari": self.ari,
            "map_disparity": self.map_disparity,
        }
        out.update({f: None if v is None else round(v, 4) for f, v in figures.items()})
        out.update(cka_sampled=self.cka_sampled, ari_items=self.ari_items)
        out["most_changed"] = [asdict(c) for c in self.most_changed]
        out["least_changed"] = [asdict(c) for c in self.least_changed]
        out["analogies"] = None if self.analogies is None else asdict(self.analogies)
        return {**out, "params": self.params, "notes": self.notes, "seconds": self.seconds}


def selection_table(cmp: Comparison, a: Space, b: Space, ids: Sequence[str]) -> pd.DataFrame:
    """One row per id: its text, whether each space holds it, and its Jaccard@k."""
    score = dict(zip(map(str, cmp.ids), cmp.jaccard.tolist(), strict=True))
    rows = []
    for i in map(str, ids):
        ra, rb = a.row_of.get(i), b.row_of.get(i)
        text = a.display_text[ra] if ra is not None else b.display_text[rb] if rb is not None else i
        found = {"in A": ra is not None, "in B": rb is not None}
        rows.append({"id": i, "text": text, **found, "jaccard": score.get(i, np.nan)})
    return pd.DataFrame(rows, columns=["id", "text", "in A", "in B", "jaccard"])


def _changed(
    a: Space, ids: np.ndarray, jac: np.ndarray, na: np.ndarray, nb: np.ndarray, n: int, most: bool
) -> list[ChangedItem]:
    """The `n` items with the lowest (most changed) or highest Jaccard, ties in A's order."""
    order = np.argsort(jac if most else -jac, kind="stable")[:n]
    return [
        ChangedItem(
            id=str(ids[i]),
            text=str(a.display_text[a.row_of[str(ids[i])]]),
            jaccard=float(jac[i]),
            neighbours_a=tuple(str(ids[j]) for j in na[i, :_SHOWN_NEIGHBOURS]),
            neighbours_b=tuple(str(ids[j]) for j in nb[i, :_SHOWN_NEIGHBOURS]),
        )
        for i in order
    ]


def _per_map_row(space: Space, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(n_map,) `values` placed at `rows` (those on the map), NaN elsewhere."""
    out = np.full(space.n_map, np.nan)
    on = rows < space.n_map
    out[rows[on]] = values[on]
    return out


def compare_spaces(
    a: Space,
    b: Space,
    params: CompareParams | None = None,
    *,
    index_a: VectorIndex | None = None,
    index_b: VectorIndex | None = None,
    maps: tuple[np.ndarray, np.ndarray] | None = None,
    labels: tuple[np.ndarray, np.ndarray] | None = None,
    analogies: str | Path | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """Compare space `a` with space `b` on the items they share (matched by id).

    Args:
        index_a, index_b: the spaces' indexes, reused for Jaccard@k when they hold
            exactly the compared rows.
        maps: (A's map (n_map_a, 2), B's map (n_map_b, 2)) to align; None: no maps.
        labels: (A's cluster labels (n_map_a,), B's) for the ARI; None: no ARI.
        analogies: an analogy file; accuracy of each on the shared vocabulary when both
            are word spaces (``is_word_source``), else skipped with a note.

    Raises:
        InputError: bad parameters, or fewer than 3 shared items with usable vectors.
    """
    p = params or CompareParams()
    p.validate()
    t0 = time.perf_counter()
    notes: list[str] = []
    matched = match_ids(a, b)
    if matched.shared == 0:
        raise InputError(
            "No item id is in both spaces, so there is nothing to compare. Compare spaces "
            "of the same items: ids must match exactly."
        )
    if progress:
        progress(0.1, f"Neighbours of {matched.shared:,} shared items in both spaces")
    keep, jac, na, nb = neighbour_jaccard(a, b, matched, p.k, index_a, index_b)
    if keep.size < matched.shared:
        notes.append(
            f"{matched.shared - keep.size:,} shared item(s) have a zero vector in a space "
            "and are left out of the neighbour figures."
        )
    ids = a.ids[matched.rows_a[keep]]
    if progress:
        progress(0.7, "Linear CKA")
    cka, cka_items = linear_cka(
        a.vectors[matched.rows_a], b.vectors[matched.rows_b], p.cka_sample, p.seed
    )
    if cka_items < matched.shared:
        notes.append(f"CKA was measured on a random sample of {cka_items:,} shared items.")
    out = Comparison(
        n_a=a.n,
        n_b=b.n,
        shared=matched.shared,
        only_a=matched.only_a,
        only_b=matched.only_b,
        compared=int(keep.size),
        k=int(na.shape[1]),
        ids=ids,
        jaccard=jac,
        jaccard_a=_per_map_row(a, matched.rows_a[keep], jac),
        jaccard_b=_per_map_row(b, matched.rows_b[keep], jac),
        cka=cka,
        cka_items=cka_items,
        cka_sampled=cka_items < matched.shared,
        most_changed=_changed(a, ids, jac, na, nb, p.n_listed, most=True),
        least_changed=_changed(a, ids, jac, na, nb, p.n_listed, most=False),
        params=asdict(p),
        notes=notes,
    )
    _add_extras(out, a, b, matched, p, maps, labels, analogies, progress)
    out.seconds = time.perf_counter() - t0
    return out


def _add_extras(
    out: Comparison,
    a: Space,
    b: Space,
    matched: Matched,
    p: CompareParams,
    maps: tuple[np.ndarray, np.ndarray] | None,
    labels: tuple[np.ndarray, np.ndarray] | None,
    analogies: str | Path | None,
    progress: Progress | None,
) -> None:
    """The aligned maps, the clusterings' ARI and the analogy accuracies, into `out`."""
    if maps is not None:
        out.map_a = np.asarray(maps[0], dtype=np.float32)
        out.map_b, out.map_disparity = align_maps(maps[0], maps[1], matched.rows_a, matched.rows_b)
        if out.map_disparity is None:
            out.notes.append("Fewer than 3 shared items are drawn on both maps: not aligned.")
    if labels is not None:
        out.ari, out.ari_items = _cluster_ari(labels[0], labels[1], matched)
    if analogies is not None:
        if is_word_source(a.source) and is_word_source(b.source):
            if progress:
                progress(0.8, "Analogy questions on the shared vocabulary")
            out.analogies = compare_analogies(a, b, matched, analogies, p.restrict_vocab)
        else:
            out.notes.append("Analogy accuracy is for word spaces: skipped.")


def compare_opened(
    a: OpenedSpace,
    b: OpenedSpace,
    params: CompareParams | None = None,
    *,
    map_params: tuple[ProjectionParams, ProjectionParams] | None = None,
    analogies: str | Path | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """Compare two opened spaces, with their maps and default clusterings.

    Each map (``ProjectionParams`` of each space; None: each space's default map) and
    clustering (default ``ClusterParams``) is the space's stored step: read when
    stored, else made and stored, as the Map and Clusters pages do.
    """
    maps, labels = [], []
    for n, opened in enumerate((a, b)):
        mp = map_params[n] if map_params is not None else default_params(opened.space)
        if progress:
            progress(0.05 + 0.2 * n, f"The map of space {'AB'[n]}")
        maps.append(project_space(opened, mp).coords)
        if progress:
            progress(0.15 + 0.2 * n, f"The clustering of space {'AB'[n]}")
        labels.append(cluster_space(opened).labels)
    return compare_spaces(
        a.space,
        b.space,
        params,
        index_a=a.index_if_any,
        index_b=b.index_if_any,
        maps=(maps[0], maps[1]),
        labels=(labels[0], labels[1]),
        analogies=analogies,
        progress=stage(progress, 0.4, 1.0),
    )


def compare_task(
    version_a: str,
    name_a: str,
    version_b: str,
    name_b: str,
    params: dict[str, Any],
    map_a: dict[str, Any],
    map_b: dict[str, Any],
    analogies: str | None,
    *,
    progress: Progress,
) -> Comparison:
    """The comparison as a job for a worker process (``explorer.runtime.jobs``): plain
    arguments (each space's version folder and name, parameter dicts), the
    :class:`Comparison` returned."""
    return compare_opened(
        open_version(Path(version_a), name_a),
        open_version(Path(version_b), name_b),
        CompareParams(**params),
        map_params=(ProjectionParams(**map_a), ProjectionParams(**map_b)),
        analogies=analogies,
        progress=progress,
    )
