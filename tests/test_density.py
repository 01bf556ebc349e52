"""explorer.render.density: grid counts, windows, cell selection and the density picture; and the
figures explorer.render.figures builds from them. Synthetic coordinates only, no space."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from explorer.render import density as d
from explorer.render.colours import PALETTE, category_codes, category_colours, top_categories
from explorer.render.scatter import scatter_map
from explorer.render.window_maps import density_map, subset_map
from tests.plotly_json import typed


def _blobs(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0, 1, size=(n, 2)).astype(np.float32) * np.float32([3, 1])


def test_counts_equal_a_brute_force_count() -> None:
    xy = _blobs(3000)
    xy[::50] = np.nan  # not drawn, never counted
    win = d.Window(-4.0, 5.0, -1.5, 2.0)
    nx, ny = 9, 7
    counts = d.aggregate(xy, win, (nx, ny))
    assert counts.shape == (ny, nx)
    cw, ch = win.width / nx, win.height / ny
    brute = np.zeros((ny, nx), dtype=np.int64)
    for x, y in xy:
        if not (win.x0 <= x <= win.x1 and win.y0 <= y <= win.y1):
            continue  # outside, or NaN
        col = min(int((x - win.x0) / cw), nx - 1)
        row = min(int((y - win.y0) / ch), ny - 1)
        brute[row, col] += 1
    assert np.array_equal(counts, brute)
    assert counts.sum() == d.in_window(xy, win).sum()


def test_rows_in_a_window_equal_a_direct_mask() -> None:
    xy = _blobs(20_000, seed=1)
    xy[7] = np.nan
    win = d.Window(-1.0, 2.5, -0.25, 0.75)
    x, y = xy[:, 0], xy[:, 1]
    direct = (x >= -1.0) & (x <= 2.5) & (y >= -0.25) & (y <= 0.75)
    assert np.array_equal(d.in_window(xy, win), direct)
    # A window's edges are inside it.
    assert d.in_window(np.float32([[-1.0, 0.75], [2.5, -0.25]]), win).all()


def test_cell_selection_gives_the_window_of_its_cells_and_every_row_in_them() -> None:
    win = d.Window(0.0, 10.0, 0.0, 5.0)
    shape = (10, 5)  # unit cells
    # Cells (col 2, row 1) and (col 4, row 3): bounds x 2..5, y 1..4.
    chosen = d.cells_window([1 * 10 + 2, 3 * 10 + 4], win, shape)
    assert chosen == d.Window(2.0, 5.0, 1.0, 4.0)
    # What a browser sends is checked: ids outside the grid are ignored.
    assert d.cells_window([999, -3], win, shape) is None
    assert d.cells_window([12, 999], win, shape) == d.Window(2.0, 3.0, 1.0, 2.0)
    xy = np.random.default_rng(2).uniform(0, 10, size=(5000, 2)).astype(np.float32)
    xy[:, 1] /= 2
    rows = d.rows_in_cells(xy, win, shape, [12, 34])
    cells = d.cell_index(xy, win, shape)
    assert np.array_equal(rows, np.flatnonzero((cells == 12) | (cells == 34)))
    assert rows.size > 0


def test_a_box_of_cells_selects_the_rows_in_their_bounds() -> None:
    """A box selection catches a rectangle of occupied cells; the rows inside the cells'
    bounds are then exactly the rows in those cells."""
    xy = _blobs(50_000, seed=3)
    win = d.full_window(xy)
    cells = d.occupied_cells(xy, win)
    nx, _ = cells.shape
    col, row = cells.ids.astype(int) % nx, cells.ids.astype(int) // nx
    box = cells.ids[(col >= 40) & (col <= 90) & (row >= 30) & (row <= 70)]
    bounds = d.cells_window(box, win, cells.shape)
    assert bounds is not None
    in_cells = d.rows_in_cells(xy, win, cells.shape, box)
    in_bounds = np.flatnonzero(d.in_window(xy, bounds))
    # Equal but for points exactly on the bounds' far edges (counted in the next cell).
    assert set(in_cells) <= set(in_bounds)
    assert in_bounds.size - in_cells.size <= 2
    assert cells.counts.sum() == xy.shape[0]
    assert cells.ids.dtype == np.uint16 and cells.ids.size <= d.GRID_MAX[0] * d.GRID_MAX[1]


def test_grids_have_square_cells_within_their_bounds() -> None:
    assert d.grid_shape(d.Window(0, 2, 0, 1), 960, 600) == (960, 480)
    assert d.grid_shape(d.Window(0, 1, 0, 1), 960, 600) == (600, 600)
    assert d.grid_shape(d.Window(0, 1000, 0, 1), 200, 150) == (200, 1)
    full = d.full_window(np.float32([[0, 0], [1, 10]]))  # a tall map: widened to 1:1
    assert full.width == pytest.approx(full.height)
    one_spot = d.full_window(np.float32([[3, 3]] * 5))
    assert one_spot.width > 0 and one_spot.height > 0
    assert d.full_window(np.full((3, 2), np.nan, np.float32)).width > 0


def test_windows_round_trip_and_refuse_junk() -> None:
    w = d.Window(0.5, 2.0, -1.0, 1.0)
    assert d.Window.from_list(w.as_list()) == w
    for junk in (
        None,
        [1, 2, 3],
        [0, 0, 0, 1],
        [0, 1, 1, 0],
        ["a", 1, 0, 1],
        [0, float("nan"), 0, 1],
    ):
        assert d.Window.from_list(junk) is None
    assert w.scaled(2.0) == d.Window(-0.25, 2.75, -2.0, 2.0)
    full = d.Window(0, 100, 0, 100)
    tiny = d.zoom_window(d.Window(5, 5 + 1e-9, 5, 5 + 1e-9), full)
    assert tiny.width >= 100 * d.MIN_SPAN and 1.0 <= tiny.width / tiny.height <= 2.0


def test_eq_hist_and_log_shades() -> None:
    counts = np.array([[0, 1, 2], [4, 8, 1000]])
    for how in ("eq_hist", "log"):
        lv = d.shade_levels(counts, how)  # type: ignore[arg-type]
        assert lv[0, 0] == 0
        assert lv[0, 1] == pytest.approx(d.MIN_SHADE) and lv[1, 2] == pytest.approx(1.0)
        occupied = lv[counts > 0]
        assert np.all(np.diff(occupied[np.argsort(counts[counts > 0])]) > 0)  # monotone
    # eq_hist spreads the shades evenly over occupied cells, whatever the outlier.
    assert d.shade_levels(counts, "eq_hist")[1, 1] == pytest.approx(0.25 + 0.75 * 3 / 4)


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def test_two_categories_put_each_colour_where_its_points_are() -> None:
    rng = np.random.default_rng(4)
    left = rng.uniform([0, 0], [4, 4], size=(4000, 2))
    right = rng.uniform([6, 0], [10, 4], size=(4000, 2))
    xy = np.vstack([left, right]).astype(np.float32)
    codes = np.repeat([0, 1], 4000)
    red, blue = (220, 30, 30), (30, 30, 220)
    img = d.render(
        xy, d.Window(0, 10, 0, 4), codes=codes, palette=np.array([red, blue]), max_shape=(100, 40)
    )
    assert img.shape == (100, 40) and img.n_in_view == 8000
    px = _decode(img.png).astype(int)
    assert px.shape == (40, 100, 4)
    left_px, gap, right_px = px[:, 5:35], px[:, 45:55], px[:, 65:95]
    assert (gap[..., 3] == 0).all()  # nothing there: transparent
    assert (left_px[..., 3] > 0).mean() > 0.9 and (right_px[..., 3] > 0).mean() > 0.9
    # Colours survive the 256-colour palette to within a few levels.
    for part, (r, _, b) in ((left_px, red), (right_px, blue)):
        seen = part[part[..., 3] > 0]
        assert np.abs(seen[:, 0] - r).max() < 24 and np.abs(seen[:, 2] - b).max() < 24
    # Where both meet, a pixel takes their mix.
    both = np.float32([[5.0, 2.0]] * 10)
    mixed = d.render(
        both,
        d.Window(0, 10, 0, 4),
        codes=np.repeat([0, 1], 5),
        palette=np.array([red, blue]),
        max_shape=(10, 4),
    )
    colours = _decode(mixed.png)[..., :3][_decode(mixed.png)[..., 3] > 0]
    assert np.abs(colours.astype(int) - [125, 30, 125]).max() < 12


def test_the_picture_stays_small_at_five_million_points() -> None:
    rng = np.random.default_rng(5)
    n = 5_000_000
    xy = rng.uniform(0, 1, size=(n, 2)).astype(np.float32)  # noise: the hardest to compress
    win = d.Window(0, 1.6, 0, 1)
    img = d.render(xy, win, codes=rng.integers(0, 8, n), palette=rng.integers(0, 256, (8, 3)))
    w, h = img.shape
    assert (w, h) == (960, 600) and img.n_in_view == n
    assert len(img.png) <= w * h + 16_000  # a byte a pixel at most, plus headers
    assert len(img.uri) < 1_000_000
    plain = d.render(xy, win)
    assert len(plain.png) <= w * h + 16_000


def test_numbers_colour_each_pixel_by_its_mean() -> None:
    xy = np.float32([[0.5, 0.5], [0.5, 0.5], [1.5, 0.5], [2.5, 0.5]])
    lut = d.colour_table(["#000000", "#ffffff"], steps=256)
    values = np.array([0.0, 1.0, 1.0, np.nan])
    rgba, n = d.density_rgba(
        xy, d.Window(0, 3, 0, 1), (3, 1), values=values, lut=lut, value_range=(0.0, 1.0)
    )
    assert n == 4
    assert abs(int(rgba[0, 0, 0]) - 128) <= 1  # mean 0.5: mid grey
    assert rgba[0, 1, 0] == 255  # 1.0: white
    assert tuple(rgba[0, 2, :3]) == d.NO_VALUE  # no value


def _bdata(value: object) -> np.ndarray:
    assert isinstance(value, dict), value
    return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))


def test_density_figure_is_small_and_names_its_cells() -> None:
    n = 1_000_000
    rng = np.random.default_rng(6)
    xy = rng.normal(size=(n, 2)).astype(np.float32)
    labels = np.array([f"item {i}" for i in range(n)], dtype=object)
    colour = pd.Series(np.where(xy[:, 0] > 0, "east", "west"))
    win = d.full_window(xy)
    fig, img = density_map(
        xy,
        win,
        labels,
        colour=colour,
        colour_name="side",
        highlight=[5, 9, 11],
        highlight_name="<b>hits</b>",
    )
    text = fig.to_json()
    assert len(text) < 1_500_000
    spec = json.loads(text)
    cells, *rest = spec["data"]
    assert cells["name"] == "cells"
    ids = _bdata(cells["customdata"])
    assert ids.dtype == np.uint16 and 0 < ids.size <= 30_000
    assert spec["layout"]["images"][0]["source"].startswith("data:image/png;base64,")
    assert spec["layout"]["dragmode"] == "select"
    names = [t.get("name") for t in rest]
    assert names[:2] == ["east", "west"] and "&lt;b&gt;hits&lt;/b&gt;" in names
    hits = next(t for t in rest if t.get("name", "").endswith("hits&lt;/b&gt;"))
    assert list(_bdata(hits["customdata"])) == [5, 9, 11]
    assert img.n_in_view == n


def test_a_part_of_a_map_keeps_row_ids_and_the_whole_maps_colours() -> None:
    xy = np.random.default_rng(7).normal(size=(400, 2)).astype(np.float32)
    labels = np.array([f"p{i}" for i in range(400)], dtype=object)
    colour = pd.Series(["a", "b", "c", "d"] * 100)
    rows = np.flatnonzero(colour.to_numpy() != "b")[::3]  # "b" is absent from the part
    fig = subset_map(
        xy,
        labels,
        rows,
        window=d.Window(-3, 3, -3, 3),
        colour=colour,
        colour_name="letter",
        highlight=[int(rows[0]), 1],
    )
    spec = json.loads(fig.to_json())
    plan = dict(category_colours(["a", "b", "c", "d"]))
    drawn = set()
    for t in spec["data"]:
        ids = typed(t["customdata"])
        drawn |= {int(i) for i in ids}
        if t["name"] in plan:
            assert t["marker"]["color"] == plan[t["name"]]  # c keeps c's colour, not b's
    assert drawn == {int(r) for r in rows}
    assert spec["layout"]["xaxis"]["range"] == [-3, 3]
    # The whole map drawn by scatter_map is as it always was.
    whole = json.loads(scatter_map(xy, labels, colour=colour).to_json())
    assert [t["marker"]["color"] for t in whole["data"][:4]] == PALETTE[:4]


def test_category_codes_name_categories_as_the_legend_does() -> None:
    colour = pd.Series([1, "1", None, "b", 2.5, "b"], dtype=object)
    codes, names = category_codes(colour)
    assert [names[c] for c in codes] == ["1", "1", "(missing)", "b", "2.5", "b"]
    assert top_categories(colour) == ["1", "b", "(missing)", "2.5"]  # most frequent first
