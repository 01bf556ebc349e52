from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd

from explorer.analysis.probes import AnalogyLayout
from explorer.render.colours import MAX_CATEGORIES, colour_kind
from explorer.render.probe_figures import analogy_figure, section_bars
from explorer.render.scatter import scatter_map


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
    xy = np.random.default_rng(0).normal(size=(4, 2)).astype(np.float32)
    fig = analogy_figure(
        AnalogyLayout(
            words=["man", "king", "woman", "queen"],
            xy=xy,
            roles=["minus", "plus", "plus", "answer"],
            arrows=[(0, 2), (1, 3)],
        )
    )
    assert len(fig.layout.annotations) == 2
    assert {t.name for t in fig.data} == {"minus", "plus", "answer"}
    # It draws the layout's positions as given: no projection of its own.
    king_to_queen = fig.layout.annotations[1]
    assert (king_to_queen.ax, king_to_queen.ay) == (float(xy[1, 0]), float(xy[1, 1]))
    assert (king_to_queen.x, king_to_queen.y) == (float(xy[3, 0]), float(xy[3, 1]))
    answer = next(t for t in fig.data if t.name == "answer")
    assert list(answer.text) == ["queen"] and answer.x[0] == float(xy[3, 0])


def test_section_bars() -> None:
    fig = section_bars({"capitals": (0.9, 100), "family": (0.5, 20)})
    assert list(fig.data[0].y) == ["capitals", "family"]
    assert list(fig.data[0].x) == [90.0, 50.0]


# --- What the browser receives: compact typed arrays, no per-point repetition. ---

# x, y as float32 and the row id as uint16 (a map of <= 65,536 rows): 10 bytes a point.
BYTES_PER_POINT = 4 + 4 + 2
# plotly.io.to_json (what Streamlit sends) writes every "/" as "\u002f", 6 chars for 1: ~8 %
# more for random bytes, ~28 % for float32 values in (-2, 2) (their exponent byte is 0x3F or
# 0xBF, whose low six bits are "/"). The test coordinates are N(0, 1), the worst case.
BASE64 = 4 / 3 * 1.35
OVERHEAD = 10_000  # plotly's default template (~7 kB), the layout and per-trace scalars


def _spec(fig) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(fig.to_json())


def _decode(arr: object) -> np.ndarray:
    """A plotly.js-style decode of a base64 typed array (fails on plain JSON lists)."""
    assert isinstance(arr, dict) and set(arr) >= {"dtype", "bdata"}, f"not a typed array: {arr!r}"
    return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=np.dtype(arr["dtype"]))


def _number_lists(value: object, longer_than: int = 20) -> list[object]:
    """Every JSON list of numbers longer than a colour scale, anywhere (per-point data)."""
    if isinstance(value, dict):
        return [x for v in value.values() for x in _number_lists(v, longer_than)]
    if isinstance(value, list):
        numbers = [v for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
        return ([value] if len(numbers) > longer_than else []) + [
            x for v in value for x in _number_lists(v, longer_than)
        ]
    return []


def _text_bytes(labels: np.ndarray) -> int:
    return sum(len(s) + 3 for s in labels)  # '"label",' in compact JSON


def test_map_sends_float32_coordinates_and_compact_row_ids_as_typed_arrays() -> None:
    n = 10_000
    coords = _coords(n)
    coords[7] = np.nan
    labels = np.array([f"w{i}" for i in range(n)], dtype=object)
    fig = scatter_map(
        coords, labels, colour=pd.Series([f"c{i % 5}" for i in range(n)]), highlight=[1, 7, 9]
    )
    raw = fig.to_json()
    spec = json.loads(raw)
    assert '"f8"' not in raw and '"i8"' not in raw
    rows: list[int] = []
    for t in spec["data"]:
        assert t["x"]["dtype"] == t["y"]["dtype"] == "f4"
        assert t["customdata"]["dtype"] == "u2"  # int32 past 65,536 rows, never int64
        ids = _decode(t["customdata"])
        # A selection reports customdata as the scalar row (1-D customdata): pages/1_Map.py
        # reads int(p["customdata"]) or p["customdata"][0]; both give the row back.
        assert ids.ndim == 1
        x = _decode(t["x"])
        np.testing.assert_array_equal(x, coords[ids, 0])
        assert t["text"] == [f"w{r}" for r in ids]
        # One value per trace for everything that is not per point.
        marker = t["marker"]
        assert isinstance(marker["color"], str) and isinstance(marker["size"], int | float)
        if t["name"] != "highlighted":
            rows += ids.tolist()
    assert sorted(rows) == [r for r in range(n) if r != 7]
    assert _number_lists(spec["data"]) == []
    # Per point: 10 bytes as base64 with escapes, and the label's JSON: 17.3 + 7.9 here
    # (with the layout), under the bound of 18 + 7.9 + 1. float64 coordinates would make
    # it ~27 + 7.9, JSON lists of numbers ~20 a value, repeated hover text +8.
    drawn = np.delete(labels, 7)
    assert len(raw) <= BYTES_PER_POINT * BASE64 * (n - 1) + _text_bytes(drawn) + OVERHEAD


def test_numeric_colour_is_a_float32_typed_array() -> None:
    n = 10_000
    labels = np.array(["x"] * n, dtype=object)
    vals = np.linspace(0, 1, n)
    vals[3] = np.nan
    vals[4] = 1e300  # beyond float32: stays a (clipped) value, not "no value"
    fig = scatter_map(_coords(n), labels, colour=pd.Series(vals), colour_name="v")
    raw = fig.to_json()
    spec = json.loads(raw)
    main = spec["data"][0]
    assert main["marker"]["color"]["dtype"] == "f4"
    colours = _decode(main["marker"]["color"])
    ids = _decode(main["customdata"])
    assert np.isfinite(colours).all() and 4 in ids.tolist() and 3 not in ids.tolist()
    np.testing.assert_allclose(colours[ids != 4], vals[ids[ids != 4]], rtol=1e-6)
    assert [t["name"] for t in spec["data"]] == ["v", "no value"]
    assert _decode(spec["data"][1]["customdata"]).tolist() == [3]
    assert _number_lists(spec["data"]) == []
    # + float32 colours, 4 bytes a point: ours is 23.9 a point (with the layout) under a
    # bound of 25.2 + 1; float64 colours would add ~7 more (~30 a point).
    assert len(raw) <= (BYTES_PER_POINT + 4) * BASE64 * n + _text_bytes(labels) + OVERHEAD


def test_three_d_maps_are_float32_and_large_ones_draw_squares() -> None:
    n = 25_000
    fig = scatter_map(_coords(n, 3), np.array(["x"] * n, dtype=object), highlight=[0, 1])
    spec = _spec(fig)
    main, hl = spec["data"]
    assert main["type"] == "scatter3d" and main["z"]["dtype"] == "f4"
    assert main["marker"]["symbol"] == "square"  # cheaper glyph for plotly.js's scatter3d
    assert "symbol" not in hl["marker"] and _decode(hl["customdata"]).tolist() == [0, 1]
    small = _spec(scatter_map(_coords(50, 3), np.array(["x"] * 50, dtype=object)))
    assert "symbol" not in small["data"][0]["marker"]


def test_highlights_skip_rows_not_drawn_or_out_of_range() -> None:
    n = 5_000
    coords = _coords(n)
    coords[10] = np.nan
    many = list(range(0, n, 2))  # thousands of search hits
    fig = scatter_map(coords, np.array(["x"] * n, dtype=object), highlight=[*many, -1, n + 5])
    hl = next(t for t in fig.data if t.name == "highlighted")
    assert hl.customdata.tolist() == [r for r in many if r != 10]


def test_row_ids_past_uint16_are_int32() -> None:
    n = 2**16 + 10
    fig = scatter_map(_coords(n), np.array(["x"] * n, dtype=object), highlight=[n - 1])
    spec = _spec(fig)
    main, hl = spec["data"]
    assert main["customdata"]["dtype"] == hl["customdata"]["dtype"] == "i4"
    assert _decode(main["customdata"]).tolist() == list(range(n))
    assert _decode(hl["customdata"]).tolist() == [n - 1]


def test_cluster_legend_runs_in_cluster_order() -> None:
    import pandas as pd

    from explorer.render.scatter import scatter_map

    labels = ["10: rain", "2: sun", "1: snow", "noise"] * 5
    coords = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)
    fig = scatter_map(
        coords, np.array(labels, dtype=object), colour=pd.Series(labels), muted=("noise",)
    )
    names = [t.name for t in fig.data]
    assert names == ["1: snow", "2: sun", "10: rain", "noise"]  # noise last, in grey
    assert fig.data[-1].marker.color == "#C8C8C8"
