"""The classic word-vector benchmarks: analogy test sets and word-pair similarity.

The readers follow gensim 4 (``KeyedVectors.evaluate_word_analogies`` and
``evaluate_word_pairs``) so that the same vectors give the same numbers. An analogy
file is read in three steps: parsing (text → sections and questions), batch scoring
(questions → correct or not, with the formulas of :mod:`explorer.analysis.probes`) and
aggregation (flags → :class:`AnalogyEval`).
"""

from __future__ import annotations

import importlib.util
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
from scipy import stats

from explorer.analysis.probes import (
    AnalogyMethod,
    check_method,
    cosadd_target,
    cosmul_scores,
    row_norms,
    unit_vectors,
)
from explorer.core.errors import InputError
from explorer.core.space import Space

__all__ = [
    "AnalogyEval",
    "PathOrFile",
    "SectionScore",
    "SimilarityEval",
    "evaluate_analogies",
    "evaluate_similarity",
    "google_analogies_path",
]

_BATCH = 256  # analogy questions per matrix product (256 × 30k float32 ≈ 30 MB)
_GENSIM_TOPN = 5  # gensim's evaluate_word_analogies looks at the 5 best candidates

PathOrFile = str | os.PathLike[str] | IO[bytes] | IO[str]


# --------------------------------------------------------------------------- records


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


# --------------------------------------------------------------------------- files


def google_analogies_path() -> Path:
    """Google's analogy set (questions-words.txt, 19,544 questions) as shipped with gensim.

    Found without importing gensim.

    Raises:
        InputError: gensim is not installed or its copy of the file is missing.
    """
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.origin:
        raise InputError(
            "Google's analogy set comes with gensim, which is not installed here. "
            "Install gensim, or upload an analogy file."
        )
    path = Path(spec.origin).parent / "test" / "test_data" / "questions-words.txt"
    if not path.is_file():
        raise InputError(
            f"gensim's copy of Google's analogy set is missing ({path}). "
            "Reinstall gensim, or upload an analogy file."
        )
    return path


def _read_text(path: PathOrFile, what: str) -> tuple[str, str]:
    """Return (text, display name) of a path or an open file (bytes or str).

    A file object with ``getvalue()`` (``io.BytesIO``, ``io.StringIO``, Streamlit's
    ``UploadedFile``) is read whole wherever its position is; others are ``read()``.
    """
    if hasattr(path, "read"):
        name = str(getattr(path, "name", what))
        getvalue = getattr(path, "getvalue", None)
        data = getvalue() if callable(getvalue) else path.read()  # type: ignore[union-attr]
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


# --------------------------------------------------------------------------- analogies

Question = tuple[str, str, str, str]  # a b c d: a is to b as c is to d


@dataclass(frozen=True)
class _AnalogyFile:
    """A parsed analogy file: section headers in file order (repeats kept) and questions."""

    sections: list[str]
    questions: list[tuple[int, Question]]  # (index into sections, words as compared)
    invalid: int  # non-blank lines that are neither a header nor four words


@dataclass(frozen=True)
class _Answerable:
    """The questions whose four words are in the vocabulary."""

    section_of: np.ndarray  # (q,) int64 index into the file's sections
    rows: np.ndarray  # (q, 3) int64 rows of b, c (positive) and a (negative)
    keys: list[Question]
    oov: int


def _parse_analogies(text: str, name: str, case_insensitive: bool) -> _AnalogyFile:
    """Sections and four-word questions of an analogy file (upper-cased if asked)."""
    sections: list[str] = []
    questions: list[tuple[int, Question]] = []
    invalid = 0
    for line_no, line in enumerate(_lines(text), start=1):
        if line.startswith(": "):
            sections.append(line.lstrip(": ").strip())
            continue
        if not sections:
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
        questions.append((len(sections) - 1, (words[0], words[1], words[2], words[3])))
    if not sections:
        raise InputError(
            f"{name!r} has no sections: an analogy file has lines ': name' followed by "
            "questions of four words (a b c d: a is to b as c is to d)."
        )
    if not questions:
        raise InputError(
            f"{name!r} holds no well-formed question ({invalid} line(s) skipped): each "
            "line after a ': section' header must hold exactly four words."
        )
    return _AnalogyFile(sections=sections, questions=questions, invalid=invalid)


def _answerable(
    parsed: _AnalogyFile, vocab: dict[str, int], norms: np.ndarray, name: str, stop: int
) -> _Answerable:
    """Keep the questions whose words all have a row with a direction in `vocab`."""
    section_of: list[int] = []
    rows: list[tuple[int, int, int]] = []
    keys: list[Question] = []
    for sec, words in parsed.questions:
        found = [vocab.get(w) for w in words]
        if any(r is None or norms[r] == 0 for r in found):
            continue
        a, b, c, _ = found
        section_of.append(sec)
        rows.append((b, c, a))  # type: ignore[arg-type]
        keys.append(words)
    if not rows:
        raise InputError(
            f"None of the {len(parsed.questions)} questions in {name!r} can be answered: "
            f"each has a word outside the first {stop:,} rows of this space. Raise "
            "restrict_vocab or use a file in the language of the space."
        )
    return _Answerable(
        section_of=np.asarray(section_of, dtype=np.int64),
        rows=np.asarray(rows, dtype=np.int64),
        keys=keys,
        oov=len(parsed.questions) - len(rows),
    )


def _best_candidates(
    unit: np.ndarray, dead: np.ndarray, batch: np.ndarray, method: AnalogyMethod, topn: int
) -> np.ndarray:
    """(batch, topn) best rows of `unit` for questions with term rows `batch` (b, c, a)."""
    if method == "3cosadd":
        scores = cosadd_target(unit[batch], 2) @ unit.T
    else:
        # one (3, batch, vocab) block, scored in place: no further temporaries
        sims = np.empty((3, batch.shape[0], unit.shape[0]), dtype=np.float32)
        for t in range(3):
            np.matmul(unit[batch[:, t]], unit.T, out=sims[t])
        scores = cosmul_scores(sims, 2)
    scores[:, dead] = -np.inf
    np.put_along_axis(scores, batch, -np.inf, axis=1)
    # topn rounds of argmax beat argpartition on wide rows (best first, ties by row).
    best = np.empty((batch.shape[0], topn), dtype=np.int64)
    at = np.arange(batch.shape[0])
    for j in range(topn):
        best[:, j] = scores.argmax(1)
        scores[at, best[:, j]] = -np.inf
    return best


def _score_questions(
    space: Space, stop: int, qs: _Answerable, method: AnalogyMethod, case_insensitive: bool
) -> np.ndarray:
    """(q,) bool: whether gensim's rule predicts each question's fourth word."""
    correct = np.zeros(len(qs.keys), dtype=bool)
    topn = min(_GENSIM_TOPN, stop - 1)
    if topn < 1:
        return correct
    unit = unit_vectors(space, slice(0, stop))  # (stop, d) float32; zero rows stay zero
    dead = np.flatnonzero(row_norms(space)[:stop] == 0)
    ids = space.ids
    for s in range(0, len(qs.keys), _BATCH):
        best = _best_candidates(unit, dead, qs.rows[s : s + _BATCH], method, topn)
        for i, cands in enumerate(best):
            a, b, c, expected = qs.keys[s + i]
            ignore = {a, b, c}
            predicted = None
            for r in cands:
                predicted = str(ids[r]).upper() if case_insensitive else str(ids[r])
                if predicted not in ignore:
                    break
            correct[s + i] = predicted == expected
    return correct


def _aggregate(
    parsed: _AnalogyFile,
    qs: _Answerable,
    correct: np.ndarray,
    method: AnalogyMethod,
    stop: int,
) -> AnalogyEval:
    """Per-section and total accuracy from the per-question flags."""
    sections: dict[str, SectionScore] = {}
    for j, nm in enumerate(parsed.sections):
        mask = qs.section_of == j
        c, t = int(correct[mask].sum()), int(mask.sum())
        if nm in sections:  # a repeated header continues its section
            c, t = c + sections[nm].correct, t + sections[nm].total
        sections[nm] = SectionScore(correct=c, total=t, accuracy=c / t if t else 0.0)
    answered = len(qs.keys)
    n_correct = int(correct.sum())
    return AnalogyEval(
        accuracy=n_correct / answered,
        sections=sections,
        oov=qs.oov,
        questions=len(parsed.questions),
        correct=n_correct,
        answered=answered,
        method=method,
        restrict_vocab=stop,
        invalid_lines=parsed.invalid,
    )


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

    Questions are batched into (batch, d) @ (d, restrict_vocab) products rather than
    asked one at a time (docs/design-figures.md has the timing). Rows with no
    direction (all zero) count as out of vocabulary.

    Args:
        path: a file path, or an open file (bytes or text), e.g. an uploaded file.

    Raises:
        InputError: missing/empty/non-UTF-8 file, questions before any ``: section``
            header, no sections, no well-formed question, no answerable question.
    """
    check_method(method)
    if restrict_vocab < 1:
        raise InputError(f"restrict_vocab must be at least 1 (got {restrict_vocab}).")
    text, name = _read_text(path, "analogy")
    stop = min(restrict_vocab, space.n)
    parsed = _parse_analogies(text, name, case_insensitive)
    vocab = _vocab(space, stop, case_insensitive)
    qs = _answerable(parsed, vocab, row_norms(space), name, stop)
    correct = _score_questions(space, stop, qs, method, case_insensitive)
    return _aggregate(parsed, qs, correct, method, stop)


# --------------------------------------------------------------------------- word pairs


def _parse_pairs(
    text: str, vocab: dict[str, int], norms: np.ndarray, case_insensitive: bool, delimiter: str
) -> tuple[list[float], list[tuple[int, int]], int, int]:
    """(human scores, row pairs, pairs out of vocabulary, invalid lines) of a word-pair file."""
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
    return gold, pairs, oov, invalid


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
    gold, pairs, oov, invalid = _parse_pairs(
        text, vocab, row_norms(space), case_insensitive, delimiter
    )
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
    model = np.einsum("ij,ij->i", unit_vectors(space, idx[:, 0]), unit_vectors(space, idx[:, 1]))
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
