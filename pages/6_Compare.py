"""Compare: the active space (A) against another saved space (B) of the same items."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

import pandas as pd
import streamlit as st

from explorer.analysis.compare import (
    CompareParams,
    Comparison,
    compare_task,
    is_word_source,
    map_rows_of,
    selection_table,
)
from explorer.analysis.evaluate import google_analogies_path
from explorer.core.safe_text import md, to_csv_bytes
from explorer.core.space import Space
from explorer.core.store import check_space_name
from explorer.ingest.samples import partner_sample
from explorer.render.scatter import scatter_map
from ui import cache, common
from ui.build_ui import build_sample_now

CHART_A, CHART_B = "cmp_map_a", "cmp_map_b"
CHOSEN = "cmp_params"  # {"a", "b", "k", "analogies"}: the comparison shown
LINKED = "cmp_linked"  # {"a", "b", "ids"}: the selection highlighted in both maps
SEEN = "cmp_seen"  # {"A"|"B": signature of the last selection read from that map}
MAX_LINKED = 5000  # ids kept in session state for a selection (small values only)


def selected_rows(event: Any, space: Space) -> list[int]:
    """Map rows of the points selected in a chart (ids travel in customdata)."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    rows = {
        int(p["customdata"][0] if isinstance(p["customdata"], list) else p["customdata"])
        for p in points
        if p.get("customdata") is not None
    }
    return sorted(r for r in rows if 0 <= r < space.n_map)


def fig(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


common.setup("Compare", ":material/compare_arrows:")
opened = common.require_space()
space = opened.space
index = opened.index
common.sidebar(opened)
st.title("Compare")
st.caption(
    "The active space (A) against another saved space (B): the same items embedded by "
    "two models, or a space against a rebuilt version of itself. Items are matched by id."
)

name_a = opened.name
saved = {m["name"]: m for m in common.saved_spaces() if m["ok"]}
names = [n for n in saved if n != name_a]
if not names:
    st.info(
        "Compare needs a second saved space of the same items (they are matched by id): "
        "the same texts embedded by another model, say."
    )
    partner = partner_sample(space.source.get("sample"))
    if partner is not None and st.button(
        f"Build “{partner.title}” to compare with", type="primary", key="cmp_build_partner"
    ):
        build_sample_now(partner.name, open_it=False)
    common.link("pages/home.py", "Build or upload another space on Home", ":material/home:")
    st.stop()
if st.session_state.get("cmp_b") not in names:
    st.session_state["cmp_b"] = names[0]
st.session_state.setdefault("cmp_k", 10)
c = st.columns([3, 1, 2, 1], vertical_alignment="bottom")
name_b = c[0].selectbox("Compare with (B)", names, key="cmp_b")
k = c[1].number_input("Neighbours k", 2, 100, key="cmp_k")
words = is_word_source(space.source) and is_word_source(saved.get(name_b, {}).get("source") or {})
analogies = words and c[2].checkbox(
    "Analogy accuracy",
    key="cmp_analogies",
    help="Google's analogy questions, answered by each space from the shared words.",
)
if c[3].button("Compare", type="primary", key="cmp_run"):
    st.session_state[CHOSEN] = {"a": name_a, "b": name_b, "k": int(k), "analogies": analogies}
    for key in (LINKED, SEEN):
        st.session_state.pop(key, None)

chosen = st.session_state.get(CHOSEN)
if not chosen or chosen["a"] != name_a:
    st.info("Choose the space to compare with and press **Compare**.")
    st.stop()

res = None
bar = st.progress(0.0, text="Comparing…")
try:
    with common.friendly("Comparing the spaces"):
        opened_b = cache.open_space(common.spaces_root() / check_space_name(chosen["b"]))
        space_b = opened_b.space
        # Both maps 2-D: positions are compared in the plane.
        maps = [asdict(replace(common.map_params(o), dims=2)) for o in (opened, opened_b)]
        compare = CompareParams(k=chosen["k"])
        compare.validate()  # before it is queued
        params = asdict(compare)
        questions = str(google_analogies_path()) if chosen["analogies"] else None
        with_b = {"b": opened_b.key, "params": params, "maps": maps, "analogies": questions}
        res = cache.run_job(
            opened.job_key("compare", with_b),
            "Comparing spaces",
            compare_task,
            str(opened.version),
            opened.name,
            str(opened_b.version),
            opened_b.name,
            params,
            maps[0],
            maps[1],
            questions,
            on_status=common.job_bar(bar),
        )
finally:
    bar.empty()
if res is None:
    st.stop()
shown: Comparison = res

st.markdown(f"**A** = {md(name_a)} · **B** = {md(chosen['b'])}")
m = st.columns(4)
m[0].metric(
    "Shared items",
    f"{res.shared:,}",
    help=f"{res.only_a:,} only in A, {res.only_b:,} only in B (matched by id).",
)
m[1].metric(
    f"Mean Jaccard@{res.k}",
    fig(res.mean_jaccard),
    help=f"Per shared item: how many of its {res.k} nearest shared items are the same in "
    "both spaces (overlap over union). 1 = the same neighbourhoods.",
)
m[2].metric(
    "Linear CKA",
    fig(res.cka),
    help="Similarity of the two spaces' geometry on the shared items (Kornblith et al. 2019): "
    "1 = the same up to rotation and scale.",
)
m[3].metric(
    "Clusterings' ARI",
    fig(res.ari),
    help="Adjusted Rand index of the two spaces' default clusterings on the shared items: "
    "1 = the same groups, 0 = chance.",
)
st.caption(f"{res.only_a:,} item(s) only in A · {res.only_b:,} only in B")
for note in res.notes:
    st.caption(f":material/info: {md(note)}")
if res.analogies is not None:
    an = res.analogies
    a1, a2 = st.columns(2)
    a1.metric("Analogy accuracy, A", f"{an.accuracy_a:.1%}", help=f"{an.answered_a:,} answered")
    a2.metric("Analogy accuracy, B", f"{an.accuracy_b:.1%}", help=f"{an.answered_b:,} answered")
    st.caption(f"Both answer from the {an.vocabulary:,} most frequent shared words.")

left, right = st.columns(2)
left.markdown("**Most changed** (fewest neighbours in common)")
left.dataframe(pd.DataFrame([c.row() for c in res.most_changed]), hide_index=True, key="cmp_most")
right.markdown("**Least changed**")
right.dataframe(
    pd.DataFrame([c.row() for c in res.least_changed]), hide_index=True, key="cmp_least"
)
st.download_button(
    "Download every shared item's overlap (CSV)",
    # Made on click, not on every rerun.
    lambda: to_csv_bytes(selection_table(shown, space, space_b, shown.ids.tolist())),
    "overlap.csv",
    "text/csv",
    key="cmp_download",
)

if res.map_a is None or res.map_b is None:
    st.stop()
linked = st.session_state.get(LINKED) or {}
ids = linked.get("ids", []) if (linked.get("a"), linked.get("b")) == (name_a, chosen["b"]) else []
st.subheader("The two maps, aligned")
st.caption(
    "B's map is turned (and mirrored if need be) onto A's by orthogonal Procrustes on the "
    "shared items, so the same item sits in about the same place. Colour: the item's "
    f"Jaccard@{res.k}. Select points in either map to see the same items in both."
)
hl = {"A": map_rows_of(space, ids), "B": map_rows_of(space_b, ids)}
events = {}
for col, side, sp, coords, jac, chart in zip(
    st.columns(2),
    ("A", "B"),
    (space, space_b),
    (res.map_a, res.map_b),
    (res.jaccard_a, res.jaccard_b),
    (CHART_A, CHART_B),
    strict=True,
):
    figure = scatter_map(
        coords,
        sp.display_text[: sp.n_map],
        colour=pd.Series(jac),
        colour_name=f"Jaccard@{res.k}",
        numeric=True,
        highlight=hl[side].tolist(),
        highlight_name="selected",
        dim_others=bool(hl[side].size),
        title=f"{side}: {name_a if side == 'A' else chosen['b']}",
        height=520,
    )
    # One colour scale for both maps, the whole range of a Jaccard.
    figure.update_traces(marker_cmin=0.0, marker_cmax=1.0)
    with col:
        events[side] = st.plotly_chart(
            figure,
            key=chart,
            on_select="rerun",
            selection_mode=("points", "box", "lasso"),
            width="stretch",
        )

# A new selection in either map becomes the one both maps highlight. Each map's last
# selection is remembered, so a selection already acted on is not taken up again.
seen = st.session_state.setdefault(SEEN, {})
picked = None
for side, sp in (("A", space), ("B", space_b)):
    rows = selected_rows(events[side], sp)
    signature = hash(tuple(rows)) if rows else None
    if signature != seen.get(side):
        seen[side] = signature
        if rows:
            picked = [str(sp.ids[r]) for r in rows]
if picked and picked[:MAX_LINKED] != ids:
    st.session_state[LINKED] = {
        "a": name_a,
        "b": chosen["b"],
        "ids": picked[:MAX_LINKED],
        "cut": len(picked) > MAX_LINKED,
    }
    st.rerun()

if ids:
    st.subheader(f"Selection: {len(ids):,} items")
    st.caption(
        f"{hl['A'].size:,} of them on A's map, {hl['B'].size:,} on B's map."
        + (f" Only the first {MAX_LINKED:,} selected are kept." if linked.get("cut") else "")
    )
    st.dataframe(
        selection_table(res, space, space_b, ids),
        hide_index=True,
        width="stretch",
        key="cmp_selection",
    )
    if st.button("Clear selection", key="cmp_clear"):
        st.session_state.pop(LINKED, None)
        st.rerun()
