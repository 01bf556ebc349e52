"""Zero-shot labels: each item gets the category whose embedding is nearest.

The user names the categories (``animal, food, plant``), optionally with a description
to embed instead of the name (``noun.animal=an animal``). A space with a model embeds
them with that model (a CLIP-like model embeds them with its text side, the side that
``explorer.ingest.embed.embed_texts`` uses); a space of word vectors without a model looks
them up as words (several words: their mean). Confidence is the margin between the
best and the second-best category's score. With a truth column the labels are scored
as a classifier: accuracy, macro-F1 and the confusion matrix, beside the accuracy of
always answering the most common class and of answering at random.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.core.errors import InputError
from explorer.core.linalg import unit_rows
from explorer.core.progress import Progress
from explorer.core.space import Space
from explorer.ingest.embed import embed_texts

__all__ = [
    "MAX_LABELS",
    "Label",
    "ZeroShot",
    "ZeroShotEval",
    "evaluate_zero_shot",
    "label_vectors",
    "match_truth",
    "parse_labels",
    "phrase_vectors",
    "truth_column",
    "zero_shot",
    "zero_shot_job",
]


MAX_LABELS = 200  # categories one request may name
_MAX_LABEL_CHARS = 500
_WORD = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")
_ROWS_PER_BLOCK = 65_536  # items scored per matrix product (64k × 200 float32 ≈ 50 MB)


@dataclass(frozen=True)
class Label:
    """A category: `name` is what items are labelled with (and compared with a truth
    column), `description` is the text that is embedded (the name unless given)."""

    name: str
    description: str


def parse_labels(spec: str | Sequence[str]) -> tuple[Label, ...]:
    """Categories from ``"a, b, c"`` (or one per line), each ``name`` or ``name=description``.

    Raises:
        InputError: fewer than two categories, a repeated name, an empty part, too many.
    """
    if isinstance(spec, str):
        parts = spec.splitlines() if "\n" in spec.strip() else spec.split(",")
    else:
        parts = list(spec)
    labels: list[Label] = []
    for part in (str(p).strip() for p in parts):
        if not part:
            continue
        name, sep, desc = part.partition("=")
        name, desc = name.strip(), (desc.strip() if sep else name.strip())
        if not name or not desc:
            raise InputError(f"{part!r} has an empty name or description: write name=description.")
        if len(desc) > _MAX_LABEL_CHARS:
            raise InputError(f"The description of {name!r} is over {_MAX_LABEL_CHARS} characters.")
        labels.append(Label(name, desc))
    names = [lab.name.casefold() for lab in labels]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"Each category once, please: {', '.join(map(repr, repeated))} repeats.")
    if len(labels) < 2:
        raise InputError("Give at least two categories, separated by commas or one per line.")
    if len(labels) > MAX_LABELS:
        raise InputError(f"At most {MAX_LABELS} categories at once (got {len(labels)}).")
    return tuple(labels)


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def _word_rows(space: Space, text: str, stop: frozenset[str]) -> list[int]:
    """Rows of `text` as one item, else of its words (stop words left out when others remain)."""
    row = space.lookup(text.strip())
    if row is not None:
        return [row]
    words = _WORD.findall(text)
    content = [w for w in words if w.casefold() not in stop] or words
    return [r for w in content if (r := space.lookup(w)) is not None]


def phrase_vectors(
    space: Space, texts: Sequence[str], *, use_cache: bool = False
) -> tuple[np.ndarray, np.ndarray, str]:
    """Texts as (m, d) float32 query vectors in the space's own terms.

    With a model the texts are embedded by it. Without one each text is looked up as an
    item, else as the mean vector of its words that are items (stop words left out):
    a bag-of-words reading, the usual baseline for word vectors.

    Returns:
        (vectors (m, d) float32, found (m,) bool: False where no word of the text is an
        item and its row is zeros, how the vectors were made).
    """
    if not texts:
        raise InputError("No texts to turn into vectors.")
    if space.model:
        enc = embed_texts([str(t) for t in texts], space.model, use_cache=use_cache)
        return enc.vectors, np.ones(len(texts), dtype=bool), f"embedded with {space.model}"
    stop = _stop_words()
    out = np.zeros((len(texts), space.dim), dtype=np.float32)
    found = np.zeros(len(texts), dtype=bool)
    for i, text in enumerate(texts):
        rows = _word_rows(space, str(text), stop)
        if rows:
            out[i] = np.asarray(space.vectors[rows], dtype=np.float32).mean(axis=0)
            found[i] = bool(np.any(out[i]))
    return out, found, "looked up as items of this space (several words: their mean)"


def label_vectors(space: Space, labels: Sequence[Label]) -> tuple[np.ndarray, str]:
    """(k, d) float32 vectors of the labels' descriptions, and how they were made.

    Raises:
        InputError: a description has no model to embed it and no word that is an item.
    """
    vecs, found, how = phrase_vectors(space, [lab.description for lab in labels])
    if not found.all():
        missing = [lab.description for lab, ok in zip(labels, found, strict=True) if not ok]
        raise InputError(
            f"No word of {', '.join(map(repr, missing[:8]))} is an item of this space, and "
            "the space has no model to embed new text. Use words that are items here."
        )
    return vecs, how


@dataclass(frozen=True)
class ZeroShot:
    """Zero-shot labels of every item of a space.

    Attributes:
        labels: the categories, in the order given.
        predicted: (n,) int32 index into `labels` of each item's nearest category.
        score: (n,) float32 the item's score for that category: cosine, dot product or
            minus the Euclidean distance, as the space's metric (higher is closer).
        margin: (n,) float32 best minus second-best score (the confidence); 0 is a tie.
        how: how the category vectors were made.
    """

    labels: tuple[Label, ...]
    predicted: np.ndarray
    score: np.ndarray
    margin: np.ndarray
    how: str

    @property
    def names(self) -> np.ndarray:
        """(n,) object array: each item's category name."""
        names = np.asarray([lab.name for lab in self.labels], dtype=object)
        return np.asarray(names[self.predicted])

    def closest(self, name: str, k: int, rows: int | None = None) -> np.ndarray:
        """Up to `k` rows (among the first `rows`) labelled `name`, closest to it first."""
        members = np.flatnonzero(self.names[:rows] == name)
        return np.asarray(members[np.argsort(-self.score[members], kind="stable")[: max(0, k)]])

    def counts(self, rows: int | None = None) -> pd.Series:
        """Items per category (among the first `rows`), in the categories' order."""
        names = pd.Series(self.names[:rows], dtype=object)
        order = [lab.name for lab in self.labels]
        return names.value_counts().reindex(order, fill_value=0).rename("items")


def _scores(space: Space, block: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """(b, k) similarities of a block of item vectors to the category vectors."""
    dots = np.asarray(block @ centres.T)
    if space.metric != "l2":
        return dots
    sq = (block**2).sum(1)[:, None] - 2 * dots + (centres**2).sum(1)[None, :]
    return np.asarray(-np.sqrt(np.maximum(sq, 0.0)))


def zero_shot(
    space: Space, labels: str | Sequence[str] | Sequence[Label], progress: Progress | None = None
) -> ZeroShot:
    """Label every item of `space` with its nearest category (see the module's notes).

    Args:
        labels: categories as :func:`parse_labels` reads them, or Label records.
    """
    parsed = _as_labels(labels)
    if progress:
        progress(0.05, f"Making vectors for {len(parsed)} categories")
    centres, how = label_vectors(space, parsed)
    if space.metric == "cosine":
        centres = unit_rows(centres)[0]
    predicted = np.empty(space.n, dtype=np.int32)
    score = np.zeros(space.n, dtype=np.float32)
    margin = np.zeros(space.n, dtype=np.float32)
    for start in range(0, space.n, _ROWS_PER_BLOCK):
        s = _scores(space, np.asarray(space.vectors[start : start + _ROWS_PER_BLOCK]), centres)
        top2 = -np.partition(-s, 1, axis=1)[:, :2]
        predicted[start : start + len(s)] = s.argmax(axis=1)
        score[start : start + len(s)] = top2.max(axis=1)
        margin[start : start + len(s)] = np.abs(top2[:, 0] - top2[:, 1])
        if progress:
            done = min(space.n, start + len(s))
            progress(0.1 + 0.9 * done / space.n, f"Labelled {done:,} of {space.n:,} items")
    return ZeroShot(parsed, predicted, score, margin, how)


def _as_labels(labels: str | Sequence[str] | Sequence[Label]) -> tuple[Label, ...]:
    if isinstance(labels, str):
        return parse_labels(labels)
    given = tuple(labels)
    if given and all(isinstance(x, Label) for x in given):
        return parse_labels([f"{x.name}={x.description}" for x in given if isinstance(x, Label)])
    return parse_labels([str(x) for x in given])


def zero_shot_job(version: str, name: str, labels: list[str], *, progress: Progress) -> ZeroShot:
    """:func:`zero_shot` of the space `name` in its `version` folder, for a worker process."""
    from explorer.opened.handle import open_version

    return zero_shot(open_version(Path(version), name).space, labels, progress=progress)


# --------------------------------------------------------------------------- evaluation


def _key(value: str) -> str:
    return value.strip().casefold()


def match_truth(names: Sequence[str], values: Sequence[object]) -> dict[str, str]:
    """Which category name each truth value stands for: ``{value: name}``.

    A value matches a name when they are equal ignoring case, or when the part after a
    value's (or name's) last dot is (``noun.animal`` matches ``animal``). Values that
    match no name are left out.
    """
    by_key: dict[str, str] = {}
    for name in names:
        by_key.setdefault(_key(name), name)
        by_key.setdefault(_key(name).rsplit(".", 1)[-1], name)
    out: dict[str, str] = {}
    for value in {str(v) for v in values}:
        k = _key(value)
        hit = by_key.get(k) or by_key.get(k.rsplit(".", 1)[-1])
        if hit is not None:
            out[value] = hit
    return out


@dataclass(frozen=True)
class ZeroShotEval:
    """Zero-shot labels scored against a truth column.

    Attributes:
        accuracy: share of evaluated items labelled with their true category (0..1).
        macro_f1: mean over categories of F1 (categories neither true nor predicted
            for any evaluated item are left out: they have none).
        majority_baseline: accuracy of always answering the most common true category.
        random_baseline: expected accuracy of answering one of the k categories at
            random (1/k).
        confusion: counts, rows true category, columns predicted (every category).
        evaluated: items whose truth value matches a category.
        left_out: items whose truth value matches none (or is missing).
        majority: the most common true category.
    """

    accuracy: float
    macro_f1: float
    majority_baseline: float
    random_baseline: float
    confusion: pd.DataFrame
    evaluated: int
    left_out: int
    majority: str


def evaluate_zero_shot(result: ZeroShot, truth: Sequence[object] | pd.Series) -> ZeroShotEval:
    """Score `result` against `truth` ((n,) one true category per item; see :func:`match_truth`).

    Raises:
        InputError: lengths differ, or no truth value matches a category.
    """
    values = pd.Series(truth, dtype=object).reset_index(drop=True)
    if len(values) != len(result.predicted):
        raise InputError(
            f"There are {len(values)} truth values for {len(result.predicted)} items; "
            "give one per item."
        )
    names = [lab.name for lab in result.labels]
    present = values.notna()
    mapping = match_truth(names, values[present].astype(str).unique().tolist())
    true = values.where(present).map(lambda v: mapping.get(str(v)) if v is not None else None)
    keep = true.notna().to_numpy()
    if not keep.any():
        seen = ", ".join(map(repr, values[present].astype(str).unique()[:8]))
        raise InputError(
            f"No value of the truth column ({seen}) matches a category. Name the categories "
            "after its values, e.g. 'animal' or 'noun.animal=an animal'."
        )
    t = true[keep].astype(str).to_numpy()
    p = result.names[keep].astype(str)
    confusion = pd.crosstab(pd.Series(t, name="true"), pd.Series(p, name="predicted"))
    rows = [n for n in names if n in confusion.index]
    confusion = confusion.reindex(index=rows, columns=names, fill_value=0)
    share = pd.Series(t).value_counts(normalize=True)
    return ZeroShotEval(
        accuracy=float(np.mean(t == p)),
        macro_f1=_macro_f1(t, p),
        majority_baseline=float(share.iloc[0]),
        random_baseline=1.0 / len(names),
        confusion=confusion,
        evaluated=int(keep.sum()),
        left_out=int((~keep).sum()),
        majority=str(share.index[0]),
    )


def truth_column(
    space: Space, column: str, modality: str | None = None
) -> tuple[pd.Series, str | None]:
    """The truth `column`, blank outside `modality`, and the modality scored (or None).

    In a space of images and captions the captions name their class, so scoring them
    would flatter the labels: a space with a ``modality`` column scores its images
    unless told otherwise.

    Raises:
        InputError: no such column; `modality` given for a space without one, or unknown.
    """
    if column not in space.items.columns:
        raise InputError(
            f"No column {column!r}. Columns: {', '.join(space.metadata_columns) or 'none'}."
        )
    truth = space.items[column]
    if "modality" not in space.items.columns:
        if modality is not None:
            raise InputError("This space has no modality column: score every item.")
        return truth, None
    kinds = space.items["modality"].astype(str)
    chosen = modality or ("image" if (kinds == "image").any() else None)
    if chosen is None:
        return truth, None
    if not (kinds == chosen).any():
        raise InputError(f"No item has modality {chosen!r}; this space has {sorted(set(kinds))}.")
    return truth.where(kinds == chosen), chosen


def _macro_f1(true: np.ndarray, pred: np.ndarray) -> float:
    """Mean F1 = 2·tp / (2·tp + fp + fn) over the classes that are true or predicted."""
    f1 = []
    for c in np.union1d(true, pred):
        tp = int(np.sum((true == c) & (pred == c)))
        fp = int(np.sum((true != c) & (pred == c)))
        fn = int(np.sum((true == c) & (pred != c)))
        f1.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1))
