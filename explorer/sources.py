"""Read any user input into one validated table (``items``) and an optional matrix.

Every reader ends in :class:`Loaded`: ``items`` has a unique str ``id`` column, an optional
``text`` column, then metadata columns; ``vectors`` is an (n, d) float32 C-contiguous matrix,
or None when the texts still need embedding by a model (see ``explorer.models``).

Uploads are untrusted: ``.npy``/``.npz`` are never unpickled, gensim's pickle-based ``load``
is never used, and paths inside a projector config may not leave the config's folder.
Errors are :class:`~explorer.errors.InputError` with messages that name the rows or columns
at fault and say what to do.
"""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import Any, Literal

import numpy as np
import pandas as pd

from .errors import InputError
from .space import Metric, Space, make_space
from .validate import check_matrix, dedupe_ids, name_rows

__all__ = [
    "FORMATS",
    "Kind",
    "Loaded",
    "detect_format",
    "load_space",
    "read_source",
    "read_table_preview",
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

_TABLES = ("csv", "tsv", "parquet", "jsonl")
_WORDS = ("word2vec", "word2vec-bin", "glove", "fasttext")

# Extension → format before sniffing (.tsv, .txt and .json are sniffed, see detect_format).
_EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "projector-config",
    ".txt": "txt",
    ".npy": "npy",
    ".npz": "npz",
    ".vec": "fasttext",
    ".bin": "word2vec-bin",
}
_ACCEPTED = (
    ".csv, .tsv, .parquet, .jsonl, .txt (one item per line, or word2vec/GloVe vectors), "
    ".npy, .npz, .json (TensorFlow projector config), .vec (fastText), .bin (word2vec binary)"
)

# Only these cells read as missing: words such as "NA", "null" or "None" are real texts.
_NA_VALUES = ["", "nan", "NaN", "NAN", "-nan", "-NaN"]
_SNIFF_BYTES = 64 * 1024
_REPLACEMENT = "\ufffd"


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
class _Opts:
    """The user's column choices, shared by every table-shaped reader."""

    text_col: str | None = None
    id_col: str | None = None
    label_cols: list[str] | None = None
    vector_col: str | None = None
    limit: int | None = None


@dataclass
class _Chosen:
    """The columns the assembler settled on, for ``Loaded.source``."""

    text_col: str | None = None
    id_col: str | None = None
    vector_col: str | None = None
    vector_columns: list[str] | None = None
    label_cols: list[str] | None = None


# --------------------------------------------------------------------------- public API


def detect_format(path: str | Path) -> str:
    """The format of `path` from its extension, sniffing ``.tsv``, ``.txt`` and ``.json``.

    ``.tsv`` with only numbers on its first line is a projector vectors file; ``.txt`` whose
    first line is ``count dim`` is word2vec text, lines of ``word num num ...`` are GloVe;
    ``.json`` is a projector config, or JSON Lines when it is not one.

    Raises:
        InputError: the extension is not one of the accepted ones.
    """
    p = Path(path)
    ext = p.suffix.lower()
    fmt = _EXTENSIONS.get(ext)
    if fmt is None:
        what = f"'{ext}'" if ext else f"'' ('{p.name}' has no extension)"
        raise InputError(f"Unsupported file type {what}. Accepted: {_ACCEPTED}.")
    if not p.is_file():
        return fmt
    if fmt == "tsv":
        lines = _head_lines(p, 1)
        if lines and all(_is_number(f) for f in lines[0].split("\t")):
            return "projector"
    elif fmt == "txt":
        return _sniff_txt(_head_lines(p, 6))
    elif fmt == "projector-config":
        return _sniff_json(p)
    return fmt


def read_source(
    path: str | Path,
    *,
    fmt: str | None = None,
    text_col: str | None = None,
    id_col: str | None = None,
    label_cols: list[str] | None = None,
    vector_col: str | None = None,
    metadata_path: str | Path | None = None,
    limit: int | None = None,
    tensor_name: str | None = None,
) -> Loaded:
    """Read one source into a :class:`Loaded` (items table + (n, d) float32 or None).

    Args:
        path: the file; its format comes from `fmt` or :func:`detect_format`.
        fmt: one of :data:`FORMATS` to override detection.
        text_col: the column holding the texts; default: the string column with the
            longest mean length (said in ``notes``).
        id_col: a column of unique ids; default ``"0".."n-1"`` (or a unique ``id`` column).
        label_cols: metadata columns to keep; default all the other columns.
        vector_col: a column of lists of numbers holding the vectors; default: detected.
        metadata_path: a table (CSV/TSV/Parquet/JSONL/TXT) with one row per vector, for
            ``npy``/``npz``/``projector``/``projector-config``. A ``.tsv`` follows the
            projector rule: a single column has no header row.
        limit: keep only the first `limit` rows (items or words).
        tensor_name: which embedding of a projector config (default the first).

    Raises:
        InputError: unreadable, empty or inconsistent input; the message says what to fix.
    """
    p = _existing(path)
    if fmt is None:
        fmt = detect_format(p)
    elif fmt not in FORMATS:
        raise InputError(f"Unknown format {fmt!r}. Choose one of: {', '.join(FORMATS)}.")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InputError(f"limit must be a positive whole number of rows, not {limit!r}.")
    if label_cols is not None:
        label_cols = [str(c) for c in label_cols]
    opts = _Opts(text_col, id_col, label_cols, vector_col, limit)
    meta = _existing(metadata_path) if metadata_path is not None else None
    notes: list[str] = []
    chosen = _Chosen()
    files = [p.name]
    vectors: np.ndarray | None
    extra: dict[str, Any] = {}

    if fmt in _WORDS:
        if meta is not None:
            raise InputError(
                "Word-vector files carry their own words; a metadata file is not used with "
                f"'{fmt}'. Remove the metadata file, or convert the vectors to .npy."
            )
        words, vectors = _read_words(p, fmt, limit, notes)
        items = pd.DataFrame({"id": words, "text": words})
        kind: Kind = "words"
    elif fmt in _TABLES or fmt == "txt":
        if meta is not None:
            raise InputError(
                f"A {fmt.upper()} table carries its own columns; a separate metadata file is "
                "only used with .npy, .npz and projector vectors."
            )
        df = _read_frame(p, fmt, notes, id_col=id_col)
        if fmt == "txt":
            if text_col not in (None, "text") or id_col is not None or label_cols:
                raise InputError(
                    "A .txt file has one column, 'text' (one item per line); it has no id, "
                    "label or other columns to choose. Use a CSV to add them."
                )
            opts.text_col = "text"
        items, vectors = _assemble(df, p.name, opts, None, notes, chosen)
        kind = "text" if vectors is None else "vectors"
    else:
        if vector_col is not None:
            raise InputError(
                f"vector_col names a column of a table; a '{fmt}' file holds the vectors "
                "itself. Leave vector_col empty."
            )
        if fmt in ("npy", "npz"):
            array = _read_npy(p) if fmt == "npy" else _read_npz(p, notes)
            meta_df = _read_metadata(meta, notes, id_col) if meta is not None else None
        elif fmt == "projector":
            array = _read_vector_tsv(p, p.name)
            meta_df = _read_metadata(meta, notes, id_col) if meta is not None else None
        else:
            array, meta_df, extra = _read_projector_config(p, tensor_name, meta, notes, id_col)
            files += extra.pop("files")
        if meta is not None:
            files.append(meta.name)
        vectors = _matched(array, meta_df, p.name, files[-1], limit)
        if meta_df is None:
            meta_df = pd.DataFrame(index=range(vectors.shape[0]))
        items, vectors = _assemble(
            meta_df.head(vectors.shape[0]), p.name, opts, vectors, notes, chosen
        )
        kind = "vectors"

    if vectors is not None:
        vectors = check_matrix(vectors)
    if len(items) == 0:
        raise InputError(f"'{p.name}' has no rows to explore.")
    source: dict[str, Any] = {
        "files": files,
        "format": fmt,
        "kind": kind,
        "rows": int(len(items)),
        "dim": None if vectors is None else int(vectors.shape[1]),
        "text_col": chosen.text_col,
        "id_col": chosen.id_col,
        "label_cols": chosen.label_cols,
        "vector_col": chosen.vector_col,
        "vector_columns": chosen.vector_columns,
        "limit": limit,
        **extra,
    }
    source = {k: v for k, v in source.items() if v is not None}
    return Loaded(items=items, vectors=vectors, kind=kind, fmt=fmt, notes=notes, source=source)


def read_table_preview(path: str | Path, fmt: str | None = None, n: int = 20) -> pd.DataFrame:
    """The first `n` rows of a table as read, for the app's column pickers.

    CSV/TSV/Parquet/JSONL/TXT give their raw columns (vector lists included); other
    formats give the first `n` items that :func:`read_source` would produce.
    """
    p = _existing(path)
    fmt = fmt or detect_format(p)
    if fmt not in FORMATS:
        raise InputError(f"Unknown format {fmt!r}. Choose one of: {', '.join(FORMATS)}.")
    n = max(int(n), 1)
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
    if fmt in ("jsonl", "txt"):
        return _read_frame(p, fmt, []).head(n)
    return read_source(p, fmt=fmt, limit=n).items.head(n)


def load_space(
    path: str | Path,
    *,
    metric: Metric = "cosine",
    model: str | None = None,
    fmt: str | None = None,
    text_col: str | None = None,
    id_col: str | None = None,
    label_cols: list[str] | None = None,
    vector_col: str | None = None,
    metadata_path: str | Path | None = None,
    limit: int | None = None,
    tensor_name: str | None = None,
) -> Space:
    """Read a source that already holds vectors and build a validated :class:`Space`.

    Raises:
        InputError: the source holds texts that need embedding (see ``explorer.models``),
            or anything :func:`read_source` or :func:`explorer.space.make_space` rejects.
    """
    loaded = read_source(
        path,
        fmt=fmt,
        text_col=text_col,
        id_col=id_col,
        label_cols=label_cols,
        vector_col=vector_col,
        metadata_path=metadata_path,
        limit=limit,
        tensor_name=tensor_name,
    )
    if loaded.vectors is None:
        col = loaded.source.get("text_col")
        raise InputError(
            f"'{Path(path).name}' holds texts (column '{col}'), not vectors: the texts need "
            "embedding with a model first. Pick a model to build the space."
        )
    return make_space(
        loaded.items,
        loaded.vectors,
        metric=metric,
        model=model,
        source=loaded.source,
        notes=loaded.notes,
    )


# --------------------------------------------------------------------------- small helpers


def _existing(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"File not found: '{p.name}'. Upload it again or check the path.")
    return p


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return bool(s.strip())


def _head_lines(p: Path, k: int) -> list[str]:
    """Up to `k` non-blank lines from the start of `p` (decoded with replacement)."""
    with p.open("rb") as fh:
        data = fh.read(_SNIFF_BYTES)
    lines = data.decode("utf-8", errors="replace").lstrip("\ufeff").split("\n")
    if len(data) == _SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut off
    return [ln.rstrip("\r") for ln in lines if ln.strip()][:k]


def _sniff_txt(lines: list[str]) -> str:
    if not lines:
        return "txt"
    head = lines[0].split()
    if len(head) == 2 and all(h.isdigit() for h in head):
        return "word2vec"
    widths = set()
    for line in lines:
        parts = line.rstrip().split(" ")
        if len(parts) < 3 or not all(_is_number(x) for x in parts[1:]):
            return "txt"
        widths.add(len(parts))
    return "glove" if len(widths) == 1 else "txt"


def _sniff_json(p: Path) -> str:
    if p.stat().st_size <= 8 * _SNIFF_BYTES:
        text = p.read_bytes().decode("utf-8", errors="replace").lstrip("\ufeff")
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and "embeddings" in doc:
            return "projector-config"
        if isinstance(doc, list) and all(isinstance(r, dict) for r in doc):
            return "jsonl"
    lines = _head_lines(p, 1)
    if lines:
        try:
            first = json.loads(lines[0])
        except ValueError:
            first = None
        if isinstance(first, dict):
            return "jsonl"
    raise InputError(
        f"'{p.name}' is neither a TensorFlow projector config (a JSON object with "
        '"embeddings") nor JSON Lines (one JSON object per line).'
    )


def _decode(data: bytes) -> tuple[str, bool]:
    """Text of `data` as UTF-8 (BOM dropped); True when bytes had to be replaced."""
    try:
        return data.decode("utf-8-sig"), False
    except UnicodeDecodeError:
        return data.decode("utf-8-sig", errors="replace"), True


def _replaced_rows(df: pd.DataFrame) -> int:
    """Rows with a U+FFFD in any string cell (only called when decoding replaced bytes)."""
    hit = np.zeros(len(df), dtype=bool)
    for c in df.columns:
        s = df[c]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            hit |= s.map(lambda v: isinstance(v, str) and _REPLACEMENT in v).to_numpy(bool)
    return int(hit.sum())


def _replacement_note(notes: list[str], name: str, rows: int) -> None:
    what = f"{rows} row(s) decoded with replacement" if rows else "header decoded with replacement"
    notes.append(
        f"'{name}' is not valid UTF-8: {what} (unreadable bytes show as '{_REPLACEMENT}'). "
        "Save the file as UTF-8 to keep those characters."
    )


def _quote_list(names: Sequence[str], k: int = 12) -> str:
    shown = ", ".join(repr(str(c)) for c in names[:k])
    return shown + (f" and {len(names) - k} more" if len(names) > k else "")


def _no_rows(name: str) -> InputError:
    return InputError(
        f"'{name}' has no rows (it is empty, or holds only a header). "
        "Upload a file with at least one item."
    )


# --------------------------------------------------------------------------- tables


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


def _is_string_col(s: pd.Series) -> bool:
    return pd.api.types.infer_dtype(s, skipna=True) == "string"


def _is_numeric_col(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def _is_list_value(v: Any) -> bool:
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


def _assemble(
    df: pd.DataFrame,
    name: str,
    opts: _Opts,
    vectors: np.ndarray | None,
    notes: list[str],
    chosen: _Chosen,
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Pick id/text/vector/label columns of `df` and build (items, vectors or None).

    `vectors`, when given, is (len(df), d) and already aligned with `df` (npy + metadata).
    """
    df = df.reset_index(drop=True)
    cols = [str(c) for c in df.columns]
    df.columns = cols
    named = [opts.text_col, opts.id_col, opts.vector_col, *(opts.label_cols or [])]
    missing = [c for c in named if c is not None and c not in cols]
    if missing:
        where = f"'{name}'" if cols else f"'{name}' (it has no table columns)"
        raise InputError(
            f"Column(s) {_quote_list(missing)} not found in {where}. "
            f"Available columns: {_quote_list(cols, 50) or 'none'}."
        )
    if opts.vector_col is not None and opts.vector_col in (opts.text_col, opts.id_col):
        raise InputError(
            f"Column '{opts.vector_col}' cannot be both the vectors and the "
            "text or id. Choose different columns."
        )
    label_set = set(opts.label_cols or [])
    used: set[str] = {c for c in (opts.text_col, opts.id_col) if c is not None}
    aside: set[str] = set()  # columns that are neither used nor kept

    # A pandas index saved by `to_csv()` without index=False: drop it, it is not data.
    if "Unnamed: 0" in cols and "Unnamed: 0" not in used | label_set:
        s = df["Unnamed: 0"]
        if _is_numeric_col(s) and np.array_equal(s.to_numpy(), np.arange(len(df))):
            aside.add("Unnamed: 0")
            notes.append("Dropped column 'Unnamed: 0' (a saved row index 0..n-1).")

    # A column literally named "id" is used as the ids when it is unique and complete.
    id_col = opts.id_col
    if id_col is None and "id" in cols and "id" not in label_set | used and opts.vector_col != "id":
        s = df["id"]
        if not s.isna().any() and s.astype(str).is_unique:
            id_col = "id"
            used.add("id")
            notes.append("Used column 'id' as the ids (it is unique); pick id_col to change.")
        else:
            notes.append(
                "Column 'id' has repeated or missing values, so ids are row numbers "
                "and that column is kept as metadata."
            )
    names = _row_names(df, id_col)

    # Vectors from a list column, named or detected.
    if vectors is None:
        vcol = opts.vector_col
        if vcol is None:
            found = [c for c in cols if c not in used | label_set | aside and _is_list_col(df[c])]
            if found:
                vcol = found[0]
                others = f" (other list columns: {_quote_list(found[1:])})" if found[1:] else ""
                notes.append(
                    f"Read the vectors from column '{vcol}' (lists of numbers){others}; "
                    "pick vector_col to change."
                )
        if vcol is not None:
            vectors = _parse_vector_column(df[vcol], vcol, names)
            used.add(vcol)
            chosen.vector_col = vcol

    # The text: named, or the string column with the longest mean length. Given vectors
    # need no text; one is only shown as the item label when there are no real ids, and
    # then the column stays a metadata column too (e.g. projector labels to colour by).
    text_col = opts.text_col
    if text_col is None and (vectors is None or id_col is None):
        cands = [
            c
            for c in cols
            if c not in used | label_set | aside and c != "id" and _is_string_col(df[c])
        ]
        if cands:
            means = {c: float(df[c].dropna().astype(str).str.len().mean()) for c in cands}
            text_col = max(cands, key=lambda c: means[c])  # first of equals wins
            if len(cands) == 1:
                why = "the only text column"
            else:
                rest = [c for c in cands if c != text_col]
                why = (
                    f"longest strings, {means[text_col]:.0f} characters on average; "
                    f"also text: {_quote_list(rest)}"
                )
            if vectors is None:
                used.add(text_col)
                notes.append(
                    f"Picked column '{text_col}' as the text ({why}). Choose another with text_col."
                )
            else:
                notes.append(
                    f"Showing column '{text_col}' as the item text ({why}); it is also kept as "
                    "metadata. Choose another with text_col."
                )

    # No text and no vectors yet: numeric columns are the vector dimensions.
    if vectors is None and text_col is None:
        rest = [c for c in cols if c not in used | label_set | aside and c != "id"]
        dims = [c for c in rest if _is_numeric_col(df[c])]
        other = [c for c in rest if c not in dims]
        if not dims:
            raise InputError(
                f"'{name}' has no text column and no vectors: no string, list or numeric columns "
                f"to use{' besides the labels' if label_set else ''}. Columns: "
                f"{_quote_list(cols, 50)}."
            )
        if other and opts.label_cols is not None:
            raise InputError(
                f"'{name}' has no text column, and columns {_quote_list(other)} are not numbers, "
                "so they cannot be vector dimensions. Name the text column, or add those "
                "columns to the labels."
            )
        vectors = np.ascontiguousarray(df[dims].to_numpy(dtype=np.float32))
        used.update(dims)
        chosen.vector_columns = dims
        notes.append(
            f"Read {len(dims)}-dimensional vectors from the numeric columns {_quote_list(dims, 4)}."
        )

    # Texts to embed: rows without one cannot be embedded, so skip them and say so.
    if vectors is None:
        assert text_col is not None
        texts = df[text_col]
        empty = (texts.isna() | texts.astype(str).str.strip().eq("")).to_numpy(bool)
        if empty.all():
            raise InputError(
                f"'{name}' has no rows with text in column '{text_col}'. "
                "Choose the column that holds the texts."
            )
        if empty.any():
            notes.append(
                f"Skipped {int(empty.sum())} row(s) with empty text in column "
                f"'{text_col}': {name_rows(names, np.flatnonzero(empty))}."
            )
            df = df.loc[~empty].reset_index(drop=True)
        numeric_rest = [
            c for c in cols if c not in used | label_set | aside and _is_numeric_col(df[c])
        ]
        if len(numeric_rest) >= 2 and opts.text_col is None:
            notes.append(
                f"Columns {_quote_list(numeric_rest, 4)} are numbers; if they are "
                f"vectors, list '{text_col}' as a label (or as id_col) instead."
            )

    if opts.limit is not None:
        df = df.head(opts.limit)
        if vectors is not None:
            vectors = vectors[: opts.limit]

    # Ids: always str and unique.
    if id_col is not None:
        s = df[id_col]
        if s.isna().any():
            miss = np.flatnonzero(s.isna().to_numpy())
            raise InputError(
                f"{miss.size} row(s) have no id in column '{id_col}' "
                f"(data rows {[int(i) + 1 for i in miss[:8]]}). Fill them or "
                "choose another id column."
            )
        ids = _id_strings(s)
        dedupe_ids(ids, "reject")
    else:
        ids = [str(i) for i in range(len(df))]

    # Metadata: the named labels, or every column not used for id/text/vectors.
    if opts.label_cols is not None:
        keep = [c for c in dict.fromkeys(opts.label_cols) if c not in used]
    else:
        keep = [c for c in cols if c not in used | aside]
    items = pd.DataFrame({"id": ids})
    if text_col is not None:
        t = df[text_col]
        items["text"] = [("" if _is_missing(v) else str(v)) for v in t.tolist()]
    taken = set(items.columns) | set(keep)
    for c in keep:
        out = c
        if c in items.columns:  # "id"/"text" are reserved for the chosen columns
            out = _free_name(c, taken)
            taken.add(out)
            notes.append(
                f"Kept column '{c}' as '{out}' ('{c}' is the name of the chosen "
                f"{'ids' if c == 'id' else 'texts'})."
            )
        items[out] = _plain_metadata(df[c]).reset_index(drop=True)

    chosen.text_col = text_col
    chosen.id_col = id_col
    chosen.label_cols = keep
    if vectors is not None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    return items, vectors


# --------------------------------------------------------------------------- arrays


def _refuse_objects(name: str) -> InputError:
    return InputError(
        f"'{name}' holds Python objects (dtype=object), which are never unpickled here for "
        "safety. Save a numeric array instead, e.g. "
        "np.save(path, np.asarray(vectors, dtype=np.float32))."
    )


def _check_array(arr: np.ndarray, name: str) -> None:
    if arr.dtype.hasobject:
        raise _refuse_objects(name)
    if arr.dtype.names is not None or arr.dtype.kind not in "fiub":
        raise InputError(f"'{name}' holds {arr.dtype} values; vectors must be numbers.")
    if arr.ndim != 2:
        raise InputError(
            f"'{name}' has shape {arr.shape}; vectors must be a 2-D array (rows × dimensions)."
        )
    if arr.shape[0] == 0:
        raise _no_rows(name)


def _npy_header(fh: Any, name: str, size: int) -> None:
    """Check a .npy header before numpy reads the payload.

    Object arrays are refused here, so nothing is ever unpickled; a shape that needs more
    bytes than `size` (a damaged or hostile header) is refused before numpy allocates it.
    """
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    except ValueError as exc:
        raise InputError(f"'{name}' is not a valid .npy array ({exc}).") from None
    if dtype.hasobject:
        raise _refuse_objects(name)
    if math.prod(shape) * dtype.itemsize > size:
        raise InputError(
            f"'{name}' announces shape {shape} of {dtype}, more than its {size} "
            "bytes hold: the file is damaged or truncated."
        )


def _read_npy(p: Path) -> np.ndarray:
    """The (n, d) array of a .npy, memory-mapped so that `limit` reads only what it keeps."""
    with p.open("rb") as fh:
        _npy_header(fh, p.name, p.stat().st_size)
    try:
        arr = np.load(p, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        raise InputError(f"Could not read '{p.name}' ({exc}).") from None
    _check_array(arr, p.name)
    return arr


def _read_npz(p: Path, notes: list[str]) -> np.ndarray:
    """The vectors array of a .npz: the only one, or the one named vectors/embeddings."""
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"'{p.name}' is not a valid .npz file ({exc}).") from None
    with zf:
        members = {i.filename.removesuffix(".npy"): i for i in zf.infolist()}
        keys = list(members)
        if len(keys) == 1:
            key = keys[0]
        else:
            named = [k for k in ("vectors", "embeddings") if k in keys]
            if not named:
                raise InputError(
                    f"'{p.name}' holds {len(keys)} arrays ({_quote_list(keys) or 'none'}); "
                    "name the vectors 'vectors' or 'embeddings', or save only one array."
                )
            key = named[0]
            notes.append(
                f"Read array '{key}' from '{p.name}' (it also holds "
                f"{_quote_list([k for k in keys if k != key])})."
            )
        info = members[key]
        name = f"{p.name}:{key}"
        try:
            with zf.open(info) as fh:
                _npy_header(fh, name, info.file_size)
            with zf.open(info) as fh:
                arr = np.lib.format.read_array(fh, allow_pickle=False)
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            raise InputError(f"Could not read array '{key}' of '{p.name}' ({exc}).") from None
    _check_array(arr, name)
    return arr


def _matched(
    arr: np.ndarray, meta: pd.DataFrame | None, name: str, meta_name: str, limit: int | None
) -> np.ndarray:
    """`arr` cut to `limit` as float32, after checking it has one row per metadata row."""
    if meta is not None and len(meta) != arr.shape[0]:
        raise InputError(
            f"The metadata file '{meta_name}' has {len(meta)} rows but '{name}' has "
            f"{arr.shape[0]} vectors; they must match one to one, in the same order."
        )
    if limit is not None:
        arr = arr[:limit]
    # Always a copy: never hand out a read-only memory map or buffer of the upload.
    return np.array(arr, dtype=np.float32, order="C", copy=True)


def _read_metadata(p: Path, notes: list[str], id_col: str | None) -> pd.DataFrame:
    """A metadata table for given vectors; a .tsv follows the projector header rule."""
    fmt = _EXTENSIONS.get(p.suffix.lower())
    if fmt == "tsv":
        return _read_projector_metadata(p, notes, id_col)
    if fmt not in (*_TABLES, "txt"):
        raise InputError(
            f"The metadata file '{p.name}' must be CSV, TSV, Parquet, JSONL or TXT "
            "(one label per line)."
        )
    return _read_frame(p, fmt, notes, id_col=id_col, keep_blank=True)


def _read_projector_metadata(p: Path, notes: list[str], id_col: str | None) -> pd.DataFrame:
    """Projector metadata TSV: one column → no header row; several → the first row is one."""
    text, replaced = _decode(p.read_bytes())
    lines = text.split("\n")
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise _no_rows(p.name)
    if not any("\t" in ln for ln in lines):
        df = pd.DataFrame({"label": lines}, dtype=object)
    else:
        try:
            df = pd.read_csv(
                io.StringIO("\n".join(lines)),
                sep="\t",
                header=0,
                dtype={id_col: str} if id_col else None,
                keep_default_na=False,
                na_values=_NA_VALUES,
                quoting=csv.QUOTE_NONE,  # the projector does not use quotes
            )
        except (pd.errors.ParserError, ValueError) as exc:
            raise InputError(f"Could not read the metadata '{p.name}' as TSV ({exc}).") from None
        if len(df) == 0:
            raise _no_rows(p.name)
    if replaced:
        _replacement_note(notes, p.name, _replaced_rows(df))
    return df


def _read_vector_tsv(p: Path, name: str) -> np.ndarray:
    """(n, d) from tab-separated numbers without a header (projector tensor TSV)."""
    text, _ = _decode(p.read_bytes())
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise _no_rows(name)
    blank = [i + 1 for i, ln in enumerate(lines) if not ln.strip()]
    if blank:
        raise InputError(
            f"'{name}' has blank lines ({blank[:8]}); each line must be one vector, so remove them."
        )
    widths = np.asarray([ln.count("\t") + 1 for ln in lines])
    common = Counter(widths.tolist()).most_common(1)[0][0]
    off = np.flatnonzero(widths != common)
    if off.size:
        shown = ", ".join(f"line {i + 1} ({widths[i]})" for i in off[:8])
        raise InputError(
            f"Vectors in '{name}' have unequal lengths: most lines have {common} numbers, "
            f"but {off.size} differ: {shown}{' and more' if off.size > 8 else ''}."
        )
    try:
        arr = np.loadtxt(
            io.StringIO("\n".join(lines)), delimiter="\t", dtype=np.float32, ndmin=2, comments=None
        )
    except ValueError as exc:
        raise InputError(
            f"'{name}' must hold only tab-separated numbers, one vector per line, no header "
            f"({exc})."
        ) from None
    return arr


def _inside(base: Path, rel: Any, what: str, cfg_name: str) -> Path:
    """`rel` resolved under `base`; anything that could leave `base` is refused."""
    if not isinstance(rel, str) or not rel.strip():
        raise InputError(f"The projector config '{cfg_name}' has no usable {what}.")
    parts = set(Path(rel).parts) | set(PureWindowsPath(rel).parts)
    bad = (
        "://" in rel
        or Path(rel).is_absolute()
        or PureWindowsPath(rel).is_absolute()
        or bool(PureWindowsPath(rel).drive)
        or rel.startswith(("/", "\\", "~"))
        or ".." in parts
    )
    root = base.resolve()
    full = (base / rel).resolve()
    if bad or not full.is_relative_to(root):
        raise InputError(
            f"The projector config's {what} '{rel}' points outside the config's folder. "
            "Only files next to the config (or in folders below it) are read; upload them "
            "together and use relative paths without '..'."
        )
    if not full.is_file():
        raise InputError(
            f"The projector config's {what} '{rel}' was not found next to "
            f"'{cfg_name}'. Upload it together with the config."
        )
    return full


def _read_projector_config(
    p: Path,
    tensor_name: str | None,
    meta: Path | None,
    notes: list[str],
    id_col: str | None,
) -> tuple[np.ndarray, pd.DataFrame | None, dict[str, Any]]:
    """(vectors (n, d), metadata or None, source extras) from a projector config JSON."""
    text, _ = _decode(p.read_bytes())
    try:
        cfg = json.loads(text)
    except ValueError as exc:
        raise InputError(f"'{p.name}' is not valid JSON ({exc}).") from None
    embs = cfg.get("embeddings") if isinstance(cfg, dict) else None
    if not isinstance(embs, list) or not embs or not all(isinstance(e, dict) for e in embs):
        raise InputError(f"'{p.name}' has no \"embeddings\" list; it is not a projector config.")
    names = [str(e.get("tensorName", f"#{i}")) for i, e in enumerate(embs)]
    if tensor_name is None:
        i = 0
        if len(embs) > 1:
            notes.append(
                f"Read the first embedding '{names[0]}' of {len(embs)} "
                f"({_quote_list(names)}); pick tensor_name to change."
            )
    elif tensor_name in names:
        i = names.index(tensor_name)
    else:
        raise InputError(
            f"No embedding named '{tensor_name}' in '{p.name}'. Embeddings: {_quote_list(names)}."
        )
    emb = embs[i]
    tpath = _inside(p.parent, emb.get("tensorPath"), "tensorPath", p.name)
    shape = emb.get("tensorShape")
    ok_shape = (
        isinstance(shape, list)
        and len(shape) == 2
        and all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in shape)
    )
    if tpath.suffix.lower() == ".tsv":
        arr = _read_vector_tsv(tpath, tpath.name)
        if ok_shape and tuple(shape) != arr.shape:
            raise InputError(
                f"'{tpath.name}' holds {arr.shape[0]} × {arr.shape[1]} numbers but "
                f"the config's tensorShape says {shape[0]} × {shape[1]}."
            )
    else:
        if not ok_shape:
            raise InputError(
                f"The embedding '{names[i]}' in '{p.name}' needs a tensorShape "
                f"[rows, dimensions] to read '{tpath.name}'; got {shape!r}."
            )
        n, d = shape
        size = tpath.stat().st_size
        if size != n * d * 4:
            raise InputError(
                f"'{tpath.name}' holds {size} bytes ({size / 4:g} float32 values) but "
                f"tensorShape [{n}, {d}] needs {n * d} values ({n * d * 4} bytes). "
                "Fix tensorShape or re-export the tensor."
            )
        # Raw little-endian float32; astype copies into native, writable float32.
        arr = np.frombuffer(tpath.read_bytes(), dtype="<f4").reshape(n, d).astype(np.float32)
    meta_df = None
    meta_file: list[str] = []
    if meta is not None:
        meta_df = _read_metadata(meta, notes, id_col)
    elif emb.get("metadataPath"):
        mpath = _inside(p.parent, emb.get("metadataPath"), "metadataPath", p.name)
        meta_df = _read_metadata(mpath, notes, id_col)
        meta_file = [mpath.name]
    extra = {"files": [tpath.name, *meta_file], "tensor_name": names[i]}
    return arr, meta_df, extra


# --------------------------------------------------------------------------- word vectors


def _read_words(
    p: Path, fmt: str, limit: int | None, notes: list[str]
) -> tuple[list[str], np.ndarray]:
    """(words, (n, d) float32) from word2vec text/binary, GloVe or fastText .vec."""
    if fmt == "word2vec-bin":
        words, vectors = _read_word2vec_bin(p, limit, notes)
    else:
        words, vectors = _read_word_text(p, fmt, limit, notes)
    bad = sum(_REPLACEMENT in w for w in words)
    if bad:
        notes.append(
            f"'{p.name}' is not valid UTF-8: {bad} row(s) decoded with replacement "
            f"(unreadable bytes show as '{_REPLACEMENT}')."
        )
    return words, vectors


def _read_word2vec_bin(
    p: Path, limit: int | None, notes: list[str]
) -> tuple[list[str], np.ndarray]:
    # gensim's binary reader is robust and streams; its pickle-based `.load` is never used.
    from gensim.models import KeyedVectors

    # gensim allocates count × dim up front: check the header against the file size first,
    # so that a hostile or damaged header cannot ask for terabytes.
    with p.open("rb") as fh:
        head = fh.readline(256).decode("utf-8", errors="replace").split()
    if len(head) != 2 or not all(h.isdigit() for h in head) or int(head[1]) == 0:
        raise InputError(
            f"'{p.name}' is not a word2vec binary file: its first line must be 'count dim' "
            f"(got {' '.join(head)[:40]!r}). For text vectors use .txt or .vec."
        )
    count, dim = int(head[0]), int(head[1])
    wanted = count if limit is None else min(count, limit)
    if wanted * dim * 4 > p.stat().st_size:
        raise InputError(
            f"'{p.name}' announces {count} words of dimension {dim}, more than its "
            f"{p.stat().st_size} bytes can hold: the file is damaged or truncated."
        )
    try:
        kv = KeyedVectors.load_word2vec_format(
            str(p), binary=True, limit=limit, unicode_errors="replace"
        )
    except (ValueError, EOFError, UnicodeDecodeError, IndexError, AssertionError) as exc:
        raise InputError(
            f"'{p.name}' is not a readable word2vec binary file ({type(exc).__name__}: {exc}). "
            "It must start with a 'count dim' line; for text vectors use .txt or .vec."
        ) from None
    keys = list(kv.index_to_key)
    keep = [i for i, k in enumerate(keys) if k is not None]
    if len(keep) != len(keys):  # gensim leaves a None slot for each repeated word
        notes.append(
            f"Skipped {len(keys) - len(keep)} repeated word(s) in '{p.name}' "
            "(kept the first of each)."
        )
    words = [str(keys[i]) for i in keep]
    if not words:
        raise _no_rows(p.name)
    return words, np.ascontiguousarray(kv.vectors[keep], dtype=np.float32)


def _read_word_text(
    p: Path, fmt: str, limit: int | None, notes: list[str]
) -> tuple[list[str], np.ndarray]:
    """Text word vectors: ``word v1 v2 ...`` per line, after an optional ``count dim`` line."""
    words: list[str] = []
    rows: list[np.ndarray] = []
    seen: set[str] = set()
    declared: int | None = None
    dim: int | None = None
    dups = skipped = 0
    bad: list[tuple[int, str, int]] = []
    first = True
    with p.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = raw.decode("utf-8", errors="replace").rstrip()  # bad bytes become U+FFFD
            if first:
                line = line.lstrip("\ufeff")
            if not line:
                continue
            if first:
                first = False
                head = line.split()
                if len(head) == 2 and all(h.isdigit() for h in head):
                    declared, dim = int(head[0]), int(head[1])
                    if fmt == "glove":
                        notes.append(
                            f"'{p.name}' starts with a 'count dim' header line, so it "
                            "was read as word2vec text."
                        )
                    continue
                if fmt in ("word2vec", "fasttext"):
                    notes.append(
                        f"'{p.name}' has no 'count dim' header line; read it as GloVe "
                        "(one word and its numbers per line)."
                    )
            parts = line.split(" ")
            word, nums = parts[0], [x for x in parts[1:] if x]
            if not word:
                skipped += 1
                continue
            if dim is None:
                dim = len(nums)
            if len(nums) != dim or dim == 0:
                bad.append((lineno, word, len(nums)))
                if len(bad) >= 50:
                    break
                continue
            if bad:
                continue  # keep scanning only to name more offending lines
            try:
                vec = np.asarray(nums, dtype=np.float32)
            except ValueError:
                raise InputError(
                    f"Line {lineno} of '{p.name}' (word {word!r}) holds a value that is not a "
                    "number. Each line must be a word followed by its numbers."
                ) from None
            if word in seen:
                dups += 1
                continue
            seen.add(word)
            words.append(word)
            rows.append(vec)
            if limit is not None and len(words) >= limit:
                break
    if bad:
        shown = ", ".join(f"line {ln} {w!r} ({k})" for ln, w, k in bad[:8])
        src = " (from the header)" if declared is not None else " (from the first line)"
        raise InputError(
            f"Word vectors in '{p.name}' have unequal lengths: expected {dim} numbers per word"
            f"{src}, but {len(bad)}{'+' if len(bad) >= 50 else ''} line(s) differ: {shown}. "
            "Each line must be a word followed by the same number of values."
        )
    if not words:
        raise _no_rows(p.name)
    if skipped:
        notes.append(f"Skipped {skipped} line(s) with no word in '{p.name}'.")
    if dups:
        notes.append(f"Skipped {dups} repeated word(s) in '{p.name}' (kept the first of each).")
    if declared is not None and limit is None and declared != len(words) + dups + skipped:
        notes.append(
            f"The header of '{p.name}' announces {declared} words, but it holds "
            f"{len(words) + dups + skipped}."
        )
    return words, np.ascontiguousarray(np.stack(rows), dtype=np.float32)
