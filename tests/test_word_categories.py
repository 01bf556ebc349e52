"""WordNet categories for word spaces, and cluster names made of content words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from explorer.cluster.agreement import cluster_agreement
from explorer.cluster.clusterings import ClusterParams, cluster_space
from explorer.cluster.names import dominant_category
from explorer.ingest.build import build_from_file
from explorer.ingest.word_categories import (
    COLUMN,
    readable,
    with_word_categories,
    word_categories,
)
from explorer.opened.handle import open_space


def test_words_get_the_category_of_their_commonest_sense() -> None:
    words = ["dog", "cats", "mice", "ran", "water", "king", "happy", "quickly", "Paris"]
    assert word_categories(words) == [
        "animal",  # noun.animal
        "animal",  # a regular plural, by its lemma
        "animal",  # an irregular one, by WordNet's exception list
        "motion (verb)",  # "ran" → run
        "substance",
        "person",
        "adjective",
        "adverb",
        "location",  # case does not matter
    ]
    # Function words, numbers and words WordNet lacks have none.
    assert word_categories(["the", "was", "126", "3.5", "--", "xqzvt"]) == [None] * 6


def test_readable_names() -> None:
    assert readable("noun.food") == "food"
    assert readable("verb.weather") == "weather (verb)"
    assert readable("adj.pert") == "adjective"
    assert readable("noun.Tops") == "general (noun)"


def test_only_word_lists_get_the_column() -> None:
    words = pd.DataFrame({"id": ["a", "b", "c"], "text": ["frog", "toad", "the"]})
    out, note = with_word_categories(words)
    assert out[COLUMN].tolist() == ["animal", "animal", None]
    assert note is not None and "2 of 3 words" in note
    assert COLUMN not in words.columns  # the input is left as it was
    sentences = pd.DataFrame({"id": ["a", "b"], "text": ["a frog sat", "the toad hopped away"]})
    assert with_word_categories(sentences) == (sentences, None)
    own = words.assign(wordnet=["x", "y", "z"])
    assert with_word_categories(own)[0][COLUMN].tolist() == ["x", "y", "z"]


def test_dominant_category_needs_a_majority_of_known_words() -> None:
    assert dominant_category(["animal", "animal", "food", None]) == "animal"
    assert dominant_category(["animal", "food", "plant", "time"]) is None
    # Too few words with a category at all.
    assert dominant_category(["animal", None, None, None, None]) is None


@pytest.fixture(scope="module")
def glove_words(glove_small_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("words") / "words"
    build_from_file(glove_small_file, out, read_kwargs={"fmt": "glove"})
    return out


def test_a_word_space_is_built_with_its_categories(glove_words: Path) -> None:
    space = open_space(glove_words).space
    assert COLUMN in space.category_columns
    cat = dict(zip(space.ids, space.items[COLUMN], strict=True))
    assert cat["dog"] == "animal" and cat["january"] == "time" and pd.isna(cat["the"])
    assert any("WordNet categories for" in n for n in space.notes)


def test_cluster_names_are_content_words_and_say_their_category(glove_words: Path) -> None:
    opened = open_space(glove_words)
    result = cluster_space(opened, ClusterParams(algorithm="kmeans", n_clusters=20))
    stop = ENGLISH_STOP_WORDS
    for info in result.clusters:
        words = [
            str(w) for w in opened.space.ids[: len(result.labels)][result.labels == info.cluster]
        ]
        if sum(w.casefold() not in stop for w in words) >= 3:
            named = [t for t in info.terms[:3] if t.casefold() in stop]
            assert not named, f"{info.label} is named by function words {named}"
    heads = [c.label.split(": ")[1] for c in result.clusters if c.label.count(": ") == 2]
    assert "person" in heads  # names of people cluster together in GloVe
    # A named category really is what most of the cluster's words are.
    cats = opened.space.items[COLUMN].to_numpy(dtype=object)[: len(result.labels)]
    for info in result.clusters:
        if info.label.count(": ") == 2:
            head = info.label.split(": ")[1]
            mine = [c for c in cats[result.labels == info.cluster] if not pd.isna(c)]
            assert sum(c == head for c in mine) >= 0.5 * len(mine)
    # The clustering agrees with the categories better than chance.
    keep = (result.labels >= 0) & pd.notna(cats)
    agree = cluster_agreement(result.labels[keep], cats[keep].astype(str))
    shuffled = np.random.default_rng(0).permutation(result.labels[keep])
    chance = cluster_agreement(shuffled, cats[keep].astype(str))
    assert agree["nmi"] > 3 * chance["nmi"] and agree["ari"] > chance["ari"] + 0.01
