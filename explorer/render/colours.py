"""Colours of a map: the categorical palette, the continuous scale, and which categories
get their own colour (the most frequent; the rest share "other").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from explorer.core.safe_text import plot_text

# A plotly marker's settings.
Marker = dict[str, Any]

__all__ = [
    "Marker",
    "HIGHLIGHT",
    "MAX_CATEGORIES",
    "OTHER_COLOUR",
    "PALETTE",
    "VIRIDIS",
    "category_codes",
    "category_colours",
    "colour_groups",
    "colour_kind",
    "top_categories",
    "top_of",
]

MAX_CATEGORIES = 20
# Twenty colours no two of which look alike: Glasbey et al.'s construction (2007), as
# colorcet's ``glasbey_category10`` (matplotlib's ten first, then the colours farthest
# from all before them). Any two differ by at least 27 in CIELAB (ΔE76), and each from
# OTHER_COLOUR by 19 (tests/test_map_figure.py); the Tableau 10 + category10 pair this
# replaces had two near-identical oranges (ΔE 10.5).
PALETTE = [
    "#1F77B3",
    "#FF7E0E",
    "#2BA02B",
    "#D62628",
    "#9367BC",
    "#8C564B",
    "#E277C1",
    "#7E7E7E",
    "#BCBC21",
    "#16BDCF",
    "#3A0182",
    "#004201",
    "#0FFFA8",
    "#5D003F",
    "#BCBCFF",
    "#D8AFA1",
    "#B80080",
    "#004D52",
    "#6B6400",
    "#7C0100",
]
OTHER_COLOUR = "#C8C8C8"
# plotly's "Viridis" colour scale, whose stops a density view interpolates.
VIRIDIS = (
    "#440154",
    "#482878",
    "#3e4989",
    "#31688e",
    "#26828e",
    "#1f9e89",
    "#35b779",
    "#6ece58",
    "#b5de2b",
    "#fde725",
)
HIGHLIGHT = "#111111"


def colour_kind(values: pd.Series) -> str:
    """``numeric`` for numbers with many distinct values, else ``categorical``."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return "numeric" if values.nunique(dropna=True) > MAX_CATEGORIES else "categorical"
    return "categorical"


def colour_groups(
    ok: np.ndarray,
    colour: pd.Series | None,
    colour_name: str,
    numeric: bool | None,
    base: Marker,
    muted: Sequence[str] = (),
    categories: Sequence[str] | None = None,
) -> list[tuple[np.ndarray, str, Marker, bool]]:
    """The traces of the drawn rows `ok`: (rows, name, marker, in legend) each; the
    legend's `categories` default to the most frequent among `ok`."""
    if colour is None:
        return [(ok, "items", {**base, "color": PALETTE[0]}, False)]
    if numeric or (numeric is None and colour_kind(colour) == "numeric"):
        vals = pd.to_numeric(colour, errors="coerce").to_numpy(dtype=float)
        finite = ok[np.isfinite(vals[ok])]
        # float32 colour values: an "f4" typed array, half the bytes of float64
        # (clipped, so a huge value stays finite rather than becoming inf).
        f32 = np.finfo(np.float32).max
        vals = np.clip(vals, -f32, f32).astype(np.float32)
        scale = {
            "color": vals[finite],
            "colorscale": "Viridis",
            "showscale": True,
            "colorbar": {"title": {"text": plot_text(colour_name)}, "thickness": 14},
        }
        return [
            (finite, plot_text(colour_name), {**base, **scale}, False),
            (np.setdiff1d(ok, finite), "no value", {**base, "color": OTHER_COLOUR}, True),
        ]
    cats = colour.astype("string").fillna("(missing)").to_numpy(dtype=object)
    counts = pd.Series(cats[ok]).value_counts()
    top = _top(counts) if categories is None else list(categories)
    groups = [
        (ok[cats[ok] == cat], plot_text(cat), {**base, "color": col}, True)
        for cat, col in category_colours(top, muted)
    ]
    rest = ok[~np.isin(cats[ok], top)]
    other = f"other ({int((~counts.index.isin(top)).sum())} values)"
    return [*groups, (rest, other, {**base, "color": OTHER_COLOUR}, True)]


def _top(counts: pd.Series) -> list[str]:
    """The categories a legend names, from their counts: all, or the most frequent
    MAX_CATEGORIES - 1 (the rest share one "other" entry)."""
    return list(
        counts.index[: MAX_CATEGORIES - 1] if len(counts) > MAX_CATEGORIES else counts.index
    )


def category_codes(colour: pd.Series) -> tuple[np.ndarray, list[str]]:
    """(n,) int64 codes of `colour`'s categories and their names, as a legend names them
    (the distinct values as text, missing ones "(missing)"; only those are converted)."""
    raw, uniques = pd.factorize(colour, use_na_sentinel=False)
    names = pd.Series(uniques, dtype=object).astype("string").fillna("(missing)")
    merged, distinct = pd.factorize(names)  # 1 and "1" are one category
    return np.asarray(merged, dtype=np.int64)[raw], [str(c) for c in distinct]


def top_of(counts: np.ndarray, names: list[str]) -> list[str]:
    """:func:`_top` of the categories `names` with `counts`."""
    seen = [names[i] for i in np.argsort(-counts, kind="stable") if counts[i] > 0]
    return seen[: MAX_CATEGORIES - 1] if len(seen) > MAX_CATEGORIES else seen


def top_categories(colour: pd.Series, rows: np.ndarray | None = None) -> list[str]:
    """The categories a map of `colour` (at `rows`, default all) names in its legend."""
    codes, names = category_codes(colour)
    return top_of(np.bincount(codes if rows is None else codes[rows], minlength=len(names)), names)


def category_colours(top: Sequence[str], muted: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(category, colour) of each of `top`, in legend order: the palette in natural order,
    then the `muted` ones (noise) in grey."""
    shown = sorted((c for c in top if c not in muted), key=_natural)
    return [(c, PALETTE[i % len(PALETTE)]) for i, c in enumerate(shown)] + [
        (c, OTHER_COLOUR) for c in top if c in muted
    ]


def _natural(value: object) -> tuple[int, float, str]:
    """Numbers in order, and labels led by a number ("10: rain · storm") by that number."""
    text = str(value)
    try:
        return (0, float(text), "")
    except ValueError:
        lead = re.match(r"^(\d+)(?::|\s)", text)
        return (1, float(lead.group(1)), text) if lead else (2, 0.0, text)
