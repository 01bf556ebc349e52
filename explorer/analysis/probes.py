"""Probes of a space: neighbours, word analogies (3CosAdd / 3CosMul) and a picture of one.

Everything here is exact and read-only. Analogies work on unit vectors: a cosine
space already stores them; for ``ip`` and ``l2`` spaces the row norms are computed
once per space (kept while the space lives) and scores are divided by them, so the
(n, d) matrix is never copied for a query.

Each analogy formula is written once (:func:`cosadd_target`, :func:`cosadd_direction`,
:func:`cosmul_scores`) and used by the exact scan, the index path and the benchmark
reader in :mod:`explorer.analysis.evaluate`.
"""

from __future__ import annotations

import difflib
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from explorer.core.errors import InputError
from explorer.core.linalg import pca, unit_rows
from explorer.core.space import Space
from explorer.index.hnsw import VectorIndex

__all__ = [
    "COSMUL_EPS",
    "AnalogyLayout",
    "AnalogyMethod",
    "AnalogyResult",
    "AnalogyRole",
    "Hit",
    "analogy",
    "analogy_layout",
    "cosadd_direction",
    "cosadd_target",
    "cosmul_scores",
    "neighbours",
]

AnalogyMethod = Literal["3cosadd", "3cosmul"]
AnalogyRole = Literal["plus", "minus", "answer"]
_METHODS: tuple[str, ...] = ("3cosadd", "3cosmul")
# Levy & Goldberg (2014) add ε = 0.001 to the denominator of 3CosMul.
COSMUL_EPS = 1e-3
_CHUNK = 65_536  # rows per block when norms are computed


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Hit:
    """One answer: a row of the space, its id, its label text and its score (higher is closer)."""

    row: int
    id: str
    text: str
    score: float


@dataclass(frozen=True)
class AnalogyResult:
    """Answers to one analogy, best first.

    Attributes:
        name: the query as arithmetic, e.g. ``"(king - man + woman)"``.
        hits: up to k answers, query terms left out.
        method: ``3cosadd`` or ``3cosmul``.
        positive, negative: the terms used (stripped, unknown ones dropped), as given.
        term_rows: the row each term resolved to, positives then negatives.
        missing: terms dropped because they are not in the space (only with
            ``ignore_missing=True``; otherwise unknown terms raise InputError).
    """

    name: str
    hits: list[Hit]
    method: AnalogyMethod
    positive: list[str]
    negative: list[str]
    term_rows: list[int]
    missing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AnalogyLayout:
    """An analogy as a small 2-D picture: its terms and best answers, placed by a PCA.

    Attributes:
        words: the m labels: negative terms, positive terms, then answers.
        xy: (m, 2) float32 positions from a PCA of just these m unit vectors.
        roles: per word, ``minus``, ``plus`` or ``answer``.
        arrows: (from, to) positions in ``words``: b → c (the offset) and
            a → the first answer, which runs parallel to it when the analogy holds.
    """

    words: list[str]
    xy: np.ndarray
    roles: list[AnalogyRole]
    arrows: list[tuple[int, int]]


# --------------------------------------------------------------------------- formulas


def cosadd_target(units: np.ndarray, n_pos: int) -> np.ndarray:
    """Σ positives − Σ negatives of unit term vectors, summed along the term axis.

    Args:
        units: (terms, d) or (batch, terms, d) unit vectors, positives first.
        n_pos: how many of the terms are positive.

    Returns:
        (d,) or (batch, d), not normalised: ranking candidates by their dot product
        with it is 3CosAdd (gensim's evaluation does exactly this).
    """
    return units[..., :n_pos, :].sum(axis=-2) - units[..., n_pos:, :].sum(axis=-2)


def cosadd_direction(units: np.ndarray, n_pos: int) -> np.ndarray:
    """The 3CosAdd query: the unit (d,) float32 direction of :func:`cosadd_target`.

    Raises:
        InputError: the terms cancel out (the target has no length).
    """
    target = cosadd_target(units, n_pos)
    size = float(np.linalg.norm(target))
    if size < 1e-6:
        raise InputError("The terms cancel out: the analogy has no direction.")
    return (target / size).astype(np.float32, copy=False)


def cosmul_scores(sims: np.ndarray, n_pos: int) -> np.ndarray:
    """3CosMul scores from cosines, computed in place (Levy & Goldberg 2014).

    With s = (1 + cos) / 2 in [0, 1]: score = Π s(x, p) / (Π s(x, q) + 0.001).

    Args:
        sims: (terms, ...) float32 cosines of the candidates with each term, positives
            first; e.g. (terms, candidates) or (terms, batch, vocab). Overwritten, so
            a large block needs no temporaries.
        n_pos: how many of the terms are positive (at least one).

    Returns:
        ``sims[0]`` (a view into `sims`), holding the scores.
    """
    sims += 1.0
    sims *= 0.5
    out = sims[0]
    for s in sims[1:n_pos]:
        out *= s
    if sims.shape[0] > n_pos:
        den = sims[n_pos]
        for s in sims[n_pos + 1 :]:
            den *= s
        den += COSMUL_EPS
        out /= den
    else:
        out /= np.float32(1.0) + np.float32(COSMUL_EPS)
    return out


# --------------------------------------------------------------------------- helpers

_NORMS: weakref.WeakKeyDictionary[Space, np.ndarray] = weakref.WeakKeyDictionary()


def row_norms(space: Space) -> np.ndarray:
    """(n,) float32 Euclidean norm of every row, computed once per space in blocks."""
    got = _NORMS.get(space)
    if got is None:
        if space.metric == "cosine":
            got = space.indexable.astype(np.float32)  # unit rows, zero rows stay 0
        else:
            got = np.empty(space.n, dtype=np.float32)
            for s in range(0, space.n, _CHUNK):
                block = space.vectors[s : s + _CHUNK]
                got[s : s + _CHUNK] = np.sqrt(np.einsum("ij,ij->i", block, block))
        got.setflags(write=False)
        _NORMS[space] = got
    return got


def unit_vectors(space: Space, rows: np.ndarray | slice) -> np.ndarray:
    """Unit float32 vectors of `rows` (zero rows stay zero); read-only, may be a view."""
    vecs = space.vectors[rows]
    if space.metric == "cosine":
        return vecs  # stored as unit rows
    return unit_rows(vecs)[0]


def _cosines(space: Space, stop: int, queries: np.ndarray) -> np.ndarray:
    """Cosine of rows [0, stop) with unit `queries` (q, d): (stop, q) float32.

    Rows with no direction score -inf. One matrix product over a view of the
    stored matrix; for non-cosine spaces the cached norms divide the result.
    """
    sims = space.vectors[:stop] @ queries.T
    norms = row_norms(space)[:stop]
    if space.metric != "cosine":
        np.divide(sims, norms[:, None], out=sims, where=norms[:, None] > 0)
    sims[norms == 0] = -np.inf
    return sims


def _top(scores: np.ndarray, m: int) -> np.ndarray:
    """Positions of the `m` largest finite scores of a 1-D array, best first."""
    m = min(m, scores.size)
    if m <= 0:
        return np.empty(0, dtype=np.int64)
    part = np.argpartition(-scores, m - 1)[:m] if m < scores.size else np.arange(scores.size)
    part = part[np.lexsort((part, -scores[part]))]  # best first, ties by row
    return part[np.isfinite(scores[part])]


def _hit(space: Space, row: int, score: float) -> Hit:
    return Hit(
        row=int(row), id=str(space.ids[row]), text=str(space.display_text[row]), score=float(score)
    )


def _suggest(space: Space, terms: Sequence[str], pool: int = 50_000) -> str:
    """A hint naming close spellings among the first `pool` ids, or a few example ids."""
    vocab = [str(i) for i in space.ids[: min(pool, space.n)]]
    close: list[str] = []
    for t in terms[:3]:
        for c in difflib.get_close_matches(t.casefold(), vocab, n=3, cutoff=0.75):
            if c not in close:
                close.append(c)
    if close:
        return "Did you mean " + ", ".join(repr(c) for c in close[:6]) + "?"
    return (
        "Use words from this space's vocabulary, e.g. "
        + ", ".join(repr(v) for v in vocab[:5])
        + "."
    )


def check_method(method: str) -> None:
    """Raise InputError unless `method` is ``3cosadd`` or ``3cosmul``."""
    if method not in _METHODS:
        raise InputError(f"Unknown analogy method {method!r}; choose 3cosadd or 3cosmul.")


# --------------------------------------------------------------------------- neighbours


def neighbours(
    space: Space,
    index: VectorIndex,
    *,
    row: int | None = None,
    vector: np.ndarray | None = None,
    k: int = 10,
    among: np.ndarray | None = None,
) -> list[Hit]:
    """The k nearest items to a row of the space or to a query vector, best first.

    among: (n,) bool, only these rows may be returned (e.g. the images of an image–text
    space, where a text's nearest items are otherwise all texts: the "modality gap");
    searched exactly, with the index's own scores.

    Give exactly one of ``row`` (the item itself is left out) or ``vector`` ((d,) or
    (1, d), e.g. an embedded free-text query; its dimension is checked by the index).
    Scores are the index's similarities (cosine, dot, or minus the L2 distance).
    k is clamped to what the index can return (n - 1 for a row).

    Raises:
        InputError: both or neither of row/vector, a row out of range, an item or
            query with no direction under cosine, a wrong query dimension.
    """
    if (row is None) == (vector is None):
        raise InputError("Give either an item (row) or a query vector, not both or neither.")
    if row is not None:
        if isinstance(row, bool) or not isinstance(row, int | np.integer):
            raise InputError(f"The item must be a row number; got {row!r}.")
        row = int(row)
        if not 0 <= row < space.n:
            raise InputError(f"Row {row} is not in this space (it has {space.n} rows).")
        if not space.indexable[row]:
            raise InputError(
                f"The item {str(space.ids[row])!r} has an all-zero vector: it has no "
                "direction under cosine, so it has no neighbours."
            )
        query, skip = space.vectors[row][None, :], [row]
    else:
        query, skip = np.asarray(vector), []
    rows, scores = index.search(query, k, exclude=[skip] if skip else None, among=among)
    return [_hit(space, r, s) for r, s in zip(rows[0], scores[0], strict=True)]


# --------------------------------------------------------------------------- analogies


@dataclass(frozen=True)
class _Terms:
    """An analogy's terms as resolved: what scoring needs."""

    pos: list[str]
    neg: list[str]
    rows: np.ndarray  # (terms,) int64, positives then negatives
    units: np.ndarray  # (terms, d) float32 unit vectors
    folded: set[str]  # case-folded terms and their ids: never answers
    missing: list[str]


def _analogy_name(positive: Sequence[str], negative: Sequence[str]) -> str:
    parts = [positive[0], *(f"- {t}" for t in negative), *(f"+ {t}" for t in positive[1:])]
    return "(" + " ".join(parts) + ")"


def _resolve_terms(
    space: Space, positive: Sequence[str], negative: Sequence[str], ignore_missing: bool
) -> _Terms:
    """Find the terms in the space (see :func:`analogy` for the errors raised)."""
    if isinstance(positive, str) or isinstance(negative, str):
        raise InputError("Give the positive and negative terms as lists of words.")
    pos = [str(t).strip() for t in positive if str(t).strip()]
    neg = [str(t).strip() for t in negative if str(t).strip()]
    missing = [t for t in pos + neg if space.lookup(t) is None]
    if missing and not ignore_missing:
        raise InputError(
            f"Not in this space: {', '.join(repr(t) for t in missing[:8])}. "
            + _suggest(space, missing)
        )
    pos = [t for t in pos if t not in missing]
    neg = [t for t in neg if t not in missing]
    if not pos:
        raise InputError(
            "An analogy needs at least one positive term in the space "
            "(e.g. positive: king, woman; negative: man)."
        )
    rows = np.asarray([space.lookup(t) for t in pos + neg], dtype=np.int64)
    norms = row_norms(space)
    flat = [t for t, r in zip(pos + neg, rows, strict=True) if norms[r] == 0]
    if flat:
        raise InputError(
            f"{', '.join(repr(t) for t in flat)} has an all-zero vector: no direction, "
            "so it cannot take part in an analogy."
        )
    folded = {t.casefold() for t in pos + neg} | {str(space.ids[r]).casefold() for r in rows}
    units = unit_vectors(space, rows)  # (terms, d); fancy indexing copies
    return _Terms(pos=pos, neg=neg, rows=rows, units=units, folded=folded, missing=missing)


def _scan_scores(space: Space, terms: _Terms, stop: int, method: AnalogyMethod) -> np.ndarray:
    """(stop,) scores of rows [0, stop): -inf for zero rows and the terms' own rows."""
    n_pos = len(terms.pos)
    if method == "3cosadd":
        scores = _cosines(space, stop, cosadd_direction(terms.units, n_pos)[None, :])[:, 0]
    else:
        sims = _cosines(space, stop, terms.units)  # (stop, terms); -inf on zero rows
        dead = ~np.isfinite(sims[:, 0])
        sims[dead] = 0.0
        scores = cosmul_scores(sims.T, n_pos)
        scores[dead] = -np.inf
    scores[terms.rows[terms.rows < stop]] = -np.inf
    return scores


def _best_rows(space: Space, scores: np.ndarray, folded: set[str], k: int) -> list[int]:
    """The k best rows by `scores` whose ids are not one of the query terms."""
    stop = scores.size
    want = k + 4 * len(folded)
    while True:
        top = _top(scores, want)
        hits = [int(r) for r in top if str(space.ids[r]).casefold() not in folded][:k]
        if len(hits) >= k or top.size < min(want, stop):
            return hits  # enough, or no more finite candidates
        if want >= stop:
            return hits
        want *= 4


def _analogy_indexed(
    space: Space, index: VectorIndex, terms: _Terms, k: int, method: AnalogyMethod
) -> list[tuple[int, float]]:
    """Analogy answers from the hnswlib index: (row, score) pairs, best first.

    3CosAdd is a nearest-neighbour query for the direction Σpos − Σneg. 3CosMul
    re-scores exactly the 3CosAdd index's best candidates (its top answers are
    among them in practice), so a query is a graph search, never a scan of every row.
    """
    n_pos = len(terms.pos)
    direction = cosadd_direction(terms.units, n_pos)
    want = k + 4 * len(terms.folded) if method == "3cosadd" else max(10 * k, 100)
    # Analogy targets lie between items, where graph search needs a wider beam.
    ef = max(4 * index.params.ef_search, 2 * want)
    rows, scores = index.search(direction[None, :], want, exclude=terms.rows[None, :], ef=ef)
    rows, scores = rows[0], scores[0]
    if method == "3cosmul":
        sims = np.asarray(space.vectors[rows], dtype=np.float32) @ terms.units.T
        scores = cosmul_scores(sims.T, n_pos)
        order = np.argsort(-scores, kind="stable")
        rows, scores = rows[order], scores[order]
    folded = terms.folded
    keep = [i for i, r in enumerate(rows) if str(space.ids[r]).casefold() not in folded][:k]
    return [(int(rows[i]), float(scores[i])) for i in keep]


def analogy(
    space: Space,
    positive: Sequence[str],
    negative: Sequence[str] = (),
    *,
    k: int = 10,
    method: AnalogyMethod = "3cosadd",
    restrict: int | None = None,
    ignore_missing: bool = False,
    index: VectorIndex | None = None,
) -> AnalogyResult:
    """Solve "a is to b as c is to ?" by vector arithmetic over all rows (exact).

    ``analogy(space, ["king", "woman"], ["man"])`` asks for king - man + woman.

    Methods, on unit vectors x (candidate), p (positives), q (negatives):
        * ``3cosadd``: rank by x·(Σp − Σq); the score is the cosine of x with that
          direction (as gensim's ``most_similar``).
        * ``3cosmul`` (Levy & Goldberg 2014): with s = (1 + cos) / 2 in [0, 1],
          score = Π s(x, p) / (Π s(x, q) + 0.001).

    Terms are found with ``space.lookup`` (exact id, else ignoring case). The query
    terms and every case variant of them are never answers; neither are zero rows.

    Args:
        positive, negative: terms added / subtracted; at least one positive.
        k: number of answers.
        restrict: only the first ``restrict`` rows are candidates (None: all rows).
        ignore_missing: drop unknown terms (listed in ``missing``) instead of raising.
        index: an approximate (hnswlib) index of a cosine space: answers come from a
            graph search instead of a scan of every row (see ``_analogy_indexed``);
            exact scan when None, exact or `restrict` is set.

    Returns:
        AnalogyResult with up to k hits, best first, and the terms' rows. One
        (n, terms) matrix product and a partial sort.

    Raises:
        InputError: unknown terms (with spelling suggestions), no positive term,
            a term with no direction, terms that cancel out, bad k/method/restrict.
    """
    check_method(method)
    if k < 1:
        raise InputError(f"k must be at least 1 (got {k}).")
    if restrict is not None and restrict < 1:
        raise InputError(f"restrict must be a positive number of rows (got {restrict}).")
    terms = _resolve_terms(space, positive, negative, ignore_missing)
    if index is not None and not index.exact and restrict is None and space.metric == "cosine":
        hits = [_hit(space, r, s) for r, s in _analogy_indexed(space, index, terms, k, method)]
    else:
        stop = space.n if restrict is None else min(restrict, space.n)
        scores = _scan_scores(space, terms, stop, method)
        hits = [_hit(space, r, scores[r]) for r in _best_rows(space, scores, terms.folded, k)]
    return AnalogyResult(
        name=_analogy_name(terms.pos, terms.neg),
        hits=hits,
        method=method,
        positive=terms.pos,
        negative=terms.neg,
        term_rows=[int(r) for r in terms.rows],
        missing=terms.missing,
    )


def analogy_layout(space: Space, result: AnalogyResult, n_answers: int = 3) -> AnalogyLayout:
    """Place an analogy's terms and its best answers in 2-D, for a picture of the offsets.

    The positions are a PCA (:func:`explorer.core.linalg.pca`) of just these unit vectors,
    so offsets that are equal in the space (woman − man = queen − king) are equal,
    hence parallel, in the picture. With at least one negative term b, two positive
    terms a, c and an answer, the arrows are b → c (the offset) and a → the first answer.

    Args:
        space: the space the result was computed in.
        result: an :func:`analogy` result.
        n_answers: how many of its best answers to place.

    Raises:
        InputError: a negative `n_answers`.
    """
    if n_answers < 0:
        raise InputError(f"n_answers must be 0 or more (got {n_answers}).")
    n_pos, n_neg = len(result.positive), len(result.negative)
    answers = result.hits[:n_answers]
    n_terms = n_pos + n_neg
    rows = [*result.term_rows[n_pos:], *result.term_rows[:n_pos], *(h.row for h in answers)]
    words = [*result.negative, *result.positive, *(h.text for h in answers)]
    minus: list[AnalogyRole] = ["minus"]
    plus: list[AnalogyRole] = ["plus"]
    answer: list[AnalogyRole] = ["answer"]
    roles = minus * n_neg + plus * n_pos + answer * len(answers)
    arrows: list[tuple[int, int]] = []
    if n_neg and n_pos >= 2 and answers:
        arrows = [(0, n_neg + 1), (n_neg, n_terms)]  # b → c, a → answer
    xy = pca(unit_vectors(space, np.asarray(rows, dtype=np.int64)), 2)
    return AnalogyLayout(words=words, xy=xy, roles=roles, arrows=arrows)
