"""Shareable views and the presentation tour, on the app's side.

A view (``explorer.share.views.View``) is read from and written to the browser's address
(``st.query_params``), applied to the session's widget state, and gathered into
tours that are presented one view per screen with large captions.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import streamlit as st

from explorer.core.errors import ExplorerError, user_message
from explorer.core.safe_text import md
from explorer.maps.projections import ProjectionParams
from explorer.share.views import (
    MAX_SELECTION,
    PAGES,
    View,
    make_view,
    view_from_query,
    view_to_query,
)
from ui import cache, common

PAGE_FILES = {
    "home": "pages/home.py",
    "map": "pages/1_Map.py",
    "neighbours": "pages/2_Neighbours.py",
    "analogies": "pages/3_Analogies.py",
    "clusters": "pages/4_Clusters.py",
    "quality": "pages/5_Quality.py",
}
APPLIED = "view_applied"  # the query last applied, so a rerun does not apply it again
SELECTION = "map_selection_ids"  # ids selected on the Map (a short list of str)
MAX_SHARED_SELECTION = MAX_SELECTION  # the most ids a view carries
ITEM = "view_item"  # an item a view asks the Neighbours page to show
DRAFT = "tour_draft"  # views added to the tour being made (list of small dicts)
PRESENTING = "presenting"  # {"title", "views": [dicts], "i"} while a tour is shown


def apply_view(view: View) -> None:
    """Set this session's state so the pages show `view`."""
    state = st.session_state
    state[common.SPACE] = view.space
    folder = str(common.spaces_root() / view.space)
    params = state.setdefault(common.MAP_PARAMS, {})
    if view.projection:
        params[folder] = asdict(ProjectionParams(**view.projection))
    else:
        params.pop(folder, None)
    for key, value in (("map_colour", view.colour), ("map_search", view.search)):
        if value:
            state[key] = value
        else:
            state.pop(key, None)
    state[SELECTION] = _known_ids(folder, view.selection)
    for key in ("a", "b", "c"):
        if view.probe.get(key):
            state[f"an_{key}"] = view.probe[key]
    if view.probe.get("a"):
        state["an_mode"] = "a − b + c"
    if view.probe.get("item"):
        state[ITEM] = view.probe["item"]
        state["nb_mode"] = "An item"
    state["view_banner"] = {"title": view.title, "caption": view.caption}


def _known_ids(folder: str, ids: tuple[str, ...]) -> list[str]:
    """The ids of `ids` that are items of the space in `folder` (a view may name any)."""
    if not ids:
        return []
    try:
        row_of = cache.open_space(folder).space.row_of
    except ExplorerError:
        return []  # the page says why the space cannot be opened
    return [i for i in ids if i in row_of]


def current_view(page: str, title: str = "", caption: str = "") -> View:
    """The view this session shows on `page` now."""
    state = st.session_state
    folder = common.active_folder() or ""
    defaults = asdict(ProjectionParams())
    projection = {
        k: v for k, v in asdict(common.map_params(folder)).items() if defaults.get(k) != v
    }
    probe: dict[str, str] = {}
    if page == "analogies":
        probe = {k: str(state.get(f"an_{k}") or "") for k in ("a", "b", "c")}
    elif page == "neighbours" and state.get("nb_current_item"):
        probe = {"item": str(state["nb_current_item"])}
    return make_view(
        {
            "space": Path(folder).name if folder else "",
            "page": page,
            "projection": projection,
            "colour": str(state.get("map_colour") or ""),
            "search": str(state.get("map_search") or ""),
            "selection": [str(s) for s in state.get(SELECTION, [])],
            "probe": {k: v for k, v in probe.items() if v},
            "title": title,
            "caption": caption,
        }
    )


def _go(view: View, page: str | None) -> None:
    if view.page != page:
        try:
            st.switch_page(PAGE_FILES[view.page])
        except st.errors.StreamlitAPIException:
            pass  # a lone page (tests): the state is applied, stay here


def on_page(page: str | None) -> None:
    """Apply a view from the address once; show the tour bar while presenting."""
    query = st.query_params.to_dict()
    if "space" in query and query != st.session_state.get(APPLIED):
        st.session_state[APPLIED] = query
        try:
            view = view_from_query(query)
        except ExplorerError as exc:
            st.error(md(f"This link's view cannot be shown: {user_message(exc)}"))
        else:
            apply_view(view)
            _go(view, page)
    if st.session_state.get(PRESENTING):
        _tour_bar(page)
    else:
        banner = st.session_state.get("view_banner") or {}
        if banner.get("title") or banner.get("caption"):
            st.info(md(f"{banner.get('title', '')} — {banner.get('caption', '')}".strip(" —")))


def _tour_bar(page: str | None) -> None:
    show = st.session_state[PRESENTING]
    i, views = int(show["i"]), show["views"]
    view = make_view(views[i])
    st.markdown(f"# {md(view.title or show['title'])}")
    if view.caption:
        st.markdown(f"### {md(view.caption)}")
    c = st.columns([1, 1, 1, 6])
    step = None
    if c[0].button("◀ Previous", disabled=i == 0, key="tour_prev"):
        step = i - 1
    if c[1].button("Next ▶", disabled=i + 1 >= len(views), key="tour_next"):
        step = i + 1
    if c[2].button("End tour", key="tour_end"):
        st.session_state.pop(PRESENTING)
        st.rerun()
    c[3].caption(f"View {i + 1} of {len(views)} · {md(show['title'])}")
    if step is not None:
        show["i"] = step
        nxt = make_view(views[step])
        apply_view(nxt)
        _go(nxt, page)
        st.rerun()


def present(title: str, views: list[View]) -> None:
    """Start presenting `views` from the first."""
    st.session_state[PRESENTING] = {"title": title, "views": [asdict(v) for v in views], "i": 0}
    apply_view(views[0])
    _go(views[0], None)
    st.rerun()


def share_panel(page: str) -> None:
    """Sidebar: put this view in the address, or add it to the tour being made."""
    if page not in PAGES or not common.active_folder():
        return
    with st.sidebar.expander("Share or present this view"):
        title = st.text_input("Title", key="view_title_in")
        caption = st.text_area("Caption", key="view_caption_in", height=70)
        c1, c2 = st.columns(2)
        try:
            view = current_view(page, title, caption)
        except ExplorerError as exc:
            st.caption(md(user_message(exc)))
            return
        if c1.button("Share link", key="view_share"):
            query = view_to_query(view)
            st.query_params.from_dict(query)
            st.session_state[APPLIED] = query
            st.caption("The address bar now holds this view: copy it to share.")
        if c2.button("Add to tour", key="view_add"):
            st.session_state.setdefault(DRAFT, []).append(asdict(view))
            st.caption(f"Added: the tour has {len(st.session_state[DRAFT])} view(s).")


def draft_views() -> list[View]:
    """The views added to the tour being made."""
    return [make_view(d) for d in st.session_state.get(DRAFT, [])]
