"""The one skeleton of a stored step: key → kNN graph → run → save with params → load.

A step (a projection, a clustering, a map's quality at some k) is a pure function of
a space and its parameters. Its result is stored in the space folder under a key
made from the space's fingerprint, the mapped row count and the parameters, next
to a JSON of those parameters, so any picture can be traced to what made it and
reopening it is a file read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from explorer.core.progress import Progress
from explorer.core.space import Space
from explorer.core.store import has_step, load_step, save_step, step_key

__all__ = ["Kind", "Progress", "Stored", "is_stored", "key_of", "load", "run"]

Kind = Literal["projection", "clustering", "quality"]


@dataclass(frozen=True)
class Stored:
    """A step's result as stored: numeric arrays and a JSON-able record."""

    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]


def key_of(space: Space, params: Mapping[str, Any]) -> str:
    """The on-disk key of a step of `space` made with `params` (a JSON-able dict)."""
    return step_key({"fingerprint": space.fingerprint, "n_map": space.n_map, **params})


def load(space: Space, kind: Kind, params: Mapping[str, Any], folder: Path) -> Stored | None:
    """The stored result of this step, or None if it was never stored (or is damaged)."""
    hit = load_step(folder, kind, key_of(space, params))
    return None if hit is None else Stored(*hit)


def is_stored(space: Space, kind: Kind, params: Mapping[str, Any], folder: Path) -> bool:
    """Whether the step's result is on disk (cheap: nothing is read)."""
    return has_step(folder, kind, key_of(space, params))


def run(
    space: Space,
    kind: Kind,
    params: Mapping[str, Any],
    compute: Callable[[], tuple[dict[str, np.ndarray], dict[str, Any]]],
    *,
    folder: Path | None = None,
) -> Stored:
    """The stored result of the step when there is one; else `compute()`, stored.

    `compute` returns (arrays, meta); the parameters, the space's fingerprint and
    the mapped row count are added to meta, so the JSON says what made the result.
    """
    if folder is not None:
        hit = load(space, kind, params, folder)
        if hit is not None:
            return hit
    arrays, meta = compute()
    meta = {**meta, "params": dict(params), "n_map": space.n_map, "fingerprint": space.fingerprint}
    if folder is not None:
        save_step(folder, kind, key_of(space, params), arrays, meta)
    return Stored(arrays, meta)
