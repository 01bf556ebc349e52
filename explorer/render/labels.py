"""Cluster names placed on the map itself, sized by cluster and kept from overlapping.

In the style of datamapplot and Nomic Atlas: a map that names its islands says more to
a stakeholder than a legend of cluster numbers. Each cluster's name sits on one of its
own points (the member nearest the members' median, so a curved cluster is still
labelled on itself); bigger clusters get bigger type; names are placed largest cluster
first, and a name that would overlap one already placed is nudged up or down, or left
out. Sizes are estimated in pixels of a figure of the given size, so the layout holds at
the default zoom.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["MapLabel", "place_labels"]

_CHAR_W = 0.58  # average glyph width, in font sizes (sans-serif)
_LINE_H = 1.35  # line height, in font sizes


@dataclass(frozen=True)
class MapLabel:
    """One name on the map: data position, text, members, font size (px), box (px)."""

    x: float
    y: float
    text: str
    size: int
    font: float
    width_px: float
    height_px: float


def _anchor(xy: np.ndarray) -> np.ndarray:
    """The member nearest the members' median: a point of the cluster itself."""
    med = np.median(xy, axis=0)
    return xy[np.argmin(((xy - med) ** 2).sum(1))]


def _overlaps(box: tuple[float, float, float, float], boxes: list[tuple[float, ...]]) -> bool:
    x0, y0, x1, y1 = box
    return any(not (x1 <= a0 or b1 <= x0 or y1 <= b0 or c1 <= y0) for a0, b0, b1, c1 in boxes)


def place_labels(
    coords: np.ndarray,
    labels: np.ndarray,
    names: Mapping[int, str],
    *,
    width_px: int = 1000,
    height_px: int = 640,
    max_labels: int = 30,
    min_font: float = 11.0,
    max_font: float = 22.0,
) -> list[MapLabel]:
    """Where to write each cluster's name on a 2-D map.

    Args:
        coords: (n, 2) map coordinates; NaN rows are not drawn and not used.
        labels: (n,) cluster of each row (-1: noise, never labelled).
        names: cluster → its name (e.g. its top terms).

    Returns:
        Labels largest cluster first, none overlapping another (in estimated pixels).
    """
    xy = np.asarray(coords, dtype=np.float64)[:, :2]
    lab = np.asarray(labels)
    ok = np.isfinite(xy).all(1) & (lab >= 0)
    if not ok.any():
        return []
    span = np.ptp(xy[ok], axis=0)
    span[span == 0] = 1.0
    per_px = span / np.array([width_px, height_px])  # data units per pixel
    ids, sizes = np.unique(lab[ok], return_counts=True)
    order = np.argsort(-sizes, kind="stable")
    biggest = float(sizes.max())
    placed: list[MapLabel] = []
    boxes: list[tuple[float, ...]] = []
    for i in order[: max_labels * 3]:
        c, size = int(ids[i]), int(sizes[i])
        text = names.get(c, "")
        if not text or len(placed) >= max_labels:
            continue
        font = min_font + (max_font - min_font) * float(np.sqrt(size / biggest))
        w, h = _CHAR_W * font * len(text), _LINE_H * font
        x, y = _anchor(xy[ok & (lab == c)])
        for dy in (0.0, h, -h, 2 * h, -2 * h):  # nudge up or down before giving up
            cy = y + dy * per_px[1]
            box = (
                x - w / 2 * per_px[0],
                cy - h / 2 * per_px[1],
                x + w / 2 * per_px[0],
                cy + h / 2 * per_px[1],
            )
            if not _overlaps(box, boxes):
                boxes.append(box)
                placed.append(MapLabel(float(x), float(cy), text, size, font, w, h))
                break
    return placed
