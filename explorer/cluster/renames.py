"""Names people give clusters and broad regions, stored with the clustering they name.

The automatic names (:mod:`explorer.cluster.names`) are a start; a person who knows the
data writes better ones. A clustering's given names are a stored record of their own
beside it (``names`` step, keyed by the clustering's key, checked like every stored
file), so they survive a restart and reach every picture of that clustering: the map,
its legend, the table and the exports (which all read clusterings through
:func:`explorer.cluster.clusterings.cluster_space`). Renaming writes the record again;
resetting empties it, which brings the automatic names back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from explorer.cluster.names import ClusterInfo
from explorer.core.errors import InputError
from explorer.core.validate import check_text, is_int
from explorer.opened import steps
from explorer.opened.handle import OpenedSpace

__all__ = ["MAX_NAME_CHARS", "Level", "Names", "load_names", "named", "rename", "reset_names"]

MAX_NAME_CHARS = 60  # a name is written on the map: a few words
MAX_NAMES = 2000  # clusters (≤ 1000) and their broad regions
Level = Literal["cluster", "broad"]


@dataclass(frozen=True)
class Names:
    """Given names by cluster number, and by broad region number."""

    clusters: dict[int, str] = field(default_factory=dict)
    broad: dict[int, str] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        return {
            "clusters": {str(k): v for k, v in sorted(self.clusters.items())},
            "broad": {str(k): v for k, v in sorted(self.broad.items())},
        }


def _key(clustering_key: dict[str, Any]) -> dict[str, Any]:
    return {"names_of": clustering_key}


def _from_record(meta: dict[str, Any]) -> Names:
    """The names of a stored record; entries that do not parse are left out."""

    def part(value: object) -> dict[int, str]:
        if not isinstance(value, dict):
            return {}
        return {
            int(k): v[:MAX_NAME_CHARS]
            for k, v in list(value.items())[:MAX_NAMES]
            if isinstance(k, str) and k.isdigit() and isinstance(v, str) and v.strip()
        }

    return Names(part(meta.get("clusters")), part(meta.get("broad")))


def load_names(opened: OpenedSpace, clustering_key: dict[str, Any]) -> Names:
    """The names given to the clustering stored under `clustering_key` (none: empty)."""
    stored = steps.load(opened, "names", _key(clustering_key))
    return Names() if stored is None else _from_record(stored.meta)


def _check_name(name: object) -> str:
    text = " ".join(check_text(name, "A cluster's name", MAX_NAME_CHARS * 4).split())
    if len(text) > MAX_NAME_CHARS:
        raise InputError(f"A cluster's name is at most {MAX_NAME_CHARS} characters; shorten it.")
    return text


def rename(
    opened: OpenedSpace,
    clustering_key: dict[str, Any],
    level: Level,
    number: object,
    name: object,
    count: int,
) -> Names:
    """Give cluster (or broad region) `number` of `count` the name `name` (an empty name
    takes the given one away); store and return the clustering's names.

    Raises:
        InputError: an unknown level, a number outside 0..count-1, or a name that is
            not text or too long.
    """
    if level not in ("cluster", "broad"):
        raise InputError(f"Unknown level {level!r}: rename a 'cluster' or a 'broad' region.")
    if not is_int(number) or not 0 <= int(number) < count:  # type: ignore[call-overload]
        what = "cluster" if level == "cluster" else "broad region"
        raise InputError(f"There is no {what} {str(number)[:20]!r}: use 0 to {count - 1}.")
    text = _check_name(name)
    names = load_names(opened, clustering_key)
    chosen = dict(names.clusters if level == "cluster" else names.broad)
    if text:
        chosen[int(number)] = text  # type: ignore[call-overload]
    else:
        chosen.pop(int(number), None)  # type: ignore[call-overload]
    new = replace(names, clusters=chosen) if level == "cluster" else replace(names, broad=chosen)
    _store(opened, clustering_key, new)
    return new


def reset_names(opened: OpenedSpace, clustering_key: dict[str, Any]) -> None:
    """Back to the automatic names: the clustering's given names are emptied."""
    _store(opened, clustering_key, Names())


def _store(opened: OpenedSpace, clustering_key: dict[str, Any], names: Names) -> None:
    if opened.version is None:
        raise InputError("This space is held in memory: save it to give its clusters names.")
    steps.save(opened, "names", _key(clustering_key), {"none": np.zeros(0)}, names.record())


def named(infos: list[ClusterInfo], given: dict[int, str]) -> list[ClusterInfo]:
    """`infos` with the names in `given` (by cluster number) in their labels."""
    return [
        replace(c, name=given[c.cluster], label=f"{c.cluster}: {given[c.cluster]}")
        if c.cluster in given
        else c
        for c in infos
    ]
