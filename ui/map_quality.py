"""The Map page's line on how faithful the map is, filled in after the map is drawn.

A new map is drawn as soon as its layout is done; its quality (trustworthiness,
continuity, neighbours kept at k = 10) is measured by a worker afterwards
(:func:`ui.cache.quality_in_background`). Until then the line says it is coming, and
a fragment (only the line, never the map) asks again every :data:`POLL_S` seconds and
shows the figures once they are stored; the page's next run shows them without asking.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import streamlit as st

from explorer.maps.projections import ProjectionParams
from explorer.maps.quality import QUALITY_K, MapQuality
from explorer.opened.handle import OpenedSpace
from explorer.runtime.jobs import JobStatus
from ui import cache, common

__all__ = ["POLL_S", "quality_line"]

POLL_S = 1.0


def _figures(q: MapQuality) -> str:
    return (
        f":material/info: How faithful this map is (k = {QUALITY_K}): trustworthiness "
        f"{q.trustworthiness:.3f} · continuity {q.continuity:.3f} · neighbours kept "
        f"{np.nanmean(q.preservation):.0%} on average. The Quality page shows where it bends."
    )


def _waiting(status: JobStatus | None) -> str:
    where = ""
    if status is not None and status.state == "queued" and status.ahead:
        where = f" (waiting for a worker: {status.ahead} job(s) ahead)"
    return (
        ":material/info: Measuring how faithful this map is"
        f"{where}; the figures appear here when done, and the map can be used meanwhile."
    )


def quality_line(opened: OpenedSpace, params: ProjectionParams) -> None:
    """One line under the map: its quality figures, or that they are being measured."""
    with common.friendly("Measuring the map"):
        q, _ = cache.quality_in_background(opened, asdict(params))
        if q is not None:
            st.caption(_figures(q))
            return
        st.fragment(run_every=POLL_S)(_poll)(opened, asdict(params))


def _poll(opened: OpenedSpace, params: dict[str, Any]) -> None:
    """The line, asked again every POLL_S seconds: only it is redrawn, never the map."""
    with common.friendly("Measuring the map"):
        q, status = cache.quality_in_background(opened, params)
        st.caption(_waiting(status) if q is None else _figures(q))
