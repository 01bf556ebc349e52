"""Per-point figures a map can be coloured by, on a continuous scale with a colour bar.

* **neighbours kept (map)**: the share of each point's 10 true neighbours that stay among
  its 10 nearest on the map, once the map's quality is measured (``ui.map_quality``);
* **zero-shot margin**: how far each item's zero-shot label beats the runner-up, once
  categories were asked for on the Labels page (the same job answers both pages).
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import streamlit as st

from explorer.maps.projections import ProjectionParams
from explorer.opened.handle import OpenedSpace
from ui import cache, common

__all__ = ["KEPT", "MARGIN", "ZS", "available", "values"]

KEPT = "neighbours kept (map)"
MARGIN = "zero-shot margin"
ZS = "zs_choice"  # the Labels page's {folder: {"labels": [str], "truth": …}}


def _labels(opened: OpenedSpace) -> list[str]:
    chosen = st.session_state.get(ZS, {}).get(common.key_of(opened)) or {}
    return list(chosen.get("labels") or [])


def available(opened: OpenedSpace, params: ProjectionParams) -> list[str]:
    """The figures this map can be coloured by now (cheap: nothing is computed)."""
    out = []
    if cache.stored_quality(opened, asdict(params)) is not None:
        out.append(KEPT)
    if _labels(opened):
        out.append(MARGIN)
    return out


def values(opened: OpenedSpace, params: ProjectionParams, name: str) -> np.ndarray:
    """(n_map,) the figure `name` for each map row (NaN: none)."""
    if name == KEPT:
        quality = cache.stored_quality(opened, asdict(params))
        assert quality is not None  # offered only once measured
        return np.asarray(quality.preservation, dtype=np.float32)
    result = cache.zero_shot(opened, _labels(opened))
    return np.asarray(result.margin[: opened.space.n_map], dtype=np.float32)
