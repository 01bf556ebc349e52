"""Exports of a space and its map: the formats offered, the map figure every export
draws, offline HTML, writing files without replacing them by accident, and the bounds
on what a download may hold.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from explorer.cluster.clusterings import Clustering
from explorer.cluster.levels import BroadLevel
from explorer.core.errors import InputError
from explorer.core.space import Space
from explorer.core.store import atomic_write_chunks
from explorer.maps.projections import Projection
from explorer.render.map_style import MapView, map_style
from explorer.render.scatter import scatter_map
from explorer.render.tables import check_length

__all__ = [
    "FORMATS",
    "MAX_DOWNLOAD_BYTES",
    "check_download",
    "check_free",
    "download_estimate",
    "export_figure",
    "map_html",
    "write_bytes",
]

FORMATS = ("projector", "csv", "parquet", "html", "png", "svg")
# What one download built in the app's memory may weigh; the command line writes files
# (the projector bundle streamed) and has no such bound.
MAX_DOWNLOAD_BYTES = 256 << 20
_HTML_BYTES = 5 << 20  # plotly.js inline, about 4.7 MB


def export_figure(
    space: Space,
    proj: Projection,
    *,
    clustering: Clustering | None = None,
    view: MapView | None = None,
    axis_titles: tuple[str, str] | None = None,
    title: str = "",
    broad: BroadLevel | None = None,
) -> Any:
    """The plotly figure of the map as the Map page draws it under `view` (without
    highlights): the same colours and names (``explorer.render.map_style``).

    axis_titles: the x and y titles of a semantic-axis map.
    broad: the clustering's broad level, when the caller has it already.
    """
    check_length("map", len(proj.coords), space)
    style = map_style(space, proj.coords, clustering, view or MapView(), broad=broad)
    return scatter_map(
        proj.coords,
        space.display_text[: space.n_map],
        title=title,
        axis_titles=axis_titles,
        **style.scatter_args(),
    )


def map_html(fig: Any, title: str = "Embedding map") -> bytes:
    """A standalone HTML page of `fig` that works offline: plotly.js is inline.

    The figure fills the window; `title` becomes the page's ``<title>`` (escaped).
    Labels are already escaped by ``explorer.render.scatter``, and plotly writes the figure's
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


def write_bytes(path: Path, data: bytes, *, overwrite: bool = False) -> int:
    """Write `data` to `path` atomically (refused when it exists, unless `overwrite`)."""
    check_free([path], overwrite)
    return atomic_write_chunks(path, [data])


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
