"""What every page shares: page set-up, the active space, friendly errors, map state."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from explorer.cluster.clusterings import Clustering, ClusterParams
from explorer.core.errors import ExplorerError, user_message
from explorer.core.safe_text import md
from explorer.core.store import check_space_name, list_spaces
from explorer.ingest.samples import DEFAULT_SAMPLE
from explorer.maps.projections import Projection, ProjectionParams, default_params
from explorer.opened.handle import OpenedSpace
from explorer.runtime.jobs import JobStatus
from ui import cache, lifecycle

# session_state keys: small values only, never arrays.
SPACE = "space_folder"
MAP_PARAMS = "map_params"  # {folder: ProjectionParams as dict}
CLUSTER_PARAMS = "cluster_params"  # {folder: ClusterParams as dict}
QUALITY_K_KEY = "q_k"  # the neighbourhood size the Quality and Neighbours pages measure at


# Widget values that should survive moving between pages. Streamlit forgets the state
# of widgets that a run does not draw; copying it into plain session state keeps it.
PERSIST = (
    "map_colour",
    "map_search",
    "map_semantic",
    "map_names",
    "map_level",
    "nb_mode",
    "nb_k",
    "nb_modality",
    "map_pictures",
    "nb_find",
    "nb_text",
    "an_a",
    "an_b",
    "an_c",
    "an_mode",
    "an_plus",
    "an_minus",
    "an_method",
    "an_k",
    "an_restrict",
    "q_k",
    "cluster_label",
    "cmp_b",
    "cmp_k",
    "cmp_analogies",
    "rt_k",
    "rt_n",
    "rt_source",
)


def setup(title: str, icon: str = ":material/explore:") -> None:
    """Page set-up: config, kept widget state, and a view from the address or a tour."""
    from ui import views  # ui.views builds on this module

    presenting = bool(st.session_state.get(views.PRESENTING))
    st.set_page_config(
        page_title=f"{title} · Embedding Explorer",
        page_icon=icon,
        layout="wide",
        initial_sidebar_state="collapsed" if presenting else "auto",
    )
    for key in PERSIST:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
    st.session_state["current_page"] = title.lower()
    views.on_page(title.lower())


@contextlib.contextmanager
def friendly(action: str = "That") -> Iterator[None]:
    """Show errors as messages that say what to do, never as a traceback."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - the last line of defence for the UI
        st.error(md(user_message(exc, action)), icon=":material/warning:")


def link(page: str, label: str, icon: str | None = None) -> None:
    """A link to another page; plain text where the page is not registered (a lone page)."""
    try:
        st.page_link(page, label=label, icon=icon)
    except st.errors.StreamlitAPIException:
        st.markdown(f"{icon or ''} **{label}** (in the sidebar)")


def spaces_root() -> Path:
    """The operator's spaces folder; a browser never chooses a server path."""
    return lifecycle.spaces_root()


def saved_spaces() -> list[dict[str, Any]]:
    """Every space in the spaces folder, broken ones included (``ok`` False)."""
    return list_spaces(spaces_root())


def _chosen_name() -> str | None:
    """The name of the space this session chose; never a path (only its last part
    is kept, and it must be a plain space name)."""
    chosen = st.session_state.get(SPACE)
    if not chosen:
        return None
    name = Path(str(chosen)).name
    try:
        return check_space_name(name)
    except ExplorerError:
        return None


def active_folder() -> str | None:
    """The active space's folder under the operator's spaces folder.

    The session's choice is kept even while that space is unavailable (a rebuild, a
    broken folder): pages then say so instead of silently switching to another
    space. Only a session that chose nothing yet gets the default demo space, or
    else the first complete space.
    """
    root = spaces_root()
    name = _chosen_name()
    if name is not None:
        return str(root / name)
    default = lifecycle.default_space_name(DEFAULT_SAMPLE)
    names = [m["name"] for m in saved_spaces() if m["ok"]]
    pick = default if default in names else (names[0] if names else None)
    if pick is None:
        return None
    st.session_state[SPACE] = pick
    return str(root / pick)


def set_active(folder: str | Path) -> None:
    """Make the space named by `folder`'s last part the active one."""
    st.session_state[SPACE] = check_space_name(Path(folder).name)


def require_space() -> OpenedSpace:
    """The active space, opened (its index too), or a message pointing to Home and a stop."""
    folder = active_folder()
    if folder is None:
        st.info("No space is open yet. Open a sample or upload data on the Home page.")
        link("pages/home.py", "Go to Home", ":material/home:")
        st.stop()
    try:
        opened = cache.open_space(folder)
        opened.index  # noqa: B018 - a space whose index is unusable says so here
    except ExplorerError as exc:
        st.error(md(user_message(exc)), icon=":material/warning:")
        link("pages/home.py", "Open another space on Home", ":material/home:")
        st.stop()
    return opened


def key_of(where: OpenedSpace | str) -> str:
    """The session-state key of a space: its folder under the spaces folder, as text."""
    return str(where.folder) if isinstance(where, OpenedSpace) else where


def space_title(opened: OpenedSpace) -> str:
    return md(str(opened.space.source.get("title") or opened.name))


def sidebar(opened: OpenedSpace | None = None) -> None:
    """The active space at a glance, a switcher among saved spaces, and sharing."""
    from ui import views

    views.share_panel(str(st.session_state.get("current_page", "")))
    with st.sidebar:
        names = [m["name"] for m in saved_spaces() if m["ok"]]
        if names:
            # Pages that need no open space (Train) still show which one is active.
            folder = active_folder() if opened is None else None
            current = opened.name if opened is not None else folder and Path(folder).name
            # Show the active space even when it was opened elsewhere (Home, a card).
            st.session_state["sidebar_space"] = current if current in names else None
            st.selectbox(
                "Active space",
                names,
                key="sidebar_space",
                placeholder="Choose a space",
                on_change=lambda: (
                    set_active(st.session_state["sidebar_space"])
                    if st.session_state.get("sidebar_space")
                    else None
                ),
            )
        if opened is not None:
            space = opened.space
            st.caption(
                f"{space.n:,} items × {space.dim} dims · {space.metric}"
                + (f" · {md(space.model)}" if space.model else "")
            )
            if space.map_rows and space.map_rows < space.n:
                st.caption(
                    f"Maps show the first {space.n_map:,} items; search uses all {space.n:,}."
                )


def map_params(where: OpenedSpace | str) -> ProjectionParams:
    """The map this session shows of a space (its handle, or its folder): chosen on the
    Map page, else the space's default (the map given with the data, or UMAP)."""
    stored = st.session_state.setdefault(MAP_PARAMS, {}).get(key_of(where))
    if stored:
        return ProjectionParams(**stored)
    try:
        opened = where if isinstance(where, OpenedSpace) else cache.open_space(where)
    except ExplorerError:
        return ProjectionParams()
    return default_params(opened.space)


def set_map_params(where: OpenedSpace | str, params: ProjectionParams) -> None:
    st.session_state.setdefault(MAP_PARAMS, {})[key_of(where)] = asdict(params)


def axis_titles(params: ProjectionParams) -> tuple[str, str]:
    """Titles of a semantic-axis map's axes (``explorer.maps.axes.axis_titles``)."""
    from explorer.maps.axes import axis_titles as titles

    return titles(params.x_from, params.x_to, params.y_from, params.y_to)


def job_bar(bar: Any) -> Callable[[JobStatus], None]:
    """Show a queued job's place in the queue, then its progress, on `bar`."""
    started: list[float] = []  # when the job left the queue

    def show(status: JobStatus) -> None:
        if status.state == "queued":
            ahead = f"{status.ahead} job(s) ahead of yours" if status.ahead else "starting"
            bar.progress(0.0, text=f"Waiting for a worker: {ahead}…")
        elif status.state == "running":
            started[:] = started or [time.monotonic()]
            f = min(max(status.fraction, 0.0), 1.0)
            spent = time.monotonic() - started[0]
            eta = f" · about {spent / f - spent:.0f} s left" if 0.05 < f < 1 else ""
            bar.progress(f, text=f"{md(status.message)}{eta}")

    return show


def current_map(opened: OpenedSpace) -> Projection | None:
    """The map chosen on the Map page (computed with a progress bar if needed)."""
    params = map_params(opened)
    bar = st.progress(0.0, text="Preparing the map…")
    try:
        with friendly("Making the map"):
            return cache.projection(opened, asdict(params), job_bar(bar))
        return None
    finally:
        bar.empty()


def cluster_params(where: OpenedSpace | str) -> dict[str, Any] | None:
    return st.session_state.get(CLUSTER_PARAMS, {}).get(key_of(where))


def set_cluster_params(where: OpenedSpace | str, params: dict[str, Any]) -> None:
    st.session_state.setdefault(CLUSTER_PARAMS, {})[key_of(where)] = params


def shown_cluster_params(where: OpenedSpace | str) -> dict[str, Any]:
    """The clustering the pages show: the one chosen on Clusters, else the default."""
    return cluster_params(where) or asdict(ClusterParams())


def cluster_coords(params: dict[str, Any], proj: Projection | None) -> np.ndarray | None:
    """The map coordinates the clustering of `params` runs on (features "map"), else None."""
    return proj.coords if params.get("features") == "map" and proj is not None else None


def current_clustering(opened: OpenedSpace, proj: Projection | None) -> Clustering | None:
    """The clustering the Map and Clusters pages show (see :func:`shown_cluster_params`).

    None when it cannot be made; computed with a progress bar if needed.
    """
    params = shown_cluster_params(opened)
    if params.get("features") == "map" and proj is None:
        st.warning("This clustering runs on the map: make a map first.")
        return None
    bar = st.progress(0.0, text="Clustering…")
    try:
        with friendly("Clustering"):
            return cache.clustering(opened, params, cluster_coords(params, proj), job_bar(bar))
        return None
    finally:
        bar.empty()
