"""The Clusters page's panel for naming clusters and broad regions.

Names are stored with the clustering (:mod:`explorer.cluster.renames`) and reach the
map, its legend, the tables, the exports and tours. A box with no name gives back the
automatic one; "Reset" gives back every automatic name.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from explorer.cluster.clusterings import Clustering
from explorer.cluster.renames import MAX_NAME_CHARS, Level
from explorer.maps.projections import Projection
from explorer.opened.handle import OpenedSpace
from explorer.render.map_style import BROAD_FROM
from ui import cache, common

__all__ = ["rename_panel"]

_LEVELS: dict[str, Level] = {"a cluster": "cluster", "a broad region": "broad"}


def rename_panel(opened: OpenedSpace, result: Clustering, proj: Projection | None) -> None:
    """Rename one cluster or broad region of `result`, or reset them all."""
    params: dict[str, Any] = common.shown_cluster_params(opened)
    coords = common.cluster_coords(params, proj)
    with st.container(border=True):
        st.markdown("**Rename clusters and broad regions**")
        kinds = list(_LEVELS) if len(result.clusters) >= BROAD_FROM else ["a cluster"]
        kind = st.radio("Rename", kinds, horizontal=True, key="rename_level")
        level = _LEVELS[kind]
        infos = result.clusters if level == "cluster" else cache.broad_level(opened, result).groups
        with st.form("rename_form", border=False):
            c1, c2 = st.columns(2)
            number = c1.selectbox(
                "Which",
                [c.cluster for c in infos],
                format_func=lambda i: infos[i].label,
                key="rename_which",
            )
            name = c2.text_input(
                "New name",
                max_chars=MAX_NAME_CHARS,
                key="rename_text",
                placeholder="e.g. Animals (empty: the automatic name)",
            )
            if st.form_submit_button("Save name", type="primary") and number is not None:
                with common.friendly("Renaming"):
                    cache.rename_cluster(opened, params, coords, level, number, name, len(infos))
                    st.rerun()
        if st.button("Reset to automatic names", key="rename_reset"):
            with common.friendly("Resetting the names"):
                cache.reset_cluster_names(opened, params, coords)
                st.rerun()
