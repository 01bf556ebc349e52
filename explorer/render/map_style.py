"""What a map looks like under a view's settings: the one place that turns a map, its
clustering and the view's colour choice into colours and names.

The Map page, the Export page and ``python -m explorer export`` all draw through
:func:`map_style`, so a picture that leaves the app names the same clusters, in the
same colours, as the page it came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from explorer.cluster.clusterings import Clustering
from explorer.cluster.levels import BroadLevel, broad_level
from explorer.core.errors import InputError
from explorer.core.space import Space
from explorer.ingest.word_categories import COLUMN as WORDNET_COLUMN
from explorer.render.labels import MapLabel, place_labels

__all__ = [
    "BROAD_FROM",
    "LEVELS",
    "NONE",
    "MapStyle",
    "MapView",
    "colour_options",
    "default_colour",
    "map_style",
]

NONE = "(none)"
Level = Literal["broad regions", "each cluster"]
LEVELS: tuple[Level, ...] = ("broad regions", "each cluster")
# Fewer clusters than this are named one by one even when broad regions are asked for:
# with three or fewer there is nothing to merge.
BROAD_FROM = 4


def colour_options(space: Space, figures: Sequence[str] = ()) -> list[str]:
    """What a map of `space` can be coloured by: nothing, its clusters, a per-point figure
    the caller has (the map's neighbours kept, a zero-shot margin), or a column."""
    return [NONE, "cluster", *figures, *space.metadata_columns]


def default_colour(space: Space) -> str:
    """The colour a map opens with: the first category column the data came with, else
    the clusters (a map in one colour says little). WordNet's categories, added to word
    spaces, are offered but not opened on: their clusters, named with them, say more."""
    given = [c for c in space.category_columns if c != WORDNET_COLUMN]
    return given[0] if given else "cluster"


@dataclass(frozen=True)
class MapView:
    """A view's settings that decide the picture (small values, from widgets or a tour).

    Attributes:
        colour_by: ``cluster``, a metadata column, ``(none)``, or None for the default.
        names: write names on a 2-D map coloured by cluster.
        level: ``broad regions`` (nearby clusters merged: the view from afar) or
            ``each cluster``.
    """

    colour_by: str | None = None
    names: bool = True
    level: Level = "broad regions"

    def validate(self, space: Space, figures: Sequence[str] = ()) -> MapView:
        """This view with a colour `space` (or `figures`) has (None when it names none)
        and a known level."""
        if self.level not in LEVELS:
            raise InputError(f"Unknown names level {self.level!r}; use one of {', '.join(LEVELS)}.")
        if self.colour_by is not None and self.colour_by not in colour_options(space, figures):
            return MapView(None, self.names, self.level)
        return self


@dataclass(frozen=True)
class MapStyle:
    """How to draw a map: colour per map row and its name, the categories drawn muted,
    and the names written on the map."""

    colour: pd.Series | None = None
    colour_name: str = ""
    muted: tuple[str, ...] = ()
    labels: list[MapLabel] = field(default_factory=list)
    # True: a continuous scale even for few distinct values (a share of 10 neighbours);
    # None: decided by the values.
    numeric: bool | None = None

    def scatter_args(self) -> dict[str, Any]:
        """Keywords of ``explorer.render.scatter.scatter_map`` (and ``map_figure.draw_map``)."""
        return {
            "colour": self.colour,
            "colour_name": self.colour_name if self.colour is not None else "",
            "numeric": self.numeric,
            "muted": self.muted,
            "map_labels": self.labels,
        }


def map_style(
    space: Space,
    coords: np.ndarray,
    clustering: Clustering | None,
    view: MapView,
    *,
    broad: BroadLevel | None = None,
    figures: Mapping[str, np.ndarray] | None = None,
) -> MapStyle:
    """The colours and names of the map `coords` of `space` under `view`.

    Args:
        clustering: the clustering shown (needed to colour or name by cluster).
        broad: its broad level when the caller has it already (the app caches it);
            else it is computed here when the view asks for broad regions.
        figures: per-point figures by name, each (n_map,) numbers (NaN: none), drawn
            on a continuous scale with a colour bar when the view colours by one.
    """
    figures = dict(figures or {})
    view = view.validate(space, list(figures))
    colour_by = view.colour_by or default_colour(space)
    if colour_by == NONE:
        return MapStyle()
    if colour_by in figures:
        values = np.asarray(figures[colour_by], dtype=np.float32)
        if values.shape != (space.n_map,):
            raise InputError(f"{colour_by} has {values.size} values for {space.n_map} points.")
        return MapStyle(pd.Series(values), colour_by, numeric=True)
    if colour_by != "cluster":
        return MapStyle(
            space.items[colour_by].iloc[: space.n_map].reset_index(drop=True), colour_by
        )
    if clustering is None:
        return MapStyle()
    names = {c.cluster: c.label for c in clustering.clusters}
    colour = pd.Series([names.get(int(v), "noise") for v in clustering.labels])
    labels: list[MapLabel] = []
    if view.names and coords.shape[1] == 2:
        if view.level == "broad regions" and len(clustering.clusters) >= BROAD_FROM:
            broad = broad or broad_level(space, clustering)
            short = {g.cluster: g.short_name for g in broad.groups}
            labels = place_labels(coords, broad.labels, short, max_labels=12, max_font=24)
        else:
            short = {c.cluster: c.short_name for c in clustering.clusters}
            labels = place_labels(coords, clustering.labels, short)
    return MapStyle(colour, "cluster", ("noise",), labels)
