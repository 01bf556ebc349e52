"""Table readers: CSV/TSV/Parquet/JSONL/TXT into a raw DataFrame, and their preview.

The public :func:`explorer.sources.read_table_preview` (in ``read``) hands table formats to
:func:`_table_head` here and every other format to ``read_source``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError
from .common import (
    _NA_VALUES,
    _REPLACEMENT,
    _decode,
    _head_lines,
    _is_number,
    _no_rows,
    _replaced_rows,
    _replacement_note,
)

__all__ = ["_read_frame", "_table_head"]


def _read_frame(
    p: Path, fmt: str, notes: list[str], *, id_col: str | None = None, keep_blank: bool = False
) -> pd.DataFrame:
    """A raw table from CSV/TSV/Parquet/JSONL/TXT; raises 'no rows' when it is empty."""
    if fmt in ("csv", "tsv"):
        df = _read_delimited(p, "," if fmt == "csv" else "\t", notes, id_col=id_col)
    elif fmt == "parquet":
        try:
            df = pd.read_parquet(p)
        except (ValueError, OSError, TypeError) as exc:
            raise InputError(f"Could not read '{p.name}' as Parquet ({exc}).") from None
    elif fmt == "jsonl":
        df = _read_jsonl(p, notes)
    elif fmt == "txt":
        df = _read_txt(p, notes, keep_blank=keep_blank)
    else:  # pragma: no cover - callers pass table formats only
        raise InputError(f"'{p.name}' ({fmt}) is not a table.")
    df.columns = [str(c) for c in df.columns]
    if len(df) == 0:
        raise _no_rows(p.name)
    return df.reset_index(drop=True)


def _table_head(p: Path, fmt: str, n: int) -> pd.DataFrame:
    """The first `n` (≥ 1) raw rows of a CSV/TSV/Parquet/JSONL/TXT table, vector lists kept."""
    if fmt in ("csv", "tsv"):
        return _read_delimited(p, "," if fmt == "csv" else "\t", [], nrows=n).head(n)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            batch = next(pq.ParquetFile(p).iter_batches(batch_size=n), None)
        except (ValueError, OSError) as exc:
            raise InputError(f"Could not read '{p.name}' as Parquet ({exc}).") from None
        if batch is None:
            raise InputError(f"'{p.name}' has no rows.")
        return batch.to_pandas().head(n)
    return _read_frame(p, fmt, []).head(n)


def _read_delimited(
    p: Path, sep: str, notes: list[str], *, id_col: str | None = None, nrows: int | None = None
) -> pd.DataFrame:
    """CSV/TSV; a first line of only numbers means there is no header (vectors)."""
    if nrows is None:
        text, replaced = _decode(p.read_bytes())
        first = next((ln for ln in text.split("\n") if ln.strip()), "")
        src: Any = io.StringIO(text)
        kw: dict[str, Any] = {}
    else:  # preview: do not read a large file whole
        replaced = False
        first = (_head_lines(p, 1) or [""])[0]
        src = p
        kw = {"nrows": nrows, "encoding": "utf-8-sig", "encoding_errors": "replace"}
    headerless = bool(first.strip()) and all(_is_number(f) for f in first.split(sep))
    try:
        df = pd.read_csv(
            src,
            sep=sep,
            header=None if headerless else 0,
            dtype={id_col or "id": str},  # keep ids such as "007" as written
            keep_default_na=False,
            na_values=_NA_VALUES,
            skip_blank_lines=True,
            **kw,
        )
    except pd.errors.EmptyDataError:
        raise _no_rows(p.name) from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(
            f"Could not read '{p.name}' as {'CSV' if sep == ',' else 'TSV'}: {exc}. "
            "Check the delimiter and that quotes are closed."
        ) from None
    if headerless:
        notes.append(
            f"'{p.name}' has no header row (its first line is numbers); "
            "columns are numbered from 0."
        )
    if replaced:
        _replacement_note(notes, p.name, _replaced_rows(df))
    return df


def _read_jsonl(p: Path, notes: list[str]) -> pd.DataFrame:
    """JSON Lines (one object per line), or a whole-file JSON array of objects."""
    text, replaced = _decode(p.read_bytes())
    records: list[Any] = []
    stripped = text.lstrip()
    if stripped.startswith("["):  # a whole-file JSON array of objects (from a .json upload)
        try:
            records = json.loads(stripped)
        except ValueError as exc:
            raise InputError(f"'{p.name}' is not valid JSON ({exc}).") from None
        bad = [i + 1 for i, r in enumerate(records) if not isinstance(r, dict)]
        if bad:
            raise InputError(f"'{p.name}': entries {bad[:8]} are not JSON objects.")
    else:
        for lineno, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError as exc:
                raise InputError(
                    f"Line {lineno} of '{p.name}' is not valid JSON ({exc}). JSON Lines needs "
                    "one complete JSON object per line."
                ) from None
            if not isinstance(rec, dict):
                raise InputError(
                    f"Line {lineno} of '{p.name}' is a JSON {type(rec).__name__}, not an object "
                    'like {"text": "..."}.'
                )
            records.append(rec)
    df = pd.DataFrame.from_records(records)
    if replaced:
        _replacement_note(notes, p.name, _replaced_rows(df))
    return df


def _read_txt(p: Path, notes: list[str], *, keep_blank: bool = False) -> pd.DataFrame:
    """One item per line, column ``text``; blank lines are skipped (kept as "" for metadata)."""
    text, replaced = _decode(p.read_bytes())
    lines = text.splitlines()
    if keep_blank:
        while lines and not lines[-1].strip():
            lines.pop()
        kept = lines
    else:
        kept = [ln for ln in lines if ln.strip()]
        blank = len(lines) - len(kept)
        if blank and kept:
            notes.append(f"Skipped {blank} blank line(s) in '{p.name}'.")
    if replaced:
        _replacement_note(notes, p.name, sum(_REPLACEMENT in ln for ln in kept))
    return pd.DataFrame({"text": kept}, dtype=object)
