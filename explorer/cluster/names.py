"""What each cluster is about: its exemplars and its distinctive terms.

Each cluster is described in the *original* vectors: its medoid exemplars (closest
to the cluster's mean direction) and, for text, its top terms by class-based TF-IDF
(BERTopic's c-TF-IDF). Word spaces, where every item is one word, get their most
central content words instead (function words and numbers only where a cluster has
nothing else), and, given the words' WordNet categories, the category most of a
cluster's words share ("3: animal · dog · cat · horse").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from explorer.core.linalg import unit_rows
from explorer.core.space import Metric
from explorer.ingest.word_categories import is_word_list

__all__ = ["DOMINANT_SHARE", "LABEL_TERMS", "ClusterInfo", "describe_clusters", "dominant_category"]

# Terms in a cluster's short label ("3: rain · storm · flood").
LABEL_TERMS = 3
_LABEL_TEXT_CHARS = 32
# Words of two or more letters (no digits or underscores), as BERTopic's default.
_TOKEN_PATTERN = r"(?u)\b[^\W\d_]{2,}\b"
_CONTENT_WORD = re.compile(r"[^\W\d_]{2,}")
# A category names a cluster when at least this share of its words have it (and
# at least this share of its words have a category at all).
DOMINANT_SHARE = 0.5
_KNOWN_SHARE = 0.3


@dataclass
class ClusterInfo:
    """One cluster: its number, size, label terms and exemplar rows (medoid first);
    category: the one most of its words share (word spaces with categories), else None;
    name: the name a person gave it, else None (label then holds it too)."""

    cluster: int
    size: int
    terms: list[str]
    exemplars: list[int]
    label: str
    category: str | None = None
    name: str | None = None  # given by a person (explorer.cluster.renames)

    @property
    def short_name(self) -> str:
        """What a map writes on the cluster: its given name, else "animal: dog · cat ·
        horse" or "rain · storm · flood"."""
        return self.name or _name(self.category, self.terms)


def _exemplars(x: np.ndarray, members: np.ndarray, k: int, metric: Metric) -> list[int]:
    """The k members of `members` closest to their mean (direction), closest first."""
    v = x[members].astype(np.float64)
    if metric == "l2":
        score = -((v - v.mean(0)) ** 2).sum(1)
    else:
        # The mean *direction*: under ip, long vectors must not dominate.
        u = unit_rows(v)[0].astype(np.float64)
        centre = u.mean(0)
        score = u @ centre  # ∝ cosine to the centre; the order is the same
    order = np.argsort(-score, kind="stable")[:k]
    return [int(members[i]) for i in order]


@lru_cache(maxsize=1)
def _function_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def _content_first(words: list[str]) -> list[str]:
    """`words` with content words (letters only, not a function word) first, each
    group in its own order."""
    stop = _function_words()
    content = [w for w in words if _CONTENT_WORD.fullmatch(w) and w.casefold() not in stop]
    taken = set(content)
    return content + [w for w in words if w not in taken]


def dominant_category(categories: Sequence[object]) -> str | None:
    """The category most of a cluster's words share, if one dominates (see
    :data:`DOMINANT_SHARE`); missing values are words without a category."""
    known = [str(c) for c in categories if isinstance(c, str) and c]
    if not categories or len(known) < _KNOWN_SHARE * len(categories):
        return None
    values, counts = np.unique(known, return_counts=True)
    top = int(np.argmax(counts))
    return str(values[top]) if counts[top] >= DOMINANT_SHARE * len(known) else None


def _ctfidf_terms(docs: list[str], n_terms: int) -> list[list[str]] | None:
    """Top terms per class by c-TF-IDF; None when no usable words are found.

    docs: one concatenated document per class. tf = a term's share of its class's
    words; idf = log(1 + A / f_t), A = mean words per class, f_t = the term's count
    over all classes (BERTopic's ClassTfidfTransformer).
    """
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(stop_words="english", token_pattern=_TOKEN_PATTERN, min_df=1)
    try:
        c = vectorizer.fit_transform(docs).tocsr().astype(np.float64)
    except ValueError:  # empty vocabulary: only stop words, numbers or 1-letter tokens
        return None
    vocab = vectorizer.get_feature_names_out()
    words = np.asarray(c.sum(1)).ravel()
    f_t = np.asarray(c.sum(0)).ravel()
    idf = np.log(1.0 + words.mean() / np.maximum(f_t, 1.0))
    # Kept sparse: many clusters × a large vocabulary would not fit densely.
    score = c.multiply(1.0 / np.maximum(words, 1.0)[:, None]).multiply(idf[None, :]).tocsr()
    out = []
    for i in range(score.shape[0]):
        lo, hi = score.indptr[i], score.indptr[i + 1]
        cols, vals = score.indices[lo:hi], score.data[lo:hi]
        # Ties (equal scores) go to the alphabetically first term: stable and repeatable.
        top = np.lexsort((cols, -vals))[:n_terms]
        out.append([str(vocab[cols[j]]) for j in top if vals[j] > 0])
    return out


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _LABEL_TEXT_CHARS else text[: _LABEL_TEXT_CHARS - 1] + "…"


def describe_clusters(
    x: np.ndarray,
    labels: np.ndarray,
    metric: Metric,
    texts: Sequence[str] | None,
    n_terms: int = 6,
    n_exemplars: int = 5,
    categories: Sequence[object] | None = None,
) -> list[ClusterInfo]:
    """One ClusterInfo per cluster 0..max(labels), described in the vectors `x` (n, d).

    Exemplars are positions in `x`, medoid first; terms are c-TF-IDF terms of the
    cluster's texts, or for single words the most central content words (or the
    exemplars' texts where there is no usable word). categories: (n,) each word's
    category (None: none); a cluster's dominant one leads its label.
    """
    k = int(labels.max()) + 1 if labels.size else 0
    members = [np.flatnonzero(labels == c) for c in range(k)]
    # Every member, most central first: word spaces name clusters from the whole order.
    central = [_exemplars(x, m, m.size, metric) for m in members]
    exemplars = [rows[:n_exemplars] for rows in central]
    terms: list[list[str]] = [[] for _ in range(k)]
    heads: list[str | None] = [None] * k
    if texts is not None and k:
        from_ex = [[_short(texts[r]) for r in ex] for ex in exemplars]
        if is_word_list([texts[int(i)] for i in np.flatnonzero(labels >= 0)]):
            # Single words: the most central content words say it best.
            terms = [_content_first([_short(texts[r]) for r in rows]) for rows in central]
            if categories is not None:
                heads = [dominant_category([categories[int(r)] for r in m]) for m in members]
        else:
            docs = [" ".join(str(texts[int(r)]) for r in m) for m in members]
            found = _ctfidf_terms(docs, n_terms)
            # A cluster with no usable word (stop words only, numbers) falls back
            # to its exemplars' texts.
            terms = (
                from_ex if found is None else [t or e for t, e in zip(found, from_ex, strict=True)]
            )
        terms = [t[:n_terms] for t in terms]
    return [
        ClusterInfo(
            cluster=c,
            size=int(members[c].size),
            terms=terms[c],
            exemplars=exemplars[c],
            label=_label(c, heads[c], terms[c]),
            category=heads[c],
        )
        for c in range(k)
    ]


def _label(c: int, head: str | None, terms: list[str]) -> str:
    """ "3: rain · storm · flood", or with a dominant category "3: animal: dog · cat · horse"."""
    return f"{c}: {_name(head, terms)}" if terms else str(c)


def _name(head: str | None, terms: list[str]) -> str:
    words = " · ".join(terms[:LABEL_TERMS])
    return f"{head}: {words}" if head else words
