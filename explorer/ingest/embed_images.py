"""Embed images with a sentence-transformers model that reads images (a CLIP model).

A CLIP model has a text side and an image side that share one space: texts go through
:func:`explorer.ingest.embed.embed_texts` as usual (it calls ``encode`` on strings, which a
CLIP model sends to its text side), images come here. The model is loaded with
:func:`explorer.ingest.models.load_model`, under the same allow-list and checks as any other.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from explorer.core.errors import InputError
from explorer.core.linalg import unit_rows
from explorer.core.progress import Progress
from explorer.ingest.images import ImageSet
from explorer.ingest.models import load_model, resolve_model

__all__ = ["embed_images", "model_modalities", "reads_images"]

# Images decoded at once: a batch of full-size photos is the memory that matters.
_BATCH = 32


def model_modalities(model: Any) -> set[str]:
    """The inputs a loaded SentenceTransformer reads ({"text"} for text-only models)."""
    found = getattr(model, "modalities", None)
    if isinstance(found, list | tuple | set):
        return {str(m) for m in found}
    return {"text"}


def reads_images(spec: str | None) -> bool:
    """Whether the model `spec` (allowed here) embeds images as well as text."""
    return "image" in model_modalities(load_model(spec))


def embed_images(
    images: ImageSet,
    spec: str | None,
    *,
    batch_size: int = _BATCH,
    progress: Progress | None = None,
) -> np.ndarray:
    """Embed every image of `images` with the image side of model `spec`.

    Returns:
        (len(images), d) float32 unit rows, in the order of ``images.names``.

    Raises:
        InputError: the model reads only text, or no images were given.
        ModelError: the model is not allowed here or does not load.
    """
    n = len(images)
    if n == 0:
        raise InputError("There are no images to embed.")
    info = resolve_model(spec)
    model = load_model(spec)
    if "image" not in model_modalities(model):
        raise InputError(
            f"The model '{info.spec}' embeds only text, so it cannot embed images. Choose a "
            "CLIP model (such as clip-ViT-B-32), or train one with 'train clip'."
        )
    out: list[np.ndarray] = []
    t0 = time.perf_counter()
    for start in range(0, n, batch_size):
        rows = list(range(start, min(start + batch_size, n)))
        vecs = model.encode(images.pil(rows), batch_size=batch_size, convert_to_numpy=True)
        out.append(np.asarray(vecs, dtype=np.float32))
        if progress:
            done = rows[-1] + 1
            rate = done / max(time.perf_counter() - t0, 1e-9)
            progress(done / n, f"Embedded {done:,} of {n:,} images ({rate:,.0f}/s)")
    vectors = np.concatenate(out)
    if not np.isfinite(vectors).all():
        raise InputError(f"The model '{info.spec}' gave vectors that are not finite numbers.")
    return unit_rows(vectors)[0]
