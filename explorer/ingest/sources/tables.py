"""Table readers: CSV/TSV/Parquet/JSONL/TXT into a raw DataFrame, and their preview.

Every reader streams and stops after the rows it needs (:func:`~.bounds.row_cap`): a
"first N rows" read or a preview parses about N rows whatever the file's size, and a read
without a limit stops with a message past the operator's ``max_rows``.

The public :func:`explorer.ingest.sources.read_table_preview` (in ``read``) hands table formats to
:func:`table_head` here and every other format to ``read_source``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from explorer.core.errors import InputError
from explorer.ingest.sources.bounds import check_rows, error_text, line_bytes, row_cap
from explorer.ingest.sources.common import (
    NA_VALUES,
    REPLACEMENT,
    head_lines,
    is_number,
    no_rows,
    replaced_rows,
    replacement_note,
)
from explorer.ingest.sources.lines import TextChunks, iter_lines, json_array
from explorer.ingest.sources.parquet import read_parquet

__all__ = ["read_frame", "table_head"]


def read_frame(
    p: Path,
    fmt: str,
    notes: list[str],
    *,
    id_col: str | None = None,
    keep_blank: bool = False,
    limit: int | None = None,
) -> pd.DataFrame:
    """A raw table from CSV/TSV/Parquet/JSONL/TXT, its first `limit` rows when given.

    Raises:
        InputError: no rows; more than ``max_rows`` rows; unreadable (the message says why).
    """
    cap = row_cap(limit)
    if fmt in ("csv", "tsv"):
        df = _read_delimited(p, "," if fmt == "csv" else "\t", notes, cap, id_col=id_col)
    elif fmt == "parquet":
        df = read_parquet(p, cap)
    elif fmt == "jsonl":
        df = _read_jsonl(p, notes, cap)
    elif fmt == "txt":
        df = _read_txt(p, notes, cap, keep_blank=keep_blank)
    else:  # pragma: no cover - callers pass table formats only
        raise InputError(f"'{p.name}' ({fmt}) is not a table.")
    df.columns = [str(c) for c in df.columns]
    if len(df) == 0:
        raise no_rows(p.name)
    check_rows(len(df), p.name)
    return df.reset_index(drop=True)


def table_head(p: Path, fmt: str, n: int) -> pd.DataFrame:
    """The first `n` (≥ 1) raw rows of a CSV/TSV/Parquet/JSONL/TXT table, vector lists kept."""
    if fmt in ("csv", "tsv"):  # a header alone gives no rows, not an error
        return _read_delimited(p, "," if fmt == "csv" else "\t", [], n).head(n)
    if fmt == "parquet":
        df = read_parquet(p, n)
        if len(df) == 0:
            raise InputError(f"'{p.name}' has no rows.")
        return df.head(n)
    return read_frame(p, fmt, [], limit=n).head(n)


def _read_delimited(
    p: Path, sep: str, notes: list[str], nrows: int, *, id_col: str | None = None
) -> pd.DataFrame:
    """The first `nrows` rows of a CSV/TSV; a first line of only numbers means no header.

    A file whose first line holds the other delimiter and not this one (a TSV saved
    as .csv) is read with the delimiter it has, with a note. A first data row with
    more fields than the header is an error, not a silent shift of the columns.
    """
    first = (head_lines(p, 1) or [""])[0]
    other = "\t" if sep == "," else ","
    if sep not in first and other in first:
        notes.append(
            f"'{p.name}' is separated by {'tabs' if other == chr(9) else 'commas'}, "
            f"not {'commas' if sep == ',' else 'tabs'}, so it was read that way."
        )
        sep = other
    headerless = bool(first.strip()) and all(is_number(f) for f in first.split(sep))
    replaced = False
    try:
        try:
            df = _parse_delimited(p, sep, nrows, headerless, id_col, "strict")
        except UnicodeDecodeError:
            replaced = True
            df = _parse_delimited(p, sep, nrows, headerless, id_col, "replace")
    except pd.errors.EmptyDataError:
        raise no_rows(p.name) from None
    except pd.errors.ParserWarning:
        raise InputError(
            f"The first row of '{p.name}' has more fields than its header. Check the "
            "delimiter, that quotes are closed, and that the header names every column."
        ) from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(
            f"Could not read '{p.name}' as {'CSV' if sep == ',' else 'TSV'}: {error_text(exc, p)}. "
            "Check the delimiter and that quotes are closed."
        ) from None
    if headerless:
        notes.append(
            f"'{p.name}' has no header row (its first line is numbers); "
            "columns are numbered from 0."
        )
    if replaced:
        rows = replaced_rows(df)
        if rows or any(REPLACEMENT in str(c) for c in df.columns):
            replacement_note(notes, p.name, rows)
    return df


def _parse_delimited(
    p: Path, sep: str, nrows: int, headerless: bool, id_col: str | None, errors: str
) -> pd.DataFrame:
    """pandas' CSV parser on `p`, stopping after `nrows` rows (it reads the file by chunks).

    index_col=False: pandas would otherwise turn the first column into the index when
    the first row has one field too many, and shift every other column silently; its
    warning about that becomes an error here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        return _read_csv(p, sep, nrows, headerless, id_col, errors)


def _read_csv(
    p: Path, sep: str, nrows: int, headerless: bool, id_col: str | None, errors: str
) -> pd.DataFrame:
    return pd.read_csv(
        p,
        sep=sep,
        index_col=False,
        header=None if headerless else 0,
        dtype={id_col or "id": str},  # keep ids such as "007" as written
        keep_default_na=False,
        na_values=NA_VALUES,
        skip_blank_lines=True,
        nrows=nrows,
        encoding="utf-8-sig",
        encoding_errors=errors,
    )


def _read_jsonl(p: Path, notes: list[str], cap: int) -> pd.DataFrame:
    """The first `cap` records of JSON Lines (one object per line) or of a JSON array."""
    start = next((c.lstrip()[:1] for c in TextChunks(p, 4096) if c.strip()), "")
    if start == "[":  # a whole-file JSON array of objects (from a .json upload)
        records, replaced = _json_array_records(p, cap)
    else:
        records, replaced = _json_line_records(p, cap)
    df = pd.DataFrame.from_records(records)
    if replaced:
        replacement_note(notes, p.name, replaced_rows(df))
    return df


def _json_array_records(p: Path, cap: int) -> tuple[list[Any], bool]:
    """(the first `cap` entries of a JSON array file, bytes replaced); all must be objects."""
    chunks = TextChunks(p)
    records: list[Any] = []
    bad: list[int] = []
    for i, rec in enumerate(json_array(iter(chunks), p.name), start=1):
        if not isinstance(rec, dict):
            bad.append(i)
        records.append(rec)
        if len(records) >= cap:
            break
    if bad:
        raise InputError(f"'{p.name}': entries {bad[:8]} are not JSON objects.")
    return records, chunks.replaced


def _json_line_records(p: Path, cap: int) -> tuple[list[Any], bool]:
    """(the objects of the first `cap` non-blank lines of a JSON Lines file, bytes replaced)."""
    records: list[Any] = []
    replaced = False
    for lineno, line, bad in iter_lines(p):
        replaced |= bad
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
        if len(records) >= cap:
            break
    return records, replaced


def _read_txt(p: Path, notes: list[str], cap: int, *, keep_blank: bool = False) -> pd.DataFrame:
    """One item per line, column ``text``, the first `cap` rows; blank lines are skipped
    (kept as they are between labels, for metadata). A line keeps the bytes of
    ``max_text_chars`` characters; the text cut comes later, with its note."""
    kept: list[str] = []
    pending: list[str] = []  # blank lines not yet known to be followed by an item
    blank = 0
    replaced = False
    for _, line, bad in iter_lines(p, max_bytes=line_bytes()):
        replaced |= bad
        for piece in line.splitlines() or [""]:
            if not piece.strip():
                pending.append(piece)
                blank += 1
                continue
            if keep_blank:
                kept += pending
            pending = []
            kept.append(piece)
        if len(kept) >= cap:
            break
    kept = kept[:cap]
    if blank and kept and not keep_blank:
        notes.append(f"Skipped {blank} blank line(s) in '{p.name}'.")
    if replaced:
        replacement_note(notes, p.name, sum(REPLACEMENT in ln for ln in kept))
    return pd.DataFrame({"text": kept}, dtype=object)
