"""What each cluster is about: its exemplars and its distinctive terms.

Each cluster is described in the *original* vectors: its medoid exemplars (closest
to the cluster's mean direction) and, for text, its top terms by class-based TF-IDF
(BERTopic's c-TF-IDF). Word spaces, where every item is one word, get their most
central words instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from explorer.core.linalg import unit_rows
from explorer.core.space import Metric

__all__ = ["LABEL_TERMS", "ClusterInfo", "describe_clusters"]

# Terms in a cluster's short label ("3: rain · storm · flood").
LABEL_TERMS = 3
_LABEL_TEXT_CHARS = 32
# Words of two or more letters (no digits or underscores), as BERTopic's default.
_TOKEN_PATTERN = r"(?u)\b[^\W\d_]{2,}\b"


@dataclass
class ClusterInfo:
    """One cluster: its number, size, label terms and exemplar rows (medoid first)."""

    cluster: int
    size: int
    terms: list[str]
    exemplars: list[int]
    label: str


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


def _is_wordlike(texts: Sequence[str]) -> bool:
    """True when (nearly) every item is one token, as in a word-vector space."""
    if not len(texts):
        return False
    single = sum(len(str(t).split()) <= 1 for t in texts)
    return single >= 0.9 * len(texts)


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
) -> list[ClusterInfo]:
    """One ClusterInfo per cluster 0..max(labels), described in the vectors `x` (n, d).

    Exemplars are positions in `x`, medoid first; terms are c-TF-IDF terms of the
    cluster's texts, or its exemplars' texts for single words (or no usable word).
    """
    k = int(labels.max()) + 1 if labels.size else 0
    members = [np.flatnonzero(labels == c) for c in range(k)]
    exemplars = [_exemplars(x, m, n_exemplars, metric) for m in members]
    terms: list[list[str]] = [[] for _ in range(k)]
    if texts is not None and k:
        from_ex = [[_short(texts[r]) for r in ex] for ex in exemplars]
        if _is_wordlike([texts[int(i)] for i in np.flatnonzero(labels >= 0)]):
            terms = from_ex  # single words: the most central words say it best
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
            label=f"{c}: {' · '.join(terms[c][:LABEL_TERMS])}" if terms[c] else str(c),
        )
        for c in range(k)
    ]
