"""Quality: how far to trust the current map and the index."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
import streamlit as st

from explorer import ui_cache
from explorer.plot import scatter_map
from ui import common

common.setup("Quality", ":material/straighten:")
space, index, folder = common.require_space()
common.sidebar(space, folder)
st.title("Quality")
st.caption(
    "A 2-D picture of a high-dimensional space always bends something. These numbers "
    "say how much, and where."
)

proj = common.current_map(space, folder)
if proj is None:
    st.stop()
k = st.slider("Neighbourhood size k", 5, 50, 10, key="q_k")
with common.friendly("Measuring the map"), st.spinner("Measuring the map…"):
    q = ui_cache.map_quality(folder, space.fingerprint, asdict(common.map_params(folder)), k)
    c = st.columns(3)
    c[0].metric(
        "Trustworthiness",
        f"{q['trustworthiness']:.3f}",
        help="1 = every map neighbour is a true neighbour (no false friends).",
    )
    c[1].metric(
        "Continuity",
        f"{q['continuity']:.3f}",
        help="1 = every true neighbour stays close on the map (nothing torn apart).",
    )
    pres = q["preservation"]
    c[2].metric(
        "Neighbours kept (mean)",
        f"{np.nanmean(pres):.0%}",
        help=f"Per point: the share of its {k} nearest items that are among its {k} "
        "nearest points on the map.",
    )
    if q["sampled"]:
        st.caption("Trustworthiness and continuity are measured on 5,000 sampled points.")
    st.markdown(
        f"**Where the picture lies.** Each point is coloured by the share of its {k} "
        "true neighbours that stay its neighbours on the map: dark = torn from its "
        "neighbourhood."
    )
    fig = scatter_map(
        proj.coords,
        space.labels[: space.n_map],
        colour=pd.Series(pres, name="kept"),
        colour_name="neighbours kept",
        numeric=True,
    )
    st.plotly_chart(fig, width="stretch", key="quality_map")
    worst = np.argsort(np.nan_to_num(pres, nan=2.0))[:20]
    st.caption("Worst-placed items: " + ", ".join(str(space.labels[r])[:30] for r in worst))

st.divider()
st.subheader("Index")
if index.exact:
    st.metric("Recall@10", "1.000", help="Small space: exact search, so recall is perfect.")
    st.caption(f"{index.size:,} vectors are searched exactly (no approximate index needed).")
else:
    with common.friendly("Measuring the index"), st.spinner("Comparing with exact search…"):
        recall = ui_cache.index_recall(folder, space.fingerprint, 10)
        st.metric(
            "Recall@10 against exact search",
            f"{recall:.3f}",
            help="On 500 sampled items: the share of the exact 10 nearest items that "
            "the hnswlib index returns.",
        )
    st.caption(
        f"hnswlib · M={index.params.M} · ef_construction={index.params.ef_construction} "
        f"· ef={index.params.ef_search} · {index.size:,} vectors"
    )
