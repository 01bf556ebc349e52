"""Clusters: run a clustering, read its clusters, see one on the map, compare with labels."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
import streamlit as st

from explorer.cluster.agreement import cluster_agreement
from explorer.cluster.clusterings import ALGORITHMS, FEATURES, LINKAGES, ClusterParams
from explorer.core.safe_text import md
from explorer.render.scatter import scatter_map
from ui import cache, common, renaming

common.setup("Clusters", ":material/bubble_chart:")
opened = common.require_space()
space = opened.space
index = opened.index
common.sidebar(opened)
st.title("Clusters")

# The clustering the Map shows, until another is chosen here.
current = common.shown_cluster_params(opened)
with st.form("cluster_form"):
    c = st.columns(3)
    algorithm = c[0].selectbox(
        "Algorithm",
        ALGORITHMS,
        index=ALGORITHMS.index(current["algorithm"]),
        format_func={
            "auto": "Automatic (HDBSCAN, or KMeans when HDBSCAN leaves much noise)",
            "kmeans": "KMeans",
            "hdbscan": "HDBSCAN",
            "agglomerative": "Agglomerative",
        }.get,
    )
    features = ["(default)", *FEATURES]
    where = c[1].selectbox(
        "Cluster in",
        features,
        index=features.index(current["features"] or "(default)"),
        help="full vectors, a 50-d PCA, a 5-d UMAP, or the current map. "
        "Default: PCA-50 for KMeans/agglomerative on wide vectors, "
        "5-d UMAP for HDBSCAN.",
    )
    seed = c[2].number_input("Seed", 0, 2**31 - 1, current["seed"])
    c = st.columns(3)
    n_clusters = c[0].slider("Clusters (KMeans, agglomerative)", 2, 100, current["n_clusters"])
    min_size = c[1].slider("Min cluster size (HDBSCAN)", 2, 500, current["min_cluster_size"])
    linkage = c[2].selectbox(
        "Linkage (agglomerative)", LINKAGES, index=LINKAGES.index(current["linkage"])
    )
    if st.form_submit_button("Cluster", type="primary"):
        params = ClusterParams(
            algorithm=algorithm,
            features=None if where == "(default)" else where,
            n_clusters=n_clusters,
            min_cluster_size=min_size,
            linkage=linkage,
            seed=int(seed),
        )
        with common.friendly("Clustering"):
            params.validate()
            common.set_cluster_params(opened, asdict(params))
            st.rerun()

proj = common.current_map(opened)
result = common.current_clustering(opened, proj)
if result is None:
    st.stop()
noise = int((result.labels == -1).sum())
st.caption(
    f"{len(result.clusters)} clusters · {md(result.ran_on)} · {noise:,} unclustered · "
    f"{result.seconds:.1f} s"
)
for note in result.notes:
    st.caption(f":material/info: {md(note)}")

table = pd.DataFrame(
    [
        {
            "cluster": c.cluster,
            "name": c.short_name or "—",
            "size": c.size,
            "label terms": " · ".join(c.terms),
            "exemplars": " | ".join(str(space.display_text[r])[:60] for r in c.exemplars[:3]),
        }
        for c in result.clusters
    ]
)
st.dataframe(table, hide_index=True, width="stretch", key="cluster_table")
renaming.rename_panel(opened, result, proj)

ids = [c.cluster for c in result.clusters]
chosen = st.selectbox(
    "Look at a cluster",
    ids,
    index=None,
    key="cluster_pick",
    format_func=lambda i: result.clusters[i].label,
)
if chosen is not None:
    members = np.flatnonzero(result.labels == chosen)
    left, right = st.columns([2, 3])
    with left:
        st.markdown(f"**{md(result.clusters[chosen].label)}** — {members.size:,} members")
        st.dataframe(
            space.items.iloc[members].head(500),
            hide_index=True,
            width="stretch",
            key="cluster_members",
        )
    with right:
        if proj is not None:
            st.plotly_chart(
                scatter_map(
                    proj.coords,
                    space.display_text[: space.n_map],
                    highlight=members.tolist(),
                    highlight_name=f"cluster {chosen}",
                    dim_others=True,
                    height=480,
                ),
                width="stretch",
                key="cluster_map",
            )

st.divider()
st.subheader("Agreement with a label column")
label_cols = space.category_columns
sil = cache.silhouette_score(opened, result.labels)
st.metric(
    "Silhouette (in the full space)",
    "—" if sil is None else f"{sil:.3f}",
    help="From −1 to 1: how much closer items are to their own cluster than to the next.",
)
if label_cols:
    label = st.selectbox("Label column", label_cols, key="cluster_label")
    column = space.items[label].iloc[: space.n_map]
    truth = column.astype(str).to_numpy()
    # Items without a label (a word WordNet lacks) are left out, as noise is.
    keep = (result.labels >= 0) & column.notna().to_numpy()
    if not keep.any():
        st.caption(
            f"No item is both clustered and has a {label}, so there is nothing to compare. "
            "If every item is noise, lower HDBSCAN's min cluster size, or use KMeans."
        )
    else:
        with common.friendly("Comparing with the labels"):
            agree = cluster_agreement(result.labels[keep], truth[keep])
            c1, c2 = st.columns(2)
            c1.metric("Adjusted Rand index", f"{agree['ari']:.3f}")
            c2.metric("Normalised mutual information", f"{agree['nmi']:.3f}")
            st.caption(
                f"Measured on the {int(keep.sum()):,} clustered items with a {label} "
                "(noise and unlabelled items left out)."
            )
            st.dataframe(agree["table"], width="stretch", key="cluster_crosstab")
else:
    st.caption("This space has no categorical label column to compare with.")
