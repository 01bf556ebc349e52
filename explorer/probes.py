"""Probes of a space: neighbours, word analogies and the classic word-vector benchmarks.

Everything here is exact and read-only. Analogies and the benchmarks work on unit
vectors: a cosine space already stores them; for ``ip`` and ``l2`` spaces the row
norms are computed once per space (kept while the space lives) and scores are
divided by them, so the (n, d) matrix is never copied for a query.

The benchmark readers follow gensim 4 (``KeyedVectors.evaluate_word_analogies`` and
``evaluate_word_pairs``) so that the same vectors give the same numbers.
"""

from __future__ import annotations

import difflib
import math
import os
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

import numpy as np
from scipy import stats

from .errors import InputError
from .index import VectorIndex
from .space import Space

__all__ = [
    "AnalogyEval",
    "AnalogyMethod",
    "AnalogyResult",
    "Hit",
    "SectionScore",
    "SimilarityEval",
    "analogy",
    "evaluate_analogies",
    "evaluate_similarity",
    "neighbours",
]

AnalogyMethod = Literal["3cosadd", "3cosmul"]
_METHODS: tuple[str, ...] = ("3cosadd", "3cosmul")
# Levy & Goldberg (2014) add ε = 0.001 to the denominator of 3CosMul.
COSMUL_EPS = 1e-3
_CHUNK = 65_536  # rows per block when norms are computed
_BATCH = 256  # analogy questions per matrix product (256 × 30k float32 ≈ 30 MB)
_GENSIM_TOPN = 5  # gensim's evaluate_word_analogies looks at the 5 best candidates

PathOrFile = str | os.PathLike[str] | IO[bytes] | IO[str]


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
        missing: terms dropped because they are not in the space (only with
            ``ignore_missing=True``; otherwise unknown terms raise InputError).
    """

    name: str
    hits: list[Hit]
    method: AnalogyMethod
    missing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SectionScore:
    """Analogy accuracy of one section; ``accuracy`` is 0.0 when nothing was answered (gensim)."""

    correct: int
    total: int
    accuracy: float


@dataclass(frozen=True)
class AnalogyEval:
    """Result of :func:`evaluate_analogies`.

    Attributes:
        accuracy: correct / answered over all sections (0..1).
        sections: per-section scores in file order (gensim's "Total accuracy" is not one).
        oov: questions skipped because a word is not among the first ``restrict_vocab`` rows.
        questions: well-formed questions read (answered + oov).
        correct, answered: totals behind ``accuracy``.
        invalid_lines: non-blank lines that were neither a header nor four words (skipped,
            as gensim does).
    """

    accuracy: float
    sections: dict[str, SectionScore]
    oov: int
    questions: int
    correct: int
    answered: int
    method: AnalogyMethod
    restrict_vocab: int
    invalid_lines: int = 0


@dataclass(frozen=True)
class SimilarityEval:
    """Result of :func:`evaluate_similarity`: rank correlation of cosine with human scores."""

    spearman: float
    pearson: float
    pairs_used: int
    pairs_oov: int
    invalid_lines: int = 0


# --------------------------------------------------------------------------- helpers

_NORMS: weakref.WeakKeyDictionary[Space, np.ndarray] = weakref.WeakKeyDictionary()


def _row_norms(space: Space) -> np.ndarray:
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


def _unit(space: Space, rows: np.ndarray) -> np.ndarray:
    """(len(rows), d) float32 unit vectors of `rows` (a copy; zero rows stay zero)."""
    vecs = np.asarray(space.vectors[rows], dtype=np.float32)
    if space.metric == "cosine":
        return vecs.copy()
    norms = _row_norms(space)[rows]
    return np.divide(vecs, norms[:, None], out=np.zeros_like(vecs), where=norms[:, None] > 0)


def _cosines(space: Space, stop: int, queries: np.ndarray) -> np.ndarray:
    """Cosine of rows [0, stop) with unit `queries` (q, d): (stop, q) float32.

    Rows with no direction score -inf. One matrix product over a view of the
    stored matrix; for non-cosine spaces the cached norms divide the result.
    """
    sims = space.vectors[:stop] @ queries.T
    norms = _row_norms(space)[:stop]
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
        row=int(row), id=str(space.ids[row]), text=str(space.labels[row]), score=float(score)
    )


def _read_text(path: PathOrFile, what: str) -> tuple[str, str]:
    """Return (text, display name) of a path or an open file (bytes or str)."""
    if hasattr(path, "read"):
        name = str(getattr(path, "name", what))
        data = path.read()  # type: ignore[union-attr]
    else:
        name = os.fspath(path)  # type: ignore[arg-type]
        p = Path(name)
        if not p.is_file():
            raise InputError(f"The {what} file {name!r} does not exist or is not a file.")
        data = p.read_bytes()
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"The {what} file {name!r} is not UTF-8 text ({exc.reason} at byte "
                f"{exc.start}). Save it as UTF-8 and try again."
            ) from None
    if not data.strip():
        raise InputError(f"The {what} file {name!r} is empty.")
    return data, name


def _lines(text: str) -> list[str]:
    """Split on newlines only (as gensim reading the file), dropping a trailing CR."""
    return [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]


def _vocab(space: Space, restrict: int, case_insensitive: bool) -> dict[str, int]:
    """gensim's ``ok_vocab``: key (upper-cased if asked) → row, first row wins."""
    out: dict[str, int] = {}
    ids = space.ids[:restrict]
    if case_insensitive:
        for r, key in enumerate(ids):
            out.setdefault(str(key).upper(), r)
    else:
        for r, key in enumerate(ids):
            out.setdefault(str(key), r)
    return out


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


# --------------------------------------------------------------------------- neighbours


def neighbours(
    space: Space,
    index: VectorIndex,
    *,
    row: int | None = None,
    vector: np.ndarray | None = None,
    k: int = 10,
) -> list[Hit]:
    """The k nearest items to a row of the space or to a query vector, best first.

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
        rows, scores = index.search(space.vectors[row][None, :], k, exclude=[[row]])
    else:
        rows, scores = index.search(np.asarray(vector), k)
    return [_hit(space, r, s) for r, s in zip(rows[0], scores[0], strict=True)]


# --------------------------------------------------------------------------- analogies


def _analogy_name(positive: Sequence[str], negative: Sequence[str]) -> str:
    parts = [positive[0], *(f"- {t}" for t in negative), *(f"+ {t}" for t in positive[1:])]
    return "(" + " ".join(parts) + ")"


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
        index: an approximate (hnswlib) index of a cosine space: answers come from it
            in about a millisecond instead of a scan of every row (see
            ``_analogy_indexed``); exact scan when None, exact or `restrict` is set.

    Returns:
        AnalogyResult with up to k hits, best first. One (n, terms) matrix product
        and a partial sort: milliseconds on 400k × 50.

    Raises:
        InputError: unknown terms (with spelling suggestions), no positive term,
            a term with no direction, terms that cancel out, bad k/method/restrict.
    """
    if method not in _METHODS:
        raise InputError(f"Unknown analogy method {method!r}; choose 3cosadd or 3cosmul.")
    if isinstance(positive, str) or isinstance(negative, str):
        raise InputError("Give the positive and negative terms as lists of words.")
    if k < 1:
        raise InputError(f"k must be at least 1 (got {k}).")
    if restrict is not None and restrict < 1:
        raise InputError(f"restrict must be a positive number of rows (got {restrict}).")
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
    term_rows = np.asarray([space.lookup(t) for t in pos + neg], dtype=np.int64)
    norms = _row_norms(space)
    flat = [t for t, r in zip(pos + neg, term_rows, strict=True) if norms[r] == 0]
    if flat:
        raise InputError(
            f"{', '.join(repr(t) for t in flat)} has an all-zero vector: no direction, "
            "so it cannot take part in an analogy."
        )
    units = _unit(space, term_rows)
    folded = {t.casefold() for t in pos + neg} | {str(space.ids[r]).casefold() for r in term_rows}
    if index is not None and not index.exact and restrict is None and space.metric == "cosine":
        hits_scores = _analogy_indexed(space, index, units, len(pos), term_rows, folded, k, method)
        return AnalogyResult(
            name=_analogy_name(pos, neg),
            hits=[_hit(space, r, sc) for r, sc in hits_scores],
            method=method,
            missing=missing,
        )
    stop = space.n if restrict is None else min(restrict, space.n)
    if method == "3cosadd":
        target = units[: len(pos)].sum(0) - units[len(pos) :].sum(0)
        size = float(np.linalg.norm(target))
        if size < 1e-6:
            raise InputError("The terms cancel out: the analogy has no direction.")
        scores = _cosines(space, stop, (target / size)[None, :].astype(np.float32))[:, 0]
    else:
        sims = _cosines(space, stop, units)  # (stop, terms); -inf on zero rows
        dead = ~np.isfinite(sims[:, 0])
        sims[dead] = 0.0
        shifted = (1.0 + sims) / 2.0
        num = shifted[:, : len(pos)].prod(1)
        den = shifted[:, len(pos) :].prod(1) if neg else np.ones_like(num)
        scores = num / (den + COSMUL_EPS)
        scores[dead] = -np.inf
    scores[term_rows[term_rows < stop]] = -np.inf
    want = k + 4 * len(folded)
    while True:
        top = _top(scores, want)
        hits = [r for r in top if str(space.ids[r]).casefold() not in folded][:k]
        if len(hits) >= k or top.size < min(want, stop):
            break  # enough, or no more finite candidates
        if want >= stop:
            break
        want *= 4
    return AnalogyResult(
        name=_analogy_name(pos, neg),
        hits=[_hit(space, r, scores[r]) for r in hits],
        method=method,
        missing=missing,
    )


def _analogy_indexed(
    space: Space,
    index: VectorIndex,
    units: np.ndarray,
    n_pos: int,
    term_rows: np.ndarray,
    folded: set[str],
    k: int,
    method: AnalogyMethod,
) -> list[tuple[int, float]]:
    """Analogy answers from the hnswlib index: (row, score) pairs, best first.

    3CosAdd is a nearest-neighbour query for the direction Σpos − Σneg. 3CosMul
    re-scores exactly the 3CosAdd index's best candidates (its top answers are
    among them in practice), so a query costs milliseconds at any size.
    """
    target = units[:n_pos].sum(0) - units[n_pos:].sum(0)
    size = float(np.linalg.norm(target))
    if size < 1e-6:
        raise InputError("The terms cancel out: the analogy has no direction.")
    want = k + 4 * len(folded) if method == "3cosadd" else max(10 * k, 100)
    # Analogy targets lie between items, where graph search needs a wider beam.
    ef = max(4 * index.params.ef_search, 2 * want)
    rows, scores = index.search((target / size)[None, :], want, exclude=term_rows[None, :], ef=ef)
    rows, scores = rows[0], scores[0]
    if method == "3cosmul":
        sims = np.asarray(space.vectors[rows], dtype=np.float32) @ units.T
        shifted = (1.0 + sims) / 2.0
        num = shifted[:, :n_pos].prod(1)
        den = shifted[:, n_pos:].prod(1) if units.shape[0] > n_pos else np.ones_like(num)
        scores = num / (den + COSMUL_EPS)
        order = np.argsort(-scores, kind="stable")
        rows, scores = rows[order], scores[order]
    keep = [i for i, r in enumerate(rows) if str(space.ids[r]).casefold() not in folded][:k]
    return [(int(rows[i]), float(scores[i])) for i in keep]


def evaluate_analogies(
    space: Space,
    path: PathOrFile,
    *,
    restrict_vocab: int = 300_000,
    case_insensitive: bool = True,
    method: AnalogyMethod = "3cosadd",
) -> AnalogyEval:
    """Accuracy on an analogy test set (e.g. Google's questions-words.txt).

    Follows gensim's ``KeyedVectors.evaluate_word_analogies`` exactly:

    * the vocabulary is the first ``restrict_vocab`` rows (frequency order);
      with ``case_insensitive`` keys are ``.upper()``-ed, the first row wins;
    * ``: name`` lines start sections; other lines must hold 4 words (else skipped);
      a question with any word outside the vocabulary is skipped (``oov``);
    * the answer to ``a b c d`` is the best row x of the vocabulary by
      x·(b + c − a) on unit vectors, the 3 input rows excluded; of the 5 best, the
      first whose key is not one of the inputs is the prediction (case variants of
      inputs are thus skipped too). ``3cosmul`` ranks by
      s(x,b)·s(x,c) / (s(x,a) + 0.001) with s = (1 + cos) / 2 instead.

    Questions are batched into (batch, d) @ (d, restrict_vocab) products, so the
    19,544 Google questions over 30,000 × 50 take 1–2 s (3cosmul ~3×). Rows with no
    direction (all zero) count as out of vocabulary.

    Raises:
        InputError: missing/empty/non-UTF-8 file, questions before any ``: section``
            header, no sections, no well-formed question, no answerable question.
    """
    if method not in _METHODS:
        raise InputError(f"Unknown analogy method {method!r}; choose 3cosadd or 3cosmul.")
    if restrict_vocab < 1:
        raise InputError(f"restrict_vocab must be at least 1 (got {restrict_vocab}).")
    text, name = _read_text(path, "analogy")
    stop = min(restrict_vocab, space.n)
    vocab = _vocab(space, stop, case_insensitive)
    norms = _row_norms(space)

    names: list[str] = []
    q_sec: list[int] = []
    q_rows: list[tuple[int, int, int]] = []
    q_keys: list[tuple[str, str, str, str]] = []
    oov = questions = invalid = 0
    for line_no, line in enumerate(_lines(text), start=1):
        if line.startswith(": "):
            names.append(line.lstrip(": ").strip())
            continue
        if not names:
            if not line.strip():
                continue
            raise InputError(
                f"Line {line_no} of {name!r} comes before any section header. An analogy "
                "file has sections that start with ': name', followed by lines of four "
                "words such as 'Athens Greece Baghdad Iraq'."
            )
        words = line.split()
        if len(words) != 4:
            invalid += bool(words)  # blank lines are not counted
            continue
        if case_insensitive:
            words = [w.upper() for w in words]
        questions += 1
        rows = [vocab.get(w) for w in words]
        if any(r is None or norms[r] == 0 for r in rows):
            oov += 1
            continue
        q_sec.append(len(names) - 1)
        q_rows.append((rows[0], rows[1], rows[2]))  # type: ignore[arg-type]
        q_keys.append((words[0], words[1], words[2], words[3]))
    if not names:
        raise InputError(
            f"{name!r} has no sections: an analogy file has lines ': name' followed by "
            "questions of four words (a b c d: a is to b as c is to d)."
        )
    if questions == 0:
        raise InputError(
            f"{name!r} holds no well-formed question ({invalid} line(s) skipped): each "
            "line after a ': section' header must hold exactly four words."
        )
    if not q_rows:
        raise InputError(
            f"None of the {questions} questions in {name!r} can be answered: each has a "
            f"word outside the first {stop:,} rows of this space. Raise restrict_vocab "
            "or use a file in the language of the space."
        )

    ids = space.ids
    unit = _unit(space, np.arange(stop))  # (stop, d) float32; zero rows stay zero
    dead = np.flatnonzero(norms[:stop] == 0)
    abc = np.asarray(q_rows, dtype=np.int64)
    correct_q = np.zeros(len(q_rows), dtype=bool)
    topn = min(_GENSIM_TOPN, stop - 1)
    for s in range(0, len(q_rows), _BATCH):
        batch = abc[s : s + _BATCH]
        va, vb, vc = unit[batch[:, 0]], unit[batch[:, 1]], unit[batch[:, 2]]
        if method == "3cosadd":
            scores = (vb + vc - va) @ unit.T
        else:
            # s = (1 + cos) / 2, in place to spare (batch, vocab) temporaries
            den = va @ unit.T
            den += 1.0
            den *= 0.5
            den += COSMUL_EPS
            scores = vb @ unit.T
            scores += 1.0
            sc = vc @ unit.T
            sc += 1.0
            scores *= sc
            scores *= 0.25
            scores /= den
            del den, sc
        scores[:, dead] = -np.inf
        np.put_along_axis(scores, batch, -np.inf, axis=1)
        if topn < 1:
            continue
        # topn rounds of argmax beat argpartition on wide rows (best first, ties by row).
        best = np.empty((batch.shape[0], topn), dtype=np.int64)
        at = np.arange(batch.shape[0])
        for j in range(topn):
            best[:, j] = scores.argmax(1)
            scores[at, best[:, j]] = -np.inf
        for i, cands in enumerate(best):
            a, b, c, expected = q_keys[s + i]
            ignore = {a, b, c}
            predicted = None
            for r in cands:
                predicted = str(ids[r]).upper() if case_insensitive else str(ids[r])
                if predicted not in ignore:
                    break
            correct_q[s + i] = predicted == expected

    sec = np.asarray(q_sec, dtype=np.int64)
    sections: dict[str, SectionScore] = {}
    for j, nm in enumerate(names):
        mask = sec == j
        c, t = int(correct_q[mask].sum()), int(mask.sum())
        if nm in sections:  # a repeated header continues its section
            c, t = c + sections[nm].correct, t + sections[nm].total
        sections[nm] = SectionScore(correct=c, total=t, accuracy=c / t if t else 0.0)
    answered = len(q_rows)
    n_correct = int(correct_q.sum())
    return AnalogyEval(
        accuracy=n_correct / answered,
        sections=sections,
        oov=oov,
        questions=questions,
        correct=n_correct,
        answered=answered,
        method=method,
        restrict_vocab=stop,
        invalid_lines=invalid,
    )


# --------------------------------------------------------------------------- word pairs


def evaluate_similarity(
    space: Space,
    path: PathOrFile,
    *,
    case_insensitive: bool = True,
    restrict_vocab: int | None = None,
    delimiter: str = "\t",
) -> SimilarityEval:
    """Spearman correlation of cosine similarity with human scores (WordSim353, SimLex-999).

    Follows gensim's ``KeyedVectors.evaluate_word_pairs``: lines starting with ``#``
    are comments; other lines are ``word1<TAB>word2<TAB>score`` (others are skipped);
    with ``case_insensitive`` words are ``.upper()``-ed and the first row of each
    key wins; a pair with a word outside the first ``restrict_vocab`` rows (None:
    all rows) is skipped and counted in ``pairs_oov``. If no line has a tab, any
    whitespace separates the fields. Rows with no direction count as unknown.

    Raises:
        InputError: missing/empty/non-UTF-8 file, no well-formed line, fewer than
            two pairs in the vocabulary.
    """
    if restrict_vocab is not None and restrict_vocab < 1:
        raise InputError(f"restrict_vocab must be at least 1 (got {restrict_vocab}).")
    text, name = _read_text(path, "word-pair")
    stop = space.n if restrict_vocab is None else min(restrict_vocab, space.n)
    vocab = _vocab(space, stop, case_insensitive)
    norms = _row_norms(space)
    lines = _lines(text)
    sep: str | None = delimiter
    if delimiter == "\t" and not any("\t" in ln for ln in lines):
        sep = None

    gold: list[float] = []
    pairs: list[tuple[int, int]] = []
    oov = invalid = 0
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(sep)
        if len(parts) != 3:
            invalid += 1
            continue
        try:
            score = float(parts[2])
        except ValueError:
            invalid += 1
            continue
        a, b = parts[0], parts[1]
        if case_insensitive:
            a, b = a.upper(), b.upper()
        ra, rb = vocab.get(a), vocab.get(b)
        if ra is None or rb is None or norms[ra] == 0 or norms[rb] == 0:
            oov += 1
            continue
        gold.append(score)
        pairs.append((ra, rb))
    if not gold and not oov:
        raise InputError(
            f"{name!r} holds no word pairs ({invalid} line(s) skipped): each line must be "
            "'word1<TAB>word2<TAB>score'; lines starting with '#' are comments."
        )
    if len(gold) < 2:
        raise InputError(
            f"Only {len(gold)} of the {len(gold) + oov} pairs in {name!r} have both words in "
            f"the first {stop:,} rows of this space; a correlation needs at least two."
        )
    idx = np.asarray(pairs, dtype=np.int64)
    ua, ub = _unit(space, idx[:, 0]), _unit(space, idx[:, 1])
    model = np.einsum("ij,ij->i", ua, ub)
    human = np.asarray(gold, dtype=np.float64)
    spearman = float(stats.spearmanr(human, model).statistic)
    if np.ptp(model) == 0 or np.ptp(human) == 0:
        pearson = math.nan
    else:
        pearson = float(stats.pearsonr(human, model).statistic)
    return SimilarityEval(
        spearman=spearman,
        pearson=pearson,
        pairs_used=len(gold),
        pairs_oov=oov,
        invalid_lines=invalid,
    )
