"""NumPy ``.npy`` / ``.npz`` vectors, read without ever unpickling.

Headers are checked before numpy reads a payload: object arrays are refused (so
``allow_pickle`` is never needed) and a shape larger than the file is refused before
numpy allocates it.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .common import _no_rows, _quote_list

__all__ = ["_matched", "_read_npy", "_read_npz"]


def _refuse_objects(name: str) -> InputError:
    """The error for an object array (the caller raises it)."""
    return InputError(
        f"'{name}' holds Python objects (dtype=object), which are never unpickled here for "
        "safety. Save a numeric array instead, e.g. "
        "np.save(path, np.asarray(vectors, dtype=np.float32))."
    )


def _check_array(arr: np.ndarray, name: str) -> None:
    """Raise unless `arr` is a non-empty 2-D array of plain numbers."""
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
        arr: np.ndarray = np.load(p, mmap_mode="r", allow_pickle=False)
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
