"""Plotly figures for the app. Imports plotly lazily; no Streamlit here.

Point identity travels in ``customdata`` (the row number in the space), because
``point_index`` is per trace and breaks once colour splits the points into traces.

Every string that comes from the data (hover labels, trace and legend names, titles,
colour-bar titles, axis categories) passes through :func:`explorer.safe_text.plot_text`:
plotly.js reads labels as a subset of HTML (``<a href>``, ``<b>``, entities), and data
comes from untrusted uploads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .map_labels import MapLabel
from .safe_text import plot_text

if TYPE_CHECKING:
    from .probes import AnalogyLayout

__all__ = [
    "MAX_CATEGORIES",
    "add_pictures",
    "analogy_figure",
    "colour_kind",
    "scatter_map",
    "section_bars",
]

MAX_CATEGORIES = 20
PALETTE = [
    "#4E79A7",
    "#F28E2B",
    "#E15759",
    "#76B7B2",
    "#59A14F",
    "#EDC948",
    "#B07AA1",
    "#FF9DA7",
    "#9C755F",
    "#BAB0AC",
    "#1F77B4",
    "#FF7F0E",
    "#2CA02C",
    "#D62728",
    "#9467BD",
    "#8C564B",
    "#E377C2",
    "#7F7F7F",
    "#BCBD22",
    "#17BECF",
]
OTHER_COLOUR = "#C8C8C8"
HIGHLIGHT = "#111111"


def colour_kind(values: pd.Series) -> str:
    """``numeric`` for numbers with many distinct values, else ``categorical``."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return "numeric" if values.nunique(dropna=True) > MAX_CATEGORIES else "categorical"
    return "categorical"


def _hover(labels: np.ndarray, limit: int = 120) -> np.ndarray:
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
        map_labels: names written on a 2-D map (``explorer.map_labels.place_labels``).
        muted: categories drawn in light grey and listed last (e.g. clustering noise).

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
    ids = np.uint16 if n <= 2**16 else np.int32
    ok = np.flatnonzero(drawn).astype(ids)
    three = dims == 3
    size = 3 if three else (4 if n > 20_000 else 6 if n > 2_000 else 8)
    opacity = 0.25 if (dim_others and len(highlight)) else (0.65 if n > 20_000 else 0.85)
    fig = go.Figure()
    add = _trace_adder(fig, coords, _hover(np.asarray(labels, dtype=object)), ids)
    base = {"size": size, "opacity": opacity}
    for rows, name, marker, legend in _colour_groups(ok, colour, colour_name, numeric, base, muted):
        add(rows, name, marker, legend)
    if three and n > 20_000:
        # scatter3d draws each marker as a triangulated glyph: a square is far fewer
        # triangles than a circle and draws about twice as fast (100k points, software
        # WebGL); at 3 px the two look alike. Highlights keep their outlined circles.
        fig.update_traces(marker_symbol="square")
    # Highlights that are drawn (a mask, not a per-row set lookup: thousands of search
    # hits on a 100k map must stay cheap).
    hl = np.asarray(highlight, dtype=np.int64).reshape(-1)
    hl = hl[(hl >= 0) & (hl < n)]
    hl = hl[drawn[hl]].astype(ids)
    ring = {"size": size * 2.2 + 4, "color": "rgba(0,0,0,0)"}
    add(hl, plot_text(highlight_name), {**ring, "line": {"width": 2, "color": HIGHLIGHT}}, True)
    _map_layout(fig, three, title, height, colour_name, axis_titles)
    if not three:
        _write_names(fig, map_labels)
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


def _write_names(fig: Any, map_labels: Sequence[MapLabel]) -> None:
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


Marker = dict[str, Any]


def _trace_adder(fig: Any, coords: np.ndarray, hover: np.ndarray, ids: type) -> Any:
    """A function adding one trace of `rows` to `fig`: per point only x, y[, z], row, label."""
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
                customdata=rows.astype(ids, copy=False),
                text=hover[rows],
                hovertemplate="%{text}<extra>" + (name if legend else "") + "</extra>",
                marker=marker,
                showlegend=legend,
                **kw,
            )
        )

    return add


def _colour_groups(
    ok: np.ndarray,
    colour: pd.Series | None,
    colour_name: str,
    numeric: bool | None,
    base: Marker,
    muted: Sequence[str] = (),
) -> list[tuple[np.ndarray, str, Marker, bool]]:
    """The traces of the drawn rows `ok`: (rows, name, marker, in legend) each."""
    if colour is None:
        return [(ok, "items", {**base, "color": PALETTE[0]}, False)]
    if numeric or (numeric is None and colour_kind(colour) == "numeric"):
        vals = pd.to_numeric(colour, errors="coerce").to_numpy(dtype=float)
        finite = ok[np.isfinite(vals[ok])]
        # float32 colour values: an "f4" typed array, half the bytes of float64
        # (clipped, so a huge value stays finite rather than becoming inf).
        f32 = np.finfo(np.float32).max
        vals = np.clip(vals, -f32, f32).astype(np.float32)
        scale = {
            "color": vals[finite],
            "colorscale": "Viridis",
            "showscale": True,
            "colorbar": {"title": {"text": plot_text(colour_name)}, "thickness": 14},
        }
        return [
            (finite, plot_text(colour_name), {**base, **scale}, False),
            (np.setdiff1d(ok, finite), "no value", {**base, "color": OTHER_COLOUR}, True),
        ]
    cats = colour.astype("string").fillna("(missing)").to_numpy(dtype=object)
    counts = pd.Series(cats[ok]).value_counts()
    top = list(counts.index[: MAX_CATEGORIES - 1] if len(counts) > MAX_CATEGORIES else counts.index)
    # Muted categories (noise) are grey and listed last; the others take the palette.
    shown = sorted((c for c in top if c not in muted), key=_natural)
    groups = [
        (ok[cats[ok] == cat], plot_text(cat), {**base, "color": PALETTE[i % len(PALETTE)]}, True)
        for i, cat in enumerate(shown)
    ]
    groups += [
        (ok[cats[ok] == cat], plot_text(cat), {**base, "color": OTHER_COLOUR}, True)
        for cat in top
        if cat in muted
    ]
    rest = ok[~np.isin(cats[ok], top)]
    other = f"other ({len(counts) - len(top)} values)"
    return [*groups, (rest, other, {**base, "color": OTHER_COLOUR}, True)]


def _map_layout(
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


def _natural(value: object) -> tuple[int, float, str]:
    """Numbers in order, and labels led by a number ("10: rain · storm") by that number."""
    text = str(value)
    try:
        return (0, float(text), "")
    except ValueError:
        lead = re.match(r"^(\d+)(?::|\s)", text)
        return (1, float(lead.group(1)), text) if lead else (2, 0.0, text)


def analogy_figure(layout: AnalogyLayout) -> Any:
    """Draw an analogy layout: its points coloured by role, its offsets as arrows.

    Args:
        layout: from :func:`explorer.probes.analogy_layout` (positions, roles, arrows).
    """
    import plotly.graph_objects as go

    xy, words, roles = layout.xy, layout.words, layout.roles
    colours = {"plus": "#4E79A7", "minus": "#E15759", "answer": "#59A14F"}
    fig = go.Figure()
    for a, b in layout.arrows:
        fig.add_annotation(
            x=float(xy[b, 0]),
            y=float(xy[b, 1]),
            ax=float(xy[a, 0]),
            ay=float(xy[a, 1]),
            xref="x",
            yref="y",
            axref="x",
            ayref="y",
            showarrow=True,
            arrowhead=3,
            arrowwidth=2,
            arrowcolor="#888888",
            opacity=0.8,
        )
    for role, colour in colours.items():
        idx = [i for i, r in enumerate(roles) if r == role]
        if idx:
            fig.add_trace(
                go.Scatter(
                    x=xy[idx, 0],
                    y=xy[idx, 1],
                    mode="markers+text",
                    name=role,
                    text=[plot_text(words[i]) for i in idx],
                    textposition="top center",
                    marker={"size": 12, "color": colour},
                    hovertemplate="%{text}<extra></extra>",
                )
            )
    fig.update_layout(
        height=420,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title="The probe in a PCA of just these words",
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1)
    return fig


def section_bars(sections: dict[str, tuple[float, int]]) -> Any:
    """Horizontal bars of accuracy per section; values are (accuracy 0..1, questions)."""
    import plotly.graph_objects as go

    names = list(sections)
    acc = [sections[n][0] * 100 for n in names]
    fig = go.Figure(
        go.Bar(
            x=acc,
            y=[plot_text(n) for n in names],  # section names come from an uploaded file
            orientation="h",
            marker_color=PALETTE[0],
            text=[f"{a:.1f}% of {sections[n][1]:,}" for a, n in zip(acc, names, strict=True)],
            textposition="auto",
            hovertemplate="%{y}: %{x:.1f}%<extra></extra>",
        )
    )
    fig.update_layout(
        height=max(240, 28 * len(names) + 60),
        xaxis_title="accuracy (%)",
        xaxis_range=[0, 100],
        yaxis_autorange="reversed",
        margin={"l": 10, "r": 10, "t": 10, "b": 40},
    )
    return fig
