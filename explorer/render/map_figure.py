"""How a map is drawn at its size, and the caption that says so.

A map of up to :data:`~explorer.render.density.POINT_BUDGET` drawable points goes to the browser
point by point. Beyond that, a 2-D map is seen through a window (``explorer.render.density``):
a density picture while the window holds more than the budget, its real points once it
holds at most that many. A big 3-D map (which has no density picture) draws an even
spread of its points plus every highlight. Whichever is drawn, the caption names the view
and how many points it shows, so a map never caps silently. Plain typed Python, no
Streamlit; the Map page reads the widgets and draws what this returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from explorer.core.safe_text import md
from explorer.render import density
from explorer.render.colours import colour_kind
from explorer.render.density import Window
from explorer.render.scatter import scatter_map
from explorer.render.window_maps import density_map, subset_map

__all__ = ["DrawnMap", "draw_map", "is_big"]

Kind = Literal["points", "spread", "density", "window"]


@dataclass(frozen=True)
class DrawnMap:
    """A map figure ready to draw.

    kind: ``points`` (every point), ``spread`` (an even sample of a big 3-D map),
    ``density`` (a picture; a selection reports grid cells, not rows) or ``window``
    (every real point in a zoomed window); inside: (n,) bool, the rows in the window shown
    (all drawable rows when there is no window); caption: markdown, user text escaped.
    """

    fig: Any
    kind: Kind
    caption: str
    inside: np.ndarray

    @property
    def dense(self) -> bool:
        return self.kind == "density"


def _drawable(coords: np.ndarray) -> np.ndarray:
    return ~np.isnan(coords).any(axis=1)


def _budget(budget: int | None) -> int:
    # Read at call time, so that a test (or an operator's setting) can lower the budget.
    return density.POINT_BUDGET if budget is None else budget


def is_big(coords: np.ndarray, budget: int | None = None) -> bool:
    """Whether a (n, 2|3) map is seen through windows: 2-D, with more drawable points than
    `budget` (default :data:`~explorer.render.density.POINT_BUDGET`; NaN rows are not drawn)."""
    return coords.shape[1] == 2 and int(_drawable(coords).sum()) > _budget(budget)


def draw_map(
    coords: np.ndarray,
    labels: np.ndarray,
    *,
    method: str,
    view: Window | None = None,
    full: Window | None = None,
    highlight: Sequence[int] = (),
    of_items: str = "",
    budget: int | None = None,
    **style: Any,
) -> DrawnMap:
    """The figure for (n, 2|3) `coords` with (n,) hover `labels`.

    view: the window of a big 2-D map being looked at (None: the whole map); full: the
    whole map's window, ``density.full_window(coords)``, when the caller has it; highlight:
    rows drawn on top (the others dimmed); of_items: a note appended to the count (e.g.
    which items the map covers); style: ``explorer.render.scatter.scatter_map``'s keywords (colour,
    colour_name, highlight_name, axis_titles, map_labels, muted).
    """
    budget = _budget(budget)
    ok = _drawable(coords)
    n_drawn = int(ok.sum())
    dim = bool(len(highlight))
    if coords.shape[1] != 2 and n_drawn > budget:
        # A 3-D view has no density picture: an even spread, and every highlight.
        hl = np.asarray(highlight, dtype=np.int64)
        rows = np.union1d(density.spread(np.flatnonzero(ok), budget), hl)
        fig = subset_map(coords, labels, rows, highlight=highlight, dim_others=dim, **style)
        caption = (
            f"3-D map: {rows.size:,} of its {n_drawn:,} points drawn{of_items}, evenly spread "
            "(a 3-D view has no density picture: the 2-D map shows every point)."
        )
        return DrawnMap(fig, "spread", caption + _select_hint(), ok)
    if n_drawn <= budget:
        fig = scatter_map(coords, labels, highlight=highlight, dim_others=dim, **style)
        caption = f"{method.upper()} map · all {n_drawn:,} points drawn{of_items}."
        return DrawnMap(fig, "points", caption + _select_hint(), ok)
    shown = view or full or density.full_window(coords)
    inside = density.in_window(coords, shown)
    n_view = int(inside.sum())
    if n_view <= budget:
        fig = subset_map(
            coords,
            labels,
            np.flatnonzero(inside),
            window=shown,
            highlight=highlight,
            dim_others=dim,
            **style,
        )
        caption = f"Points: all {n_view:,} points in this view drawn (of {n_drawn:,}){of_items}."
        return DrawnMap(fig, "window", caption + _select_hint(), inside)
    hl = np.asarray(highlight, dtype=np.int64).reshape(-1)
    hl = hl[inside[hl]]
    fig, _ = density_map(coords, shown, labels, highlight=hl[:budget], **style)
    colour = style.get("colour")
    mix = {"numeric": "the mean of their", "categorical": "the mix of their"}
    name = md(style.get("colour_name", ""))
    how = f"{mix[colour_kind(colour)]} {name}" if colour is not None else ""
    caption = (
        f"Density view: {n_view:,} points"
        + (f" in this view (of {n_drawn:,})" if view else "")
        + f"{of_items}, each pixel shaded by how many fall in it"
        + (f" and coloured by {how}" if how else "")
        + f". Drag a box to zoom in; real points appear once a view holds ≤ {budget:,}."
    )
    if hl.size > budget:
        caption += f" The first {budget:,} of the {hl.size:,} highlighted points here are drawn."
    return DrawnMap(fig, "density", caption, inside)


def _select_hint() -> str:
    return " Drag to box- or lasso-select; click a point for its neighbours."
