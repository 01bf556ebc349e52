"""Exports of a space: its table (CSV, Parquet), its map (HTML, PNG), a Projector bundle.

- :func:`export_table`: id, text, metadata, the map's x, y[, z], cluster, cluster_label;
  written by :func:`table_csv` (formula-safe) and :func:`table_parquet`.
- :func:`map_figure`: the Map page's figure; :func:`map_html` writes it as one offline
  HTML file (plotly.js inline), :func:`map_png` draws its traces with Pillow.
- :func:`write_projector` / :func:`projector_zip`: the TensorFlow Embedding Projector's
  ``vectors.tsv``, ``metadata.tsv`` and ``projector_config.json``, which
  ``python -m explorer build projector_config.json`` reads back to the same space.

No Streamlit. The projector files are streamed; the rest is built in memory, and
:func:`check_download` bounds what the app builds for a browser.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from explorer.cluster.clusterings import Clustering
from explorer.core.errors import InputError
from explorer.core.safe_text import to_csv_bytes
from explorer.core.space import Space
from explorer.maps.projections import Projection
from explorer.render.figures import scatter_map

__all__ = [
    "FORMATS",
    "MAX_DOWNLOAD_BYTES",
    "PROJECTOR_FILES",
    "check_download",
    "check_free",
    "download_estimate",
    "export_table",
    "figure_points",
    "map_colour",
    "map_figure",
    "map_html",
    "map_png",
    "placer",
    "projector_metadata",
    "projector_zip",
    "table_csv",
    "table_parquet",
    "write_bytes",
    "write_projector",
]

FORMATS = ("projector", "csv", "parquet", "html", "png", "svg")
PROJECTOR_FILES = ("projector_config.json", "vectors.tsv", "metadata.tsv")
# What one download built in the app's memory may weigh; the command line writes files
# (the projector bundle streamed) and has no such bound.
MAX_DOWNLOAD_BYTES = 256 << 20
# float32 printed with 9 significant digits reads back as the same float32.
_FLOAT_FMT = "%.9g"
_CHUNK_ROWS = 8192
# The projector's TSV has no quoting: a tab or a line break inside a cell would split it.
# Line breaks are every character str.splitlines() breaks at.
_TSV_BREAKS = re.compile(r"[\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")
_HTML_BYTES = 5 << 20  # plotly.js inline, about 4.7 MB


# ---------------------------------------------------------------------------- the table


def _rows(space: Space, rows: Sequence[int] | np.ndarray | None) -> np.ndarray:
    """Row numbers to export, checked: every item by default."""
    if rows is None:
        return np.arange(space.n, dtype=np.int64)
    sel = np.asarray(rows, dtype=np.int64).reshape(-1)
    bad = sel[(sel < 0) | (sel >= space.n)]
    if bad.size:
        raise InputError(
            f"Rows {bad[:8].tolist()} are not in this space (it has {space.n:,} rows); "
            "select items from the map or the list again."
        )
    return sel


def _free(name: str, taken: set[str]) -> str:
    """`name`, or `name_map`, `name_map2`, ... when a metadata column already has it."""
    out, k = name, 1
    while out in taken:
        out = f"{name}_map" if k == 1 else f"{name}_map{k}"
        k += 1
    taken.add(out)
    return out


def _check_length(what: str, length: int, space: Space) -> None:
    if length != space.n_map:
        raise InputError(
            f"The {what} has {length:,} points but this space maps {space.n_map:,} items; "
            f"make the {what} again."
        )


def export_table(
    space: Space,
    proj: Projection | None = None,
    clustering: Clustering | None = None,
    rows: Sequence[int] | np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per item: id, text, metadata, then x, y[, z], cluster, cluster_label.

    Args:
        proj: a map of the space (coords (n_map, 2|3)); adds x, y[, z] (NaN where
            an item is not drawn, e.g. a zero vector, or lies past the map rows).
        clustering: a clustering of the map rows; adds ``cluster`` (Int64: -1 noise,
            missing past the map rows) and ``cluster_label`` ("noise" for -1).
        rows: row numbers of the space to export (a selection), default every item.

    A metadata column already named x, cluster, ... keeps its name; the added one
    becomes ``x_map``, ``cluster_map``, ...
    """
    sel = _rows(space, rows)
    table = space.items.iloc[sel].reset_index(drop=True).copy()
    taken = {str(c) for c in table.columns}
    on_map = sel < space.n_map
    if proj is not None:
        _check_length("map", len(proj.coords), space)
        dims = int(proj.coords.shape[1])
        xyz = np.full((sel.size, dims), np.nan, dtype=np.float32)
        xyz[on_map] = proj.coords[sel[on_map]]
        for j, axis in enumerate("xyz"[:dims]):
            table[_free(axis, taken)] = xyz[:, j]
    if clustering is not None:
        _check_length("clustering", len(clustering.labels), space)
        labels = pd.array(np.full(sel.size, -1, dtype=np.int64), dtype="Int64")
        labels[on_map] = clustering.labels[sel[on_map]]
        labels[~on_map] = pd.NA
        names = {c.cluster: c.label for c in clustering.clusters}
        text = [None if v is pd.NA else names.get(int(v), "noise") for v in labels]
        table[_free("cluster", taken)] = labels
        table[_free("cluster_label", taken)] = pd.Series(text, dtype="string")
    return table


def table_csv(table: pd.DataFrame) -> bytes:
    """UTF-8 CSV in which no cell can run as a spreadsheet formula (``safe_text``)."""
    return to_csv_bytes(table)


def table_parquet(table: pd.DataFrame) -> bytes:
    """Parquet bytes (pyarrow) that read back with the same columns and dtypes."""
    buf = io.BytesIO()
    table.to_parquet(buf, index=False, engine="pyarrow")
    return buf.getvalue()


# ---------------------------------------------------------------------------- the map


def map_colour(
    space: Space, clustering: Clustering | None, colour_by: str | None
) -> tuple[pd.Series | None, str]:
    """(colour per map row or None, its name), as the Map page colours.

    colour_by: ``cluster``, a metadata column, ``(none)``, or None for the Map page's
    default (the first category column, else the clusters).
    """
    if colour_by is None:
        colour_by = space.category_columns[0] if space.category_columns else "cluster"
    if colour_by == "cluster":
        if clustering is None:
            return None, ""
        names = {c.cluster: c.label for c in clustering.clusters}
        return pd.Series([names.get(int(v), "noise") for v in clustering.labels]), "cluster"
    if colour_by in space.metadata_columns:
        return space.items[colour_by].iloc[: space.n_map].reset_index(drop=True), colour_by
    return None, ""


def map_figure(
    space: Space,
    proj: Projection,
    *,
    clustering: Clustering | None = None,
    colour_by: str | None = None,
    name_clusters: bool = True,
    axis_titles: tuple[str, str] | None = None,
    title: str = "",
) -> Any:
    """The plotly figure of the map as the Map page draws it (without highlights).

    name_clusters: write each cluster's top terms on a 2-D map coloured by cluster.
    axis_titles: the x and y titles of a semantic-axis map.
    """
    from explorer.render.labels import place_labels

    _check_length("map", len(proj.coords), space)
    colour, name = map_colour(space, clustering, colour_by)
    names = []
    if clustering is not None and name == "cluster" and name_clusters and proj.coords.shape[1] == 2:
        short = {c.cluster: " · ".join(c.terms[:3]) for c in clustering.clusters}
        names = place_labels(proj.coords, clustering.labels, short)
    return scatter_map(
        proj.coords,
        space.display_text[: space.n_map],
        colour=colour,
        colour_name=name,
        title=title,
        axis_titles=axis_titles,
        map_labels=names,
    )


def map_html(fig: Any, title: str = "Embedding map") -> bytes:
    """A standalone HTML page of `fig` that works offline: plotly.js is inline.

    The figure fills the window; `title` becomes the page's ``<title>`` (escaped).
    Labels are already escaped by ``explorer.render.figures``, and plotly writes the figure's
    JSON with ``<`` and ``/`` as escapes, so no item text can close the script.
    """
    import plotly.graph_objects as go

    page = go.Figure(fig)
    page.layout.height = None  # let default_height fill the window
    text: str = page.to_html(
        include_plotlyjs=True,
        full_html=True,
        default_height="96vh",
        config={"displaylogo": False, "scrollZoom": True},
    )
    head = f"<title>{html.escape(title)}</title></head>"
    return text.replace("</head>", head, 1).encode("utf-8")


def _rgba(colour: Any, opacity: float) -> tuple[int, int, int, int]:
    """An RGBA tuple of a plotly colour string (grey when it cannot be read)."""
    from PIL import ImageColor

    try:
        c = ImageColor.getrgb(str(colour))
    except ValueError:
        c = (128, 128, 128)
    alpha = c[3] if len(c) == 4 else 255
    return (c[0], c[1], c[2], int(round(alpha * opacity)))


def _scale_colours(values: np.ndarray, scale: Any) -> np.ndarray:
    """(n, 3) uint8 RGB of `values` on a plotly colorscale ((position, colour) pairs)."""
    from PIL import ImageColor

    stops = [(float(p), ImageColor.getrgb(str(c))[:3]) for p, c in scale]
    pos = np.asarray([p for p, _ in stops])
    rgb = np.asarray([c for _, c in stops], dtype=float)
    lo, hi = float(np.min(values)), float(np.max(values))
    t = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
    return np.stack([np.interp(t, pos, rgb[:, k]) for k in range(3)], 1).astype(np.uint8)


def _has_scale(marker: Any) -> bool:
    """Whether a trace's marker colours each point by a value (a colour scale)."""
    return not (marker.color is None or isinstance(marker.color, str))


def _view(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(screen xy (n, 2), depth (n,)) of 3-D points seen as plotly's default camera sees
    them (eye (1.25, 1.25, 1.25), z up), each axis scaled to [-1, 1], orthographic."""
    lo, hi = np.nanmin(xyz, 0), np.nanmax(xyz, 0)
    p = 2 * (xyz - lo) / np.where(hi > lo, hi - lo, 1.0) - 1
    ahead = -np.ones(3) / np.sqrt(3.0)
    right = np.cross(ahead, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, ahead)
    return np.stack([p @ right, p @ up], 1), p @ ahead


def figure_points(fig: Any) -> tuple[np.ndarray, np.ndarray, list[tuple[Any, ...]], list[Any]]:
    """Every drawn point of `fig`'s traces, in drawing order.

    Returns (xy (n, 2), radius (n,) in px, styles (n,) (fill RGBA, outline RGBA or
    None, outline width), the traces with a legend entry or a colour bar).
    """
    xy, radius, styles, keys = [], [], [], []
    three = any(t.type == "scatter3d" for t in fig.data)
    for t in fig.data:
        m = t.marker
        cols = [np.asarray(t.x, dtype=float), np.asarray(t.y, dtype=float)]
        if three:
            cols.append(np.asarray(t.z, dtype=float))
        xy.append(np.stack(cols, 1))
        n = len(cols[0])
        opacity = 1.0 if m.opacity is None else float(m.opacity)
        line = m.line
        outline = None
        if line is not None and line.width:
            outline = _rgba(line.color or "#000000", 1.0)
        if not _has_scale(m):
            fills = [_rgba(m.color or "#4E79A7", opacity)] * n
        else:
            rgb = _scale_colours(np.asarray(m.color, dtype=float), m.colorscale)
            fills = [(int(r), int(g), int(b), int(255 * opacity)) for r, g, b in rgb.tolist()]
        styles += [(f, outline, float(line.width or 0) if line else 0.0) for f in fills]
        # At least 4 px across: plotly's 3-px 3-D markers are specks in a still picture.
        radius.append(np.full(n, max(float(m.size or 6), 4.0) / 2))
        if t.showlegend or _has_scale(m):
            keys.append(t)
    coords = np.concatenate(xy) if xy else np.zeros((0, 2))
    r = np.concatenate(radius) if radius else np.zeros(0)
    if three:
        coords, depth_all = _view(coords)
        order = np.argsort(-depth_all, kind="stable")  # far points first
        coords, r = coords[order], r[order]
        styles = [styles[i] for i in order]
    return coords, r, styles, keys


def _font(size: int) -> Any:
    """Pillow's own scalable font (Pillow ≥ 10.1): no font file needs to be installed."""
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def _legend(draw: Any, keys: list[Any], x: int, y: int, s: int, fig: Any) -> None:
    """Legend entries (swatch + name) and colour bars from `x`, `y` down, at scale `s`."""
    font, ink = _font(13 * s), (40, 40, 40)
    title = html.unescape(str(fig.layout.legend.title.text or ""))[:40]
    if title:
        draw.text((x, y), title, fill=ink, font=_font(14 * s))
        y += 24 * s
    for t in keys:
        m = t.marker
        name = html.unescape(str(t.name or ""))[:40]
        if _has_scale(m):  # a colour bar: its colours top (max) to bottom (min)
            if name != title:
                draw.text((x, y), name, fill=ink, font=font)
                y += 20 * s
            vals = np.asarray(m.color, dtype=float)
            bar = _scale_colours(np.linspace(1, 0, 160 * s), m.colorscale)
            for i, c in enumerate(bar.tolist()):
                draw.line((x, y + i, x + 16 * s, y + i), fill=tuple(c))
            draw.text((x + 22 * s, y), f"{vals.max():.4g}", fill=ink, font=font)
            draw.text((x + 22 * s, y + 148 * s), f"{vals.min():.4g}", fill=ink, font=font)
            y += 176 * s
            continue
        r = 6 * s
        fill = _rgba(m.color or "#4E79A7", 1.0)
        width = int(m.line.width or 0) * s if m.line else 0
        outline = _rgba(m.line.color, 1.0) if width else None
        box = (x, y, x + 2 * r, y + 2 * r)
        draw.ellipse(box, fill=fill if fill[3] else None, outline=outline, width=width)
        draw.text((x + 3 * r, y - s), name, fill=ink, font=font)
        y += 22 * s


def placer(xy: np.ndarray, box: np.ndarray, equal: bool) -> Any:
    """A function (x, y) data → pixels that fits the finite `xy` (n, 2) into `box`."""
    ok = np.isfinite(xy).all(1)
    lo, hi = (xy[ok].min(0), xy[ok].max(0)) if ok.any() else (np.zeros(2), np.ones(2))
    span = np.where(hi > lo, hi - lo, 1.0) * 1.04  # a margin, so no point is cut
    k = (box[2:] - box[:2]) / span
    if equal:  # the Map page keeps one unit the same length on both axes
        k[:] = k.min()
    mid, centre = (lo + hi) / 2, (box[:2] + box[2:]) / 2
    return lambda x, y: (centre[0] + (x - mid[0]) * k[0], centre[1] - (y - mid[1]) * k[1])


def _texts(img: Any, draw: Any, fig: Any, box: np.ndarray, place: Any, s: int) -> None:
    """The figure's title, axis titles (semantic axes) and names written on the map."""
    ink = (20, 20, 20)
    title = html.unescape(str(fig.layout.title.text or ""))[:100]
    draw.text((20 * s, 16 * s), title, fill=ink, font=_font(20 * s))
    # Pillow's own font has no arrow: "man → woman" is written "man -> woman".
    xt, yt = (
        html.unescape(str(a.title.text or "")).replace("→", "->")
        for a in (fig.layout.xaxis, fig.layout.yaxis)
    )
    font = _font(14 * s)
    if xt:
        draw.text(((box[0] + box[2]) / 2, box[3] + 24 * s), xt, fill=ink, font=font, anchor="mm")
    if yt:  # written upwards beside the plot, as plotly does
        from PIL import Image, ImageDraw

        label = Image.new("RGBA", (int(draw.textlength(yt, font=font)) + 4, 20 * s))
        ImageDraw.Draw(label).text((2, 0), yt, fill=ink, font=font)
        label = label.rotate(90, expand=True)
        img.alpha_composite(label, (4 * s, int((box[1] + box[3] - label.height) / 2)))
    for a in fig.layout.annotations:  # cluster names, centred on their point
        x, y = place(float(a.x), float(a.y))
        font = _font(int((a.font.size or 12) * s))
        text = html.unescape(str(a.text or ""))
        draw.rectangle(
            draw.textbbox((x, y), text, font=font, anchor="mm"), fill=(255, 255, 255, 153)
        )
        draw.text((x, y), text, fill=ink, font=font, anchor="mm")


def map_png(fig: Any, *, width: int = 1600, height: int = 1000) -> bytes:
    """A PNG of `fig` (from :func:`map_figure`): points, names, legend and colour bar.

    Drawn with Pillow (already installed with Streamlit) from the figure's own traces,
    so the picture has the same points, colours and names as the HTML. Plotly's own
    PNG export (kaleido) needs a Chrome or Chromium at run time, which a server may not
    have, and starts a browser per picture; this needs neither. A 3-D map is drawn as
    plotly's default camera sees it. Drawn at twice the size and reduced (antialiasing).
    """
    from PIL import Image, ImageDraw

    s = 2
    w, h = width * s, height * s
    img = Image.new("RGBA", (w, h), (255, 255, 255, 255))
    draw = ImageDraw.Draw(img, "RGBA")
    xy, radius, styles, keys = figure_points(fig)
    axes = bool(fig.layout.xaxis.title.text)
    top = 20 * s + (40 * s if fig.layout.title.text else 0)
    right = w - (320 * s if keys else 20 * s)
    box = np.asarray([(44 if axes else 20) * s, top, right, h - (48 if axes else 20) * s], float)
    equal = bool(fig.layout.yaxis.scaleanchor) or any(t.type == "scatter3d" for t in fig.data)
    place = placer(xy, box, equal)
    px, py = place(xy[:, 0], xy[:, 1])
    for i in np.flatnonzero(np.isfinite(xy).all(1)).tolist():
        r = radius[i] * s
        fill, outline, lw = styles[i]
        draw.ellipse(
            (px[i] - r, py[i] - r, px[i] + r, py[i] + r),
            # Pillow paints a transparent fill over what is below: a ring has none.
            fill=fill if fill[3] else None,
            outline=outline,
            width=int(lw * s),
        )
    _texts(img, draw, fig, box, place, s)
    if keys:
        _legend(draw, keys, right + 30 * s, top + 20 * s, s, fig)
    out = io.BytesIO()
    img.convert("RGB").reduce(s).save(out, format="PNG")
    return out.getvalue()


# ---------------------------------------------------------------------------- projector


def _tsv_cell(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return _TSV_BREAKS.sub(" ", str(value))


def projector_metadata(
    space: Space, rows: Sequence[int] | np.ndarray | None = None
) -> pd.DataFrame:
    """The metadata table of a projector bundle: id, text, metadata, as TSV-safe str.

    Tabs and line breaks in a cell (or a column name) become one space: the projector's
    TSV has no quoting. The table always has two or more columns, so it is written with
    a header row and the ``id`` column reads back as the ids (the projector's rule gives
    a one-column file no header); a space with ids only gets a ``label`` column too.
    """
    table = space.items.iloc[_rows(space, rows)].reset_index(drop=True)
    out = pd.DataFrame({_tsv_cell(c): table[c].map(_tsv_cell) for c in table.columns})
    if out.shape[1] == 1:
        out["label"] = out["id"]
    return out


def _projector_parts(space: Space, sel: np.ndarray) -> Iterator[tuple[str, Iterator[bytes]]]:
    """(file name, its bytes in chunks) of each file of the bundle."""
    name = space.source.get("title") or space.source.get("sample") or "embedding"
    shape = [int(sel.size), space.dim]
    paths = {"tensorPath": PROJECTOR_FILES[1], "metadataPath": PROJECTOR_FILES[2]}
    config = {"embeddings": [{"tensorName": str(name), "tensorShape": shape, **paths}]}
    yield PROJECTOR_FILES[0], iter([json.dumps(config, indent=2).encode("utf-8")])

    def vectors() -> Iterator[bytes]:
        for start in range(0, sel.size, _CHUNK_ROWS):
            buf = io.StringIO()
            block = space.vectors[sel[start : start + _CHUNK_ROWS]]
            np.savetxt(buf, block, fmt=_FLOAT_FMT, delimiter="\t")
            yield buf.getvalue().encode("ascii")

    def metadata() -> Iterator[bytes]:
        meta = projector_metadata(space, sel)
        yield ("\t".join(meta.columns) + "\n").encode("utf-8")
        for start in range(0, len(meta), _CHUNK_ROWS):
            part = meta.iloc[start : start + _CHUNK_ROWS]
            cols = [part[c] for c in part.columns]
            yield ("\n".join(cols[0].str.cat(cols[1:], sep="\t")) + "\n").encode("utf-8")

    yield PROJECTOR_FILES[1], vectors()
    yield PROJECTOR_FILES[2], metadata()


def check_free(paths: Sequence[Path], overwrite: bool) -> None:
    """Refuse to replace existing files unless `overwrite` (named by file name)."""
    there = [p for p in paths if p.exists()]
    if there and not overwrite:
        names = ", ".join(f"'{p.name}'" for p in there)
        verb = "exists" if len(there) == 1 else "exist"
        raise InputError(
            f"{names} already {verb}; choose another output, or allow replacing (--overwrite)."
        )
    dirs = [p for p in there if p.is_dir()]
    if dirs:
        raise InputError(f"'{dirs[0].name}' is a folder; give a file name as the output.")


def _write_atomic(path: Path, chunks: Iterator[bytes]) -> int:
    """Write `chunks` to a temporary name beside `path`, then rename: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    size = 0
    try:
        with open(tmp, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                size += len(chunk)
        os.replace(tmp, path)
    finally:
        with suppress(FileNotFoundError):
            tmp.unlink()
    return size


def write_bytes(path: Path, data: bytes, *, overwrite: bool = False) -> int:
    """Write `data` to `path` atomically (refused when it exists, unless `overwrite`)."""
    check_free([path], overwrite)
    return _write_atomic(path, iter([data]))


def write_projector(
    space: Space,
    folder: Path,
    *,
    rows: Sequence[int] | np.ndarray | None = None,
    overwrite: bool = False,
) -> dict[Path, int]:
    """Write the projector bundle into `folder`: {path: bytes} of the three files.

    rows: the items to include (default all, so neighbours read back the same).
    The vectors are the space's stored ones (unit length under cosine); the metric
    is not part of the format, so rebuild an ``l2`` or ``ip`` space with ``--metric``.
    """
    sel = _rows(space, rows)
    paths = [folder / name for name in PROJECTOR_FILES]
    check_free(paths, overwrite)
    return {
        folder / name: _write_atomic(folder / name, chunks)
        for name, chunks in _projector_parts(space, sel)
    }


def projector_zip(space: Space, rows: Sequence[int] | np.ndarray | None = None) -> bytes:
    """The projector bundle as one zip (the three files at its top level), in memory."""
    sel = _rows(space, rows)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, chunks in _projector_parts(space, sel):
            with zf.open(name, "w", force_zip64=True) as fh:
                for chunk in chunks:
                    fh.write(chunk)
    return buf.getvalue()


# ---------------------------------------------------------------------------- bounds


def download_estimate(space: Space, what: str, n_rows: int) -> int:
    """About how many bytes a download of `n_rows` items weighs (before compression).

    what: ``table`` (CSV or Parquet), ``html``, ``png`` or ``projector``.
    """
    per_item = float(space.items.memory_usage(deep=True, index=False).sum()) / max(space.n, 1)
    if what == "table":
        return int(n_rows * (per_item + 64))
    if what == "projector":
        return int(n_rows * (space.dim * 12 + per_item))
    if what == "html":
        return _HTML_BYTES + int(min(n_rows, space.n_map) * 160)
    return 16 << 20  # a PNG: the canvas, whatever the number of points


def check_download(space: Space, what: str, n_rows: int) -> None:
    """Refuse a download the app would build in memory when it is over the bound."""
    size = download_estimate(space, what, n_rows)
    if size > MAX_DOWNLOAD_BYTES:
        raise InputError(
            f"This {what} download would be about {size / 2**20:,.0f} MB, over the app's "
            f"limit of {MAX_DOWNLOAD_BYTES / 2**20:,.0f} MB. Export fewer items (only the "
            "map's), or ask the operator to run `python -m explorer export` on the server."
        )
