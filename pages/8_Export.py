"""Export: the table, the map and a TensorFlow Projector bundle, as downloads."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st

from explorer.core.errors import InputError, user_message
from explorer.core.safe_text import md
from explorer.render import export, projector, raster, tables
from explorer.render.map_style import MapView
from explorer.render.svg import map_svg
from ui import cache, common

common.setup("Export", ":material/download:")
opened = common.require_space()
space = opened.space
index = opened.index
common.sidebar(opened)
st.title("Export")
st.caption(
    "Take this space elsewhere: its table for a spreadsheet or a notebook, its map as a "
    "page or a picture, its vectors for the TensorFlow Embedding Projector. Each file is "
    "made when you click its button."
)

rows = None
n_rows = space.n
if space.n_map < space.n:
    scope = st.radio(
        "Items",
        ["all", "map"],
        format_func=lambda s: (
            f"All {space.n:,} items" if s == "all" else f"The {space.n_map:,} items on the map"
        ),
        horizontal=True,
        key="export_scope",
        help="The map shows the first items only; the others have no coordinates or cluster.",
    )
    if scope == "map":
        rows, n_rows = np.arange(space.n_map), space.n_map

proj = common.current_map(opened)
clusters = common.current_clustering(opened, proj)
name = opened.name


def download(
    label: str, what: str, n: int, make: Callable[[], bytes], file: str, mime: str
) -> None:
    """A download button whose bytes are made on click, or why it is too large."""
    try:
        export.check_download(space, what, n)
    except InputError as exc:
        st.info(md(user_message(exc)), icon=":material/info:")
        return
    st.download_button(
        label, make, file, mime, key=f"dl_{file}", on_click="ignore", icon=":material/download:"
    )


st.subheader("Table")
columns = [str(c) for c in tables.export_table(space, proj, clusters, rows=[]).columns]
st.caption(f"{n_rows:,} rows; columns: {md(', '.join(columns))}.")
c = st.columns(2)
with c[0]:
    download(
        "Table (CSV)",
        "table",
        n_rows,
        lambda: tables.table_csv(tables.export_table(space, proj, clusters, rows)),
        f"{name}.csv",
        "text/csv",
    )
with c[1]:
    download(
        "Table (Parquet)",
        "table",
        n_rows,
        lambda: tables.table_parquet(tables.export_table(space, proj, clusters, rows)),
        f"{name}.parquet",
        "application/vnd.apache.parquet",
    )

st.subheader("Map")
if proj is None:
    st.info("There is no map to export: make one on the Map page.", icon=":material/info:")
else:
    # The colours and names the Map page shows (its widget values persist).
    view = MapView(
        colour_by=st.session_state.get("map_colour"),
        names=bool(st.session_state.get("map_names", True)),
        level=st.session_state.get("map_level", "broad regions"),
    ).validate(space)
    params = common.map_params(opened)
    axes = common.axis_titles(params) if proj.method == "axis" else None
    title = f"{space.source.get('title') or name} · {proj.method.upper()} map"
    st.caption(
        "The map as the Map page draws it: an HTML page that works offline (hover, zoom, "
        "lasso), or a PNG picture."
    )

    shown = proj

    def figure() -> object:
        broad = None
        if clusters is not None and view.names and view.level == "broad regions":
            broad = cache.broad_level(opened, clusters)
        return export.export_figure(
            space,
            shown,
            clustering=clusters,
            view=view,
            axis_titles=axes,
            title=title,
            broad=broad,
        )

    c = st.columns(3)
    with c[0]:
        download(
            "Map (HTML)",
            "html",
            space.n_map,
            lambda: export.map_html(figure(), title),
            f"{name}-map.html",
            "text/html",
        )
    with c[1]:
        download(
            "Map (PNG)",
            "png",
            space.n_map,
            lambda: raster.map_png(figure()),
            f"{name}-map.png",
            "image/png",
        )
    with c[2]:
        download(
            "Map (SVG)",
            "png",
            space.n_map,
            lambda: map_svg(figure()),
            f"{name}-map.svg",
            "image/svg+xml",
        )

st.subheader("TensorFlow Embedding Projector")
st.caption(
    "A zip of vectors.tsv, metadata.tsv and projector_config.json: load the two TSV files "
    "at projector.tensorflow.org, or build a space from the config here."
    + (
        f" This space uses the {md(space.metric)} metric: choose it again when you build "
        "from the bundle."
        if space.metric != "cosine"
        else ""
    )
)
download(
    "Projector bundle (zip)",
    "projector",
    n_rows,
    lambda: projector.projector_zip(space, rows),
    f"{name}-projector.zip",
    "application/zip",
)
