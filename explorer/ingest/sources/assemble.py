"""Column assembly: from a raw table (plus given vectors, if any) to ``items`` and vectors.

:func:`assemble` runs the phases in order on one :class:`_Work` record: check the named
columns, drop a saved row index, pick the ids, read a list column of vectors, pick the
text, read numeric columns as vectors, drop rows with no text, cut to the limit, make the
ids, then keep the metadata.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from explorer.core.errors import InputError
from explorer.core.validate import dedupe_ids, name_rows
from explorer.ingest.sources.common import Opts, quote_list

__all__ = ["Chosen", "NoText", "assemble"]


class NoText(InputError):
    """No row read has a text: a "first N rows" read may find texts further on."""


@dataclass
class Chosen:
    """The columns the assembler settled on, for ``Loaded.source``."""

    text_col: str | None = None
    id_col: str | None = None
    vector_col: str | None = None
    vector_columns: list[str] | None = None
    label_cols: list[str] | None = None


@dataclass
class _Work:
    """What the phases of :func:`assemble` share and update, in order."""

    df: pd.DataFrame
    name: str
    opts: Opts
    notes: list[str]
    chosen: Chosen
    vectors: np.ndarray | None  # (n, d), aligned with df's rows
    cols: list[str]
    label_set: set[str]
    used: set[str]  # columns taken as id / text / vectors
    aside: set[str] = field(default_factory=set)  # columns that are neither used nor kept
    id_col: str | None = None
    text_col: str | None = None
    names: list[str] = field(default_factory=list)  # how messages name rows

    def taken(self) -> set[str]:
        """Columns no later phase may pick: used, named as labels, or set aside."""
        return self.used | self.label_set | self.aside


# --------------------------------------------------------------------------- column tests


def _is_string_col(s: pd.Series) -> bool:
    return bool(pd.api.types.infer_dtype(s, skipna=True) == "string")


def _is_numeric_col(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def _is_list_value(v: Any) -> bool:
    """True for a list/tuple/array, or a string holding a non-empty JSON list of numbers."""
    if isinstance(v, list | tuple | np.ndarray):
        return True
    if isinstance(v, str):
        t = v.strip()
        if t.startswith("[") and t.endswith("]"):
            try:
                parsed = json.loads(t)
            except ValueError:
                return False
            return (
                isinstance(parsed, list)
                and len(parsed) > 0
                and all(isinstance(x, int | float) and not isinstance(x, bool) for x in parsed)
            )
    return False


def _is_list_col(s: pd.Series) -> bool:
    """True when the first non-missing values are lists of numbers (or JSON lists)."""
    if _is_numeric_col(s):
        return False
    sample = [v for v in s.head(200).tolist() if not _is_missing(v)][:20]
    return bool(sample) and all(_is_list_value(v) for v in sample)


def _is_missing(v: Any) -> bool:
    if v is None:
        return True
    return isinstance(v, float) and math.isnan(v)


def _parse_vector_column(s: pd.Series, col: str, names: Sequence[str]) -> np.ndarray:
    """(n, d) float32 from a column of lists / arrays / JSON-list strings."""
    rows: list[np.ndarray] = []
    missing: list[int] = []
    bad: list[int] = []
    for i, v in enumerate(s.tolist()):
        if _is_missing(v):
            missing.append(i)
            rows.append(np.zeros(0, np.float32))
            continue
        if isinstance(v, str):
            try:
                v = json.loads(v)
            except ValueError:
                v = None
        try:
            arr = np.asarray(v, dtype=np.float32)
        except (TypeError, ValueError):
            arr = np.zeros((0, 0), np.float32)
        if v is None or arr.ndim != 1:
            bad.append(i)
        rows.append(arr.reshape(-1))
    if missing:
        raise InputError(
            f"{len(missing)} row(s) have no vector in column '{col}': "
            f"{name_rows(names, missing)}. Fill those cells or remove the rows."
        )
    if bad:
        raise InputError(
            f"{len(bad)} row(s) in column '{col}' are not lists of numbers like [0.1, 0.2]: "
            f"{name_rows(names, bad)}."
        )
    lengths = np.asarray([r.size for r in rows])
    common = Counter(lengths.tolist()).most_common(1)[0][0]
    off = np.flatnonzero(lengths != common)
    if off.size:
        raise InputError(
            f"Vectors in column '{col}' have unequal lengths: most have {common} numbers, but "
            f"{off.size} row(s) differ: {name_rows(names, off)} (lengths "
            f"{sorted(set(lengths[off].tolist()))}). Every vector needs the same dimension."
        )
    return np.ascontiguousarray(np.stack(rows), dtype=np.float32)


def _id_strings(s: pd.Series) -> list[str]:
    """Ids as str; whole floats (ints that met a NaN somewhere) print without '.0'."""
    if pd.api.types.is_float_dtype(s.dtype) and np.all(np.mod(s.to_numpy(), 1) == 0):
        s = s.astype(np.int64)
    return [str(v) for v in s.tolist()]


def _row_names(df: pd.DataFrame, id_col: str | None) -> list[str]:
    """How error messages name rows: by id, else 'row N' counting data rows from 1."""
    if id_col is not None:
        return [str(v) for v in df[id_col].tolist()]
    return [f"row {i + 1}" for i in range(len(df))]


def _free_name(name: str, taken: set[str]) -> str:
    """``name_1``, ``name_2``, ...: the first not in `taken`."""
    k = 1
    while f"{name}_{k}" in taken:
        k += 1
    return f"{name}_{k}"


def _plain_metadata(s: pd.Series) -> pd.Series:
    """Mixed or list-valued object columns become str so the table saves to Parquet."""
    if s.dtype != object:
        return s
    kind = pd.api.types.infer_dtype(s, skipna=True)
    if kind in ("string", "empty", "integer", "floating", "boolean", "mixed-integer-float"):
        return s
    return s.map(lambda v: v if _is_missing(v) else str(v))


# --------------------------------------------------------------------------- the phases


def assemble(
    df: pd.DataFrame,
    name: str,
    opts: Opts,
    vectors: np.ndarray | None,
    notes: list[str],
    chosen: Chosen,
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Pick id/text/vector/label columns of `df` and build (items, vectors or None).

    `vectors`, when given, is (len(df), d) and already aligned with `df` (npy + metadata).
    The result's vectors are (n, d) float32 C-contiguous; `chosen` records the columns.
    """
    w = _start(df, name, opts, vectors, notes, chosen)
    _drop_saved_index(w)
    _pick_id_column(w)
    _vectors_from_list_column(w)
    _pick_text_column(w)
    _vectors_from_numeric_columns(w)
    _drop_empty_texts(w)
    if opts.limit is not None:
        w.df = w.df.head(opts.limit)
        if w.vectors is not None:
            w.vectors = w.vectors[: opts.limit]
    items = _keep_metadata(w, _make_ids(w))
    chosen.text_col = w.text_col
    chosen.id_col = w.id_col
    if w.vectors is not None:
        w.vectors = np.ascontiguousarray(w.vectors, dtype=np.float32)
    return items, w.vectors


def _start(
    df: pd.DataFrame,
    name: str,
    opts: Opts,
    vectors: np.ndarray | None,
    notes: list[str],
    chosen: Chosen,
) -> _Work:
    """Check that every named column exists and none is used twice; the starting record."""
    df = df.reset_index(drop=True)
    cols = [str(c) for c in df.columns]
    df.columns = cols
    named = [opts.text_col, opts.id_col, opts.vector_col, *(opts.label_cols or [])]
    missing = [c for c in named if c is not None and c not in cols]
    if missing:
        where = f"'{name}'" if cols else f"'{name}' (it has no table columns)"
        raise InputError(
            f"Column(s) {quote_list(missing)} not found in {where}. "
            f"Available columns: {quote_list(cols, 50) or 'none'}."
        )
    if opts.vector_col is not None and opts.vector_col in (opts.text_col, opts.id_col):
        raise InputError(
            f"Column '{opts.vector_col}' cannot be both the vectors and the "
            "text or id. Choose different columns."
        )
    used = {c for c in (opts.text_col, opts.id_col) if c is not None}
    return _Work(
        df=df,
        name=name,
        opts=opts,
        notes=notes,
        chosen=chosen,
        vectors=vectors,
        cols=cols,
        label_set=set(opts.label_cols or []),
        used=used,
    )


def _drop_saved_index(w: _Work) -> None:
    """A pandas index saved by `to_csv()` without index=False: drop it, it is not data."""
    if "Unnamed: 0" in w.cols and "Unnamed: 0" not in w.used | w.label_set:
        s = w.df["Unnamed: 0"]
        if _is_numeric_col(s) and np.array_equal(s.to_numpy(), np.arange(len(w.df))):
            w.aside.add("Unnamed: 0")
            w.notes.append("Dropped column 'Unnamed: 0' (a saved row index 0..n-1).")


def _pick_id_column(w: _Work) -> None:
    """The named id column, else a column literally named "id" when unique and complete."""
    w.id_col = w.opts.id_col
    if (
        w.id_col is None
        and "id" in w.cols
        and "id" not in w.label_set | w.used
        and w.opts.vector_col != "id"
    ):
        s = w.df["id"]
        if not s.isna().any() and s.astype(str).is_unique:
            w.id_col = "id"
            w.used.add("id")
            w.notes.append("Used column 'id' as the ids (it is unique); pick id_col to change.")
        else:
            w.notes.append(
                "Column 'id' has repeated or missing values, so ids are row numbers "
                "and that column is kept as metadata."
            )
    w.names = _row_names(w.df, w.id_col)


def _vectors_from_list_column(w: _Work) -> None:
    """Vectors from a list column, named or detected (only when none were given)."""
    if w.vectors is not None:
        return
    vcol = w.opts.vector_col
    if vcol is None:
        found = [c for c in w.cols if c not in w.taken() and _is_list_col(w.df[c])]
        if found:
            vcol = found[0]
            others = f" (other list columns: {quote_list(found[1:])})" if found[1:] else ""
            w.notes.append(
                f"Read the vectors from column '{vcol}' (lists of numbers){others}; "
                "pick vector_col to change."
            )
    if vcol is not None:
        w.vectors = _parse_vector_column(w.df[vcol], vcol, w.names)
        w.used.add(vcol)
        w.chosen.vector_col = vcol


def _pick_text_column(w: _Work) -> None:
    """The text: named, or the string column with the longest mean length.

    Given vectors need no text; one is only shown as the item label when there are no real
    ids, and then the column stays a metadata column too (e.g. projector labels to colour by).
    """
    w.text_col = w.opts.text_col
    if w.text_col is not None or (w.vectors is not None and w.id_col is not None):
        return
    df = w.df
    cands = [c for c in w.cols if c not in w.taken() and c != "id" and _is_string_col(df[c])]
    if not cands:
        return
    means = {c: float(df[c].dropna().astype(str).str.len().mean()) for c in cands}
    text_col = max(cands, key=lambda c: means[c])  # first of equals wins
    if len(cands) == 1:
        why = "the only text column"
    else:
        rest = [c for c in cands if c != text_col]
        why = (
            f"longest strings, {means[text_col]:.0f} characters on average; "
            f"also text: {quote_list(rest)}"
        )
    w.text_col = text_col
    if w.vectors is None:
        w.used.add(text_col)
        w.notes.append(
            f"Picked column '{text_col}' as the text ({why}). Choose another with text_col."
        )
    else:
        w.notes.append(
            f"Showing column '{text_col}' as the item text ({why}); it is also kept as "
            "metadata. Choose another with text_col."
        )


def _vectors_from_numeric_columns(w: _Work) -> None:
    """No text and no vectors yet: numeric columns are the vector dimensions."""
    if w.vectors is not None or w.text_col is not None:
        return
    rest = [c for c in w.cols if c not in w.taken() and c != "id"]
    # A column with no value at all is empty, not a dimension (an empty text column
    # is read as numbers: every cell is missing).
    empty = [c for c in rest if w.df[c].isna().all()]
    dims = [c for c in rest if _is_numeric_col(w.df[c]) and c not in empty]
    # Columns named x, y (and z) beside more numbers are a map the user brings: they
    # stay as columns (shown as the "given" map), not vector dimensions.
    given = [c for c in dims if str(c).lower() in ("x", "y", "z")]
    if {"x", "y"} <= {str(c).lower() for c in given} and len(dims) - len(given) > 3:
        dims = [c for c in dims if c not in given]
        w.notes.append(f"Columns {quote_list(given)} are kept as a given map, not as vectors.")
    else:
        given = []
    other = [c for c in rest if c not in dims and c not in empty and c not in given]
    if not dims and empty:
        raise InputError(
            f"In '{w.name}' the column(s) {quote_list(empty)} are empty in every row, so "
            "there is no text to embed and there are no vectors. Fill the text column, "
            "or upload the file with its text."
        )
    if not dims:
        raise InputError(
            f"'{w.name}' has no text column and no vectors: no string, list or numeric columns "
            f"to use{' besides the labels' if w.label_set else ''}. Columns: "
            f"{quote_list(w.cols, 50)}."
        )
    if other and w.opts.label_cols is not None:
        raise InputError(
            f"'{w.name}' has no text column, and columns {quote_list(other)} are not numbers, "
            "so they cannot be vector dimensions. Name the text column, or add those "
            "columns to the labels."
        )
    w.vectors = np.ascontiguousarray(w.df[dims].to_numpy(dtype=np.float32))
    w.used.update(dims)
    w.chosen.vector_columns = dims
    w.notes.append(
        f"Read {len(dims)}-dimensional vectors from the numeric columns {quote_list(dims, 4)}."
    )


def _drop_empty_texts(w: _Work) -> None:
    """Texts to embed: rows without one cannot be embedded, so skip them and say so."""
    if w.vectors is not None:
        return
    text_col = w.text_col
    assert text_col is not None  # the numeric phase raised when there was no text either
    texts = w.df[text_col]
    empty = (texts.isna() | texts.astype(str).str.strip().eq("")).to_numpy(bool)
    if empty.all():
        raise NoText(
            f"'{w.name}' has no rows with text in column '{text_col}'. "
            "Choose the column that holds the texts."
        )
    if empty.any():
        w.notes.append(
            f"Skipped {int(empty.sum())} row(s) with empty text in column "
            f"'{text_col}': {name_rows(w.names, np.flatnonzero(empty))}."
        )
        w.df = w.df.loc[~empty].reset_index(drop=True)
    numeric_rest = [c for c in w.cols if c not in w.taken() and _is_numeric_col(w.df[c])]
    if len(numeric_rest) >= 2 and w.opts.text_col is None:
        w.notes.append(
            f"Columns {quote_list(numeric_rest, 4)} are numbers; if they are "
            f"vectors, list '{text_col}' as a label (or as id_col) instead."
        )


def _make_ids(w: _Work) -> list[str]:
    """Ids: always str and unique; row numbers when there is no id column."""
    if w.id_col is None:
        return [str(i) for i in range(len(w.df))]
    s = w.df[w.id_col]
    if s.isna().any():
        miss = np.flatnonzero(s.isna().to_numpy())
        raise InputError(
            f"{miss.size} row(s) have no id in column '{w.id_col}' "
            f"(data rows {[int(i) + 1 for i in miss[:8]]}). Fill them or "
            "choose another id column."
        )
    ids = _id_strings(s)
    dedupe_ids(ids, "reject")
    return ids


def _keep_metadata(w: _Work, ids: list[str]) -> pd.DataFrame:
    """The items table: id, text, then the named labels or every column not used."""
    if w.opts.label_cols is not None:
        keep = [c for c in dict.fromkeys(w.opts.label_cols) if c not in w.used]
    else:
        keep = [c for c in w.cols if c not in w.used | w.aside]
    items = pd.DataFrame({"id": ids})
    if w.text_col is not None:
        t = w.df[w.text_col]
        items["text"] = [("" if _is_missing(v) else str(v)) for v in t.tolist()]
    taken = set(items.columns) | set(keep)
    for c in keep:
        out = c
        if c in items.columns:  # "id"/"text" are reserved for the chosen columns
            out = _free_name(c, taken)
            taken.add(out)
            w.notes.append(
                f"Kept column '{c}' as '{out}' ('{c}' is the name of the chosen "
                f"{'ids' if c == 'id' else 'texts'})."
            )
        items[out] = _plain_metadata(w.df[c]).reset_index(drop=True)
    w.chosen.label_cols = keep
    return items
