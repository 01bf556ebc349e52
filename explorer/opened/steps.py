"""The one skeleton of a stored step: key → load, or run → save with its parameters.

A step (a projection, a clustering, a map's quality at some k) is a pure function of
a space and its parameters. Its result is stored in the space's version folder under a
key made from the space's fingerprint, the mapped row count and the parameters, next to
a JSON of those parameters, so any picture can be traced to what made it and reopening
it is a file read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from explorer.opened.handle import OpenedSpace

__all__ = ["Kind", "Stored", "is_stored", "load", "run", "save"]

Kind = Literal["projection", "clustering", "quality", "names"]


@dataclass(frozen=True)
class Stored:
    """A step's result as stored: numeric arrays and a JSON-able record."""

    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]


def load(opened: OpenedSpace, kind: Kind, params: Mapping[str, Any]) -> Stored | None:
    """The stored result of this step, or None if it was never stored (or is damaged)."""
    hit = opened.load_step(kind, params)
    return None if hit is None else Stored(*hit)


def is_stored(opened: OpenedSpace, kind: Kind, params: Mapping[str, Any]) -> bool:
    """Whether the step's result is stored (cheap: nothing is read)."""
    return opened.has_step(kind, params)


def run(
    opened: OpenedSpace,
    kind: Kind,
    params: Mapping[str, Any],
    compute: Callable[[], tuple[dict[str, np.ndarray], dict[str, Any]]],
) -> Stored:
    """The stored result of the step when there is one; else `compute()`, stored (a
    space held in memory computes and stores nothing).

    `compute` returns (arrays, meta); the parameters, the space's fingerprint and
    the mapped row count are added to meta, so the JSON says what made the result.
    """
    hit = load(opened, kind, params)
    if hit is not None:
        return hit
    arrays, meta = compute()
    space = opened.space
    meta = {**meta, "params": dict(params), "n_map": space.n_map, "fingerprint": space.fingerprint}
    opened.save_step(kind, params, arrays, meta)
    return Stored(arrays, meta)


def save(
    opened: OpenedSpace,
    kind: Kind,
    params: Mapping[str, Any],
    arrays: dict[str, np.ndarray],
    meta: dict[str, Any],
) -> None:
    """Store (or store again) a record that people write, not a computation: given
    names. The parameters and the space's fingerprint are added to meta, as by :func:`run`."""
    space = opened.space
    meta = {**meta, "params": dict(params), "n_map": space.n_map, "fingerprint": space.fingerprint}
    opened.save_step(kind, params, arrays, meta)
