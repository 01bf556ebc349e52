"""The dispatcher: :func:`read_source` sends each format to its family's reader and
checks the result; :func:`read_table_preview` gives the first rows for column pickers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from explorer.core.errors import InputError
from explorer.core.limits import limits
from explorer.core.validate import check_matrix
from explorer.ingest.sources.arrays import matched, read_npy, read_npz
from explorer.ingest.sources.assemble import Chosen, NoText, assemble
from explorer.ingest.sources.bounds import cut_texts
from explorer.ingest.sources.common import FORMATS, TABLES, WORDS, Kind, Loaded, Opts, existing
from explorer.ingest.sources.detect import detect_format
from explorer.ingest.sources.projector import read_metadata, read_projector_config, read_vector_tsv
from explorer.ingest.sources.tables import read_frame, table_head
from explorer.ingest.sources.words import read_words

__all__ = ["read_source", "read_table_preview"]


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
        limit: keep only the first `limit` rows (items or words); a table or word file
            is read only that far. Without it, more than the operator's ``max_rows`` rows
            is an error.
        tensor_name: which embedding of a projector config (default the first).

    Every read is bounded by the operator's limits (:mod:`explorer.core.limits`): the file's size,
    its rows, what a compressed file decodes to; texts longer than ``max_text_chars`` are
    cut, with a note.

    Raises:
        InputError: unreadable, empty, inconsistent or over-limit input; the message says
            what to fix.
    """
    p = existing(path)
    if fmt is None:
        fmt = detect_format(p)
    elif fmt not in FORMATS:
        raise InputError(f"Unknown format {fmt!r}. Choose one of: {', '.join(FORMATS)}.")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InputError(f"limit must be a positive whole number of rows, not {limit!r}.")
    if label_cols is not None:
        label_cols = [str(c) for c in label_cols]
    opts = Opts(text_col, id_col, label_cols, vector_col, limit)
    meta = existing(metadata_path) if metadata_path is not None else None
    notes: list[str] = []
    chosen = Chosen()
    files = [p.name]
    vectors: np.ndarray | None
    extra: dict[str, Any] = {}
    kind: Kind
    if fmt in WORDS:
        items, vectors = _from_words(p, fmt, meta, limit, notes)
        kind = "words"
    elif fmt in TABLES or fmt == "txt":
        items, vectors = _from_table(p, fmt, meta, opts, notes, chosen)
        kind = "text" if vectors is None else "vectors"
    else:
        items, vectors, more, extra = _from_vector_file(
            p, fmt, meta, opts, tensor_name, notes, chosen
        )
        files += more
        kind = "vectors"
    if vectors is not None:
        vectors = check_matrix(vectors)
    if len(items) == 0:
        raise InputError(f"'{p.name}' has no rows to explore.")
    cut_texts(items, notes)
    source = source_record(files, fmt, kind, items, vectors, chosen, limit, extra)
    return Loaded(items=items, vectors=vectors, kind=kind, fmt=fmt, notes=notes, source=source)


def read_table_preview(
    path: str | Path, fmt: str | None = None, n: int | None = None
) -> pd.DataFrame:
    """The first `n` rows of a table as read, for the app's column pickers.

    CSV/TSV/Parquet/JSONL/TXT give their raw columns (vector lists included); other
    formats give the first `n` items that :func:`read_source` would produce. Only about
    `n` rows are parsed, at most the operator's ``preview_rows`` (also the default).
    """
    p = existing(path)
    fmt = fmt or detect_format(p)
    if fmt not in FORMATS:
        raise InputError(f"Unknown format {fmt!r}. Choose one of: {', '.join(FORMATS)}.")
    most = limits().preview_rows
    n = min(max(int(n), 1), most) if n is not None else most
    if fmt in TABLES or fmt == "txt":
        return table_head(p, fmt, n)
    return read_source(p, fmt=fmt, limit=n).items.head(n)


def _from_words(
    p: Path, fmt: str, meta: Path | None, limit: int | None, notes: list[str]
) -> tuple[pd.DataFrame, np.ndarray]:
    """(items with id = text = the word, (n, d) float32) of a word-vector file."""
    if meta is not None:
        raise InputError(
            "Word-vector files carry their own words; a metadata file is not used with "
            f"'{fmt}'. Remove the metadata file, or convert the vectors to .npy."
        )
    words, vectors = read_words(p, fmt, limit, notes)
    return pd.DataFrame({"id": words, "text": words}), vectors


def _from_table(
    p: Path, fmt: str, meta: Path | None, opts: Opts, notes: list[str], chosen: Chosen
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """(items, (n, d) float32 or None when the texts need a model) of a CSV/TSV/.../TXT.

    With a limit, the first `limit` rows are read; when rows without text leave fewer
    items, more rows are read (doubling, up to ``max_rows``), as rows without text do not
    count towards the limit.
    """
    if meta is not None:
        raise InputError(
            f"A {fmt.upper()} table carries its own columns; a separate metadata file is "
            "only used with .npy, .npz and projector vectors."
        )
    if fmt == "txt":
        if opts.text_col not in (None, "text") or opts.id_col is not None or opts.label_cols:
            raise InputError(
                "A .txt file has one column, 'text' (one item per line); it has no id, "
                "label or other columns to choose. Use a CSV to add them."
            )
        opts.text_col = "text"
    most = limits().max_rows
    cap = opts.limit
    while True:
        run_notes, run_chosen = list(notes), Chosen()
        df = read_frame(p, fmt, run_notes, id_col=opts.id_col, limit=cap)
        more = cap is not None and len(df) >= cap and cap < most  # the file may go on
        try:
            items, vectors = assemble(df, p.name, opts, None, run_notes, run_chosen)
        except NoText:
            if not more:
                raise
        else:
            if not more or opts.limit is None or len(items) >= opts.limit:
                break
        assert cap is not None
        cap = min(2 * cap, most)
    notes[:] = run_notes
    vars(chosen).update(vars(run_chosen))
    return items, vectors


def _from_vector_file(
    p: Path,
    fmt: str,
    meta: Path | None,
    opts: Opts,
    tensor_name: str | None,
    notes: list[str],
    chosen: Chosen,
) -> tuple[pd.DataFrame, np.ndarray | None, list[str], dict[str, Any]]:
    """(items, (n, d) vectors, more file names read, source extras) of npy/npz/projector."""
    if opts.vector_col is not None:
        raise InputError(
            f"vector_col names a column of a table; a '{fmt}' file holds the vectors "
            "itself. Leave vector_col empty."
        )
    files: list[str] = []
    extra: dict[str, Any] = {}
    if fmt in ("npy", "npz"):
        array = read_npy(p) if fmt == "npy" else read_npz(p, notes)
        meta_df = read_metadata(meta, notes, opts.id_col) if meta is not None else None
    elif fmt == "projector":
        array = read_vector_tsv(p, p.name, opts.limit if meta is None else None)
        meta_df = read_metadata(meta, notes, opts.id_col) if meta is not None else None
    else:
        array, meta_df, extra = read_projector_config(p, tensor_name, meta, notes, opts.id_col)
        files += extra.pop("files")
    if meta is not None:
        files.append(meta.name)
    # The last file read is the one that gave the metadata rows, named if counts differ.
    vectors = matched(array, meta_df, p.name, files[-1] if files else p.name, opts.limit)
    if meta_df is None:
        meta_df = pd.DataFrame(index=range(vectors.shape[0]))
    items, vectors_out = assemble(
        meta_df.head(vectors.shape[0]), p.name, opts, vectors, notes, chosen
    )
    return items, vectors_out, files, extra


def source_record(
    files: list[str],
    fmt: str,
    kind: Kind,
    items: pd.DataFrame,
    vectors: np.ndarray | None,
    chosen: Chosen,
    limit: int | None,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """``Loaded.source``: a small JSON-able record of what was read; None values left out."""
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
    return {k: v for k, v in source.items() if v is not None}
