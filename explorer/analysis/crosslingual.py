"""Cross-lingual alignment: map one language's word vectors onto another's with a rotation.

Two word-vector spaces trained apart have similar shapes but arbitrary orientations
(Mikolov et al. 2013). An orthogonal map R learnt from a few translation pairs
(:func:`explorer.core.linalg.procrustes`) rotates the source space onto the target; a
held-out source word is then translated to the target words nearest to its rotated
vector, and accuracy@k is the share of held-out pairs whose translation is among the k
nearest. Vectors are normalised, centred and normalised again first (Artetxe et al.
2018): centring removes the offset a rotation cannot express.

The built-in example is gensim's English and Italian test vectors (20 words each) with
their 20 Europarl translation pairs.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer.core.errors import InputError
from explorer.core.limits import limits
from explorer.core.linalg import procrustes, unit_rows

__all__ = [
    "Alignment",
    "align_and_translate",
    "align_en_it",
    "gensim_en_it_paths",
    "read_pairs",
    "read_word_vectors",
]

_EN = "EN.1-10.cbow1_wind5_hs0_neg10_size300_smpl1e-05.txt"
_IT = "IT.1-10.cbow1_wind5_hs0_neg10_size300_smpl1e-05.txt"
_PAIRS = "OPUS_en_it_europarl_train_one2ten.txt"


def gensim_en_it_paths() -> tuple[Path, Path, Path]:
    """(English vectors, Italian vectors, translation pairs) shipped in gensim's test data.

    Raises:
        InputError: gensim or its test data is not installed.
    """
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.origin:
        raise InputError("The English–Italian example comes with gensim, which is not installed.")
    data = Path(spec.origin).parent / "test" / "test_data"
    paths = (data / _EN, data / _IT, data / _PAIRS)
    if not all(p.is_file() for p in paths):
        raise InputError("gensim's English–Italian test vectors are missing; reinstall gensim.")
    return paths


def read_word_vectors(path: Path) -> tuple[list[str], np.ndarray]:
    """(words, (n, d) float32) of a word2vec / GloVe / fastText file (bounded reads)."""
    from explorer.ingest.sources import read_source

    loaded = read_source(path)
    if loaded.kind != "words" or loaded.vectors is None:
        raise InputError(f"'{Path(path).name}' is not a word-vector file.")
    return loaded.items["id"].astype(str).tolist(), loaded.vectors


def read_pairs(path: Path) -> list[tuple[str, str]]:
    """Translation pairs, one ``source target`` per line (tab or space separated)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"The pairs file '{p.name}' does not exist or is not a file.")
    if p.stat().st_size > limits().max_file_bytes:
        raise InputError(f"The pairs file '{p.name}' is over this server's file size limit.")
    pairs = []
    for no, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2:
            raise InputError(f"Line {no} of '{p.name}' is not 'source target': {line[:60]!r}.")
        pairs.append((parts[0], parts[1]))
    return pairs


@dataclass(frozen=True)
class Alignment:
    """A learnt rotation and how well it translates held-out pairs.

    Attributes:
        rotation: (d, d) float64 orthogonal R; a source row x maps to x R.
        accuracy_at_1, accuracy_at_5: share of held-out pairs whose target is the
            nearest / among the 5 nearest target words to the mapped source word.
        train_pairs, test_pairs: pairs used to learn R / to score it.
        targets: target words searched (the whole target vocabulary).
        skipped: pairs with a word missing from its space.
        examples: (source, target, the 5 nearest target words) per held-out pair.
        seed: the seed of the train / held-out split.
    """

    rotation: np.ndarray
    accuracy_at_1: float
    accuracy_at_5: float
    train_pairs: int
    test_pairs: int
    targets: int
    skipped: int
    examples: tuple[tuple[str, str, tuple[str, ...]], ...]
    seed: int


def _prepare(vectors: np.ndarray) -> np.ndarray:
    """Unit rows, centred, unit again: what a rotation can map (see the module's notes)."""
    unit = unit_rows(vectors)[0].astype(np.float64)
    return unit_rows(unit - unit.mean(axis=0))[0].astype(np.float64)


def align_and_translate(
    source: tuple[Sequence[str], np.ndarray],
    target: tuple[Sequence[str], np.ndarray],
    pairs: Sequence[tuple[str, str]],
    test_fraction: float = 0.3,
    seed: int = 0,
) -> Alignment:
    """Learn R on a seeded share of `pairs` and score translation of the rest.

    Args:
        source, target: (words, (n, d) vectors) of each language; same d.
        pairs: (source word, target word) translations.
        test_fraction: share of usable pairs held out (at least one).

    Raises:
        InputError: dimensions differ, or fewer than 3 usable pairs.
    """
    (s_words, s_vecs), (t_words, t_vecs) = source, target
    if s_vecs.shape[1] != t_vecs.shape[1]:
        raise InputError(
            f"The spaces have {s_vecs.shape[1]} and {t_vecs.shape[1]} dimensions; a rotation "
            "needs the same number."
        )
    if not 0 < test_fraction < 1:
        raise InputError(f"test_fraction must be between 0 and 1 (got {test_fraction}).")
    s_row = {w: i for i, w in enumerate(s_words)}
    t_row = {w: i for i, w in enumerate(t_words)}
    usable = [(s_row[a], t_row[b]) for a, b in pairs if a in s_row and b in t_row]
    if len(usable) < 3:
        raise InputError(f"Only {len(usable)} pair(s) have both words in their spaces; need 3.")
    order = np.random.default_rng(seed).permutation(len(usable))
    n_test = min(len(usable) - 2, max(1, round(test_fraction * len(usable))))
    test = np.asarray([usable[i] for i in order[:n_test]])
    train = np.asarray([usable[i] for i in order[n_test:]])
    src, tgt = _prepare(s_vecs), _prepare(t_vecs)
    rotation = procrustes(src[train[:, 0]], tgt[train[:, 1]])
    sims = (src[test[:, 0]] @ rotation) @ tgt.T  # cosines: both sides are unit rows
    top = np.argsort(-sims, axis=1, kind="stable")[:, :5]
    hit = top == test[:, 1][:, None]
    examples = tuple(
        (str(s_words[a]), str(t_words[b]), tuple(str(t_words[j]) for j in row))
        for (a, b), row in zip(test, top, strict=True)
    )
    return Alignment(
        rotation=rotation,
        accuracy_at_1=float(hit[:, :1].any(axis=1).mean()),
        accuracy_at_5=float(hit.any(axis=1).mean()),
        train_pairs=len(train),
        test_pairs=len(test),
        targets=len(t_words),
        skipped=len(pairs) - len(usable),
        examples=examples,
        seed=seed,
    )


def align_en_it(
    test_fraction: float = 0.3,
    seed: int = 0,
    paths: tuple[Path, Path, Path] | None = None,
) -> Alignment:
    """English → Italian on gensim's test vectors (or the given (source, target, pairs)
    files): see :func:`align_and_translate`."""
    src_path, tgt_path, pairs_path = paths or gensim_en_it_paths()
    return align_and_translate(
        read_word_vectors(src_path),
        read_word_vectors(tgt_path),
        read_pairs(pairs_path),
        test_fraction=test_fraction,
        seed=seed,
    )
