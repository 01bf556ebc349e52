"""Density views of big maps: every point binned on a grid and shaded into a small PNG.

A map of a million points cannot go to the browser point by point (tens of MB of typed
arrays and hover labels, and a WebGL scatter that stalls). Fully zoomed out, it goes as a
picture of its density instead, rendered here; once a view (a :class:`Window`) holds at most
:data:`POINT_BUDGET` points, the real points go (``explorer.render.scatter.scatter_map``).

Why plain numpy and Pillow rather than datashader: aggregating points into a grid is one
``np.bincount`` over a linear cell index, linear in the points (docs/design-figures.md
has its timing), which is what datashader's point reduction computes too, and the
rest (shading, category mix) is a few array lines; datashader would add numba-compiled
kernels, dask and xarray to the app's dependencies for the same picture.

Shading follows datashader's defaults: ``eq_hist`` (histogram equalisation: a pixel's shade
is the share of occupied pixels with at most its count, so sparse regions and dense cores
are both readable) or ``log``. Coloured by categories, a pixel takes the *mix* of its points'
category colours (their mean, weighted by count, as datashader's ``shade`` does) rather
than the majority's colour: a border where two categories overlap shows as their blend,
where a majority vote would hide the smaller category entirely. Its opacity carries the
count. Numbers colour a pixel by the mean of its points' values.

The PNG is a palette image (8 bits a pixel, at most 256 colours, alpha included), so its
size is bounded whatever the data: a byte a pixel of :data:`IMAGE_MAX` plus ~2 KB of
headers and palette (about 578,000 bytes at 960 × 600), however noisy the picture.

Coordinates are in map units; grids are (ny, nx) arrays with row 0 at the window's bottom
(y0); cell ``c`` is row ``c // nx``, column ``c % nx``. Plain typed numpy, no Streamlit.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "GRID_MAX",
    "IMAGE_MAX",
    "POINT_BUDGET",
    "ZOOM_OUT",
    "Cells",
    "DensityImage",
    "Window",
    "aggregate",
    "cell_index",
    "cells_window",
    "colour_table",
    "fit_aspect",
    "full_window",
    "grid_shape",
    "hex_rgb",
    "in_window",
    "occupied_cells",
    "render",
    "rows_in_cells",
    "shade_levels",
    "spread",
    "zoom_window",
]

# Real points are drawn once a view holds at most this many. scatter_map's message and
# drawing time grow linearly with the points, while a density picture's size is bounded
# at any size (IMAGE_MAX, GRID_MAX); at this budget a zoomed view costs no more than a
# map of 50,000 points, which is drawn point by point too (bench/b_density.py's figures
# are in docs/performance.md).
POINT_BUDGET = 50_000
# The density picture's largest size in pixels (width, height): the map's plot area is
# about 1,300 × 620 screen pixels in a wide layout, so a pixel here covers ~1.4 on screen,
# and the palette PNG stays ≤ 576,000 bytes (≤ 768 KB as base64 in the figure's JSON).
IMAGE_MAX = (960, 600)
# The grid of selectable cells laid over the picture (transparent markers at the occupied
# cells' centres): at most 200 × 150 = 30,000 cells, so a cell id fits uint16 and the
# markers cost ≤ 30,000 × (x, y, count as float32 + a uint16 id) ≈ 0.56 MB as base64.
GRID_MAX = (200, 150)
# Views narrower than this share of the whole map are not zoomed into further: float32
# coordinates hold about 7 digits.
MIN_SPAN = 1e-6
# "Zoom out" makes the view this many times as wide and high.
ZOOM_OUT = 2.0
# The faintest shade of an occupied pixel (0..1): a pixel holding one point stays visible.
MIN_SHADE = 0.25
# The single-colour ramp (no colour-by), from one point to the densest pixel.
LIGHT = (198, 219, 239)
DARK = (8, 48, 107)
NO_VALUE = (200, 200, 200)  # pixels whose points have no numeric value

Shading = Literal["eq_hist", "log"]


@dataclass(frozen=True)
class Window:
    """A rectangle of the map in map units: x from x0 to x1, y from y0 to y1 (inclusive)."""

    x0: float
    x1: float
    y0: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def as_list(self) -> list[float]:
        """[x0, x1, y0, y1] as plain floats (what session state keeps)."""
        return [float(self.x0), float(self.x1), float(self.y0), float(self.y1)]

    @classmethod
    def from_list(cls, values: object) -> Window | None:
        """The window [x0, x1, y0, y1], or None unless those are 4 finite, ordered numbers."""
        if not isinstance(values, list | tuple) or len(values) != 4:
            return None
        try:
            x0, x1, y0, y1 = (float(v) for v in values)
        except (TypeError, ValueError):
            return None
        if not all(math.isfinite(v) for v in (x0, x1, y0, y1)) or x1 <= x0 or y1 <= y0:
            return None
        return cls(x0, x1, y0, y1)

    def scaled(self, factor: float) -> Window:
        """The window `factor` times as wide and high, around the same centre."""
        cx, cy = (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2
        hw, hh = self.width * factor / 2, self.height * factor / 2
        return Window(cx - hw, cx + hw, cy - hh, cy + hh)

    def covers(self, other: Window) -> bool:
        return (
            self.x0 <= other.x0
            and self.x1 >= other.x1
            and self.y0 <= other.y0
            and self.y1 >= other.y1
        )

    def overlaps(self, other: Window) -> bool:
        return (
            self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1
        )


def full_window(coords: np.ndarray, pad: float = 0.02) -> Window:
    """The view of the whole map: every drawn point of (n, ≥2) `coords`, with `pad` of the
    span to spare on each side, its aspect fitted by :func:`fit_aspect` (a unit square
    around the origin when nothing is drawn); never empty."""
    xy = np.asarray(coords)[:, :2]
    ok = np.isfinite(xy).all(axis=1)
    if not ok.any():
        return Window(-0.5, 0.5, -0.5, 0.5)
    lo = xy[ok].min(axis=0).astype(np.float64)
    hi = xy[ok].max(axis=0).astype(np.float64)
    # A span of zero (all points on a line or one spot) gets a small positive one.
    span = np.maximum(hi - lo, np.maximum(np.abs(hi), 1.0) * 1e-3)
    mid = (lo + hi) / 2
    lo, hi = mid - span * (0.5 + pad), mid + span * (0.5 + pad)
    return fit_aspect(Window(float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])))


def fit_aspect(window: Window, low: float = 1.0, high: float = 2.0) -> Window:
    """`window` widened or heightened around its centre so that width / height lies in
    [low, high]: a map's plot area is wider than high, and a tall sliver of a box would
    otherwise be drawn as a narrow strip."""
    ratio = window.width / window.height
    cx, cy = (window.x0 + window.x1) / 2, (window.y0 + window.y1) / 2
    if ratio < low:
        hw = window.height * low / 2
        return Window(cx - hw, cx + hw, window.y0, window.y1)
    if ratio > high:
        hh = window.width / high / 2
        return Window(window.x0, window.x1, cy - hh, cy + hh)
    return window


def in_window(coords: np.ndarray, window: Window) -> np.ndarray:
    """(n,) bool: rows of (n, ≥2) `coords` inside `window` (edges included; NaN never)."""
    x, y = np.asarray(coords)[:, 0], np.asarray(coords)[:, 1]
    return (x >= window.x0) & (x <= window.x1) & (y >= window.y0) & (y <= window.y1)


def spread(rows: np.ndarray, k: int) -> np.ndarray:
    """At most `k` of the ascending `rows`, evenly spaced among them (all if ≤ k)."""
    rows = np.asarray(rows, dtype=np.int64)
    if rows.size <= k:
        return rows
    return rows[np.unique(np.linspace(0, rows.size - 1, k).astype(np.int64))]


def grid_shape(window: Window, max_w: int, max_h: int) -> tuple[int, int]:
    """(nx, ny): the largest grid of square cells over `window` within max_w × max_h."""
    ratio = window.width / window.height
    if ratio >= max_w / max_h:
        nx, ny = max_w, round(max_w / ratio)
    else:
        nx, ny = round(max_h * ratio), max_h
    return max(1, min(max_w, int(nx))), max(1, min(max_h, int(ny)))


def cell_index(coords: np.ndarray, window: Window, shape: tuple[int, int]) -> np.ndarray:
    """(n,) int64: the grid cell of each row of `coords` (``row * nx + col``), -1 outside.

    `shape` is (nx, ny); a point on the window's right or top edge falls in the last cell.
    """
    nx, ny = shape
    xy = np.asarray(coords)
    inside = in_window(xy, window)
    # float64 for the arithmetic: float32 would misplace points near cell edges of a
    # narrow window far from the origin.
    x = xy[inside, 0].astype(np.float64)
    y = xy[inside, 1].astype(np.float64)
    col = np.minimum(((x - window.x0) * (nx / window.width)).astype(np.int64), nx - 1)
    row = np.minimum(((y - window.y0) * (ny / window.height)).astype(np.int64), ny - 1)
    out = np.full(xy.shape[0], -1, dtype=np.int64)
    out[inside] = row * nx + col
    return out


def aggregate(coords: np.ndarray, window: Window, shape: tuple[int, int]) -> np.ndarray:
    """(ny, nx) int64: how many rows of `coords` fall in each cell of `window`'s grid."""
    nx, ny = shape
    cells = cell_index(coords, window, shape)
    return np.bincount(cells[cells >= 0], minlength=nx * ny).reshape(ny, nx)


@dataclass(frozen=True)
class Cells:
    """The occupied cells of a window's selection grid.

    Attributes:
        window: the window the grid covers.
        shape: (nx, ny) of the grid.
        ids: (m,) uint16 cell ids (``row * nx + col``), ascending.
        centres: (m, 2) float32 centres in map units.
        counts: (m,) int32 points in each cell.
    """

    window: Window
    shape: tuple[int, int]
    ids: np.ndarray
    centres: np.ndarray
    counts: np.ndarray


def occupied_cells(
    coords: np.ndarray, window: Window, max_shape: tuple[int, int] = GRID_MAX
) -> Cells:
    """The cells of `window`'s selection grid (at most `max_shape`) that hold points."""
    shape = grid_shape(window, *max_shape)
    nx, ny = shape
    if nx * ny > 2**16:
        raise ValueError(f"a selection grid of {nx} × {ny} cells does not fit uint16 ids")
    counts = aggregate(coords, window, shape).ravel()
    ids = np.flatnonzero(counts)
    cw, ch = window.width / nx, window.height / ny
    centres = np.stack(
        [window.x0 + (ids % nx + 0.5) * cw, window.y0 + (ids // nx + 0.5) * ch], axis=1
    ).astype(np.float32)
    return Cells(window, shape, ids.astype(np.uint16), centres, counts[ids].astype(np.int32))


def _valid_cells(cells: Sequence[int] | np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The ids in `cells` that name a cell of `shape` (what a browser sends is checked)."""
    ids = np.asarray(cells, dtype=np.float64).reshape(-1)
    ids = ids[np.isfinite(ids) & (ids >= 0) & (ids < shape[0] * shape[1])]
    return np.unique(ids.astype(np.int64))


def cells_window(
    cells: Sequence[int] | np.ndarray, window: Window, shape: tuple[int, int]
) -> Window | None:
    """The bounds of the grid `cells` (ids of `window`'s grid of `shape` (nx, ny)), in map
    units; None when no id names a cell of that grid."""
    ids = _valid_cells(cells, shape)
    if ids.size == 0:
        return None
    nx, ny = shape
    col, row = ids % nx, ids // nx
    cw, ch = window.width / nx, window.height / ny
    return Window(
        window.x0 + int(col.min()) * cw,
        window.x0 + (int(col.max()) + 1) * cw,
        window.y0 + int(row.min()) * ch,
        window.y0 + (int(row.max()) + 1) * ch,
    )


def rows_in_cells(
    coords: np.ndarray,
    window: Window,
    shape: tuple[int, int],
    cells: Sequence[int] | np.ndarray,
) -> np.ndarray:
    """(k,) int64 ascending: every row of `coords` inside the grid `cells`, from the
    coordinates themselves (not from what was drawn)."""
    ids = _valid_cells(cells, shape)
    if ids.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.isin(cell_index(coords, window, shape), ids))


def zoom_window(selected: Window, full: Window) -> Window:
    """The view to draw after the part `selected` of the map was chosen: its aspect
    fitted to a plot area, and never narrower than :data:`MIN_SPAN` of the `full` map."""
    least = max(full.width, full.height) * MIN_SPAN
    view = selected
    if view.width < least or view.height < least:
        # A sliver of the map: give it some room.
        view = Window(view.x0 - least, view.x1 + least, view.y0 - least, view.y1 + least)
    return fit_aspect(view)


def shade_levels(counts: np.ndarray, how: Shading = "eq_hist") -> np.ndarray:
    """(ny, nx) float32 shades in [MIN_SHADE, 1] of occupied cells, 0 where empty.

    ``eq_hist``: the fewest points map to MIN_SHADE, the most to 1, and a count in between
    to the share of occupied cells with at most that count (histogram equalisation);
    ``log``: log(1 + count) over log(1 + max count).
    """
    out = np.zeros(counts.shape, dtype=np.float32)
    occupied = counts > 0
    c = counts[occupied]
    if c.size == 0:
        return out
    if how == "log":
        top = math.log1p(float(c.max()))
        low = math.log1p(float(c.min()))
        level = (np.log1p(c.astype(np.float64)) - low) / (top - low) if top > low else None
    elif how == "eq_hist":
        _, inverse, freq = np.unique(c, return_inverse=True, return_counts=True)
        cdf = np.cumsum(freq) / c.size
        # The smallest count starts at 0, however many cells share it.
        level = (cdf[inverse] - cdf[0]) / (1 - cdf[0]) if cdf[0] < 1 else None
    else:
        raise ValueError(f"unknown shading {how!r}: use eq_hist or log")
    shade = np.ones(c.size) if level is None else MIN_SHADE + (1 - MIN_SHADE) * level
    out[occupied] = shade.astype(np.float32)
    return out


def _mean_colour(
    cells: np.ndarray, weights: np.ndarray, ncell: int, counts: np.ndarray
) -> np.ndarray:
    """(ncell, 3) float64: per cell, the mean of its rows' (k, 3) colour `weights`."""
    sums = np.stack(
        [np.bincount(cells, weights=weights[:, c], minlength=ncell) for c in range(3)], axis=1
    )
    return sums / np.maximum(counts, 1)[:, None]


def _ramp(levels: np.ndarray) -> np.ndarray:
    """(…, 3) float64 colours of the single-colour ramp at `levels` in [0, 1]."""
    lo, hi = np.asarray(LIGHT, dtype=np.float64), np.asarray(DARK, dtype=np.float64)
    return lo + (hi - lo) * levels[..., None]


def density_rgba(
    coords: np.ndarray,
    window: Window,
    shape: tuple[int, int],
    *,
    codes: np.ndarray | None = None,
    palette: np.ndarray | None = None,
    values: np.ndarray | None = None,
    lut: np.ndarray | None = None,
    value_range: tuple[float, float] | None = None,
    how: Shading = "eq_hist",
) -> tuple[np.ndarray, int]:
    """The (ny, nx, 4) uint8 RGBA picture of `window` (row 0 at the top) and the number of
    points in it.

    Args:
        coords: (n, ≥2) map coordinates; NaN rows are not drawn.
        shape: (nx, ny) pixels.
        codes, palette: colour by category: (n,) int codes into (k, 3) RGB `palette`
            (0..255); a pixel takes the count-weighted mean of its points' colours, its
            opacity the shade of its count.
        values, lut: colour by number: (n,) floats (NaN: no value) through a (m, 3) RGB
            look-up table from `value_range` (default: the values' range in view) low to
            high; a pixel takes its points' mean value.
        how: shading of the counts (:func:`shade_levels`).
        Neither: one colour ramp from light (one point) to dark (the densest pixel).
    """
    nx, ny = shape
    ncell = nx * ny
    cell = cell_index(coords, window, shape)
    keep = cell >= 0
    cells = cell[keep]
    counts = np.bincount(cells, minlength=ncell)
    level = shade_levels(counts, how).ravel()
    rgba = np.zeros((ncell, 4), dtype=np.float64)
    if codes is not None and palette is not None:
        pal = np.asarray(palette, dtype=np.float64)
        rgba[:, :3] = _mean_colour(cells, pal[np.asarray(codes)[keep]], ncell, counts)
        rgba[:, 3] = level * 255
    elif values is not None and lut is not None:
        vals = np.asarray(values)[keep]
        rgba[:, :3] = _value_colour(cells, vals, ncell, lut, value_range)
        rgba[:, 3] = level * 255
    else:
        rgba[:, :3] = _ramp(level)
        rgba[:, 3] = np.where(counts > 0, 255, 0)
    pic = np.clip(np.rint(rgba), 0, 255).astype(np.uint8).reshape(ny, nx, 4)
    return pic[::-1].copy(), int(cells.size)  # image rows run from the top


def _value_colour(
    cells: np.ndarray,
    values: np.ndarray,
    ncell: int,
    lut: np.ndarray,
    value_range: tuple[float, float] | None,
) -> np.ndarray:
    """(ncell, 3) float64: each cell's mean finite value through `lut` (NO_VALUE if none)."""
    vals = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(vals)
    n_ok = np.bincount(cells[ok], minlength=ncell)
    mean = np.bincount(cells[ok], weights=vals[ok], minlength=ncell) / np.maximum(n_ok, 1)
    if value_range is None:
        value_range = (float(vals[ok].min()), float(vals[ok].max())) if ok.any() else (0.0, 1.0)
    lo, hi = value_range
    t = np.clip((mean - lo) / (hi - lo), 0, 1) if hi > lo else np.full(ncell, 0.5)
    table = np.asarray(lut, dtype=np.float64)
    out = table[np.rint(t * (len(table) - 1)).astype(np.int64)]
    out[n_ok == 0] = NO_VALUE
    return out


def hex_rgb(colour: str) -> tuple[int, int, int]:
    """(r, g, b) 0..255 of a ``#rrggbb`` colour."""
    h = colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def colour_table(stops: Sequence[str], steps: int = 256) -> np.ndarray:
    """(steps, 3) uint8: a look-up table running evenly through ``#rrggbb`` `stops`."""
    rgb = np.asarray([hex_rgb(c) for c in stops], dtype=np.float64)
    at = np.linspace(0, len(rgb) - 1, steps)
    out = np.stack([np.interp(at, np.arange(len(rgb)), rgb[:, c]) for c in range(3)], axis=1)
    return np.rint(out).astype(np.uint8)


def encode_png(rgba: np.ndarray) -> bytes:
    """A palette PNG (≤ 256 colours, alpha kept) of (h, w, 4) uint8 `rgba`: one byte a
    pixel before compression, so never much more than h × w bytes."""
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(rgba, dtype=np.uint8), "RGBA")
    # FASTOCTREE is the built-in quantiser that keeps alpha.
    pal = img.quantize(256, method=Image.Quantize.FASTOCTREE)
    buf = io.BytesIO()
    pal.save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


@dataclass(frozen=True)
class DensityImage:
    """A rendered density picture: `png` covers `window` with `shape` (nx, ny) pixels,
    and `n_in_view` points fell in it."""

    window: Window
    shape: tuple[int, int]
    png: bytes
    n_in_view: int

    @property
    def uri(self) -> str:
        """The picture as a ``data:image/png;base64,…`` URI (plotly's layout image)."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def render(
    coords: np.ndarray,
    window: Window,
    *,
    max_shape: tuple[int, int] = IMAGE_MAX,
    codes: np.ndarray | None = None,
    palette: np.ndarray | None = None,
    values: np.ndarray | None = None,
    lut: np.ndarray | None = None,
    value_range: tuple[float, float] | None = None,
    how: Shading = "eq_hist",
) -> DensityImage:
    """The density picture of `window` (square pixels, at most `max_shape`); colour
    arguments as in :func:`density_rgba`."""
    shape = grid_shape(window, *max_shape)
    rgba, n = density_rgba(
        coords,
        window,
        shape,
        codes=codes,
        palette=palette,
        values=values,
        lut=lut,
        value_range=value_range,
        how=how,
    )
    return DensityImage(window, shape, encode_png(rgba), n)
