"""Progress reports: one callback type for every long step, and its stages."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress", "stage"]

# (fraction done, 0..1; a message for the user)
Progress = Callable[[float, str], None]


def stage(progress: Progress | None, lo: float, hi: float) -> Progress | None:
    """`progress` for a stage that runs from `lo` to `hi` (0..1) of the whole work."""
    if progress is None:
        return None
    report = progress
    return lambda f, msg: report(lo + (hi - lo) * max(0.0, min(1.0, f)), msg)
