"""Captions of an image collection: a CSV or TSV naming each image's file."""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from explorer.core.errors import InputError
from explorer.core.limits import limits, over_limit
from explorer.ingest.images.decode import ADVICE
from explorer.ingest.sources.bounds import cut_texts, too_many_rows

__all__ = ["read_captions"]

_FILE_COLUMNS = ("file", "filename", "file_name", "image", "path", "name")
_TEXT_COLUMNS = ("caption", "text", "label", "description")


def _caption_columns(columns: list[str], name: str) -> tuple[str, str]:
    """(file-name column, text column) of a captions table's `columns`."""
    lowered = {c.strip().lower(): c for c in reversed(columns)}  # the first of a name wins
    file_col = next((lowered[w] for w in _FILE_COLUMNS if w in lowered), None)
    text_col = next((lowered[w] for w in _TEXT_COLUMNS if w in lowered), None)
    if len(columns) == 2 and file_col != columns[1] and text_col != columns[0]:
        return columns[0], columns[1]  # two columns: file name, then text, named anyhow
    if file_col is None or text_col is None:
        raise InputError(
            f"'{name}' has columns {', '.join(repr(c) for c in columns)}; it needs a file-name "
            f"column (one of {', '.join(_FILE_COLUMNS)}) and a text column (one of "
            f"{', '.join(_TEXT_COLUMNS)}), or exactly two columns: file name, then text."
        )
    return file_col, text_col


def _matcher(names: Sequence[str]) -> Callable[[str], str | None]:
    """A function from a file name in a captions table to the one of `names` it means:
    the same relative name, else the only one with that base name."""
    exact, bases = set(names), Counter(n.rsplit("/", 1)[-1] for n in names)
    single = {n.rsplit("/", 1)[-1]: n for n in names if bases[n.rsplit("/", 1)[-1]] == 1}

    def match(raw: str) -> str | None:
        value = raw.strip().replace("\\", "/").removeprefix("./")
        return value if value in exact else single.get(value.rsplit("/", 1)[-1])

    return match


def read_captions(
    source: Path | bytes, names: Sequence[str], *, name: str = "captions.csv"
) -> pd.DataFrame:
    """Captions of the images `names` from a CSV (a TSV when `name` ends in .tsv): columns
    ``file`` (as in `names`), ``text`` (str, cut to ``max_text_chars``), then the table's
    other columns as they are (as text); ``attrs["notes"]`` counts the rows dropped because
    they name no image. Several rows may caption one image.

    The file column is found by name (any case) among :data:`_FILE_COLUMNS`, the text column
    among :data:`_TEXT_COLUMNS`; exactly two columns may be named anyhow (file first). A file
    name matches an image by relative name, else by base name when one image alone has it.
    Raises InputError past ``max_file_bytes`` or ``max_rows``, or for a table that is not
    CSV or lacks those columns.
    """
    most = limits().max_file_bytes
    with io.BytesIO(source) if isinstance(source, bytes) else Path(source).open("rb") as fh:
        data = fh.read(most + 1)  # a BytesIO hands back its bytes themselves, not a copy
    if len(data) > most:
        raise over_limit(f"The size of '{name}' in bytes", len(data), "max_file_bytes", ADVICE)
    try:
        table = pd.read_csv(
            io.BytesIO(data),
            sep="\t" if name.lower().endswith(".tsv") else ",",
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            encoding_errors="replace",
            nrows=limits().max_rows + 1,
        )
    except pd.errors.EmptyDataError:
        raise InputError(f"'{name}' is empty; it needs a header row, then captions.") from None
    except (pd.errors.ParserError, ValueError) as exc:
        why = re.sub(r"\s+", " ", str(exc))[:160]
        raise InputError(f"'{name}' could not be read as CSV ({why}).") from None
    if len(table) > limits().max_rows:
        raise too_many_rows(name)
    table.columns = columns = [str(c) for c in table.columns]
    file_col, text_col = _caption_columns(columns, name)
    files = table[file_col].map(_matcher(names))
    known = files.notna().to_numpy(bool)
    out = table.loc[known, [c for c in columns if c not in (file_col, text_col)]]
    out = out.rename(columns={c: f"{c}_csv" for c in out.columns if c in ("file", "text")})
    out.insert(0, "text", table.loc[known, text_col])
    out.insert(0, "file", files[known])
    out = out.reset_index(drop=True)
    notes: list[str] = []
    if dropped := int((~known).sum()):
        unknown = ", ".join(repr(v) for v in table.loc[~known, file_col][:3])
        notes.append(
            f"Dropped {dropped:,} row(s) of '{name}' naming no image of the collection (or a "
            f"base name several images share): {unknown}{' and more' if dropped > 3 else ''}."
        )
    cut_texts(out, notes)
    out.attrs["notes"] = notes
    return out
