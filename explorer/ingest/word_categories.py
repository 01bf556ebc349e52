"""WordNet categories for word spaces: what kind of thing each word names.

A space whose items are single words (GloVe, a trained Word2Vec, uploaded word vectors)
gets a column :data:`COLUMN` at build time: the lexicographer file of the word's most
frequent WordNet sense (:func:`explorer.ingest.datasets.wordnet_lexnames`), written for
people ("animal", "motion (verb)", "adjective"). Inflected forms are looked up by
their lemma (WordNet's irregular forms, then its regular endings, as WordNet's own
``morphy`` does); function words, numbers and words WordNet lacks get none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from explorer.core.errors import InputError
from explorer.core.space import Space

__all__ = [
    "COLUMN",
    "categories_of",
    "is_word_list",
    "readable",
    "with_word_categories",
    "word_categories",
]

COLUMN = "wordnet"
_MIN_STEM = 3  # a regular ending is only taken off a word that keeps 3 letters
_LETTER = re.compile(r"[^\W\d_]")  # a word without one ("126", "--") names no kind of thing

# WordNet's detachment rules (morphy), by part of speech: (ending, replacement).
_RULES: tuple[tuple[str, str], ...] = (
    ("ies", "y"),
    ("ses", "s"),
    ("xes", "x"),
    ("zes", "z"),
    ("ches", "ch"),
    ("shes", "sh"),
    ("men", "man"),
    ("es", "e"),
    ("es", ""),
    ("s", ""),
    ("ed", "e"),
    ("ed", ""),
    ("ing", "e"),
    ("ing", ""),
    ("est", ""),
    ("est", "e"),
    ("er", ""),
    ("er", "e"),
)


def readable(lexname: str) -> str:
    """A lexicographer file as a category people read: ``noun.animal`` → ``animal``,
    ``verb.motion`` → ``motion (verb)``, ``adj.all`` → ``adjective``."""
    pos, _, name = lexname.partition(".")
    if pos == "noun":
        return "general (noun)" if name == "Tops" else name
    if pos == "verb":
        return f"{name} (verb)"
    return {"adj": "adjective", "adv": "adverb"}.get(pos, lexname)


def is_word_list(texts: Sequence[str]) -> bool:
    """True when (nearly) every item is one token, as in a word-vector space."""
    if not len(texts):
        return False
    single = sum(len(str(t).split()) <= 1 for t in texts)
    return single >= 0.9 * len(texts)


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, str], dict[str, list[str]], frozenset[str]]:
    """(lemma → readable category, irregular form → lemmas, function words)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from explorer.ingest.datasets import wordnet_exceptions, wordnet_lexnames

    names = {lemma: readable(lex) for lemma, lex in wordnet_lexnames().items()}
    return names, wordnet_exceptions(), frozenset(ENGLISH_STOP_WORDS)


def _category(word: str, names: dict[str, str], exc: dict[str, list[str]]) -> str | None:
    key = word.casefold().replace("_", " ").strip()
    if not _LETTER.search(key):
        return None
    if key in names:
        return names[key]
    for lemma in exc.get(key, []):
        if lemma.replace("_", " ") in names:
            return names[lemma.replace("_", " ")]
    for ending, repl in _RULES:
        if key.endswith(ending) and len(key) - len(ending) >= _MIN_STEM:
            stem = key[: len(key) - len(ending)] + repl
            if stem in names:
                return names[stem]
    return None


def word_categories(words: Sequence[str]) -> list[str | None]:
    """The category of each word (None: a function word, or one WordNet lacks).

    Raises:
        InputError: WordNet is not installed here, or is damaged.
    """
    names, exc, stop = _tables()
    return [None if str(w).casefold() in stop else _category(str(w), names, exc) for w in words]


def with_word_categories(items: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """`items` with a :data:`COLUMN` column when they are single words; and a note.

    Items that are not words, or that already have such a column, are returned as
    they are (no note). Without WordNet the words get no categories and the note says so.
    """
    if "text" not in items.columns or COLUMN in items.columns:
        return items, None
    texts = items["text"].astype(str).tolist()
    if not is_word_list(texts):
        return items, None
    try:
        cats = word_categories(texts)
    except InputError:
        return items, "WordNet is not installed on this server, so the words have no categories."
    found = sum(c is not None for c in cats)
    if not found:
        return items, None
    out = items.copy()
    out[COLUMN] = pd.Series(cats, index=items.index, dtype=object)
    return out, (
        f"WordNet categories for {found:,} of {len(texts):,} words (column “{COLUMN}”: the "
        "kind of thing each word's commonest sense names)."
    )


def categories_of(space: Space, rows: np.ndarray) -> list[str | None] | None:
    """The category of each of `rows` (None: none), when `space` has the column."""
    if COLUMN not in space.items.columns:
        return None
    values = space.items[COLUMN].to_numpy(dtype=object)[rows]
    return [v if isinstance(v, str) and v else None for v in values]
