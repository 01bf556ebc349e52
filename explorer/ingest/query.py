"""Free text → a query vector in a space's own terms."""

from __future__ import annotations

import numpy as np

from explorer.core.errors import InputError
from explorer.core.space import Space
from explorer.ingest.embed import embed_texts

__all__ = ["substring_rows", "text_vector"]


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


def substring_rows(
    space: Space, needle: str, limit: int | None = None, rows: int | None = None
) -> np.ndarray:
    """Rows (among the first `rows`) whose id or text contains `needle`, case-insensitively."""
    needle = needle.strip().casefold()
    if not needle:
        return np.zeros(0, dtype=np.int64)
    stop = space.n if rows is None else min(rows, space.n)
    labels = space.display_text[:stop]
    hits = [i for i, s in enumerate(labels) if needle in s.casefold()]
    if space.has_text:
        ids = space.ids[:stop]
        seen = set(hits)
        hits += [i for i, s in enumerate(ids) if i not in seen and needle in str(s).casefold()]
        hits.sort()
    return np.asarray(hits[:limit] if limit else hits, dtype=np.int64)
