"""What every read in :mod:`explorer.ingest.sources` is held to: file size, rows, decoded bytes
and text length, from the operator's limits in :mod:`explorer.core.limits`.

Readers check a file's size before opening it, read at most :func:`row_cap` rows, count
what a compressed file decodes to, and cut long texts with one note. Messages name files by
their base name only; :func:`error_text` takes server folders out of a library's error text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from explorer.core.errors import InputError
from explorer.core.limits import env_name, limits, over_limit

__all__ = [
    "check_decoded",
    "check_file_size",
    "check_rows",
    "cut_texts",
    "line_bytes",
    "row_cap",
    "too_many_rows",
    "error_text",
]

# The folders of an absolute path (POSIX or Windows) that starts a word or a quote.
_FOLDERS = re.compile(r"(?<![^\s'\"(=])(?:[A-Za-z]:)?[\\/](?:[^\\/\s'\"]+[\\/])+")


def check_file_size(p: Path) -> None:
    """Refuse `p` before reading it when it is larger than ``max_file_bytes``."""
    size = p.stat().st_size
    if size > limits().max_file_bytes:
        raise over_limit(
            f"The size of '{p.name}' in bytes",
            size,
            "max_file_bytes",
            "Upload a smaller file (for example only its first rows), or ask the operator "
            "to raise the limit.",
        )


def row_cap(limit: int | None) -> int:
    """Rows a reader reads: `limit`, or one past ``max_rows`` so that a longer file shows."""
    most = limits().max_rows
    return most + 1 if limit is None else min(limit, most + 1)


def too_many_rows(name: str) -> InputError:
    """The error for a file with more rows than ``max_rows`` (the caller raises it)."""
    most, var = limits().max_rows, env_name("max_rows")
    return InputError(
        f"'{name}' has more than {most:,} rows, this server's limit (set by the operator as "
        f"{var}). Use 'first N rows' (at most {most:,}) to read the start of it, or ask the "
        f"operator to raise {var}."
    )


def check_rows(rows: int, name: str) -> None:
    """Raise :func:`too_many_rows` when `rows` is over ``max_rows``."""
    if rows > limits().max_rows:
        raise too_many_rows(name)


def check_decoded(amount: int, name: str, *, so_far: bool = False) -> None:
    """Refuse `name` when what it decodes to (`amount` bytes) is over ``max_decoded_bytes``.

    `so_far` says that `amount` is only what was decoded before stopping.
    """
    if amount > limits().max_decoded_bytes:
        counted = " read so far" if so_far else ""
        raise over_limit(
            f"The decoded size of '{name}' in bytes{counted}",
            amount,
            "max_decoded_bytes",
            "Read only its first rows, upload a smaller file, or ask the operator to raise "
            "the limit.",
        )


def line_bytes() -> int:
    """Bytes of one line that a text reader keeps: enough for ``max_text_chars`` characters."""
    return 4 * limits().max_text_chars + 4


def cut_texts(items: pd.DataFrame, notes: list[str]) -> None:
    """Cut the ``text`` column of `items` to ``max_text_chars``, with one note when any was."""
    if "text" not in items.columns:
        return
    most = limits().max_text_chars
    texts = items["text"].astype(str)
    long = (texts.str.len() > most).to_numpy(bool)
    if not long.any():
        return
    items["text"] = texts.str.slice(0, most)
    notes.append(
        f"Cut {int(long.sum())} text(s) longer than {most:,} characters to their first "
        f"{most:,} (this server's limit, set by the operator as {env_name('max_text_chars')})."
    )


def error_text(exc: BaseException, *paths: Path) -> str:
    """The text of `exc` without server folders: each path in `paths` by its base name,
    and the folders of any other absolute path left out."""
    text = str(exc)
    for p in paths:
        for full in {str(p), str(p.absolute()), str(p.resolve())}:
            text = text.replace(full, p.name)
    return _FOLDERS.sub("", text)
