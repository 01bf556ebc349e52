"""Plotly scatter maps of every point: one trace per colour group, highlights on top,
names written on the map, pictures where image items lie. Drawing only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from explorer.core.safe_text import plot_text
from explorer.render.colours import HIGHLIGHT, Marker, colour_groups
from explorer.render.labels import MapLabel

__all__ = [
    "add_pictures",
    "hover_texts",
    "id_type",
    "map_layout",
    "scatter_map",
    "trace_adder",
    "write_names",
]


def hover_texts(labels: np.ndarray, limit: int = 120) -> np.ndarray:
    """Hover labels: cut to `limit` characters, then escaped (an entity is never cut)."""
    return np.asarray(
        [plot_text(s if len(s) <= limit else s[: limit - 1] + "…") for s in map(str, labels)],
        dtype=object,
    )


def scatter_map(
    coords: np.ndarray,
    labels: np.ndarray,
    *,
    colour: pd.Series | None = None,
    colour_name: str = "",
    numeric: bool | None = None,
    highlight: Sequence[int] = (),
    highlight_name: str = "highlighted",
    dim_others: bool = False,
    title: str = "",
    height: int = 640,
    axis_titles: tuple[str, str] | None = None,
    map_labels: Sequence[MapLabel] = (),
    muted: Sequence[str] = (),
    row_ids: np.ndarray | None = None,
    categories: Sequence[str] | None = None,
) -> Any:
    """An interactive 2-D (WebGL) or 3-D scatter of a map.

    Args:
        coords: (n, 2|3) float32; rows with NaN are not drawn.
        labels: (n,) hover text per row.
        colour: optional (n,) values to colour by (categorical or numeric).
        numeric: force a continuous colour scale (True) or categories (False);
            None decides by :func:`colour_kind`.
        highlight: rows drawn on top, larger and outlined (search hits, neighbours).
        dim_others: fade the non-highlighted points (when there are highlights).
        axis_titles: show the x and y axes with these titles (semantic axes, whose
            directions mean something); else the axes of a map are hidden.
        map_labels: names written on a 2-D map (``explorer.render.labels.place_labels``).
        muted: categories drawn in light grey and listed last (e.g. clustering noise).
        row_ids: (n,) the space's row of each row of `coords` (default 0..n-1).
        categories: the categories the legend names (default: the most frequent among
            the drawn rows), so that a part of a map keeps the whole map's colours.

    Every trace carries the row numbers in ``customdata`` so selections map back to items
    (1-D, so a selected point reports its row as a scalar).

    What reaches the browser is kept small: per point only x, y (, z) as float32, the row
    id (uint16, or int32 past 65,536 rows) and a numeric colour as float32, all sent by
    plotly as base64 typed arrays, plus the hover label once; everything else is one value
    per trace.
    """
    import plotly.graph_objects as go

    n, dims = coords.shape
    drawn = ~np.isnan(coords).any(axis=1)
    # plotly sends numpy arrays as base64 typed arrays ({"dtype": "i4", "bdata": ...}), so
    # row ids cost their item size (x 4/3) a point: uint16 while every row fits, else int32
    # (never int64, which plotly.js cannot read).
    ids = id_type(n if row_ids is None or row_ids.size == 0 else int(row_ids.max()) + 1)
    ok: np.ndarray = np.flatnonzero(drawn).astype(id_type(n))  # positions in `coords`
    three = dims == 3
    size = 3 if three else (4 if n > 20_000 else 6 if n > 2_000 else 8)
    opacity = 0.25 if (dim_others and len(highlight)) else (0.65 if n > 20_000 else 0.85)
    fig = go.Figure()
    add = trace_adder(fig, coords, hover_texts(np.asarray(labels, dtype=object)), ids, row_ids)
    base = {"size": size, "opacity": opacity}
    groups = colour_groups(ok, colour, colour_name, numeric, base, muted, categories)
    for rows, name, marker, legend in groups:
        add(rows, name, marker, legend)
    if three and n > 20_000:
        # scatter3d draws each marker as a triangulated glyph: a square is far fewer
        # triangles than a circle, so it draws faster; at 3 px the two look alike.
        # Highlights keep their outlined circles.
        fig.update_traces(marker_symbol="square")
    # Highlights that are drawn (a mask, not a per-row set lookup: thousands of search
    # hits on a 100k map must stay cheap).
    hl = np.asarray(highlight, dtype=np.int64).reshape(-1)
    hl = hl[(hl >= 0) & (hl < n)]
    hl = hl[drawn[hl]].astype(ok.dtype)
    ring = {"size": size * 2.2 + 4, "color": "rgba(0,0,0,0)"}
    add(hl, plot_text(highlight_name), {**ring, "line": {"width": 2, "color": HIGHLIGHT}}, True)
    map_layout(fig, three, title, height, colour_name, axis_titles)
    if not three:
        write_names(fig, map_labels)
    return fig


def add_pictures(fig: Any, coords: np.ndarray, rows: np.ndarray, uris: Sequence[str]) -> None:
    """Draw pictures (data URIs) centred on the points `rows` of a 2-D map, in data units,
    so they grow as the user zooms in (the Embedding Projector's sprite view).

    Each picture is as wide as 1/40 of the map's wider side, the size at which a few
    hundred pictures stay apart on a typical map.
    """
    if coords.shape[1] != 2 or len(rows) == 0:
        return
    finite = coords[~np.isnan(coords).any(axis=1)]
    span = float(np.ptp(finite, axis=0).max()) if finite.size else 1.0
    side = (span or 1.0) / 40
    for r, uri in zip(rows, uris, strict=True):
        fig.add_layout_image(
            source=uri,
            x=float(coords[r, 0]),
            y=float(coords[r, 1]),
            xref="x",
            yref="y",
            sizex=side,
            sizey=side,
            xanchor="center",
            yanchor="middle",
            layer="above",
        )


def write_names(fig: Any, map_labels: Sequence[MapLabel]) -> None:
    """Cluster names on a 2-D map, each on a faint white box so points stay visible."""
    for lab in map_labels:
        fig.add_annotation(
            x=lab.x,
            y=lab.y,
            text=plot_text(lab.text),
            showarrow=False,
            font={"size": round(lab.font), "color": "#1a1a1a"},
            bgcolor="rgba(255,255,255,0.6)",
            borderpad=1,
        )


def id_type(n: int) -> type:
    """The typed-array type of row ids below `n`: uint16 while every row fits, else int32
    (never int64, which plotly.js cannot read)."""
    return np.uint16 if n <= 2**16 else np.int32


def trace_adder(
    fig: Any, coords: np.ndarray, hover: np.ndarray, ids: type, row_ids: np.ndarray | None = None
) -> Any:
    """A function adding one trace of `rows` to `fig`: per point only x, y[, z], row, label.

    `row_ids` maps positions in `coords` to the space's rows (default: the identity)."""
    import plotly.graph_objects as go

    # float32 coordinates travel as "f4" typed arrays: 4 bytes a value, half of float64,
    # and far finer than a pixel (rounding them would not shrink a typed array).
    xyz = np.ascontiguousarray(coords, dtype=np.float32)
    three = xyz.shape[1] == 3
    trace = go.Scatter3d if three else go.Scattergl

    def add(rows: np.ndarray, name: str, marker: Marker, legend: bool) -> None:
        """`name` is already escaped (it goes into the hover template as is)."""
        if rows.size == 0:
            return
        kw: dict[str, Any] = {"x": xyz[rows, 0], "y": xyz[rows, 1]}
        if three:
            kw["z"] = xyz[rows, 2]
        # Everything else (size, colour, opacity, hover template) is one value per trace.
        fig.add_trace(
            trace(
                mode="markers",
                name=name,
                customdata=(rows if row_ids is None else row_ids[rows]).astype(ids, copy=False),
                text=hover[rows],
                hovertemplate="%{text}<extra>" + (name if legend else "") + "</extra>",
                marker=marker,
                showlegend=legend,
                **kw,
            )
        )

    return add


def map_layout(
    fig: Any,
    three: bool,
    title: str,
    height: int,
    colour_name: str,
    axis_titles: tuple[str, str] | None = None,
) -> None:
    fig.update_layout(
        title=plot_text(title) if title else None,
        height=height,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        legend={"itemsizing": "constant", "title": {"text": plot_text(colour_name)}},
        dragmode="lasso" if not three else "orbit",
        hoverlabel={"namelength": -1},
        uirevision="map",  # keep zoom and pan across reruns
    )
    if three:
        fig.update_scenes(xaxis_visible=False, yaxis_visible=False, zaxis_visible=False)
    elif axis_titles is not None:
        # Semantic axes: each direction means something, so label it; no equal scaling.
        fig.update_xaxes(title_text=plot_text(axis_titles[0]), zeroline=True)
        fig.update_yaxes(title_text=plot_text(axis_titles[1]), zeroline=True)
        fig.update_layout(margin={"l": 60, "r": 10, "t": 40 if title else 10, "b": 50})
    else:
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1)
