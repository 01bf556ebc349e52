"""Embedding Explorer: `streamlit run app.py`. The pages live in pages/."""

from __future__ import annotations

import streamlit as st

from ui.lifecycle import start_warm_up

# Compile UMAP's numba code (or load it from disk) while the user looks at Home.
start_warm_up()

st.set_page_config(page_title="Embedding Explorer", page_icon=":material/explore:", layout="wide")
st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/1_Map.py", title="Map", icon=":material/scatter_plot:"),
        st.Page("pages/2_Neighbours.py", title="Neighbours", icon=":material/hub:"),
        st.Page("pages/3_Analogies.py", title="Analogies", icon=":material/functions:"),
        st.Page("pages/4_Clusters.py", title="Clusters", icon=":material/bubble_chart:"),
        st.Page("pages/5_Quality.py", title="Quality", icon=":material/straighten:"),
        st.Page("pages/6_Compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page("pages/7_Labels.py", title="Labels", icon=":material/label:"),
        st.Page("pages/8_Export.py", title="Export", icon=":material/download:"),
        st.Page("pages/9_Tour.py", title="Tour", icon=":material/slideshow:"),
        st.Page("pages/10_Train.py", title="Train", icon=":material/model_training:"),
    ]
).run()
