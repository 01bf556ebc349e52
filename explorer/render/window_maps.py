"""Pictures of part of a big map: the real points of a zoomed window, or the density
picture of the whole (``explorer.render.density`` makes its grid).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from explorer.core.safe_text import plot_text
from explorer.render import density as dens
from explorer.render.colours import (
    HIGHLIGHT,
    OTHER_COLOUR,
    VIRIDIS,
    category_codes,
    category_colours,
    colour_kind,
    top_categories,
    top_of,
)
from explorer.render.density import DensityImage, Shading, Window
from explorer.render.labels import MapLabel
from explorer.render.scatter import (
    hover_texts,
    id_type,
    map_layout,
    scatter_map,
    trace_adder,
    write_names,
)

__all__ = ["density_map", "subset_map"]


def subset_map(
    coords: np.ndarray,
    labels: np.ndarray,
    rows: np.ndarray,
    *,
    window: Window | None = None,
    colour: pd.Series | None = None,
    highlight: Sequence[int] = (),
    axis_titles: tuple[str, str] | None = None,
    **kwargs: Any,
) -> Any:
    """:func:`scatter_map` of the (m,) ascending `rows` of a map only (a zoomed-in view, a
    sample of a big 3-D map), with the space's rows in ``customdata``. `coords` (n, 2|3),
    `labels`, `colour` and `highlight` are the whole map's (so categories keep the whole
    map's colours); the axes show exactly `window` of a 2-D map."""
    rows = np.asarray(rows, dtype=np.int64)
    hl = np.asarray(highlight, dtype=np.int64).reshape(-1)
    pos = np.minimum(np.searchsorted(rows, hl), max(rows.size - 1, 0))
    local: list[int] = pos[rows[pos] == hl].tolist() if rows.size else []
    part = None
    if colour is not None:
        part = colour.iloc[rows].reset_index(drop=True)
        if kwargs.get("numeric") is not True and colour_kind(colour) == "categorical":
            kwargs.setdefault("categories", top_categories(colour))
    fig = scatter_map(
        coords[rows],
        np.asarray(labels, dtype=object)[rows],
        row_ids=rows,
        colour=part,
        highlight=local,
        axis_titles=axis_titles,
        **kwargs,
    )
    if window is not None and coords.shape[1] == 2:
        _window_axes(fig, window, axis_titles is not None)
    return fig


def _window_axes(fig: Any, window: Window, titled: bool) -> None:
    """Show exactly `window` of a 2-D map; a new window is a new view (not the last zoom)."""
    # Equal scales shrink the plot area rather than widen the ranges, so the view shows
    # the window and nothing beyond it (where the picture would be blank).
    equal = {} if titled else {"constrain": "domain"}
    fig.update_xaxes(range=[window.x0, window.x1], autorange=False, **equal)
    fig.update_yaxes(range=[window.y0, window.y1], autorange=False, **equal)
    fig.update_layout(uirevision="window " + " ".join(f"{v:.9g}" for v in window.as_list()))


def density_map(
    coords: np.ndarray,
    window: Window,
    labels: np.ndarray,
    *,
    colour: pd.Series | None = None,
    colour_name: str = "",
    numeric: bool | None = None,
    muted: Sequence[str] = (),
    highlight: Sequence[int] = (),
    highlight_name: str = "highlighted",
    title: str = "",
    height: int = 640,
    axis_titles: tuple[str, str] | None = None,
    map_labels: Sequence[MapLabel] = (),
    how: Shading = "eq_hist",
) -> tuple[Any, DensityImage]:
    """The density view of `window` of a big 2-D map (n, 2), and its picture. `colour`:
    categories mix in each pixel, numbers average; `highlight`: rows drawn as real points
    on top, the first POINT_BUDGET of them; `how`: ``eq_hist`` or ``log``.

    What goes to the browser, whatever n is: the picture as a PNG data URI in a layout
    image (≤ ~0.8 MB, see ``explorer.render.density``), the occupied cells of a ≤ 200 × 150 grid
    as transparent markers (x, y float32, uint16 cell id in ``customdata``, count as float32
    marker colour for the hover) so that a selection reports cells (they are the first
    trace, ``curve_number`` 0), the highlights with row ids, and a legend.
    """
    import plotly.graph_objects as go

    spec, legend = _density_colours(coords, colour, colour_name, numeric, muted)
    image = dens.render(coords, window, how=how, **spec)
    cells = dens.occupied_cells(coords, window)
    fig = go.Figure()
    hidden = {"marker": {"opacity": 0}}  # the cells are there to be selected, never seen
    fig.add_trace(
        go.Scattergl(
            x=cells.centres[:, 0],
            y=cells.centres[:, 1],
            customdata=cells.ids,
            mode="markers",
            marker={"size": 6, "opacity": 0, "color": cells.counts.astype(np.float32)},
            selected=hidden,
            unselected=hidden,
            name="cells",
            showlegend=False,
            hovertemplate="%{marker.color:,} points here<extra></extra>",
        )
    )
    fig.add_layout_image(
        source=image.uri,
        xref="x",
        yref="y",
        x=window.x0,
        y=window.y1,
        sizex=window.width,
        sizey=window.height,
        sizing="stretch",
        layer="below",
        opacity=0.5 if len(highlight) else 1.0,
    )
    for trace in legend:
        fig.add_trace(trace)
    hl = np.asarray(highlight, dtype=np.int64).reshape(-1)[: dens.POINT_BUDGET]
    if hl.size:
        hover = hover_texts(np.asarray(labels, dtype=object)[hl])
        add = trace_adder(fig, coords[hl], hover, id_type(coords.shape[0]), hl)
        ring = {"size": 12, "color": "rgba(0,0,0,0)", "line": {"width": 2, "color": HIGHLIGHT}}
        add(np.arange(hl.size), plot_text(highlight_name), ring, True)
    map_layout(fig, False, title, height, colour_name, axis_titles)
    _window_axes(fig, window, axis_titles is not None)
    fig.update_layout(dragmode="select")  # a box picks the part to see next
    write_names(fig, map_labels)
    return fig, image


def _density_colours(
    coords: np.ndarray,
    colour: pd.Series | None,
    colour_name: str,
    numeric: bool | None,
    muted: Sequence[str],
) -> tuple[dict[str, Any], list[Any]]:
    """``explorer.render.density.render``'s colour arguments for `colour`, and the legend traces
    that name the colours (a category each, or a colour bar)."""
    import plotly.graph_objects as go

    if colour is None:
        return {}, []
    dot = {"mode": "markers", "hoverinfo": "skip"}
    if numeric or (numeric is None and colour_kind(colour) == "numeric"):
        vals = pd.to_numeric(colour, errors="coerce").to_numpy(dtype=np.float64)
        finite = vals[np.isfinite(vals)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        bar = {"title": {"text": plot_text(colour_name)}, "thickness": 14}
        scale = {"colorscale": "Viridis", "showscale": True, "colorbar": bar, "cmin": lo}
        marker = {**scale, "color": [lo, hi], "cmax": hi}
        legend = [go.Scattergl(x=[None] * 2, y=[None] * 2, marker=marker, showlegend=False, **dot)]
        lut = dens.colour_table(VIRIDIS)
        return {"values": vals, "lut": lut, "value_range": (lo, hi)}, legend
    codes, names = category_codes(colour)
    counts = np.bincount(codes[np.isfinite(coords).all(axis=1)], minlength=len(names))
    plan = category_colours(top_of(counts, names), muted)
    slot = {c: i for i, (c, _) in enumerate(plan)}
    # Each category's palette slot; every other category shares one grey (the last).
    slots = np.asarray([slot.get(name, len(plan)) for name in names], dtype=np.int64)
    palette = np.asarray([dens.hex_rgb(c) for c in [*dict(plan).values(), OTHER_COLOUR]])
    entries = [(plot_text(c), col) for c, col in plan]
    n_other = int(((counts > 0) & (slots == len(plan))).sum())
    if n_other > 0:
        entries.append((f"other ({n_other} values)", OTHER_COLOUR))
    legend = [
        go.Scattergl(x=[None], y=[None], name=name, marker={"color": col, "size": 8}, **dot)
        for name, col in entries
    ]
    return {"codes": slots[codes], "palette": palette}, legend
