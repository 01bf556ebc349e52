"""Checks on tables and vectors: each failure names the rows or columns at fault."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from explorer.core.errors import InputError

__all__ = [
    "MAX_FIELD_CHARS",
    "MAX_K",
    "check_k",
    "check_text",
    "is_int",
    "check_finite",
    "check_matrix",
    "check_query",
    "dedupe_ids",
    "name_rows",
    "zero_rows",
]

_MAX_NAMED = 8


# The longest value one text field of a request may hold (a term, a title, a search):
# what a person types, never a file's worth.
MAX_FIELD_CHARS = 500


def check_text(value: object, what: str, most: int = MAX_FIELD_CHARS) -> str:
    """`value` if it is text of at most `most` characters; else InputError naming `what`."""
    if not isinstance(value, str):
        raise InputError(f"{what} must be text.")
    if len(value) > most:
        raise InputError(f"{what} is longer than {most:,} characters; shorten it.")
    return value


# The most neighbours any figure is measured at (a map's quality, retrieval, compare).
MAX_K = 1000


def check_k(k: object, what: str = "k") -> int:
    """`k` if it is a whole number from 1 to :data:`MAX_K`; else InputError."""
    if not is_int(k) or not 1 <= int(k) <= MAX_K:  # type: ignore[call-overload]
        raise InputError(f"{what} must be a whole number from 1 to {MAX_K:,}, not {str(k)[:40]!r}.")
    return int(k)  # type: ignore[call-overload]


def is_int(value: object, lo: int | None = None) -> bool:
    """Whether `value` is a whole number (a Python or NumPy integer, never a bool), and at
    least `lo` when given: the one check of every integer parameter."""
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
    return ok and (lo is None or int(value) >= lo)  # type: ignore[call-overload]


def name_rows(ids: Sequence[str], rows: np.ndarray | Sequence[int]) -> str:
    """A short human list of the ids at `rows`, e.g. ``'a', 'b' and 3 more``."""
    rows = list(rows)
    shown = ", ".join(repr(str(ids[i])) for i in rows[:_MAX_NAMED])
    more = len(rows) - _MAX_NAMED
    return shown + (f" and {more} more" if more > 0 else "")


def check_matrix(vectors: object, what: str = "vectors") -> np.ndarray:
    """Return `vectors` as a C-contiguous float32 (n, d) matrix, or raise InputError."""
    try:
        arr = np.asarray(vectors, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"The {what} are not all numbers of one dimension ({exc}). "
            "Check that every row has the same number of numeric values."
        ) from None
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 0)
    if arr.ndim != 2:
        raise InputError(
            f"The {what} must form a 2-D table (rows × dimensions); got shape {arr.shape}."
        )
    if arr.shape[0] == 0:
        raise InputError(f"No rows: the {what} are empty, so there is nothing to explore.")
    if arr.shape[1] == 0:
        raise InputError(f"The {what} have 0 dimensions; each row needs at least one number.")
    return np.ascontiguousarray(arr)


def check_finite(vectors: np.ndarray, ids: Sequence[str]) -> None:
    """Raise InputError naming every row that holds NaN or infinity."""
    bad = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
    if bad.size:
        raise InputError(
            f"{bad.size} row(s) hold NaN or infinite values: {name_rows(ids, bad)}. "
            "Remove or fix those rows and load the data again."
        )


def zero_rows(vectors: np.ndarray) -> np.ndarray:
    """Indices of all-zero rows: they have no direction, so cosine is undefined."""
    return np.flatnonzero(~vectors.any(axis=1))


def dedupe_ids(ids: Sequence[str], policy: Literal["reject", "first"] = "reject") -> np.ndarray:
    """Rows to keep given duplicate ids.

    `policy="reject"` raises InputError naming the duplicates; `"first"` keeps the
    first row of each id. Returns sorted row indices (int64).
    """
    arr = np.asarray([str(i) for i in ids], dtype=object)
    _, first = np.unique(arr, return_index=True)
    if first.size == arr.size:
        return np.arange(arr.size)
    if policy == "reject":
        dup_rows = np.setdiff1d(np.arange(arr.size), first)
        names = sorted({str(arr[i]) for i in dup_rows})
        raise InputError(
            f"{len(names)} id(s) appear more than once: "
            f"{', '.join(repr(n) for n in names[:_MAX_NAMED])}"
            f"{' and more' if len(names) > _MAX_NAMED else ''}. "
            "Make the id column unique, choose another id column, or de-duplicate."
        )
    return np.sort(first)


def check_query(query: np.ndarray, dim: int) -> np.ndarray:
    """Return a query as float32 (m, dim), or raise InputError naming both dimensions."""
    q = np.asarray(query, dtype=np.float32)
    if q.ndim == 1:
        q = q[None, :]
    if q.ndim != 2 or q.shape[1] != dim:
        got = q.shape[-1] if q.ndim else 0
        raise InputError(
            f"The query has dimension {got}, but this space has dimension {dim}. "
            "Use a vector from the same model as the space."
        )
    if not np.isfinite(q).all():
        raise InputError("The query vector holds NaN or infinite values.")
    return q
