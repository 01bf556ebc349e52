"""The TensorFlow Embedding Projector's bundle: ``vectors.tsv``, ``metadata.tsv`` and
``projector_config.json``, written in pieces or zipped in memory.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.core.safe_text import formula_safe
from explorer.core.space import Space
from explorer.core.store import atomic_write_chunks
from explorer.render.export import check_free
from explorer.render.tables import selected_rows

__all__ = ["PROJECTOR_FILES", "projector_metadata", "projector_zip", "write_projector"]

PROJECTOR_FILES = ("projector_config.json", "vectors.tsv", "metadata.tsv")
# float32 printed with 9 significant digits reads back as the same float32.
_FLOAT_FMT = "%.9g"
_CHUNK_ROWS = 8192
# The projector's TSV has no quoting: a tab or a line break inside a cell would split it.
# Line breaks are every character str.splitlines() breaks at.
_TSV_BREAKS = re.compile(r"[\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")


def _tsv_cell(value: object) -> str:
    """One metadata cell: empty for a missing value, line breaks as spaces, and text a
    spreadsheet would run as a formula neutralised as in a CSV download."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, str):
        return str(formula_safe(_TSV_BREAKS.sub(" ", value)))
    return _TSV_BREAKS.sub(" ", str(value))


def projector_metadata(
    space: Space, rows: Sequence[int] | np.ndarray | None = None
) -> pd.DataFrame:
    """The metadata table of a projector bundle: id, text, metadata, as TSV-safe str.

    Tabs and line breaks in a cell (or a column name) become one space: the projector's
    TSV has no quoting. The table always has two or more columns, so it is written with
    a header row and the ``id`` column reads back as the ids (the projector's rule gives
    a one-column file no header); a space with ids only gets a ``label`` column too.
    """
    table = space.items.iloc[selected_rows(space, rows)].reset_index(drop=True)
    out = pd.DataFrame({_tsv_cell(c): table[c].map(_tsv_cell) for c in table.columns})
    if out.shape[1] == 1:
        out["label"] = out["id"]
    return out


def _projector_parts(space: Space, sel: np.ndarray) -> Iterator[tuple[str, Iterator[bytes]]]:
    """(file name, its bytes in chunks) of each file of the bundle."""
    name = space.source.get("title") or space.source.get("sample") or "embedding"
    shape = [int(sel.size), space.dim]
    paths = {"tensorPath": PROJECTOR_FILES[1], "metadataPath": PROJECTOR_FILES[2]}
    config = {"embeddings": [{"tensorName": str(name), "tensorShape": shape, **paths}]}
    yield PROJECTOR_FILES[0], iter([json.dumps(config, indent=2).encode("utf-8")])

    def vectors() -> Iterator[bytes]:
        for start in range(0, sel.size, _CHUNK_ROWS):
            buf = io.StringIO()
            block = space.vectors[sel[start : start + _CHUNK_ROWS]]
            np.savetxt(buf, block, fmt=_FLOAT_FMT, delimiter="\t")
            yield buf.getvalue().encode("ascii")

    def metadata() -> Iterator[bytes]:
        meta = projector_metadata(space, sel)
        yield ("\t".join(meta.columns) + "\n").encode("utf-8")
        for start in range(0, len(meta), _CHUNK_ROWS):
            part = meta.iloc[start : start + _CHUNK_ROWS]
            cols = [part[c] for c in part.columns]
            yield ("\n".join(cols[0].str.cat(cols[1:], sep="\t")) + "\n").encode("utf-8")

    yield PROJECTOR_FILES[1], vectors()
    yield PROJECTOR_FILES[2], metadata()


def write_projector(
    space: Space,
    folder: Path,
    *,
    rows: Sequence[int] | np.ndarray | None = None,
    overwrite: bool = False,
) -> dict[Path, int]:
    """Write the projector bundle into `folder`: {path: bytes} of the three files.

    rows: the items to include (default all, so neighbours read back the same).
    The vectors are the space's stored ones (unit length under cosine); the metric
    is not part of the format, so rebuild an ``l2`` or ``ip`` space with ``--metric``.
    """
    sel = selected_rows(space, rows)
    paths = [folder / name for name in PROJECTOR_FILES]
    check_free(paths, overwrite)
    return {
        folder / name: atomic_write_chunks(folder / name, chunks)
        for name, chunks in _projector_parts(space, sel)
    }


def projector_zip(space: Space, rows: Sequence[int] | np.ndarray | None = None) -> bytes:
    """The projector bundle as one zip (the three files at its top level), in memory."""
    sel = selected_rows(space, rows)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, chunks in _projector_parts(space, sel):
            with zf.open(name, "w", force_zip64=True) as fh:
                for chunk in chunks:
                    fh.write(chunk)
    return buf.getvalue()
