"""What every reader of :mod:`explorer.ingest.sources` shares: the result type, the format names,
the user's column options, and the small decode/message helpers.

Names with a leading underscore are private to the package; siblings import them from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from explorer.core.errors import InputError
from explorer.ingest.sources.bounds import check_file_size

__all__ = [
    "FORMATS",
    "Kind",
    "Loaded",
    "NA_VALUES",
    "Opts",
    "REPLACEMENT",
    "SMALL_JSON_BYTES",
    "_SNIFF_BYTES",
    "TABLES",
    "WORDS",
    "decode_utf8",
    "existing",
    "head_lines",
    "is_number",
    "no_rows",
    "quote_list",
    "replaced_rows",
    "replacement_note",
]

Kind = Literal["text", "vectors", "words"]

FORMATS: tuple[str, ...] = (
    "csv",
    "tsv",
    "parquet",
    "jsonl",
    "txt",
    "npy",
    "npz",
    "projector",
    "projector-config",
    "word2vec",
    "word2vec-bin",
    "glove",
    "fasttext",
)

TABLES = ("csv", "tsv", "parquet", "jsonl")
WORDS = ("word2vec", "word2vec-bin", "glove", "fasttext")

# Only these cells read as missing: words such as "NA", "null" or "None" are real texts.
NA_VALUES = ["", "nan", "NaN", "NAN", "-nan", "-NaN"]
_SNIFF_BYTES = 64 * 1024
# A JSON file parsed whole (a projector config, or a .json sniffed for its format).
SMALL_JSON_BYTES = 8 * _SNIFF_BYTES
REPLACEMENT = "\ufffd"


@dataclass
class Loaded:
    """What a source held.

    Attributes:
        items: n rows; ``id`` (unique str), optional ``text`` (str), then metadata columns.
        vectors: (n, d) float32 C-contiguous, or None when the texts still need embedding.
        kind: ``text`` (needs a model), ``vectors`` (given vectors) or ``words`` (word vectors).
        fmt: the format that was read, one of :data:`FORMATS`.
        notes: what the user should be told (choices made, rows skipped, decoding).
        source: small JSON-able description: file names, format, columns chosen, limit.
    """

    items: pd.DataFrame
    vectors: np.ndarray | None
    kind: Kind
    fmt: str
    notes: list[str]
    source: dict[str, Any]


@dataclass
class Opts:
    """The user's column choices, shared by every table-shaped reader."""

    text_col: str | None = None
    id_col: str | None = None
    label_cols: list[str] | None = None
    vector_col: str | None = None
    limit: int | None = None


def existing(path: str | Path) -> Path:
    """`path` as a Path, or an InputError that says to upload it again (or that it is larger
    than the operator's ``max_file_bytes``, checked before anything reads it)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"File not found: '{p.name}'. Upload it again or check the path.")
    check_file_size(p)
    return p


def is_number(s: str) -> bool:
    """True when `s` parses as a float and is not blank."""
    try:
        float(s)
    except ValueError:
        return False
    return bool(s.strip())


def head_lines(p: Path, k: int) -> list[str]:
    """Up to `k` non-blank lines from the start of `p` (decoded with replacement)."""
    with p.open("rb") as fh:
        data = fh.read(_SNIFF_BYTES)
    lines = data.decode("utf-8", errors="replace").lstrip("\ufeff").split("\n")
    if len(data) == _SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut off
    return [ln.rstrip("\r") for ln in lines if ln.strip()][:k]


def decode_utf8(data: bytes) -> tuple[str, bool]:
    """Text of `data` as UTF-8 (BOM dropped); True when bytes had to be replaced."""
    try:
        return data.decode("utf-8-sig"), False
    except UnicodeDecodeError:
        return data.decode("utf-8-sig", errors="replace"), True


def replaced_rows(df: pd.DataFrame) -> int:
    """Rows with a U+FFFD in any string cell (only called when decoding replaced bytes)."""
    hit = np.zeros(len(df), dtype=bool)
    for c in df.columns:
        s = df[c]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            hit |= s.map(lambda v: isinstance(v, str) and REPLACEMENT in v).to_numpy(bool)
    return int(hit.sum())


def replacement_note(notes: list[str], name: str, rows: int) -> None:
    """Tell the user that `rows` rows of `name` (0: only the header) had bytes replaced."""
    what = f"{rows} row(s) decoded with replacement" if rows else "header decoded with replacement"
    notes.append(
        f"'{name}' is not valid UTF-8: {what} (unreadable bytes show as '{REPLACEMENT}'). "
        "Save the file as UTF-8 to keep those characters."
    )


def quote_list(names: Sequence[str], k: int = 12) -> str:
    """The first `k` of `names` quoted and joined, with ``and N more`` for the rest."""
    shown = ", ".join(repr(str(c)) for c in names[:k])
    return shown + (f" and {len(names) - k} more" if len(names) > k else "")


def no_rows(name: str) -> InputError:
    """The error for a file with nothing to read (the caller raises it)."""
    return InputError(
        f"'{name}' has no rows (it is empty, or holds only a header). "
        "Upload a file with at least one item."
    )
