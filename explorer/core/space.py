"""The Space: ids, metadata and one read-only float32 matrix, with a content fingerprint."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd

from explorer.core.errors import InputError
from explorer.core.linalg import unit_rows
from explorer.core.validate import check_finite, check_matrix, dedupe_ids, name_rows, zero_rows

__all__ = ["Metric", "Space", "content_fingerprint", "make_space", "METRICS"]

Metric = Literal["cosine", "ip", "l2"]
METRICS: tuple[Metric, ...] = ("cosine", "ip", "l2")
# A metadata column with more distinct values than this (and more than 5% of the map
# rows) is free text or an id, not a category to colour by or compare clusters with.
CATEGORY_LIMIT = 200
# Numbers with more distinct values than this are a measurement, not a category.
NUMERIC_CATEGORY_LIMIT = 20


def content_fingerprint(
    vectors: np.ndarray, ids: Sequence[object], metric: str, map_rows: int | None
) -> str:
    """16 hex digits over vectors, ids, metric and map_rows: same content, same key."""
    h = hashlib.sha256()
    h.update(metric.encode())
    h.update(np.asarray(vectors.shape, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(vectors).tobytes())
    h.update("\x00".join(map(str, ids)).encode("utf-8", "replace"))
    h.update(str(map_rows).encode())
    return h.hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class Space:
    """An embedding space. Build one with :func:`make_space`, which validates.

    Attributes:
        items: one row per item; column ``id`` (unique str), optional ``text``,
            then any metadata columns.
        vectors: (n, d) float32, read-only. Under ``cosine`` rows are unit length
            (zero rows stay zero and are left out of the index).
        metric: ``cosine``, ``ip`` (inner product) or ``l2``.
        model: the model spec that embedded the texts, or None for given vectors.
        source: a small JSON-able description of where the data came from.
        map_rows: only the first ``map_rows`` rows are projected (None = all);
            search and analogies still use every row.
        notes: what loading and validation said (skipped rows, decoding, ...).
        fingerprint: 16 hex digits over the content (:func:`content_fingerprint`);
            :func:`make_space` computes it, a saved space passes its manifest's.
    """

    items: pd.DataFrame
    vectors: np.ndarray
    metric: Metric = "cosine"
    model: str | None = None
    source: Mapping[str, Any] = field(default_factory=dict)
    map_rows: int | None = None
    notes: tuple[str, ...] = ()
    fingerprint: str = ""

    def __post_init__(self) -> None:
        if not self.fingerprint:
            raise ValueError("A Space needs its fingerprint: build one with make_space().")

    @property
    def n(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def n_map(self) -> int:
        """Number of rows that maps and clusters use (the first `n_map`)."""
        return self.n if self.map_rows is None else min(self.n, self.map_rows)

    @cached_property
    def ids(self) -> np.ndarray:
        """(n,) object array of str ids."""
        return self.items["id"].to_numpy(dtype=object)

    @cached_property
    def row_of(self) -> dict[str, int]:
        """id → row number."""
        return {str(i): r for r, i in enumerate(self.ids)}

    @property
    def has_text(self) -> bool:
        return "text" in self.items.columns

    @cached_property
    def display_text(self) -> np.ndarray:
        """(n,) object array: what to show for each item, its text or else its id."""
        col = self.items["text"] if self.has_text else self.items["id"]
        return col.astype(str).to_numpy(dtype=object)

    @cached_property
    def zero_rows(self) -> np.ndarray:
        """Rows with an all-zero vector (no direction under cosine)."""
        return zero_rows(self.vectors)

    @cached_property
    def indexable(self) -> np.ndarray:
        """(n,) bool: rows that go into the index (all but zero rows under cosine)."""
        mask = np.ones(self.n, dtype=bool)
        if self.metric == "cosine":
            mask[self.zero_rows] = False
        return mask

    @cached_property
    def mapped_rows(self) -> np.ndarray:
        """(m,) int64 row numbers of the map rows that have a direction: the rows that
        maps, clusterings and map quality work on (zero rows under cosine are left out)."""
        rows = np.flatnonzero(self.indexable[: self.n_map])
        rows.setflags(write=False)  # shared by every caller
        return rows

    @property
    def metadata_columns(self) -> list[str]:
        """Columns other than id/text, usable for colour."""
        return [c for c in self.items.columns if c not in ("id", "text")]

    @cached_property
    def category_columns(self) -> list[str]:
        """Metadata columns that name categories: the ones to colour a map by first
        and to compare clusters with. Free text, ids and measurements are not."""
        limit = max(CATEGORY_LIMIT, self.n_map // 20)
        out = []
        for c in self.metadata_columns:
            col = self.items[c].iloc[: self.n_map]
            distinct = col.nunique(dropna=True)
            numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
            if 1 <= distinct <= (NUMERIC_CATEGORY_LIMIT if numeric else limit):
                out.append(str(c))
        return out

    def rows(self, ids: Sequence[str]) -> np.ndarray:
        """Row numbers of `ids`; raises InputError naming the unknown ones."""
        missing = [i for i in ids if str(i) not in self.row_of]
        if missing:
            raise InputError(
                f"Not in this space: {', '.join(repr(m) for m in missing[:8])}. "
                "Check the spelling, or pick an item from the list."
            )
        return np.asarray([self.row_of[str(i)] for i in ids], dtype=np.int64)

    def lookup(self, term: str) -> int | None:
        """Row of `term` by exact id, else case-folded id; None if absent."""
        if term in self.row_of:
            return self.row_of[term]
        return self._folded.get(term.casefold())

    @cached_property
    def _folded(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r, i in enumerate(self.ids):
            out.setdefault(str(i).casefold(), r)  # first (most frequent) wins
        return out


def make_space(
    items: pd.DataFrame,
    vectors: object,
    *,
    metric: Metric = "cosine",
    model: str | None = None,
    source: Mapping[str, Any] | None = None,
    map_rows: int | None = None,
    duplicates: Literal["reject", "first"] = "reject",
    notes: Sequence[str] = (),
) -> Space:
    """Validate and build a Space.

    Args:
        items: table with n rows; an ``id`` column is made from row numbers if absent.
        vectors: (n, d) numbers; converted to float32.
        metric: similarity for search; ``cosine`` normalises rows to unit length.
        duplicates: ``reject`` raises on repeated ids; ``first`` keeps the first.

    Raises:
        InputError: empty input, NaN/inf rows, duplicate ids, a row-count mismatch.
    """
    if metric not in METRICS:
        raise InputError(f"Unknown metric {metric!r}; choose one of {', '.join(METRICS)}.")
    mat = check_matrix(vectors)
    items = items.reset_index(drop=True).copy()
    if len(items) != mat.shape[0]:
        raise InputError(
            f"The table has {len(items)} rows but there are {mat.shape[0]} vectors; "
            "they must match one to one."
        )
    if "id" not in items.columns:
        items.insert(0, "id", [str(i) for i in range(len(items))])
    items["id"] = items["id"].astype(str)
    notes = list(notes)
    keep = dedupe_ids(items["id"].tolist(), duplicates)
    if keep.size != len(items):
        notes.append(f"Dropped {len(items) - keep.size} row(s) with a repeated id.")
        items = items.iloc[keep].reset_index(drop=True)
        mat = mat[keep]
    check_finite(mat, items["id"].tolist())
    if metric == "cosine":
        mat, norms = unit_rows(mat)
        zero = norms == 0
        if zero.any():
            ids = items["id"].tolist()
            notes.append(
                f"{int(zero.sum())} zero vector(s) have no direction under cosine and are "
                f"left out of search: {name_rows(ids, np.flatnonzero(zero))}."
            )
    mat = np.ascontiguousarray(mat, dtype=np.float32)
    mat.setflags(write=False)
    if map_rows is not None and map_rows <= 0:
        raise InputError("map_rows must be a positive number of rows.")
    return Space(
        items=items,
        vectors=mat,
        metric=metric,
        model=model,
        source=dict(source or {}),
        map_rows=map_rows,
        notes=tuple(notes),
        fingerprint=content_fingerprint(mat, items["id"].tolist(), metric, map_rows),
    )
