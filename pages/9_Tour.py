"""Tour: an ordered list of views with captions, saved with the space and presented."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.core.safe_text import md
from explorer.share.views import (
    Tour,
    list_tours,
    load_tour,
    save_tour,
    tour_from_json,
    tour_to_json,
)
from ui import common, views

common.setup("Tour", ":material/slideshow:")
opened = common.require_space()
space = opened.space
index = opened.index
common.sidebar(opened)
st.title("Tour")
st.caption(
    "Prepare a sequence of views for a demo: on any page, open **Share or present this "
    "view** in the sidebar, give it a title and a caption, and press **Add to tour**."
)

draft = views.draft_views()
st.subheader(f"The tour being made: {len(draft)} view(s)")
if draft:
    st.dataframe(
        pd.DataFrame(
            [
                {"page": v.page, "space": v.space, "title": v.title, "caption": v.caption}
                for v in draft
            ]
        ),
        hide_index=True,
        width="stretch",
        key="tour_draft_table",
    )
    c1, c2, c3 = st.columns([3, 1, 1])
    name = c1.text_input("Tour title", key="tour_title", placeholder="What our embeddings show")
    if c2.button("Save with the space", type="primary", disabled=not name.strip()):
        with common.friendly("Saving the tour"):
            saved = save_tour(opened, Tour(name.strip(), tuple(draft)))
            st.session_state.pop(views.DRAFT, None)
            st.success(f"Saved the tour '{md(saved)}' with this space.")
    if c3.button("Clear"):
        st.session_state.pop(views.DRAFT, None)
        st.rerun()
else:
    st.caption("No views added yet.")

st.divider()
st.subheader("Tours of this space")
tours = list_tours(opened)
if not tours:
    st.caption("This space has no saved tour yet.")
for name in tours:
    c1, c2, c3 = st.columns([4, 1, 1])
    with common.friendly("Opening the tour"):
        tour = load_tour(opened, name)
        c1.markdown(f"**{md(tour.title)}** · {len(tour.views)} view(s)")
        if c2.button("Present", key=f"present_{name}", type="primary"):
            views.present(tour.title, list(tour.views))
        c3.download_button(
            "Export (JSON)",
            tour_to_json(tour),
            f"{name}.json",
            "application/json",
            key=f"export_{name}",
        )

st.divider()
st.subheader("Import a tour")
upload = st.file_uploader(
    "Tour file (.json, exported from this app)", type=["json"], key="tour_file"
)
if upload is not None and st.button("Import into this space", key="tour_import"):
    with common.friendly("Importing the tour"):
        tour = tour_from_json(upload.getvalue())
        saved = save_tour(opened, tour)
        st.success(f"Imported '{md(tour.title)}' ({len(tour.views)} views) as '{md(saved)}'.")
