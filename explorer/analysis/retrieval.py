"""Retrieval benchmarks: queries and relevance judgements (qrels) scored as BEIR does.

A benchmark is a queries table (``query_id, text``) and a qrels table (``query_id,
item_id, relevance``, BEIR's TSV or TREC's ``qid 0 docid rel``). Each query is turned
into a vector in the space's own terms (its model, or its words), searched through the
index and by exact search, and scored with BEIR's definitions (relevant: relevance > 0):

* recall@k = |relevant ∩ top k| / |relevant|;
* MRR@10 = 1 / rank of the first relevant item in the top 10 (0 if none);
* nDCG@10 = Σᵢ relᵢ / log₂(i + 1) over the top 10, divided by the same sum over the
  relevances sorted best first (linear gain, as trec_eval and BEIR).

Each is the mean over queries; the index's effect is its figure minus exact search's.
The built-in example is a reverse dictionary: WordNet definitions as queries, their
words as the relevant items.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from explorer.analysis.zeroshot import phrase_vectors
from explorer.core.errors import InputError
from explorer.core.limits import limits, over_limit
from explorer.core.progress import Progress
from explorer.core.space import Space
from explorer.core.validate import check_k
from explorer.index.hnsw import VectorIndex

__all__ = [
    "RetrievalEval",
    "RetrievalScores",
    "evaluate_retrieval",
    "read_qrels",
    "read_queries",
    "retrieval_job",
    "reverse_dictionary",
    "reverse_dictionary_job",
    "score_rankings",
    "word_space",
]

Source = str | os.PathLike[str] | IO[bytes]

CUTOFF = 10  # MRR and nDCG are reported at 10, as BEIR and MTEB do
_QUERY_ID = ("query_id", "query-id", "qid", "queryid", "_id", "id")
_TEXT = ("text", "query", "question", "title")
_ITEM_ID = ("item_id", "corpus-id", "corpus_id", "doc_id", "docid", "doc-id", "pid", "item")
_RELEVANCE = ("relevance", "score", "rel", "label", "grade")


# --------------------------------------------------------------------------- files


def _too_big(name: str, size: int) -> InputError:
    return over_limit(
        f"The size of '{name}' in bytes", size, "max_file_bytes", "Use a smaller file."
    )


def _read_bytes(source: Source) -> tuple[bytes, str]:
    """(bytes, display name) of a path or an open file, refused past ``max_file_bytes``."""
    most = limits().max_file_bytes
    if hasattr(source, "read"):
        name = Path(str(getattr(source, "name", "upload"))).name
        getvalue = getattr(source, "getvalue", None)
        data = getvalue() if callable(getvalue) else source.read(most + 1)
    else:
        p = Path(os.fspath(source))
        name = p.name
        if not p.is_file():
            raise InputError(f"The file '{name}' does not exist or is not a file.")
        if p.stat().st_size > most:
            raise _too_big(name, p.stat().st_size)
        data = p.read_bytes()
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > most:
        raise _too_big(name, len(data))
    return bytes(data), name


def _table(source: Source) -> tuple[pd.DataFrame, str]:
    """A raw table of strings from CSV, TSV, JSON Lines or whitespace-separated text."""
    data, name = _read_bytes(source)
    text = data.decode("utf-8", "replace")
    cap = limits().max_rows + 1
    ext = Path(name).suffix.lower()
    try:
        if ext in (".jsonl", ".ndjson", ".json"):
            lines = [ln for ln in text.splitlines() if ln.strip()][:cap]
            df = pd.DataFrame([json.loads(ln) for ln in lines]).astype(str)
        elif ext in (".csv", ".tsv", ".tab"):
            sep = "," if ext == ".csv" else "\t"
            df = pd.read_csv(
                io.StringIO(text), sep=sep, dtype=str, nrows=cap, keep_default_na=False
            )
        else:  # TREC-style: whitespace-separated, no header
            rows = [ln.split() for ln in text.splitlines() if ln.strip()][:cap]
            df = pd.DataFrame(rows).astype(str)
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"'{name}' could not be read as a table ({type(exc).__name__}).") from None
    if len(df) >= cap:
        raise InputError(f"'{name}' has more rows than this server's limit.")
    if len(df) == 0:
        raise InputError(f"'{name}' has no rows.")
    df.columns = [str(c).strip() for c in df.columns]
    return df, name


def _column(df: pd.DataFrame, names: Sequence[str]) -> str | None:
    lower = {c.casefold(): c for c in df.columns}
    return next((lower[n] for n in names if n in lower), None)


def read_queries(source: Source) -> pd.DataFrame:
    """A queries table: columns ``query_id`` and ``text`` (BEIR's queries.jsonl has
    ``_id`` and ``text``); a headerless file is ``id<TAB>text``."""
    df, name = _table(source)
    qid, text = _column(df, _QUERY_ID), _column(df, _TEXT)
    if qid is None or text is None:
        if df.shape[1] < 2:
            raise InputError(f"'{name}' needs a query id column and a text column.")
        qid, text = df.columns[0], df.columns[1]
        if not _column(df, _QUERY_ID + _TEXT):  # no header: the first row is a query
            df = pd.concat([pd.DataFrame([df.columns], columns=df.columns), df])
    out = pd.DataFrame({"query_id": df[qid].astype(str).str.strip(), "text": df[text].astype(str)})
    return out[out["text"].str.strip() != ""].drop_duplicates("query_id").reset_index(drop=True)


def read_qrels(source: Source) -> pd.DataFrame:
    """A qrels table: columns ``query_id``, ``item_id``, ``relevance`` (int).

    Reads BEIR's TSV (``query-id corpus-id score``), a CSV with those or our names, and
    TREC's headerless ``qid 0 docid rel``. A missing relevance column means 1.
    """
    df, name = _table(source)
    qid, item = _column(df, _QUERY_ID), _column(df, _ITEM_ID)
    rel = _column(df, _RELEVANCE)
    if qid is None or item is None:
        if df.shape[1] == 4:  # TREC: qid, iteration, docid, relevance
            qid, item, rel = df.columns[0], df.columns[2], df.columns[3]
        elif df.shape[1] in (2, 3):
            qid, item = df.columns[0], df.columns[1]
            rel = df.columns[2] if df.shape[1] == 3 else None
        else:
            raise InputError(
                f"'{name}' needs query_id, item_id and relevance columns (BEIR: query-id, "
                "corpus-id, score; TREC: qid 0 docid rel)."
            )
    values = pd.to_numeric(df[rel], errors="coerce") if rel is not None else 1
    out = pd.DataFrame(
        {
            "query_id": df[qid].astype(str).str.strip(),
            "item_id": df[item].astype(str).str.strip(),
            "relevance": values,
        }
    )
    if out["relevance"].isna().any():
        raise InputError(f"'{name}': every relevance must be a number (e.g. 0, 1, 2).")
    out["relevance"] = out["relevance"].astype(int)
    return out


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class RetrievalScores:
    """Mean BEIR figures over `queries` queries: recall@k, MRR@10, nDCG@10 (0..1)."""

    recall: float
    mrr: float
    ndcg: float
    k: int
    queries: int

    def as_dict(self) -> dict[str, float]:
        return {"recall@k": self.recall, "mrr@10": self.mrr, "ndcg@10": self.ndcg}


def score_rankings(
    rankings: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, float]], k: int = 10
) -> RetrievalScores:
    """Score ranked item ids per query (best first) against graded judgements.

    Queries without a relevant (relevance > 0) item are left out, as trec_eval does.
    """
    if k < 1:
        raise InputError(f"k must be at least 1 (got {k}).")
    recall, mrr, ndcg = [], [], []
    for qid, judged in qrels.items():
        relevant = {i for i, r in judged.items() if r > 0}
        if not relevant:
            continue
        ranked = list(rankings.get(qid, []))
        recall.append(len(relevant & set(ranked[:k])) / len(relevant))
        first = next((r for r, i in enumerate(ranked[:CUTOFF], 1) if i in relevant), None)
        mrr.append(0.0 if first is None else 1.0 / first)
        dcg = sum(judged.get(i, 0) / math.log2(r + 1) for r, i in enumerate(ranked[:CUTOFF], 1))
        best = sorted((r for r in judged.values() if r > 0), reverse=True)[:CUTOFF]
        ndcg.append(dcg / sum(g / math.log2(r + 1) for r, g in enumerate(best, 1)))
    if not recall:
        raise InputError("No query has a relevant item: nothing to score.")
    return RetrievalScores(
        float(np.mean(recall)), float(np.mean(mrr)), float(np.mean(ndcg)), k, len(recall)
    )


@dataclass(frozen=True)
class RetrievalEval:
    """A benchmark through the index and by exact search.

    Attributes:
        index, exact: the figures of each (equal when the index is exact).
        exact_index: the index is exact search itself (small spaces).
        notes: what was left out and why (unknown items, queries without judgements).
        how: how the queries were turned into vectors.
    """

    index: RetrievalScores
    exact: RetrievalScores
    exact_index: bool
    notes: tuple[str, ...]
    how: str

    @property
    def effect(self) -> dict[str, float]:
        """Index minus exact search, per figure (negative: the index loses that much)."""
        a, b = self.index.as_dict(), self.exact.as_dict()
        return {key: a[key] - b[key] for key in a}

    def as_dict(self) -> dict[str, Any]:
        """The index's figures at the top (what users get), then each variant."""
        return {
            **self.index.as_dict(),
            "k": self.index.k,
            "queries": self.index.queries,
            "index": self.index.as_dict(),
            "exact": self.exact.as_dict(),
            "effect": self.effect,
            "exact_index": self.exact_index,
            "notes": list(self.notes),
        }


def _judgements(
    space: Space, queries: pd.DataFrame, qrels: pd.DataFrame, notes: list[str]
) -> dict[str, dict[str, float]]:
    """query_id → {item id: relevance} for the queries that have a relevant item here."""
    known = qrels["item_id"].isin(space.row_of)
    if not known.all():
        notes.append(
            f"{int((~known).sum()):,} judgement(s) name items not in this space; left out."
        )
    asked = qrels["query_id"].isin(set(queries["query_id"]))
    if not asked.all():
        notes.append(
            f"{int((~asked).sum()):,} judgement(s) name queries not in the queries file; left out."
        )
    judged: dict[str, dict[str, float]] = {}
    for qid, item, rel in qrels[known & asked].itertuples(index=False):
        judged.setdefault(qid, {})[item] = float(rel)
    usable = {q: j for q, j in judged.items() if any(r > 0 for r in j.values())}
    unjudged = len(set(queries["query_id"])) - len(usable)
    if unjudged:
        notes.append(f"{unjudged:,} quer(y/ies) have no relevant item in this space; left out.")
    return usable


def evaluate_retrieval(
    space: Space,
    index: VectorIndex,
    queries: pd.DataFrame,
    qrels: pd.DataFrame,
    k: int = 10,
    progress: Progress | None = None,
) -> RetrievalEval:
    """Score `queries` against `qrels` through `index` and by exact search.

    Args:
        queries: columns ``query_id``, ``text`` (see :func:`read_queries`).
        qrels: columns ``query_id``, ``item_id``, ``relevance`` (see :func:`read_qrels`).
        k: the recall cut-off; MRR and nDCG are at 10.

    Raises:
        InputError: no query can be scored (none judged, or none made into a vector).
    """
    k = check_k(k)
    notes: list[str] = []
    judged = _judgements(space, queries, qrels, notes)
    todo = queries[queries["query_id"].isin(judged)].reset_index(drop=True)
    if todo.empty:
        raise InputError("No query has a relevant item in this space: check the ids match.")
    if progress:
        progress(0.1, f"Making vectors for {len(todo):,} queries")
    vecs, found, how = phrase_vectors(space, todo["text"].tolist(), use_cache=True)
    if not found.all():
        notes.append(
            f"{int((~found).sum()):,} quer(y/ies) have no word that is an item of "
            "this space; left out."
        )
        todo, vecs = todo[found].reset_index(drop=True), vecs[found]
    if todo.empty:
        raise InputError("No query could be made into a vector in this space.")
    judged = {q: judged[q] for q in todo["query_id"]}
    want = max(k, CUTOFF)
    scores = {}
    for step, exact in enumerate((False, True)):
        if progress:
            progress(0.5 + 0.25 * step, "Searching " + ("exactly" if exact else "the index"))
        rows, _ = index.search(vecs, want, exact=exact)
        ranked = {
            q: [str(space.ids[r]) for r in rr] for q, rr in zip(todo["query_id"], rows, strict=True)
        }
        scores[exact] = score_rankings(ranked, judged, k)
    return RetrievalEval(scores[False], scores[True], index.exact, tuple(notes), how)


# --------------------------------------------------------------------------- WordNet example


def word_space(space: Space) -> bool:
    """Whether `space` holds words: most of its first 1,000 ids are single words."""
    ids = [str(i) for i in space.ids[: min(space.n, 1000)]]
    words = sum(1 for i in ids if re.fullmatch(r"[^\W\d_]+(?:['-][^\W\d_]+)*", i))
    return words >= 0.8 * len(ids)


def reverse_dictionary(
    space: Space, n_queries: int = 200, seed: int = 0, root: Path | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A reverse-dictionary benchmark for a word space, from WordNet's nouns.

    Each query is the definition of a noun sense that is the first (most frequent)
    sense of words among the space's map rows; those words are its relevant items
    (relevance 1). Definitions that contain one of their own words are left out (the
    answer would be in the question). `n_queries` are drawn with `seed`.

    Returns:
        (queries: query_id, text; qrels: query_id, item_id, relevance).
    """
    from explorer.ingest.datasets import wordnet_nouns

    nouns = wordnet_nouns(root)
    nouns = nouns[~nouns["lemma"].str.contains(" ")]
    rows = [(i, space.lookup(w)) for i, w in enumerate(nouns["lemma"])]
    found = [(i, r) for i, r in rows if r is not None and r < space.n_map]
    nouns = nouns.iloc[[i for i, _ in found]].assign(item_id=[str(space.ids[r]) for _, r in found])
    picked = []
    for synset, g in nouns.groupby("synset", sort=True):
        gloss = str(g["gloss"].iloc[0])
        words = {w.casefold() for w in re.findall(r"[^\W\d_]+", gloss)}
        if gloss and not words & {w.casefold() for w in g["lemma"]}:
            picked.append((f"wn-{synset}", gloss, list(g["item_id"])))
    if not picked:
        raise InputError("None of WordNet's nouns is an item of this space's map.")
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(len(picked), size=min(n_queries, len(picked)), replace=False))
    queries = pd.DataFrame(
        [(picked[i][0], picked[i][1]) for i in chosen], columns=["query_id", "text"]
    )
    qrels = pd.DataFrame(
        [(picked[i][0], item, 1) for i in chosen for item in picked[i][2]],
        columns=["query_id", "item_id", "relevance"],
    )
    return queries, qrels


def retrieval_job(
    version: str,
    name: str,
    queries: pd.DataFrame,
    qrels: pd.DataFrame,
    k: int,
    *,
    progress: Progress,
) -> RetrievalEval:
    """:func:`evaluate_retrieval` on the space `name` in its `version` folder, for a
    worker process."""
    from explorer.opened.handle import open_version

    opened = open_version(Path(version), name)
    return evaluate_retrieval(opened.space, opened.index, queries, qrels, k, progress)


def reverse_dictionary_job(
    version: str, name: str, n_queries: int, seed: int, k: int, *, progress: Progress
) -> RetrievalEval:
    """The WordNet reverse dictionary (:func:`reverse_dictionary`) on the space `name` in
    its `version` folder, for a worker process."""
    from explorer.opened.handle import open_version

    opened = open_version(Path(version), name)
    progress(0.02, "Reading WordNet")
    queries, qrels = reverse_dictionary(opened.space, n_queries, seed)
    return evaluate_retrieval(opened.space, opened.index, queries, qrels, k, progress)
