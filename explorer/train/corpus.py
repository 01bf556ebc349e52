"""Text corpora for training word vectors: read, tokenised simply, replayable.

A :class:`Corpus` keeps its documents as text and tokenises them on every pass (gensim
reads a corpus once for the vocabulary and once per epoch), so memory stays near the
size of the text instead of that of millions of token lists. Reading goes through
:func:`explorer.ingest.sources.read_source`, so the operator's limits bound every upload.

The built-in corpus is the largest real English text available offline: the 107
articles of the Wikipedia dump that gensim ships for its tests, then the 300 Lee
news articles (together about 546,000 tokens).
"""

from __future__ import annotations

import bz2
import importlib.util
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explorer.core.errors import InputError

__all__ = [
    "BUILTIN",
    "BUILTIN_TITLE",
    "SENTENCE_WORDS",
    "Corpus",
    "builtin_corpus",
    "load_corpus",
    "read_corpus",
    "tokenize",
]

BUILTIN = "builtin"
BUILTIN_TITLE = "Wikipedia (107 articles) + Lee news (300 articles)"
# gensim's Word2Vec silently ignores the words of a sentence past its 10,000th.
SENTENCE_WORDS = 10_000
_TOKEN = re.compile(r"[^\W_]+")  # runs of letters and digits, in any script
_WIKI = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
_LEE = "lee_background.cor"


def tokenize(text: str) -> list[str]:
    """Lower-cased runs of letters and digits; everything else separates.

    ``"Don't stop, 1990s!"`` → ``["don", "t", "stop", "1990s"]``. Deterministic and
    language-neutral (any script's letters count); no stemming, no stop words.
    """
    return _TOKEN.findall(text.lower())


@dataclass(frozen=True, eq=False)
class Corpus:
    """Documents to train on, replayed as tokenised sentences.

    Attributes:
        name: what the user knows it by (a file's base name, or the built-in title).
        documents: the texts, one document each (a line of a .txt, a row of a table).
        max_tokens: every pass stops after this many tokens (None: all of them).
        source: JSON-able record of where the text came from, kept with the space.
        notes: what reading said (lines skipped, texts cut...).
    """

    name: str
    documents: tuple[str, ...]
    max_tokens: int | None = None
    source: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def sentences(self) -> _Sentences:
        """A restartable iterable of token lists (each at most SENTENCE_WORDS long)."""
        return _Sentences(self)

    def record(self) -> dict[str, Any]:
        """The corpus as kept in a space's manifest: its name, source and slice."""
        return {
            "name": self.name,
            "documents": len(self.documents),
            "max_tokens": self.max_tokens,
            **dict(self.source),
        }


class _Sentences:
    """Iterating yields the corpus' sentences afresh, as gensim needs for each epoch."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus

    def __iter__(self) -> Iterator[list[str]]:
        left = self.corpus.max_tokens
        for doc in self.corpus.documents:
            tokens = tokenize(doc)
            if left is not None:
                tokens = tokens[:left]
                left -= len(tokens)
            for start in range(0, len(tokens), SENTENCE_WORDS):
                yield tokens[start : start + SENTENCE_WORDS]
            if left == 0:
                return


def _check_max_tokens(max_tokens: int | None) -> None:
    if max_tokens is None:
        return
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise InputError(
            f"max_tokens must be a positive whole number of words, or none (got {max_tokens!r})."
        )


def _gensim_test_data() -> Path:
    """gensim's folder of test data (found without importing gensim)."""
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.origin:
        raise InputError(
            "The built-in corpus comes with gensim, which is not installed here. "
            "Install gensim, or upload a .txt corpus."
        )
    return Path(spec.origin).parent / "test" / "test_data"


def _wiki_paragraphs(path: Path) -> Iterator[str]:
    """The non-empty paragraphs of the articles of a MediaWiki dump, markup removed."""
    from gensim.corpora.wikicorpus import extract_pages, filter_wiki

    # Our own packaged file (not a user's upload): parsing it is trusted.
    with bz2.open(path, "rb") as fh:
        for _title, text, _pid in extract_pages(fh, filter_namespaces=("0",)):
            if text.lstrip().lower().startswith("#redirect"):
                continue
            for line in filter_wiki(text).splitlines():
                if line.strip():
                    yield line


def _builtin_documents(data: Path) -> Iterator[str]:
    yield from _wiki_paragraphs(data / _WIKI)
    with open(data / _LEE, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.strip():
                yield line.strip()


def builtin_corpus(max_tokens: int | None = None) -> Corpus:
    """The built-in corpus (:data:`BUILTIN_TITLE`): Wikipedia paragraphs, then Lee news.

    With `max_tokens`, only the documents needed for that many tokens are read.

    Raises:
        InputError: gensim or its test data is missing; a bad `max_tokens`.
    """
    _check_max_tokens(max_tokens)
    data = _gensim_test_data()
    if not (data / _WIKI).is_file() or not (data / _LEE).is_file():
        raise InputError(
            "gensim's copy of the built-in corpus is missing. Reinstall gensim, or upload "
            "a .txt corpus."
        )
    docs: list[str] = []
    seen = 0
    for doc in _builtin_documents(data):
        docs.append(doc)
        seen += len(tokenize(doc))
        if max_tokens is not None and seen >= max_tokens:
            break
    return Corpus(
        name=BUILTIN_TITLE,
        documents=tuple(docs),
        max_tokens=max_tokens,
        source={"corpus": BUILTIN, "files": [_WIKI, _LEE]},
    )


def read_corpus(
    path: str | Path,
    *,
    text_col: str | None = None,
    limit: int | None = None,
    max_tokens: int | None = None,
) -> Corpus:
    """A user's corpus: a ``.txt`` with one document per line, or a table's text column.

    Read with :func:`explorer.ingest.sources.read_source` (bounded by the operator's limits;
    a document longer than ``max_text_chars`` is cut, with a note).

    Args:
        text_col: the table column holding the texts (default: the longest one).
        limit: read only the first `limit` documents.
        max_tokens: train on only the first `max_tokens` tokens.

    Raises:
        InputError: unreadable or empty input, a file of vectors instead of text.
    """
    from explorer.ingest.sources import read_source

    _check_max_tokens(max_tokens)
    p = Path(path)
    # A .txt is a corpus here, one document per line, even if it looks like word vectors.
    fmt = "txt" if p.suffix.lower() == ".txt" else None
    loaded = read_source(p, fmt=fmt, text_col=text_col, limit=limit)
    if loaded.kind != "text" or "text" not in loaded.items.columns:
        raise InputError(
            f"'{p.name}' holds vectors, not text to train on. Upload a .txt with one "
            "document per line, or a table with a text column."
        )
    docs = tuple(loaded.items["text"].astype(str).tolist())
    return Corpus(
        name=p.name,
        documents=docs,
        max_tokens=max_tokens,
        source={
            "corpus": p.name,
            "format": loaded.fmt,
            **{k: v for k, v in loaded.source.items() if k in ("text_col", "limit")},
        },
        notes=tuple(loaded.notes),
    )


def load_corpus(spec: str, *, text_col: str | None = None, max_tokens: int | None = None) -> Corpus:
    """``"builtin"`` → :func:`builtin_corpus`; anything else is a file for :func:`read_corpus`."""
    if spec == BUILTIN:
        return builtin_corpus(max_tokens)
    return read_corpus(spec, text_col=text_col, max_tokens=max_tokens)
