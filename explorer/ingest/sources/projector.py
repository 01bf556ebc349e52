"""TensorFlow Embedding Projector formats: vector TSV, metadata TSV and config JSON.

Also the metadata table beside any given vectors (npy/npz/projector), since a ``.tsv`` there
follows the projector's header rule. Paths inside a config may not leave its folder.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path, PureWindowsPath
from typing import Any

import numpy as np
import pandas as pd

from explorer.core.errors import InputError
from explorer.ingest.sources.bounds import check_file_size, check_rows, error_text, row_cap
from explorer.ingest.sources.common import (
    NA_VALUES,
    SMALL_JSON_BYTES,
    TABLES,
    decode_utf8,
    no_rows,
    quote_list,
    replaced_rows,
    replacement_note,
)
from explorer.ingest.sources.detect import EXTENSIONS
from explorer.ingest.sources.lines import iter_lines
from explorer.ingest.sources.tables import read_frame

__all__ = ["read_metadata", "read_projector_config", "read_vector_tsv"]


def read_metadata(p: Path, notes: list[str], id_col: str | None) -> pd.DataFrame:
    """A metadata table for given vectors; a .tsv follows the projector header rule."""
    fmt = EXTENSIONS.get(p.suffix.lower())
    if fmt == "tsv":
        return _read_projector_metadata(p, notes, id_col)
    if fmt not in (*TABLES, "txt"):
        raise InputError(
            f"The metadata file '{p.name}' must be CSV, TSV, Parquet, JSONL or TXT "
            "(one label per line)."
        )
    return read_frame(p, fmt, notes, id_col=id_col, keep_blank=True)


def _read_projector_metadata(p: Path, notes: list[str], id_col: str | None) -> pd.DataFrame:
    """Projector metadata TSV: one column → no header row; several → the first row is one.

    Read line by line, up to ``max_rows`` rows (plus the header); more is an error.
    """
    cap = row_cap(None) + 1
    lines: list[str] = []
    pending: list[str] = []  # blank lines not yet known to be followed by a label
    replaced = False
    for _, line, bad in iter_lines(p):
        replaced |= bad
        line = line[:-1] if line.endswith("\r") else line
        if not line.strip():
            pending.append(line)
            continue
        lines += pending
        pending = []
        lines.append(line)
        if len(lines) >= cap:
            break
    if not lines:
        raise no_rows(p.name)
    if not any("\t" in ln for ln in lines):
        df = pd.DataFrame({"label": lines}, dtype=object)
    else:
        try:
            df = pd.read_csv(
                io.StringIO("\n".join(lines)),
                sep="\t",
                header=0,
                # Ids stay as written ("007" is not 7), as in the CSV reader.
                dtype={id_col or "id": str},
                keep_default_na=False,
                na_values=NA_VALUES,
                quoting=csv.QUOTE_NONE,  # the projector does not use quotes
            )
        except (pd.errors.ParserError, ValueError) as exc:
            raise InputError(
                f"Could not read the metadata '{p.name}' as TSV ({error_text(exc, p)})."
            ) from None
        if len(df) == 0:
            raise no_rows(p.name)
    check_rows(len(df), p.name)
    if replaced:
        replacement_note(notes, p.name, replaced_rows(df))
    return df


def _numbered(p: Path) -> Iterator[tuple[int, str]]:
    """(number from 1, line) for each line of `p`, split as ``str.splitlines`` splits."""
    n = 0
    for _, raw, _ in iter_lines(p):
        for line in raw.splitlines() or [""]:
            n += 1
            yield n, line


def read_vector_tsv(p: Path, name: str, limit: int | None = None) -> np.ndarray:
    """(n, d) from tab-separated numbers without a header (projector tensor TSV).

    Read line by line: the first `limit` vectors, or up to ``max_rows`` (more is an error).
    """
    cap = row_cap(limit)
    lines: list[str] = []
    blank: list[int] = []
    pending: list[int] = []  # blank lines, an error only when a vector follows
    for n, line in _numbered(p):
        if not line.strip():
            pending.append(n)
            continue
        if len(lines) >= cap:
            break
        blank += pending
        pending = []
        lines.append(line)
    if not lines:
        raise no_rows(name)
    if blank:
        raise InputError(
            f"'{name}' has blank lines ({blank[:8]}); each line must be one vector, so remove them."
        )
    check_rows(len(lines), name)
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
        arr = np.loadtxt(lines, delimiter="\t", dtype=np.float32, ndmin=2, comments=None)
    except ValueError as exc:
        raise InputError(
            f"'{name}' must hold only tab-separated numbers, one vector per line, no header "
            f"({error_text(exc, p)})."
        ) from None
    return arr


def _inside(base: Path, rel: Any, what: str, cfg_name: str) -> Path:
    """`rel` resolved under `base`; anything that could leave `base` is refused."""
    if not isinstance(rel, str) or not rel.strip():
        raise InputError(f"The projector config '{cfg_name}' has no usable {what}.")
    # Judge the path both as POSIX and as Windows: an upload may come from either.
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
    check_file_size(full)
    return full


def read_projector_config(
    p: Path,
    tensor_name: str | None,
    meta: Path | None,
    notes: list[str],
    id_col: str | None,
) -> tuple[np.ndarray, pd.DataFrame | None, dict[str, Any]]:
    """(vectors (n, d), metadata or None, source extras) from a projector config JSON.

    The extras are ``files`` (the tensor and metadata file names read) and ``tensor_name``.
    A given `meta` file wins over the config's ``metadataPath``.
    """
    size = p.stat().st_size
    if size > SMALL_JSON_BYTES:
        raise InputError(
            f"'{p.name}' is {size:,} bytes, too large for a TensorFlow projector config (a "
            "small JSON file that names the tensor files). Upload the config itself, or the "
            "vectors as .npy or .tsv."
        )
    text, _ = decode_utf8(p.read_bytes())
    try:
        cfg = json.loads(text)
    except ValueError as exc:
        raise InputError(f"'{p.name}' is not valid JSON ({exc}).") from None
    embs = cfg.get("embeddings") if isinstance(cfg, dict) else None
    if not isinstance(embs, list) or not embs or not all(isinstance(e, dict) for e in embs):
        raise InputError(f"'{p.name}' has no \"embeddings\" list; it is not a projector config.")
    names = [str(e.get("tensorName", f"#{i}")) for i, e in enumerate(embs)]
    i = _pick_embedding(names, tensor_name, p.name, notes)
    emb = embs[i]
    arr, tpath = _read_tensor(p, emb, names[i])
    meta_df = None
    meta_file: list[str] = []
    if meta is not None:
        meta_df = read_metadata(meta, notes, id_col)
    elif emb.get("metadataPath"):
        mpath = _inside(p.parent, emb.get("metadataPath"), "metadataPath", p.name)
        meta_df = read_metadata(mpath, notes, id_col)
        meta_file = [mpath.name]
    extra = {"files": [tpath.name, *meta_file], "tensor_name": names[i]}
    return arr, meta_df, extra


def _pick_embedding(
    names: Sequence[str], tensor_name: str | None, cfg_name: str, notes: list[str]
) -> int:
    """Index of the embedding named `tensor_name`, or 0 (said in notes when there are more)."""
    if tensor_name is None:
        if len(names) > 1:
            notes.append(
                f"Read the first embedding '{names[0]}' of {len(names)} "
                f"({quote_list(names)}); pick tensor_name to change."
            )
        return 0
    if tensor_name in names:
        return names.index(tensor_name)
    raise InputError(
        f"No embedding named '{tensor_name}' in '{cfg_name}'. Embeddings: {quote_list(names)}."
    )


def _read_tensor(p: Path, emb: dict[str, Any], tname: str) -> tuple[np.ndarray, Path]:
    """(vectors (n, d) float32, tensor path) of one config entry: a TSV or raw float32 bytes."""
    tpath = _inside(p.parent, emb.get("tensorPath"), "tensorPath", p.name)
    shape: Any = emb.get("tensorShape")  # checked below, as the upload may hold anything
    ok_shape = (
        isinstance(shape, list)
        and len(shape) == 2
        and all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in shape)
    )
    if tpath.suffix.lower() == ".tsv":
        arr = read_vector_tsv(tpath, tpath.name)
        if ok_shape and tuple(shape) != arr.shape:
            raise InputError(
                f"'{tpath.name}' holds {arr.shape[0]} × {arr.shape[1]} numbers but "
                f"the config's tensorShape says {shape[0]} × {shape[1]}."
            )
        return arr, tpath
    if not ok_shape:
        raise InputError(
            f"The embedding '{tname}' in '{p.name}' needs a tensorShape "
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
    raw = np.fromfile(tpath, dtype="<f4", count=n * d)
    return raw.reshape(n, d).astype(np.float32), tpath
