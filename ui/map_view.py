"""What the Map page keeps about the view of a big map, and its zoom buttons.

A big map (more drawn points than ``explorer.render.density.POINT_BUDGET``) is seen through a
window: its density picture, or its real points once the window holds few enough.
Streamlit's plotly chart reports selections but not zooms, so the user zooms by
selecting: a box drawn on the density view becomes the next window, and also selects
every row inside it. Session state keeps small values only: per space folder the map it
belongs to, the window shown and the window selected (4 floats each); and a digest of
the last density selection acted on, so that a selection is never acted on twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from explorer.core.space import Space
from explorer.core.store import step_key
from explorer.maps.projections import ProjectionParams
from explorer.render.density import (
    GRID_MAX,
    ZOOM_OUT,
    Window,
    cells_window,
    grid_shape,
    zoom_window,
)
from ui import views

WINDOWS = "map_windows"  # {folder: {"map": key, "view": [x0, x1, y0, y1] | None, "picked": …}}
DONE = "map_zoom_done"  # digest of the last density selection acted on


def map_key(params: ProjectionParams) -> str:
    """A short key of the map `params` make: a window belongs to one map."""
    return step_key(asdict(params))


def windows(folder: str, key: str, full: Window) -> tuple[Window | None, Window | None]:
    """(the window shown, the window selected) of the map `key` of `folder`; None for
    the whole map and for no selection. Windows of another map, or that miss the whole
    map (`full`), are forgotten."""
    state = st.session_state.get(WINDOWS, {}).get(folder)
    if not isinstance(state, dict) or state.get("map") != key:
        return None, None
    view = Window.from_list(state.get("view"))
    picked = Window.from_list(state.get("picked"))
    return (
        view if view is not None and view.overlaps(full) else None,
        picked if picked is not None and picked.overlaps(full) else None,
    )


def set_windows(folder: str, key: str, view: Window | None, picked: Window | None) -> None:
    st.session_state.setdefault(WINDOWS, {})[folder] = {
        "map": key,
        "view": view.as_list() if view is not None else None,
        "picked": picked.as_list() if picked is not None else None,
    }


def forget(folder: str) -> None:
    """Back to the whole map, with nothing selected by zooming."""
    st.session_state.get(WINDOWS, {}).pop(folder, None)


def _digest(event: Any) -> str:
    selection = (event or {}).get("selection", {})
    text = json.dumps(selection, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def acted_on(event: Any) -> bool:
    """Whether `event`'s selection is the density selection acted on last (a chart keeps
    reporting its selection until it is redrawn)."""
    return bool(event) and st.session_state.get(DONE) == _digest(event)


def split_points(points: list[dict[str, Any]]) -> tuple[list[int], list[dict[str, Any]]]:
    """(cell ids, the other points) of a density view's selected `points`: its cells are
    its first trace (``curve_number`` 0), its highlights carry row ids."""
    cells, rest = [], []
    for p in points:
        if p.get("curve_number", p.get("curveNumber")) != 0:
            rest.append(p)
            continue
        data: Any = p.get("customdata")
        try:  # what a browser sends is checked (explorer.render.density checks the range)
            cells.append(int(data[0] if isinstance(data, list) else data))
        except (TypeError, ValueError, IndexError):
            continue
    return cells, rest


def zoom_to_cells(
    folder: str,
    key: str,
    event: Any,
    cells: list[int],
    shown: Window,
    full: Window,
    picked: Window | None,
) -> Window | None:
    """Act on a density view's selection of `cells` of the window `shown`: a box or lasso
    shows and selects the part of the map its cells cover; a click zooms in 4× there,
    selecting nothing. Returns the window now selected (None if the selection named no cell)."""
    st.session_state[DONE] = _digest(event)
    chosen = cells_window(cells, shown, grid_shape(shown, *GRID_MAX))
    if chosen is None:
        return picked
    selection = (event or {}).get("selection", {})
    if not (selection.get("box") or selection.get("lasso")):
        cx, cy = (chosen.x0 + chosen.x1) / 2, (chosen.y0 + chosen.y1) / 2
        hw, hh = shown.width / 8, shown.height / 8
        set_windows(folder, key, Window(cx - hw, cx + hw, cy - hh, cy + hh), picked)
        return picked
    set_windows(folder, key, zoom_window(chosen, full), chosen)
    return chosen


def zoom_buttons(
    folder: str, key: str, full: Window, view: Window | None, picked: Window | None
) -> None:
    """Zoom out (twice as wide), Reset view (the whole map, nothing selected by zooming)
    and, with a zoomed selection, Clear selection."""
    c = st.columns([1, 1, 1, 4])
    if c[0].button("Zoom out", key="map_zoom_out", disabled=view is None):
        assert view is not None
        wider = view.scaled(ZOOM_OUT)
        set_windows(folder, key, None if wider.covers(full) else wider, picked)
        st.rerun()
    if c[1].button("Reset view", key="map_reset", disabled=view is None and picked is None):
        forget(folder)
        if picked is not None:
            st.session_state.pop(views.SELECTION, None)
        st.rerun()
    if picked is not None and c[2].button("Clear selection", key="map_clear_selection"):
        set_windows(folder, key, view, None)
        st.session_state.pop(views.SELECTION, None)
        st.rerun()


def table_of(space: Space, coords: np.ndarray, rows: np.ndarray | list[int]) -> pd.DataFrame:
    """The map table of `rows`: the items' columns, then the map's x, y[, z] (named
    map_x, … where the items have columns of those names, e.g. a map given with the data:
    a table with two columns of one name cannot be shown)."""
    rows = np.asarray(rows, dtype=np.int64)
    items = space.items.iloc[rows].reset_index(drop=True)
    names = [c if c not in items.columns else f"map_{c}" for c in "xyz"[: coords.shape[1]]]
    return pd.concat([items, pd.DataFrame(coords[rows], columns=names)], axis=1)
