"""explorer.render.map_figure: which view a map gets at its size, what it draws, and that the
caption says so (counts that match what was drawn). Synthetic coordinates, small budgets."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from explorer.render import density
from explorer.render.map_figure import draw_map, is_big
from tests.plotly_json import typed

BUDGET = 200


def _map(n: int, dims: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    coords = rng.normal(size=(n, dims)).astype(np.float32)
    return coords, np.array([f"item {i}" for i in range(n)], dtype=object)


def _drawn_rows(fig: object) -> set[int]:
    """The map rows a figure sends as points (the density grid's cells excluded)."""
    spec = json.loads(fig.to_json())  # type: ignore[attr-defined]
    rows: set[int] = set()
    for t in spec["data"]:
        if t.get("name") != "cells" and t.get("customdata") is not None:
            ids = typed(t["customdata"])
            rows |= {int(i) for i in ids.reshape(len(ids), -1)[:, 0]}
    return rows


def test_a_small_map_draws_every_point_and_counts_only_drawable_ones() -> None:
    coords, labels = _map(150)
    coords[::10] = np.nan  # 15 rows have no position
    out = draw_map(coords, labels, method="umap", budget=BUDGET, of_items=" (the first 150)")
    assert out.kind == "points" and not out.dense
    assert "UMAP map · all 135 points drawn (the first 150)." in out.caption
    assert _drawn_rows(out.fig) == set(np.flatnonzero(~np.isnan(coords[:, 0])).tolist())
    assert not is_big(coords, BUDGET)


def test_a_big_2d_map_opens_as_a_density_picture_of_every_point() -> None:
    coords, labels = _map(1_000)
    assert is_big(coords, BUDGET)
    out = draw_map(coords, labels, method="umap", budget=BUDGET)
    assert out.dense and out.kind == "density"
    assert out.caption.startswith("Density view: 1,000 points, each pixel shaded")
    assert "in this view" not in out.caption  # the whole map, not a zoomed part
    assert f"holds ≤ {BUDGET:,}" in out.caption
    spec = json.loads(out.fig.to_json())
    assert len(spec["layout"]["images"]) == 1
    assert _drawn_rows(out.fig) == set()  # no point goes as a point
    assert out.inside.sum() == 1_000


def test_a_zoomed_window_draws_exactly_its_real_points() -> None:
    coords, labels = _map(1_000)
    view = density.Window(0.5, 3.0, 0.5, 3.0)
    expected = set(np.flatnonzero(density.in_window(coords, view)).tolist())
    assert 0 < len(expected) <= BUDGET
    out = draw_map(coords, labels, method="umap", view=view, budget=BUDGET)
    assert out.kind == "window"
    assert _drawn_rows(out.fig) == expected
    assert f"Points: all {len(expected):,} points in this view drawn (of 1,000)" in out.caption
    assert set(np.flatnonzero(out.inside).tolist()) == expected


def test_a_wide_window_stays_a_density_view_and_says_of_how_many() -> None:
    coords, labels = _map(1_000)
    view = density.Window(-5.0, 0.2, -5.0, 5.0)
    n_view = int(density.in_window(coords, view).sum())
    assert n_view > BUDGET
    out = draw_map(coords, labels, method="umap", view=view, budget=BUDGET)
    assert out.dense
    assert f"Density view: {n_view:,} points in this view (of 1,000)" in out.caption


def test_highlights_beyond_the_budget_are_cut_and_the_caption_says_so() -> None:
    coords, labels = _map(1_000)
    highlight = list(range(0, 1_000, 2))  # 500 highlighted, all in the whole-map view
    out = draw_map(coords, labels, method="umap", highlight=highlight, budget=BUDGET)
    assert out.dense
    assert f"The first {BUDGET:,} of the 500 highlighted points here are drawn." in out.caption
    assert _drawn_rows(out.fig) == set(highlight[:BUDGET])


def test_a_big_3d_map_draws_an_even_spread_plus_every_highlight() -> None:
    coords, labels = _map(1_000, dims=3)
    assert not is_big(coords, BUDGET)  # 3-D: no windows, no density picture
    highlight = [1, 3, 999]
    out = draw_map(coords, labels, method="pca", highlight=highlight, budget=BUDGET)
    assert out.kind == "spread"
    drawn = _drawn_rows(out.fig)
    assert set(highlight) <= drawn
    assert BUDGET <= len(drawn) <= BUDGET + len(highlight)
    assert f"3-D map: {len(drawn):,} of its 1,000 points drawn" in out.caption
    # Evenly spread: every tenth of the rows is represented about equally.
    per_tenth = np.bincount(np.array(sorted(drawn)) // 100, minlength=10)
    assert per_tenth.min() >= BUDGET // 10 - 2


def test_the_colour_name_is_escaped_in_the_caption() -> None:
    coords, labels = _map(1_000)
    colour = pd.Series(np.where(coords[:, 0] > 0, "east", "west"))
    out = draw_map(
        coords, labels, method="umap", budget=BUDGET, colour=colour, colour_name="*side*"
    )
    assert "coloured by the mix of their \\*side\\*" in out.caption
    values = pd.Series(coords[:, 1].astype(float))
    out = draw_map(coords, labels, method="umap", budget=BUDGET, colour=values, colour_name="y")
    assert "coloured by the mean of their y" in out.caption


def _lab(hex_colour: str) -> np.ndarray:
    """CIELAB (D65) of a #RRGGBB colour."""
    rgb = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    rgb = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = xyz @ rgb / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_no_two_of_the_twenty_categories_share_a_colour() -> None:
    """Every category a map names gets a colour no other has, nor "other": the twenty
    are at least 27 CIELAB units apart (ΔE76; about 2 is the smallest difference people
    see) and 19 from "other"'s grey, where the old palette put two oranges 10.5 apart."""
    from itertools import combinations

    from explorer.render.colours import MAX_CATEGORIES, OTHER_COLOUR, PALETTE

    assert len(set(PALETTE)) == len(PALETTE) >= MAX_CATEGORIES >= 20
    labs = {c: _lab(c) for c in [*PALETTE, OTHER_COLOUR]}
    closest = min(np.linalg.norm(labs[a] - labs[b]) for a, b in combinations(labs, 2))
    assert closest >= 19
    assert min(np.linalg.norm(labs[a] - labs[b]) for a, b in combinations(PALETTE, 2)) >= 27
