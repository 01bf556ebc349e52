"""Small pictures of a space's image items (``thumbs.npy``), for hover and neighbour lists.

A space made from images keeps one (s, s, 3) uint8 thumbnail per item, in row order;
rows that are not images (captions in a CLIP space) are all zero and marked so by the
items' ``modality`` column. The file is ours, named in the sealed manifest with its
checksum, and read with ``allow_pickle=False`` by the space's handle
(``explorer.opened.handle.OpenedSpace.thumbnails``).
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np

from explorer.core.errors import InputError
from explorer.opened.handle import THUMBS

__all__ = ["save_thumbnails", "thumbnail_uri"]

# The largest thumbnail side kept: hover and lists show them at about this size.
_MAX_SIDE = 64


def save_thumbnails(folder: Path, thumbs: np.ndarray, n: int) -> None:
    """Write (n, s, s, 3) uint8 `thumbs` into the space in `folder` and its manifest.

    Raises:
        InputError: not n square RGB uint8 pictures of at most 64 pixels a side.
    """
    from explorer.core.store import digests, edit_manifest

    t = np.asarray(thumbs)
    ok = t.dtype == np.uint8 and t.ndim == 4 and t.shape[0] == n and t.shape[3] == 3
    if not ok or t.shape[1] != t.shape[2] or not 4 <= t.shape[1] <= _MAX_SIDE:
        raise InputError(
            f"Thumbnails must be {n} square RGB uint8 pictures of 4 to {_MAX_SIDE} pixels "
            f"a side, not an array of shape {t.shape} and type {t.dtype}."
        )
    np.save(Path(folder) / THUMBS, np.ascontiguousarray(t), allow_pickle=False)
    with edit_manifest(Path(folder)) as man:
        man["files"].update(digests(Path(folder), [THUMBS]))
        man["thumbnails"] = {"size": int(t.shape[1])}


def thumbnail_uri(thumb: np.ndarray) -> str:
    """A ``data:image/png;base64,...`` URI of a (s, s, 3), (s, s, 1) or (s, s) uint8 image,
    for plotly's images and ``st.column_config.ImageColumn``."""
    from PIL import Image

    arr = np.asarray(thumb)[:, :, 0] if np.ndim(thumb) == 3 and thumb.shape[2] == 1 else thumb
    if arr.dtype != np.uint8 or not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)):
        raise ValueError(f"a thumbnail is (s, s, 3) or (s, s) uint8, not {arr.shape} {arr.dtype}")
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
