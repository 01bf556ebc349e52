"""A map figure as a PNG, drawn with Pillow from the figure's own points, colours,
legend and names (no browser needed).
"""

from __future__ import annotations

import html
import io
from typing import Any

import numpy as np

from explorer.render.colours import PALETTE

__all__ = ["figure_points", "map_png", "placer"]


def _rgba(colour: Any, opacity: float) -> tuple[int, int, int, int]:
    """An RGBA tuple of a plotly colour string (grey when it cannot be read)."""
    from PIL import ImageColor

    try:
        c = ImageColor.getrgb(str(colour))
    except ValueError:
        c = (128, 128, 128)
    alpha = c[3] if len(c) == 4 else 255
    return (c[0], c[1], c[2], int(round(alpha * opacity)))


def _scale_colours(values: np.ndarray, scale: Any) -> np.ndarray:
    """(n, 3) uint8 RGB of `values` on a plotly colorscale ((position, colour) pairs)."""
    from PIL import ImageColor

    stops = [(float(p), ImageColor.getrgb(str(c))[:3]) for p, c in scale]
    pos = np.asarray([p for p, _ in stops])
    rgb = np.asarray([c for _, c in stops], dtype=float)
    lo, hi = float(np.min(values)), float(np.max(values))
    t = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
    return np.stack([np.interp(t, pos, rgb[:, k]) for k in range(3)], 1).astype(np.uint8)


def _has_scale(marker: Any) -> bool:
    """Whether a trace's marker colours each point by a value (a colour scale)."""
    return not (marker.color is None or isinstance(marker.color, str))


def _view(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(screen xy (n, 2), depth (n,)) of 3-D points seen as plotly's default camera sees
    them (eye (1.25, 1.25, 1.25), z up), each axis scaled to [-1, 1], orthographic."""
    lo, hi = np.nanmin(xyz, 0), np.nanmax(xyz, 0)
    p = 2 * (xyz - lo) / np.where(hi > lo, hi - lo, 1.0) - 1
    ahead = -np.ones(3) / np.sqrt(3.0)
    right = np.cross(ahead, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, ahead)
    return np.stack([p @ right, p @ up], 1), p @ ahead


def figure_points(fig: Any) -> tuple[np.ndarray, np.ndarray, list[tuple[Any, ...]], list[Any]]:
    """Every drawn point of `fig`'s traces, in drawing order.

    Returns (xy (n, 2), radius (n,) in px, styles (n,) (fill RGBA, outline RGBA or
    None, outline width), the traces with a legend entry or a colour bar).
    """
    xy, radius, styles, keys = [], [], [], []
    three = any(t.type == "scatter3d" for t in fig.data)
    for t in fig.data:
        m = t.marker
        cols = [np.asarray(t.x, dtype=float), np.asarray(t.y, dtype=float)]
        if three:
            cols.append(np.asarray(t.z, dtype=float))
        xy.append(np.stack(cols, 1))
        n = len(cols[0])
        opacity = 1.0 if m.opacity is None else float(m.opacity)
        line = m.line
        outline = None
        if line is not None and line.width:
            outline = _rgba(line.color or "#000000", 1.0)
        if not _has_scale(m):
            fills = [_rgba(m.color or PALETTE[0], opacity)] * n
        else:
            rgb = _scale_colours(np.asarray(m.color, dtype=float), m.colorscale)
            fills = [(int(r), int(g), int(b), int(255 * opacity)) for r, g, b in rgb.tolist()]
        styles += [(f, outline, float(line.width or 0) if line else 0.0) for f in fills]
        # At least 4 px across: plotly's 3-px 3-D markers are specks in a still picture.
        radius.append(np.full(n, max(float(m.size or 6), 4.0) / 2))
        if t.showlegend or _has_scale(m):
            keys.append(t)
    coords = np.concatenate(xy) if xy else np.zeros((0, 2))
    r = np.concatenate(radius) if radius else np.zeros(0)
    if three:
        coords, depth_all = _view(coords)
        order = np.argsort(-depth_all, kind="stable")  # far points first
        coords, r = coords[order], r[order]
        styles = [styles[i] for i in order]
    return coords, r, styles, keys


def _font(size: int) -> Any:
    """Pillow's own scalable font (Pillow ≥ 10.1): no font file needs to be installed."""
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def _legend(draw: Any, keys: list[Any], x: int, y: int, s: int, fig: Any) -> None:
    """Legend entries (swatch + name) and colour bars from `x`, `y` down, at scale `s`."""
    font, ink = _font(13 * s), (40, 40, 40)
    title = html.unescape(str(fig.layout.legend.title.text or ""))[:40]
    if title:
        draw.text((x, y), title, fill=ink, font=_font(14 * s))
        y += 24 * s
    for t in keys:
        m = t.marker
        name = html.unescape(str(t.name or ""))[:40]
        if _has_scale(m):  # a colour bar: its colours top (max) to bottom (min)
            if name != title:
                draw.text((x, y), name, fill=ink, font=font)
                y += 20 * s
            vals = np.asarray(m.color, dtype=float)
            bar = _scale_colours(np.linspace(1, 0, 160 * s), m.colorscale)
            for i, c in enumerate(bar.tolist()):
                draw.line((x, y + i, x + 16 * s, y + i), fill=tuple(c))
            draw.text((x + 22 * s, y), f"{vals.max():.4g}", fill=ink, font=font)
            draw.text((x + 22 * s, y + 148 * s), f"{vals.min():.4g}", fill=ink, font=font)
            y += 176 * s
            continue
        r = 6 * s
        fill = _rgba(m.color or PALETTE[0], 1.0)
        width = int(m.line.width or 0) * s if m.line else 0
        outline = _rgba(m.line.color, 1.0) if width else None
        box = (x, y, x + 2 * r, y + 2 * r)
        draw.ellipse(box, fill=fill if fill[3] else None, outline=outline, width=width)
        draw.text((x + 3 * r, y - s), name, fill=ink, font=font)
        y += 22 * s


def placer(xy: np.ndarray, box: np.ndarray, equal: bool) -> Any:
    """A function (x, y) data → pixels that fits the finite `xy` (n, 2) into `box`."""
    ok = np.isfinite(xy).all(1)
    lo, hi = (xy[ok].min(0), xy[ok].max(0)) if ok.any() else (np.zeros(2), np.ones(2))
    span = np.where(hi > lo, hi - lo, 1.0) * 1.04  # a margin, so no point is cut
    k = (box[2:] - box[:2]) / span
    if equal:  # the Map page keeps one unit the same length on both axes
        k[:] = k.min()
    mid, centre = (lo + hi) / 2, (box[:2] + box[2:]) / 2
    return lambda x, y: (centre[0] + (x - mid[0]) * k[0], centre[1] - (y - mid[1]) * k[1])


def _texts(img: Any, draw: Any, fig: Any, box: np.ndarray, place: Any, s: int) -> None:
    """The figure's title, axis titles (semantic axes) and names written on the map."""
    ink = (20, 20, 20)
    title = html.unescape(str(fig.layout.title.text or ""))[:100]
    draw.text((20 * s, 16 * s), title, fill=ink, font=_font(20 * s))
    # Pillow's own font has no arrow: "man → woman" is written "man -> woman".
    xt, yt = (
        html.unescape(str(a.title.text or "")).replace("→", "->")
        for a in (fig.layout.xaxis, fig.layout.yaxis)
    )
    font = _font(14 * s)
    if xt:
        draw.text(((box[0] + box[2]) / 2, box[3] + 24 * s), xt, fill=ink, font=font, anchor="mm")
    if yt:  # written upwards beside the plot, as plotly does
        from PIL import Image, ImageDraw

        label = Image.new("RGBA", (int(draw.textlength(yt, font=font)) + 4, 20 * s))
        ImageDraw.Draw(label).text((2, 0), yt, fill=ink, font=font)
        label = label.rotate(90, expand=True)
        img.alpha_composite(label, (4 * s, int((box[1] + box[3] - label.height) / 2)))
    for a in fig.layout.annotations:  # cluster names, centred on their point
        x, y = place(float(a.x), float(a.y))
        font = _font(int((a.font.size or 12) * s))
        text = html.unescape(str(a.text or ""))
        draw.rectangle(
            draw.textbbox((x, y), text, font=font, anchor="mm"), fill=(255, 255, 255, 153)
        )
        draw.text((x, y), text, fill=ink, font=font, anchor="mm")


def map_png(fig: Any, *, width: int = 1600, height: int = 1000) -> bytes:
    """A PNG of `fig` (from :func:`map_figure`): points, names, legend and colour bar.

    Drawn with Pillow (already installed with Streamlit) from the figure's own traces,
    so the picture has the same points, colours and names as the HTML. Plotly's own
    PNG export (kaleido) needs a Chrome or Chromium at run time, which a server may not
    have, and starts a browser per picture; this needs neither. A 3-D map is drawn as
    plotly's default camera sees it. Drawn at twice the size and reduced (antialiasing).
    """
    from PIL import Image, ImageDraw

    s = 2
    w, h = width * s, height * s
    img = Image.new("RGBA", (w, h), (255, 255, 255, 255))
    draw = ImageDraw.Draw(img, "RGBA")
    xy, radius, styles, keys = figure_points(fig)
    axes = bool(fig.layout.xaxis.title.text)
    top = 20 * s + (40 * s if fig.layout.title.text else 0)
    right = w - (320 * s if keys else 20 * s)
    box = np.asarray([(44 if axes else 20) * s, top, right, h - (48 if axes else 20) * s], float)
    equal = bool(fig.layout.yaxis.scaleanchor) or any(t.type == "scatter3d" for t in fig.data)
    place = placer(xy, box, equal)
    px, py = place(xy[:, 0], xy[:, 1])
    for i in np.flatnonzero(np.isfinite(xy).all(1)).tolist():
        r = radius[i] * s
        fill, outline, lw = styles[i]
        draw.ellipse(
            (px[i] - r, py[i] - r, px[i] + r, py[i] + r),
            # Pillow paints a transparent fill over what is below: a ring has none.
            fill=fill if fill[3] else None,
            outline=outline,
            width=int(lw * s),
        )
    _texts(img, draw, fig, box, place, s)
    if keys:
        _legend(draw, keys, right + 30 * s, top + 20 * s, s, fig)
    out = io.BytesIO()
    img.convert("RGB").reduce(s).save(out, format="PNG")
    return out.getvalue()
