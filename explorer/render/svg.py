"""A map as SVG: the publication-ready, scalable picture for slides and papers.

Drawn from the figure's own traces like the PNG (``explorer.render.raster.map_png``): the
same points, colours, names on the map and axis titles, as vector shapes and real
text, so it stays sharp at any size and its words can be edited or searched.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from explorer.render.raster import figure_points, placer

__all__ = ["map_svg"]


def _colour(rgba: tuple[int, ...] | None) -> str:
    if rgba is None:
        return "none"
    r, g, b, a = rgba
    return f"rgba({r},{g},{b},{a / 255:.3f})"


def map_svg(fig: Any, *, width: int = 1200, height: int = 800) -> bytes:
    """SVG bytes of `fig` (from ``explorer.render.export.export_figure``); text is XML-escaped."""
    xy, radius, styles, _ = figure_points(fig)
    axes = bool(fig.layout.xaxis.title.text)
    title = html.unescape(str(fig.layout.title.text or ""))
    top = 20 + (40 if title else 0)
    box = np.asarray([50 if axes else 20, top, width - 20, height - (50 if axes else 20)], float)
    equal = bool(fig.layout.yaxis.scaleanchor) or any(t.type == "scatter3d" for t in fig.data)
    place = placer(xy, box, equal)
    px, py = place(xy[:, 0], xy[:, 1])
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    if title:
        out.append(f'<text x="20" y="36" font-size="20">{html.escape(title)}</text>')
    for i in np.flatnonzero(np.isfinite(xy).all(1)).tolist():
        fill, outline, lw = styles[i]
        out.append(
            f'<circle cx="{px[i]:.1f}" cy="{py[i]:.1f}" r="{radius[i]:.1f}" '
            f'fill="{_colour(fill if fill[3] else None)}" stroke="{_colour(outline)}" '
            f'stroke-width="{lw:.1f}"/>'
        )
    for a in fig.layout.annotations:  # the names on the map
        x, y = place(float(a.x), float(a.y))
        text = html.escape(html.unescape(str(a.text or "")))
        out.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{a.font.size or 12}" '
            f'text-anchor="middle" dominant-baseline="middle" stroke="white" '
            f'stroke-width="3" paint-order="stroke">{text}</text>'
        )
    xt = html.unescape(str(fig.layout.xaxis.title.text or ""))
    yt = html.unescape(str(fig.layout.yaxis.title.text or ""))
    if xt:
        out.append(
            f'<text x="{width / 2:.0f}" y="{height - 15}" font-size="14" '
            f'text-anchor="middle">{html.escape(xt)}</text>'
        )
    if yt:
        out.append(
            f'<text x="18" y="{height / 2:.0f}" font-size="14" text-anchor="middle" '
            f'transform="rotate(-90 18 {height / 2:.0f})">{html.escape(yt)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out).encode("utf-8")
