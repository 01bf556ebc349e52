"""Spaces of images, and of images with their captions in one space (CLIP-style).

An image space's items are its images (``modality`` "image", one row each) and, when a
captions table is given, each caption (``modality`` "text"), so text→image and
image→text neighbours come from the one index. Every item keeps ``file`` (the image it
belongs to) and any label columns of the captions table, so the map can be coloured
by modality or by label; images keep thumbnails (:mod:`explorer.ingest.thumbs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from explorer.core.errors import InputError
from explorer.core.progress import Progress
from explorer.ingest.images import ImageSet, read_captions, read_images

__all__ = [
    "THUMB_SIDE",
    "build_image_space",
    "image_items",
    "is_image_input",
    "load_image_input",
    "save_image_space",
]

THUMB_SIDE = 32  # pixels a side of a stored thumbnail


def is_image_input(path: Path) -> bool:
    """Whether `path` is an image collection: a folder, a .zip, or a .npy whose header
    says (n, h, w) or (n, h, w, c) (a 2-D .npy is vectors, read by explorer.ingest.sources)."""
    path = Path(path)
    if path.is_dir() or path.suffix.lower() == ".zip":
        return True
    if path.suffix.lower() != ".npy" or not path.is_file():
        return False
    from numpy.lib import format as npformat

    try:
        with open(path, "rb") as fh:
            version = npformat.read_magic(fh)
            if version == (1, 0):
                shape = npformat.read_array_header_1_0(fh, max_header_size=10_000)[0]
            else:
                shape = npformat.read_array_header_2_0(fh, max_header_size=10_000)[0]
    except (OSError, ValueError):
        return False
    return len(shape) in (3, 4)


def load_image_input(path: Path, *, max_images: int | None = None) -> ImageSet:
    """The images of a folder, .zip or .npy at `path` (the operator's; see read_images)."""
    path = Path(path)
    return read_images(path, name=path.name, max_images=max_images)


def image_items(images: ImageSet, captions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Items for `images` (first, in order) and then their captions (one row each).

    Args:
        captions: from :func:`explorer.ingest.images.read_captions`: ``file``, ``text`` and any
            label columns (an image takes the labels of its first caption row).

    Returns:
        id, text, modality ("image"/"text"), file, and the label columns.
    """
    names = list(images.names)
    imgs = pd.DataFrame({"id": names, "text": names, "modality": "image", "file": names})
    if captions is None or captions.empty:
        return imgs
    labels = [c for c in captions.columns if c not in ("file", "text")]
    first = captions.drop_duplicates("file").set_index("file")
    for c in labels:
        imgs[c] = imgs["file"].map(first[c])
    # An image's hover shows its first caption beside its name.
    imgs["text"] = [f"{n} · {first.at[n, 'text']}" if n in first.index else n for n in names]
    caps = captions.reset_index(drop=True)
    order = caps.groupby("file").cumcount()
    texts = pd.DataFrame(
        {
            "id": [f"caption:{f}#{k}" for f, k in zip(caps["file"], order, strict=True)],
            "text": caps["text"].astype(str),
            "modality": "text",
            "file": caps["file"],
            **{c: caps[c] for c in labels},
        }
    )
    return pd.concat([imgs, texts], ignore_index=True)


def _thumbs_for(images: ImageSet, n_items: int) -> np.ndarray:
    """(n_items, s, s, 3) uint8: the images' thumbnails, then blank rows for captions."""
    thumbs = np.zeros((n_items, THUMB_SIDE, THUMB_SIDE, 3), dtype=np.uint8)
    thumbs[: len(images)] = images.thumbnails(THUMB_SIDE)
    return thumbs


def save_image_space(
    images: ImageSet,
    items: pd.DataFrame,
    vectors: np.ndarray,
    out: Path,
    *,
    model: str | None,
    source: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
    notes: list[str] | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Any:
    """Save images (and captions) with their `vectors` as a cosine space with thumbnails;
    returns the :class:`explorer.ingest.build.BuildSummary`."""
    from explorer.ingest.build import build_space

    _, _, summary = build_space(
        items,
        vectors,
        Path(out),
        model=model,
        metric="cosine",
        source=source,
        notes=[*images.notes, *(notes or [])],
        extra=extra,
        overwrite=overwrite,
        progress=progress,
        thumbnails=_thumbs_for(images, len(items)),
    )
    return summary


def build_image_space(
    images: ImageSet,
    out: Path,
    *,
    model: str,
    captions: Path | bytes | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Any:
    """Embed `images` (and the captions of a captions CSV) with the CLIP model `model`
    into one space in `out`; returns the :class:`explorer.ingest.build.BuildSummary`.

    Raises:
        InputError: the model reads only text; a captions table that names no image.
        SpaceExists: `out` exists and `overwrite` is False (checked before embedding).
    """
    from explorer.core.progress import stage
    from explorer.core.store import refuse_clash
    from explorer.ingest.embed import embed_texts
    from explorer.ingest.embed_images import embed_images

    out = Path(out)
    refuse_clash(out, overwrite)
    table = read_captions(captions, images.names) if captions is not None else None
    notes = list(table.attrs.get("notes", [])) if table is not None else []
    if table is not None and table.empty:
        raise InputError("The captions table names none of the images; check its file column.")
    items = image_items(images, table)
    vectors = embed_images(images, model, progress=stage(progress, 0.0, 0.6))
    if table is not None:
        texts = embed_texts(
            table["text"].astype(str).tolist(), model, progress=stage(progress, 0.6, 0.75)
        )
        vectors = np.concatenate([vectors, texts.vectors])
    n_img, n_txt = len(images), len(items) - len(images)
    return save_image_space(
        images,
        items,
        vectors,
        out,
        model=model,
        source={"kind": "images", "images": n_img, "captions": n_txt, "model": model},
        extra={"modalities": {"image": n_img, "text": n_txt}},
        notes=notes,
        overwrite=overwrite,
        progress=stage(progress, 0.75, 1.0),
    )
