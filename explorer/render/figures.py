"""Plotly figures for the app. Imports plotly lazily; no Streamlit here.

Point identity travels in ``customdata`` (the row number in the space), because
``point_index`` is per trace and breaks once colour splits the points into traces.

Every string that comes from the data (hover labels, trace and legend names, titles,
colour-bar titles, axis categories) passes through :func:`explorer.core.safe_text.plot_text`:
plotly.js reads labels as a subset of HTML (``<a href>``, ``<b>``, entities), and data
comes from untrusted uploads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from explorer.core.safe_text import plot_text
from explorer.render import density as dens
from explorer.render.density import DensityImage, Shading, Window
from explorer.render.labels import MapLabel

if TYPE_CHECKING:
    from explorer.analysis.probes import AnalogyLayout

__all__ = [
    "MAX_CATEGORIES",
    "add_pictures",
    "analogy_figure",
    "category_codes",
    "category_colours",
    "colour_kind",
    "density_map",
    "scatter_map",
    "subset_map",
    "top_categories",
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
# plotly's "Viridis" colour scale, whose stops a density view interpolates.
VIRIDIS = ("#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779",
           "#6ece58", "#b5de2b", "#fde725")  # fmt: skip
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
    ids = _id_type(n if row_ids is None or row_ids.size == 0 else int(row_ids.max()) + 1)
    ok: np.ndarray = np.flatnonzero(drawn).astype(_id_type(n))  # positions in `coords`
    three = dims == 3
    size = 3 if three else (4 if n > 20_000 else 6 if n > 2_000 else 8)
    opacity = 0.25 if (dim_others and len(highlight)) else (0.65 if n > 20_000 else 0.85)
    fig = go.Figure()
    add = _trace_adder(fig, coords, _hover(np.asarray(labels, dtype=object)), ids, row_ids)
    base = {"size": size, "opacity": opacity}
    groups = _colour_groups(ok, colour, colour_name, numeric, base, muted, categories)
    for rows, name, marker, legend in groups:
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
    hl = hl[drawn[hl]].astype(ok.dtype)
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
        coords[rows], np.asarray(labels, dtype=object)[rows], row_ids=rows, colour=part,
        highlight=local, axis_titles=axis_titles, **kwargs,
    )  # fmt: skip
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
    fig.add_trace(go.Scattergl(
        x=cells.centres[:, 0], y=cells.centres[:, 1], customdata=cells.ids, mode="markers",
        marker={"size": 6, "opacity": 0, "color": cells.counts.astype(np.float32)},
        selected=hidden, unselected=hidden, name="cells", showlegend=False,
        hovertemplate="%{marker.color:,} points here<extra></extra>",
    ))  # fmt: skip
    fig.add_layout_image(
        source=image.uri, xref="x", yref="y", x=window.x0, y=window.y1,
        sizex=window.width, sizey=window.height, sizing="stretch", layer="below",
        opacity=0.5 if len(highlight) else 1.0,
    )  # fmt: skip
    for trace in legend:
        fig.add_trace(trace)
    hl = np.asarray(highlight, dtype=np.int64).reshape(-1)[: dens.POINT_BUDGET]
    if hl.size:
        hover = _hover(np.asarray(labels, dtype=object)[hl])
        add = _trace_adder(fig, coords[hl], hover, _id_type(coords.shape[0]), hl)
        ring = {"size": 12, "color": "rgba(0,0,0,0)", "line": {"width": 2, "color": HIGHLIGHT}}
        add(np.arange(hl.size), plot_text(highlight_name), ring, True)
    _map_layout(fig, False, title, height, colour_name, axis_titles)
    _window_axes(fig, window, axis_titles is not None)
    fig.update_layout(dragmode="select")  # a box picks the part to see next
    _write_names(fig, map_labels)
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
    plan = category_colours(_top_of(counts, names), muted)
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


def _id_type(n: int) -> type:
    """The typed-array type of row ids below `n`: uint16 while every row fits, else int32
    (never int64, which plotly.js cannot read)."""
    return np.uint16 if n <= 2**16 else np.int32


def _trace_adder(
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


def _colour_groups(
    ok: np.ndarray,
    colour: pd.Series | None,
    colour_name: str,
    numeric: bool | None,
    base: Marker,
    muted: Sequence[str] = (),
    categories: Sequence[str] | None = None,
) -> list[tuple[np.ndarray, str, Marker, bool]]:
    """The traces of the drawn rows `ok`: (rows, name, marker, in legend) each; the
    legend's `categories` default to the most frequent among `ok`."""
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
    top = _top(counts) if categories is None else list(categories)
    groups = [
        (ok[cats[ok] == cat], plot_text(cat), {**base, "color": col}, True)
        for cat, col in category_colours(top, muted)
    ]
    rest = ok[~np.isin(cats[ok], top)]
    other = f"other ({int((~counts.index.isin(top)).sum())} values)"
    return [*groups, (rest, other, {**base, "color": OTHER_COLOUR}, True)]


def _top(counts: pd.Series) -> list[str]:
    """The categories a legend names, from their counts: all, or the most frequent
    MAX_CATEGORIES - 1 (the rest share one "other" entry)."""
    return list(
        counts.index[: MAX_CATEGORIES - 1] if len(counts) > MAX_CATEGORIES else counts.index
    )


def category_codes(colour: pd.Series) -> tuple[np.ndarray, list[str]]:
    """(n,) int64 codes of `colour`'s categories and their names, as a legend names them
    (the distinct values as text, missing ones "(missing)"; only those are converted)."""
    raw, uniques = pd.factorize(colour, use_na_sentinel=False)
    names = pd.Series(uniques, dtype=object).astype("string").fillna("(missing)")
    merged, distinct = pd.factorize(names)  # 1 and "1" are one category
    return np.asarray(merged, dtype=np.int64)[raw], [str(c) for c in distinct]


def _top_of(counts: np.ndarray, names: list[str]) -> list[str]:
    """:func:`_top` of the categories `names` with `counts`."""
    seen = [names[i] for i in np.argsort(-counts, kind="stable") if counts[i] > 0]
    return seen[: MAX_CATEGORIES - 1] if len(seen) > MAX_CATEGORIES else seen


def top_categories(colour: pd.Series, rows: np.ndarray | None = None) -> list[str]:
    """The categories a map of `colour` (at `rows`, default all) names in its legend."""
    codes, names = category_codes(colour)
    return _top_of(np.bincount(codes if rows is None else codes[rows], minlength=len(names)), names)


def category_colours(top: Sequence[str], muted: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(category, colour) of each of `top`, in legend order: the palette in natural order,
    then the `muted` ones (noise) in grey."""
    shown = sorted((c for c in top if c not in muted), key=_natural)
    return [(c, PALETTE[i % len(PALETTE)]) for i, c in enumerate(shown)] + [
        (c, OTHER_COLOUR) for c in top if c in muted
    ]


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
        layout: from :func:`explorer.analysis.probes.analogy_layout` (positions, roles, arrows).
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
