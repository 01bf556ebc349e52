from __future__ import annotations

import numpy as np
import pandas as pd

from explorer.plot import MAX_CATEGORIES, analogy_figure, colour_kind, scatter_map, section_bars


def _coords(n: int, dims: int = 2) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, dims)).astype(np.float32)


def _rows(fig) -> list[int]:  # type: ignore[no-untyped-def]
    return sorted(int(r) for t in fig.data for r in t.customdata)


def test_every_point_carries_its_row_in_customdata() -> None:
    coords = _coords(300)
    coords[5] = np.nan  # not drawn
    colour = pd.Series(np.random.default_rng(1).choice(["a", "b", "c"], 300))
    fig = scatter_map(
        coords,
        np.array([f"item {i}" for i in range(300)], dtype=object),
        colour=colour,
        colour_name="group",
    )
    assert {t.name for t in fig.data} == {"a", "b", "c"}
    assert _rows(fig) == [r for r in range(300) if r != 5]
    for t in fig.data:  # hover text matches the row in every trace
        assert all(txt == f"item {r}" for txt, r in zip(t.text, t.customdata, strict=True))
    assert fig.data[0].type == "scattergl"


def test_many_categories_fold_into_other_and_numbers_get_a_scale() -> None:
    n = 500
    cats = pd.Series([f"c{i % 40}" for i in range(n)])
    fig = scatter_map(_coords(n), np.array(["x"] * n, dtype=object), colour=cats)
    names = [t.name for t in fig.data]
    assert len(names) == MAX_CATEGORIES and names[-1].startswith("other (21 values)")
    assert _rows(fig) == list(range(n))
    nums = pd.Series(np.linspace(0, 1, n))
    assert colour_kind(nums) == "numeric" and colour_kind(pd.Series([1, 2, 1])) == "categorical"
    fig = scatter_map(_coords(n), np.array(["x"] * n, dtype=object), colour=nums)
    assert fig.data[0].marker.showscale


def test_highlights_and_three_dimensions() -> None:
    fig = scatter_map(
        _coords(50, 3), np.array(["x"] * 50, dtype=object), highlight=[3, 9], highlight_name="hits"
    )
    assert fig.data[0].type == "scatter3d"
    hl = next(t for t in fig.data if t.name == "hits")
    assert sorted(hl.customdata.tolist()) == [3, 9]


def test_analogy_figure_draws_offsets() -> None:
    vecs = np.random.default_rng(0).normal(size=(4, 50))
    fig = analogy_figure(
        ["man", "king", "woman", "queen"],
        vecs,
        ["minus", "plus", "plus", "answer"],
        [(0, 2), (1, 3)],
    )
    assert len(fig.layout.annotations) == 2
    assert {t.name for t in fig.data} == {"minus", "plus", "answer"}


def test_section_bars() -> None:
    fig = section_bars({"capitals": (0.9, 100), "family": (0.5, 20)})
    assert list(fig.data[0].y) == ["capitals", "family"]
    assert list(fig.data[0].x) == [90.0, 50.0]
