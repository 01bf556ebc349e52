"""``explorer.build``: a space built from a notebook's table or array, saved and opened.

The build is ``explorer.ingest.build.build_space``, the one every build goes through (the
Home page, ``python -m explorer build``): texts are embedded by the model (the packaged
MiniLM by default, or any model: a notebook is its operator's own), the space is saved
as a new version with its index, and the result comes back opened.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.api.space import ExplorerSpace
from explorer.core.errors import InputError
from explorer.core.progress import Progress
from explorer.core.space import Metric
from explorer.core.validate import name_rows
from explorer.ingest.build import build_space
from explorer.ingest.models import Precision, trusted_models
from explorer.opened.handle import OpenedSpace

__all__ = ["build", "items_and_vectors"]


def _with_ids(items: pd.DataFrame, ids: Sequence[object] | str | None) -> pd.DataFrame:
    """`items` with its ``id`` column: `ids` itself, the column `ids` names, or as it is
    (the engine numbers the rows when there is no ``id`` column)."""
    if ids is None:
        return items
    if isinstance(ids, str):
        if ids not in items.columns:
            raise InputError(
                f"No column {ids!r} to take the ids from; the columns are "
                f"{', '.join(map(str, items.columns)) or '(none)'}."
            )
        column = items.pop(ids)
    else:
        column = pd.Series(list(ids), dtype=object)
        if len(column) != len(items):
            raise InputError(
                f"There are {len(column):,} ids for {len(items):,} rows; they must match."
            )
        items = items.drop(columns="id", errors="ignore")
    items.insert(0, "id", column.astype(str).to_numpy())
    return items


def _texts(items: pd.DataFrame, text: str) -> pd.DataFrame:
    """`items` with the texts to embed in column ``text`` (from the column `text`)."""
    if text not in items.columns:
        raise InputError(
            f"No column {text!r} of texts to embed, and no vectors were given "
            f"(vectors=...). The columns are {', '.join(map(str, items.columns)) or '(none)'}."
        )
    if text != "text":
        items = items.drop(columns="text", errors="ignore").rename(columns={text: "text"})
    blank = items["text"].isna() | (items["text"].astype(str).str.strip() == "")
    if blank.any():
        ids = items["id"].astype(str).tolist() if "id" in items else [str(i) for i in items.index]
        raise InputError(
            f"{int(blank.sum()):,} row(s) have no text to embed: "
            f"{name_rows(ids, np.flatnonzero(blank.to_numpy()))}. Drop them or fill them in."
        )
    return items


def items_and_vectors(
    data: pd.DataFrame | np.ndarray,
    *,
    vectors: np.ndarray | None = None,
    ids: Sequence[object] | str | None = None,
    metadata: pd.DataFrame | None = None,
    text: str = "text",
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The items table and the given vectors (None: embed ``items.text``) of `data`.

    See :func:`build` for the arguments.
    """
    if isinstance(data, pd.DataFrame):
        if metadata is not None:
            raise InputError("Give metadata with an array of vectors; a table is its own.")
        items = data.reset_index(drop=True).copy()
    elif isinstance(data, np.ndarray):
        if vectors is not None:
            raise InputError("Give the vectors once: as `data`, or as vectors= with a table.")
        vectors = data
        n = len(data)
        items = pd.DataFrame(index=range(n)) if metadata is None else metadata.copy()
        items = items.reset_index(drop=True)
        if len(items) != n:
            raise InputError(f"The metadata has {len(items):,} rows for {n:,} vectors.")
    else:
        raise InputError(
            f"Give a pandas DataFrame or a NumPy array of vectors, not {type(data).__name__}."
        )
    items.columns = [str(c) for c in items.columns]
    items = _with_ids(items, ids)
    if vectors is None:
        items = _texts(items, text)
    return items, vectors


def build(
    data: pd.DataFrame | np.ndarray,
    out: str | os.PathLike[str],
    *,
    vectors: np.ndarray | None = None,
    ids: Sequence[object] | str | None = None,
    metadata: pd.DataFrame | None = None,
    text: str = "text",
    model: str | None = None,
    metric: Metric | None = None,
    map_rows: int | None = None,
    title: str | None = None,
    precision: Precision = "auto",
    overwrite: bool = False,
    progress: Progress | None = None,
) -> ExplorerSpace:
    """Build a space, save it in the folder `out` and return it opened.

    Args:
        data: a table whose column `text` is embedded by `model` (unless `vectors` are
            given: one row per item, its columns kept as metadata), or an (n, d) array of
            vectors (then `metadata` may give their columns).
        vectors: (n, d) vectors of a table's rows, instead of embedding them.
        ids: the items' ids: a column of the table, or one per row (default: the table's
            ``id`` column, else the row numbers). Ids must be unique.
        model: the model that embeds the texts (default: the packaged all-MiniLM-L6-v2,
            offline); with given vectors, the model that made them (queries use it).
        metric: ``cosine`` (the default for more than 3 dimensions), ``ip`` or ``l2``.
        map_rows: only the first `map_rows` items are mapped and clustered.
        title: what maps are titled (default: the folder's name).
        precision: ``auto``, ``bf16`` or ``fp32`` for the embedding.
        overwrite: replace a space already saved at `out` (else an error, before any work).
        progress: called with (fraction done, message).

    Raises:
        InputError: unusable input (no text column, blank texts, repeated ids, NaN...).
        ModelError: the model does not load.
    """
    items, given = items_and_vectors(data, vectors=vectors, ids=ids, metadata=metadata, text=text)
    # As a file's source record says it (``explorer.ingest.sources.Loaded``).
    source = {"kind": "text" if given is None else "vectors", "format": "notebook"}
    if title:
        source["title"] = title
    with trusted_models():
        space, index, summary = build_space(
            items,
            given,
            Path(out),
            model=model,
            metric=metric,
            map_rows=map_rows,
            source=source,
            precision=precision,
            overwrite=overwrite,
            progress=progress,
        )
    return ExplorerSpace(OpenedSpace.just_saved(space, Path(out), index), summary)
