"""Home: pick or make the active space."""

from __future__ import annotations

import streamlit as st

from explorer.core.errors import ExplorerError, user_message
from explorer.core.safe_text import md
from explorer.index.hnsw import IndexUnavailable
from explorer.ingest.samples import DEFAULT_SAMPLE, SAMPLES
from ui import cache, common, start_here
from ui.build_ui import build_sample_now, rebuild_index_now, sample_cards, upload_flow

common.setup("Home", ":material/home:")
st.title("Embedding Explorer")
st.caption(
    "See the geometry of an embedding space: clusters, neighbours, analogies, and "
    "where a 2-D map bends the truth."
)

folder = common.active_folder()
if folder is None and DEFAULT_SAMPLE in SAMPLES:
    # First launch with nothing built: open the demo space without a click.
    st.info(f"Preparing the demo space ({SAMPLES[DEFAULT_SAMPLE].title}) for the first time…")
    build_sample_now(DEFAULT_SAMPLE)

opened = None
if folder is not None:
    try:
        opened = cache.open_space(folder)
        opened.index  # noqa: B018 - an unusable index is reported here, with its remedy
    except IndexUnavailable as exc:
        opened = None
        st.error(md(user_message(exc)), icon=":material/warning:")
        if st.button("Rebuild index", type="primary", key="rebuild_index"):
            rebuild_index_now(folder)
    except ExplorerError as exc:
        opened = None
        st.error(md(user_message(exc)), icon=":material/warning:")
common.sidebar(opened)

if opened is not None:
    space = opened.space
    with st.container(border=True):
        st.subheader(f"Open: {common.space_title(opened)}")
        c = st.columns(4)
        c[0].metric("Items", f"{space.n:,}")
        c[1].metric("Dimensions", space.dim)
        c[2].metric("Metric", space.metric)
        c[3].metric("Model", md(space.model) if space.model else "given vectors")
        if space.source.get("sample") in SAMPLES:
            st.caption(SAMPLES[space.source["sample"]].description)
        for note in space.notes:
            st.caption(f":material/info: {md(note)}")
        pages = [
            ("pages/1_Map.py", "Map", ":material/scatter_plot:"),
            ("pages/2_Neighbours.py", "Neighbours", ":material/hub:"),
            ("pages/3_Analogies.py", "Analogies", ":material/functions:"),
            ("pages/4_Clusters.py", "Clusters", ":material/bubble_chart:"),
            ("pages/5_Quality.py", "Quality", ":material/straighten:"),
        ]
        for col, (path, label, icon) in zip(st.columns(len(pages)), pages, strict=True):
            with col:
                common.link(path, label, icon)
        start_here.start_here(opened, {m["name"] for m in common.saved_spaces() if m["ok"]})

if st.session_state.get("last_summary"):
    with st.expander("Last build", expanded=True):
        st.markdown("\n".join(f"- {md(line)}" for line in st.session_state["last_summary"]))

samples_tab, upload_tab, saved_tab = st.tabs(
    ["Samples", "Upload data", "Saved spaces"],
    # A keyed tab set keeps the open tab when an upload reruns the page.
    key="home_tab",
    on_change="rerun",
)
saved = common.saved_spaces()
with samples_tab:
    sample_cards({m["name"] for m in saved if m["ok"]})
with upload_tab:
    upload_flow()
with saved_tab:
    st.caption("Spaces saved in this server's spaces folder (set by the operator).")
    if not saved:
        st.caption("No saved spaces here yet.")
    for m in saved:
        c1, c2 = st.columns([5, 1])
        if not m["ok"]:
            # A broken folder is shown, not hidden and not fatal: the rest still list.
            c1.markdown(f"**{md(m['name'])}** · :red[broken]: {md(m['problem'])}")
            continue
        c1.markdown(
            f"**{md(m['name'])}** · {m['n']:,} × {m['dim']} · "
            f"{md(m.get('model') or 'given vectors')}"
        )
        if c2.button("Open", key=f"open_{m['name']}"):
            common.set_active(m["name"])
            st.rerun()
