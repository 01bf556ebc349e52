"""Notebook keywords turned into the engine's parameters, as the command line's flags are
(``explorer.cli.map_flags``, ``explorer.cli.export``): the map (``ProjectionParams``), the
clustering (``ClusterParams``) and the view's colours and names (``MapView``).

Every default is the engine's own (a keyword left out is a field left at its default), and
every bad setting raises the engine's ``InputError`` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any, Literal, TypeVar

from explorer.cluster.clusterings import ClusterParams
from explorer.core.errors import InputError
from explorer.core.space import Space
from explorer.maps.projections import ProjectionParams
from explorer.render.map_style import NONE, MapView, default_colour

__all__ = [
    "NAMES",
    "Names",
    "cluster_params",
    "colour_clusters",
    "map_params",
    "map_view",
]

Names = Literal["broad", "each", "none"]
NAMES: tuple[Names, ...] = ("broad", "each", "none")
_AXIS_FIELDS = ("x_from", "x_to", "y_from", "y_to")
_P = TypeVar("_P", ProjectionParams, ClusterParams)


def _params(cls: type[_P], what: str, values: Mapping[str, Any]) -> _P:
    """`cls` made of `values` (None values left at their defaults), validated."""
    known = [f.name for f in fields(cls)]
    unknown = [str(k) for k in values if k not in known]
    if unknown:
        raise InputError(
            f"Unknown {what} setting(s) {', '.join(map(repr, unknown))}; "
            f"the settings are {', '.join(known)}."
        )
    params = cls(**{k: v for k, v in values.items() if v is not None})
    params.validate()
    return params


def map_params(method: str | None, settings: Mapping[str, Any]) -> ProjectionParams:
    """The map of `method` (None: the engine's default, UMAP) with `settings`, any field
    of ``ProjectionParams`` (``dims``, ``n_neighbors``, ``seed``, ...).

    A semantic axis's terms (``x_from``, ``x_to``, ``y_from``, ``y_to``) may be a list,
    joined with commas as ``python -m explorer project --x-from a b`` joins them.
    """
    values = dict(settings)
    for name in _AXIS_FIELDS:
        terms = values.get(name)
        if isinstance(terms, Sequence) and not isinstance(terms, str):
            values[name] = ", ".join(str(t) for t in terms)
    return _params(ProjectionParams, "map", {"method": method, **values})


def cluster_params(settings: Mapping[str, Any]) -> ClusterParams:
    """A clustering of `settings`, any field of ``ClusterParams`` (``algorithm``,
    ``n_clusters``, ``features``, ``min_cluster_size``, ...)."""
    return _params(ClusterParams, "clustering", settings)


def map_view(space: Space, colour: str | None, names: str) -> MapView:
    """The view ``python -m explorer export --colour C --names N`` draws.

    colour: ``cluster``, ``none``, a metadata column, or None for the Map page's default.
    names: names written on a 2-D map coloured by cluster: ``broad`` regions (as the Map
        page opens), ``each`` cluster, or ``none``.
    """
    if colour is not None and colour not in ("cluster", "none", *space.metadata_columns):
        raise InputError(
            f"No column {colour!r} to colour by; choose 'cluster', 'none' or one of "
            f"{', '.join(space.metadata_columns) or '(no columns)'}."
        )
    if names not in NAMES:
        raise InputError(f"Unknown names {names!r}; choose one of {', '.join(NAMES)}.")
    shown = NONE if colour == "none" else colour
    if names == "each":
        return MapView(colour_by=shown, names=True, level="each cluster")
    return MapView(colour_by=shown, names=names != "none", level="broad regions")


def colour_clusters(space: Space, view: MapView) -> bool:
    """Whether the map of `space` under `view` is coloured by cluster (so needs one)."""
    return (view.colour_by or default_colour(space)) == "cluster"
