"""Neighbours: the top-k of an item or a free text, and how honest the map is about them."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
import streamlit as st

from explorer.analysis.probes import neighbours
from explorer.core.safe_text import md, to_csv_bytes
from explorer.ingest.query import substring_rows, text_vector
from explorer.maps.quality import QUALITY_K, map_neighbours
from ui import cache, common, pictures, views

common.setup("Neighbours", ":material/hub:")
opened = common.require_space()
space = opened.space
index = opened.index
common.sidebar(opened)
st.title("Neighbours")

mode = st.radio("Query", ["An item", "Free text"], horizontal=True, key="nb_mode")
k = st.slider("How many neighbours (k)", 1, 100, 10, key="nb_k")
among = pictures.modality_filter(space, "nb_modality")
row: int | None = None
hits = []
# An item a shared view or a tour asks for.
asked = st.session_state.pop(views.ITEM, None)
if asked is not None and space.lookup(str(asked)) is not None:
    if space.n <= 2000:
        st.session_state["nb_item"] = space.lookup(str(asked))
    else:
        st.session_state["nb_find"] = str(asked)
with common.friendly("The search"):
    if mode == "An item":
        if space.n <= 2000:
            choice = st.selectbox(
                "Item",
                range(space.n),
                index=None,
                key="nb_item",
                format_func=lambda r: str(space.display_text[r])[:100],
                placeholder="Type to search the items",
            )
        else:
            needle = st.text_input(
                "Find an item", key="nb_find", placeholder="Type part of an item's text or id"
            )
            exact = space.lookup(needle.strip()) if needle.strip() else None
            matches = substring_rows(space, needle, limit=200) if needle.strip() else np.zeros(0)
            options = ([exact] if exact is not None else []) + [
                int(r) for r in matches if r != exact
            ]
            choice = st.selectbox(
                f"Matches ({len(options)} shown)",
                options,
                index=0 if options else None,
                format_func=lambda r: str(space.display_text[r])[:100],
                key=f"nb_match_{needle.strip()}",
            )
        if choice is not None:
            row = int(choice)
            hits = neighbours(space, index, row=row, k=k, among=among)
            st.session_state["nb_current_item"] = str(space.ids[row])
    else:
        text = st.text_input("Text", key="nb_text", placeholder="e.g. a storm hits the coast")
        if text.strip():
            vec, how = text_vector(space, text)
            hits = neighbours(space, index, vector=vec, k=k, among=among)
            st.caption(f"Query: {md(how)}.")

if hits:
    title = md(space.display_text[row][:80]) if row is not None else "your text"
    st.subheader(f"Nearest to {title}")
    table = pd.DataFrame(
        [
            {"rank": i + 1, "id": h.id, "text": h.text, "similarity": h.score}
            for i, h in enumerate(hits)
        ]
    )
    lo = float(min(0.0, table["similarity"].min()))
    shown, picture_config = pictures.with_pictures(table, opened, [h.row for h in hits])
    if row is not None and picture_config and shown[pictures.PICTURE].notna().any():
        query_picture = pictures.uris(opened.thumbnails, space, [row])[0]
        if query_picture:
            st.image(query_picture, width=96, caption="The query")
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        key="nb_table",
        column_config={
            **picture_config,
            "similarity": st.column_config.ProgressColumn(
                "similarity",
                format="%.3f",
                min_value=lo,
                max_value=float(max(1.0, table["similarity"].max())),
            ),
        },
    )
    st.download_button("Download (CSV)", to_csv_bytes(table), "neighbours.csv", "text/csv")
    if row is not None and row < space.n_map:
        proj = common.current_map(opened)
        if proj is not None:
            # The Quality page's figure for this item: one definition, one stored step.
            qk = int(st.session_state.get(common.QUALITY_K_KEY, QUALITY_K))
            q = cache.map_quality(opened, asdict(common.map_params(opened)), qk)
            share = float(q.preservation[row])
            high = cache.map_neighbours_table(opened, qk)[row]
            high = high[high >= 0]
            low = set(map_neighbours(proj.coords, high.size, rows=np.array([row]))[0].tolist())
            with st.container(border=True):
                st.metric(
                    "Map honesty for this item",
                    "—" if np.isnan(share) else f"{share:.0%}",
                    help=f"Share of its {qk} nearest items (in the full space) that are also "
                    f"among its {qk} nearest points on the current map; k is the Quality "
                    "page's neighbourhood size.",
                )
                st.caption(
                    f"{round(share * high.size) if not np.isnan(share) else 0} of its "
                    f"{high.size} nearest items are also among its {high.size} nearest points "
                    f"on the {proj.method.upper()} map. Low values mean the map puts it "
                    "among strangers."
                )
                lost = [space.display_text[r] for r in high if r not in low]
                if lost:
                    st.caption(
                        "Close in the space but far on the map: "
                        + ", ".join(md(s[:40]) for s in lost[:10])
                    )
    elif row is not None:
        st.caption(
            "This item is not on the map (maps show the first "
            f"{space.n_map:,} items), so map honesty is not shown."
        )
elif mode == "An item":
    st.caption("Choose an item to see its nearest neighbours.")
