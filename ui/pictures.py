"""Thumbnails of image items in tables (an image column) and on the map."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from explorer.core.space import Space
from explorer.ingest.thumbs import thumbnail_uri
from explorer.opened.handle import OpenedSpace

PICTURE = "picture"
# Pictures drawn on the map at once: each is a small PNG (about 1 KB) in the message.
MAP_PICTURES = 300


def modality(space: Space) -> np.ndarray | None:
    """(n,) "image"/"text" of each item in an image space, else None."""
    if "modality" not in space.items.columns:
        return None
    return space.items["modality"].astype(str).to_numpy()


def modality_filter(space: Space, key: str) -> np.ndarray | None:
    """A choice of which modality results may be (image–text spaces only): (n,) bool or None.

    A text's nearest items in a CLIP space are its fellow texts (the "modality gap"),
    so text→image search asks for images only.
    """
    kinds = modality(space)
    if kinds is None or len(set(kinds)) < 2:
        return None
    choice = st.radio(
        "Results",
        ["images", "texts", "both"],
        horizontal=True,
        key=key,
        help="In a CLIP space texts lie nearer to texts and images to images (the modality "
        "gap): pick the modality you want back.",
    )
    if choice == "both":
        return None
    return np.asarray(kinds == ("image" if choice == "images" else "text"))


def uris(thumbs: np.ndarray | None, space: Space, rows: Sequence[int]) -> list[str | None]:
    """A data URI per row: the image's thumbnail, or None (captions, other spaces)."""
    if thumbs is None:
        return [None] * len(rows)
    kinds = modality(space)
    return [
        thumbnail_uri(thumbs[r]) if kinds is None or kinds[r] == "image" else None for r in rows
    ]


def with_pictures(
    table: pd.DataFrame, opened: OpenedSpace, rows: Sequence[int]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """`table` with a picture column first (for image spaces) and its column config."""
    thumbs = opened.thumbnails
    space = opened.space
    if thumbs is None:
        return table, {}
    out = table.copy()
    out.insert(0, PICTURE, uris(thumbs, space, rows))
    kinds = modality(space)
    if kinds is not None and "modality" not in out.columns:
        out.insert(1, "modality", [kinds[r] for r in rows])
    return out, {PICTURE: st.column_config.ImageColumn(PICTURE, width="small")}


def map_pictures(
    thumbs: np.ndarray, space: Space, coords: np.ndarray, first: Sequence[int]
) -> tuple[np.ndarray, list[str]]:
    """Rows to draw as pictures on the map (the `first` ones, then an even spread of the
    rest, at most MAP_PICTURES, images only) and their URIs."""
    kinds = modality(space)
    n = coords.shape[0]
    ok = ~np.isnan(coords).any(axis=1)
    if kinds is not None:
        ok &= kinds[:n] == "image"
    lead = [int(r) for r in first if 0 <= r < n and ok[r]][:MAP_PICTURES]
    rest = np.flatnonzero(ok)
    room = MAP_PICTURES - len(lead)
    if room > 0 and rest.size:
        spread = rest[np.linspace(0, rest.size - 1, min(room, rest.size)).astype(int)]
        lead += [int(r) for r in spread if r not in set(lead)]
    rows = np.asarray(lead[:MAP_PICTURES], dtype=np.int64)
    return rows, [thumbnail_uri(thumbs[r]) for r in rows]
