"""Map: the projection as an interactive scatter, with colour, search and selection."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
import streamlit as st

from explorer.analysis.probes import neighbours
from explorer.core.safe_text import md, to_csv_bytes
from explorer.ingest.query import substring_rows, text_vector
from explorer.maps.axes import poles
from explorer.maps.projections import METHODS, ProjectionParams, given_columns
from explorer.render import density, map_figure
from explorer.render.map_style import LEVELS, MapView, colour_options, default_colour, map_style
from explorer.render.scatter import add_pictures
from ui import cache, common, map_figures, map_quality, map_view, pictures, views

CHART_KEY = "map_chart"
SHOWN_ROWS = 500  # rows of a selection shown in its table (the CSV holds them all)

common.setup("Map", ":material/scatter_plot:")
opened = common.require_space()
space = opened.space
index = opened.index
folder = common.key_of(opened)
common.sidebar(opened)
st.title("Map")

params = common.map_params(opened)
with st.expander("Map settings", expanded=False), st.form("map_form"):
    c = st.columns(3)
    methods = [m for m in METHODS if m != "given" or given_columns(space)]
    method = c[0].selectbox(
        "Method", methods, index=methods.index(params.method), format_func=str.upper
    )
    dims = c[1].radio("Dimensions", [2, 3], index=params.dims - 2, horizontal=True)
    seed = c[2].number_input("Seed", 0, 2**31 - 1, params.seed)
    c = st.columns(3)
    n_neighbors = c[0].slider("UMAP n_neighbors", 2, 200, params.n_neighbors)
    min_dist = c[1].slider("UMAP min_dist", 0.0, 1.0, params.min_dist, 0.05)
    perplexity = c[2].slider("t-SNE perplexity", 2.0, 100.0, params.perplexity)
    repeatable = st.checkbox(
        "Repeatable UMAP (one core)",
        not params.parallel,
        help="Off: UMAP uses every core, which is faster, and two runs differ "
        "slightly (the map is stored, so it shows the same again). On: the same map for "
        "the same seed on every run.",
    )
    st.caption(
        "Semantic axes (method AXIS): x runs from the first terms to the second, e.g. "
        "man → woman, or bad, poor → good, great; items, or free text for spaces with a model."
    )
    c = st.columns([2, 2, 2, 2, 1])
    x_from = c[0].text_input("x from", params.x_from, placeholder="man")
    x_to = c[1].text_input("x to", params.x_to, placeholder="woman")
    y_from = c[2].text_input("y from (optional)", params.y_from, placeholder="poor")
    y_to = c[3].text_input("y to (optional)", params.y_to, placeholder="rich")
    orthogonal = c[4].checkbox("y ⟂ x", params.orthogonal, help="Make y orthogonal to x.")
    if st.form_submit_button("Compute map", type="primary"):
        chosen = ProjectionParams(
            method=method,
            dims=dims,
            n_neighbors=n_neighbors,
            min_dist=min_dist,
            perplexity=perplexity,
            seed=int(seed),
            init=params.init,
            n_epochs=params.n_epochs,
            parallel=not repeatable,
            x_from=x_from,
            x_to=x_to,
            y_from=y_from,
            y_to=y_to,
            orthogonal=orthogonal,
        )
        with common.friendly("The map settings"):
            chosen.validate()
            common.set_map_params(opened, chosen)
            st.session_state.pop(CHART_KEY, None)
            map_view.forget(folder)
            st.rerun()

proj = common.current_map(opened)
if proj is None:
    st.stop()
for note in proj.notes:
    st.caption(f":material/info: {md(note)}")
if proj.method == "axis":
    low, high = poles(proj.coords, 8)
    c1, c2 = st.columns(2)
    c1.caption("Nearest the start (left): " + md(", ".join(space.display_text[r] for r in low)))
    c2.caption("Nearest the end (right): " + md(", ".join(space.display_text[r] for r in high)))

# Colour and highlights.
c1, c2, c3 = st.columns([1, 1, 1])
figure_names = map_figures.available(opened, params)
options = colour_options(space, figure_names)
if st.session_state.get("map_colour") not in options:  # e.g. a shared view of another space
    st.session_state.pop("map_colour", None)
colour_by = c1.selectbox(
    "Colour by", options, index=options.index(default_colour(space)), key="map_colour"
)
needle = c2.text_input("Highlight items containing", key="map_search")
semantic = c3.text_input(
    "Semantic search (nearest items)",
    key="map_semantic",
    help="Embeds the text with the space's model and highlights its nearest items."
    if space.model
    else "This space has no model: type an item to highlight its neighbours.",
)
cl = common.current_clustering(opened, proj) if colour_by == "cluster" else None
view_names = MapView(colour_by=colour_by, names=False)
if cl is not None and proj.coords.shape[1] == 2:
    names_on = st.toggle("Name the clusters on the map", value=True, key="map_names")
    level = "each cluster"
    if names_on:
        level = st.radio(
            "Names",
            LEVELS,
            horizontal=True,
            key="map_level",
            help="Broad regions merge nearby clusters (the view from afar); each "
            "cluster names the small islands (the view up close).",
        )
    view_names = MapView(colour_by=colour_by, names=names_on, level=level)
broad = None
if cl is not None and view_names.names and view_names.level == "broad regions":
    broad = cache.broad_level(opened, cl)
figures = {}
if colour_by in figure_names:
    with common.friendly("Colouring the map"):
        figures[colour_by] = map_figures.values(opened, params, colour_by)
style = map_style(space, proj.coords, cl, view_names, broad=broad, figures=figures)

highlight: list[int] = []
hl_name = "highlighted"
if needle:
    hits = substring_rows(space, needle, rows=space.n_map)
    highlight, hl_name = hits.tolist(), f"contains “{needle}”"
    st.caption(f"{hits.size:,} item(s) contain “{md(needle)}”.")
if semantic:
    with common.friendly("Semantic search"):
        vec, how = text_vector(space, semantic)
        kinds = pictures.modality(space)
        # Text finds images in an image–text space (else only its fellow captions).
        images = kinds == "image" if kinds is not None and (kinds == "image").any() else None
        found = neighbours(space, index, vector=vec, k=25, among=images)
        on_map = [h.row for h in found if h.row < space.n_map]
        highlight, hl_name = on_map, f"nearest to “{semantic}”"
        st.caption(
            f"25 nearest items to “{md(semantic)}” ({md(how)}); {len(on_map)} are on the map: "
            + ", ".join(md(h.text[:40]) for h in found[:8])
            + " …"
        )
# A selection that came with a shared view: highlighted until the user selects.
shared = [space.row_of[i] for i in st.session_state.get(views.SELECTION, []) if i in space.row_of]
shared = [r for r in shared if r < space.n_map]
if shared and not highlight:
    highlight, hl_name = shared, "shared selection"
focus = st.session_state.get("map_focus")
focus_hits = (
    neighbours(space, index, row=int(focus), k=10)
    if focus is not None and focus < space.n_map
    else []
)
if focus_hits and not (needle or semantic):
    nb = focus_hits
    highlight = [int(focus)] + [h.row for h in nb if h.row < space.n_map]
    hl_name = f"{space.display_text[focus][:30]} and its neighbours"

coords = proj.coords
of_items = f" (the first {space.n_map:,} of {space.n:,} items)" if space.n_map < space.n else ""
labels = space.display_text[: space.n_map]
look = {
    **style.scatter_args(),
    "highlight_name": hl_name,
    "axis_titles": common.axis_titles(common.map_params(opened)) if proj.method == "axis" else None,
}
budget = density.POINT_BUDGET
# A big 2-D map is seen through a window: a density picture, or its real points once
# the window holds at most `budget` of them (see ui.map_view).
big = map_figure.is_big(coords)
mkey = map_view.map_key(common.map_params(opened))
full = density.full_window(coords)
view, picked = map_view.windows(folder, mkey, full) if big else (None, None)
drawn = map_figure.draw_map(
    coords,
    labels,
    method=proj.method,
    view=view,
    full=full,
    highlight=highlight,
    of_items=of_items,
    **look,
)
fig, inside, dense = drawn.fig, drawn.inside, drawn.dense
shown = view or full
if picked is not None:  # the part of the map selected by zooming
    fig.add_shape(
        type="rect",
        x0=picked.x0,
        x1=picked.x1,
        y0=picked.y0,
        y1=picked.y1,
        line={"color": "#111111", "width": 1, "dash": "dot"},
    )
thumbs = opened.thumbnails
if (
    thumbs is not None
    and coords.shape[1] == 2
    and st.toggle(
        "Show pictures on the map",
        value=True,
        key="map_pictures",
        help=f"Up to {pictures.MAP_PICTURES} images drawn where they lie (highlighted ones "
        "first); zoom in to see them larger. Hover shows each point's name and caption.",
    )
):
    # A big map's pictures come from the part in view.
    in_view = coords if not big else np.where(inside[:, None], coords, np.nan)
    pic_rows, pic_uris = pictures.map_pictures(thumbs, space, in_view, highlight)
    add_pictures(fig, coords, pic_rows, pic_uris)
st.caption(drawn.caption)
if big:
    map_view.zoom_buttons(folder, mkey, full, view, picked)
event = st.plotly_chart(
    fig,
    key=CHART_KEY,
    on_select="rerun",
    selection_mode=("points", "box", "lasso"),
    width="stretch",
)
map_quality.quality_line(opened, params)

points = (event or {}).get("selection", {}).get("points", []) if event else []
if big and map_view.acted_on(event):
    points = []  # a density selection already acted on: not a selection of rows
if dense:
    cells, points = map_view.split_points(points)
    if cells:
        chosen = map_view.zoom_to_cells(folder, mkey, event, cells, shown, full, picked)
        if chosen is not None and chosen != picked:
            # Every row inside the chosen cells, from the coordinates (not the picture).
            ids = space.ids[np.flatnonzero(density.in_window(coords, chosen))]
            if ids.size > views.MAX_SHARED_SELECTION:
                st.session_state.pop(views.SELECTION, None)
            else:
                st.session_state[views.SELECTION] = [str(i) for i in ids]
        st.rerun()
rows: list[int] | np.ndarray = sorted(
    {
        int(p["customdata"][0] if isinstance(p["customdata"], list) else p["customdata"])
        for p in points
        if p.get("customdata") is not None
    }
)
if len(rows) == 1 and rows[0] != focus:
    st.session_state["map_focus"] = rows[0]
    st.rerun()
if len(rows) > views.MAX_SHARED_SELECTION:
    # A view carries at most this many ids; a larger selection stays on this page only.
    st.session_state.pop(views.SELECTION, None)
elif len(rows) > 1:
    st.session_state[views.SELECTION] = [str(space.ids[r]) for r in rows]
if len(rows) > 1 and picked is not None:
    map_view.set_windows(folder, mkey, view, None)  # a new selection replaces the zoomed one
elif picked is not None:
    rows = np.flatnonzero(density.in_window(coords, picked))
elif shared and len(rows) <= 1:
    rows = sorted(shared)

if focus_hits:
    with st.container(border=True):
        st.markdown(f"**Neighbours of {md(space.display_text[focus][:80])}**")
        nb_table, nb_config = pictures.with_pictures(
            pd.DataFrame([{"id": h.id, "text": h.text, "similarity": h.score} for h in focus_hits]),
            opened,
            [h.row for h in focus_hits],
        )
        focus_picture = pictures.uris(thumbs, space, [int(focus)])[0]
        if focus_picture:
            st.image(focus_picture, width=96)
        st.dataframe(nb_table, hide_index=True, width="stretch", column_config=nb_config)
        if st.button("Clear"):
            st.session_state.pop("map_focus", None)
            st.rerun()
if len(rows) > 1:
    st.subheader(f"Selection: {len(rows):,} items")
    head = [int(r) for r in rows[:SHOWN_ROWS]]
    shown_table, shown_config = pictures.with_pictures(
        map_view.table_of(space, coords, head), opened, head
    )
    st.dataframe(
        shown_table,
        hide_index=True,
        width="stretch",
        key="selection_table",
        column_config=shown_config,
    )
    if len(rows) > SHOWN_ROWS:
        st.caption(f"The first {SHOWN_ROWS:,} of {len(rows):,} shown; the CSV holds all of them.")
    selected = np.asarray(rows)
    st.download_button(
        "Download selection (CSV)",
        # A big selection is written on click, not on every rerun.
        (lambda: to_csv_bytes(map_view.table_of(space, coords, selected)))
        if len(rows) > budget
        else to_csv_bytes(map_view.table_of(space, coords, selected)),
        "selection.csv",
        "text/csv",
    )
st.download_button(
    "Download all map coordinates (CSV)",
    # Made on click, not on every rerun: writing every point as CSV takes time that grows
    # with the map.
    lambda: to_csv_bytes(map_view.table_of(space, coords, np.arange(space.n_map))),
    "map.csv",
    "text/csv",
    key="dl_map",
)
st.caption(
    "Map parameters: " + ", ".join(f"{k}={v}" for k, v in asdict(common.map_params(opened)).items())
)
