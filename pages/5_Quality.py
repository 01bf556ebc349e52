"""Quality: how far to trust the current map and the index."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
import streamlit as st

from explorer.core.safe_text import md
from explorer.maps.quality import QUALITY_K
from explorer.render.scatter import scatter_map
from ui import cache, common

common.setup("Quality", ":material/straighten:")
opened = common.require_space()
space = opened.space
index = opened.index
common.sidebar(opened)
st.title("Quality")
st.caption(
    "A 2-D picture of a high-dimensional space always bends something. These numbers "
    "say how much, and where."
)

proj = common.current_map(opened)
if proj is None:
    st.stop()
k = st.slider("Neighbourhood size k", 5, 50, QUALITY_K, key=common.QUALITY_K_KEY)
with common.friendly("Measuring the map"):
    bar = st.progress(0.0, text="Measuring the map…")
    try:
        q = cache.map_quality(opened, asdict(common.map_params(opened)), k, common.job_bar(bar))
    finally:
        bar.empty()
    c = st.columns(3)
    c[0].metric(
        "Trustworthiness",
        f"{q.trustworthiness:.3f}",
        help="1 = every map neighbour is a true neighbour (no false friends).",
    )
    c[1].metric(
        "Continuity",
        f"{q.continuity:.3f}",
        help="1 = every true neighbour stays close on the map (nothing torn apart).",
    )
    pres = q.preservation
    c[2].metric(
        "Neighbours kept (mean)",
        f"{np.nanmean(pres):.0%}",
        help=f"Per point: the share of its {k} nearest items that are among its {k} "
        "nearest points on the map.",
    )
    if q.sampled:
        st.caption(f"Trustworthiness and continuity are measured on {q.sample:,} sampled points.")
    st.markdown(
        f"**Where the picture lies.** Each point is coloured by the share of its {k} "
        "true neighbours that stay its neighbours on the map: dark = torn from its "
        "neighbourhood."
    )
    fig = scatter_map(
        proj.coords,
        space.display_text[: space.n_map],
        colour=pd.Series(pres, name="kept"),
        colour_name="neighbours kept",
        numeric=True,
    )
    st.plotly_chart(fig, width="stretch", key="quality_map")
    worst = np.argsort(np.nan_to_num(pres, nan=2.0))[:20]
    st.caption(
        "Worst-placed items: " + ", ".join(md(str(space.display_text[r])[:30]) for r in worst)
    )

st.divider()
st.subheader("Index")
if index.exact:
    st.metric("Search", "exact search", help="A small space: every query scans all vectors.")
    st.caption(f"{index.size:,} vectors are searched exactly (no approximate index needed).")
else:
    st.metric(
        "Recall@10 against exact search",
        "not measured" if index.recall is None else f"{index.recall:.3f}",
        help="Measured when the index was built, on 200 sampled items: the share of "
        "the exact 10 nearest items that the hnswlib index returns at its search breadth.",
    )
    st.caption(
        f"hnswlib · M={index.params.M} · ef_construction={index.params.ef_construction} "
        f"· ef={index.params.ef_search} · {index.size:,} vectors"
    )
