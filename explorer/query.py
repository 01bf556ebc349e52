"""Free text → a query vector in a space's own terms."""

from __future__ import annotations

import numpy as np

from .errors import InputError
from .models import embed_texts
from .space import Space

__all__ = ["text_vector"]


def text_vector(space: Space, text: str) -> tuple[np.ndarray, str]:
    """A (d,) float32 query for `text`, and how it was made.

    Embeds with the space's own model; a space without a model (given vectors,
    word vectors) can only look the text up as an item.
    """
    text = text.strip()
    if not text:
        raise InputError("Type some text to search for.")
    if space.model:
        enc = embed_texts([text], space.model, use_cache=False)
        return enc.vectors[0], f"embedded with {space.model}"
    row = space.lookup(text)
    if row is None:
        raise InputError(
            f"{text!r} is not an item of this space, and the space has no model to embed "
            "new text (it was built from given vectors). Pick an item instead."
        )
    return np.asarray(
        space.vectors[row], dtype=np.float32
    ), f"the vector of item {space.ids[row]!r}"
