"""NumPy ``.npy`` / ``.npz`` vectors, read without ever unpickling.

Headers are checked before numpy reads a payload: object arrays are refused (so
``allow_pickle`` is never needed) and a shape larger than the file is refused before
numpy allocates it.

An ``.npz`` is a zip, and the sizes a zip claims are never trusted: its list of members must
be short, the array's own header must declare no more than ``max_decoded_bytes``, and the
member is decompressed through a stream that counts the bytes it gives and never asks for
more than the header declared.
"""

from __future__ import annotations

import math
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from explorer.core.errors import InputError
from explorer.ingest.sources.bounds import check_decoded, check_rows, error_text
from explorer.ingest.sources.common import no_rows, quote_list

__all__ = ["matched", "read_npy", "read_npz"]

# An npz of vectors lists a few arrays; a longer list would take ~10× its size to parse.
_MAX_ZIP_DIRECTORY = 1 << 20
_MAX_ZIP_MEMBERS = 10_000
_READ = 1 << 20


def _refuse_objects(name: str) -> InputError:
    """The error for an object array (the caller raises it)."""
    return InputError(
        f"'{name}' holds Python objects (dtype=object), which are never unpickled here for "
        "safety. Save a numeric array instead, e.g. "
        "np.save(path, np.asarray(vectors, dtype=np.float32))."
    )


def _check_layout(shape: tuple[int, ...], dtype: np.dtype[Any], name: str) -> None:
    """Raise unless (`shape`, `dtype`) is a non-empty 2-D array of plain numbers."""
    if dtype.hasobject:
        raise _refuse_objects(name)
    if dtype.names is not None or dtype.kind not in "fiub":
        raise InputError(f"'{name}' holds {dtype} values; vectors must be numbers.")
    if len(shape) != 2:
        raise InputError(
            f"'{name}' has shape {shape}; vectors must be a 2-D array (rows × dimensions)."
        )
    if shape[0] == 0:
        raise no_rows(name)


def _check_array(arr: np.ndarray, name: str) -> None:
    """Raise unless `arr` is a non-empty 2-D array of plain numbers."""
    _check_layout(arr.shape, arr.dtype, name)


def _npy_header(
    fh: Any, name: str, size: int | None
) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    """(shape, fortran_order, dtype) of a .npy header, checked before the payload is read.

    Object arrays are refused here, so nothing is ever unpickled; a shape that needs more
    bytes than `size` (a damaged or hostile header) is refused before numpy allocates it.
    """
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    except ValueError as exc:
        raise InputError(f"'{name}' is not a valid .npy array ({error_text(exc)}).") from None
    if dtype.hasobject:
        raise _refuse_objects(name)
    if size is not None and math.prod(shape) * dtype.itemsize > size:
        raise InputError(
            f"'{name}' announces shape {shape} of {dtype}, more than its {size} "
            "bytes hold: the file is damaged or truncated."
        )
    return shape, fortran, dtype


def read_npy(p: Path) -> np.ndarray:
    """The (n, d) array of a .npy, memory-mapped so that `limit` reads only what it keeps."""
    with p.open("rb") as fh:
        _npy_header(fh, p.name, p.stat().st_size)
    try:
        arr: np.ndarray = np.load(p, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        raise InputError(f"Could not read '{p.name}' ({error_text(exc, p)}).") from None
    _check_array(arr, p.name)
    return arr


def read_npz(p: Path, notes: list[str]) -> np.ndarray:
    """The vectors array of a .npz: the only one, or the one named vectors/embeddings."""
    _check_zip_directory(p)
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"'{p.name}' is not a valid .npz file ({error_text(exc, p)}).") from None
    with zf:
        members = {i.filename.removesuffix(".npy"): i for i in zf.infolist()}
        keys = list(members)
        if len(keys) == 1:
            key = keys[0]
        else:
            named = [k for k in ("vectors", "embeddings") if k in keys]
            if not named:
                raise InputError(
                    f"'{p.name}' holds {len(keys)} arrays ({quote_list(keys) or 'none'}); "
                    "name the vectors 'vectors' or 'embeddings', or save only one array."
                )
            key = named[0]
            notes.append(
                f"Read array '{key}' from '{p.name}' (it also holds "
                f"{quote_list([k for k in keys if k != key])})."
            )
        name = f"{p.name}:{key}"
        try:
            with zf.open(members[key]) as fh:
                arr = _read_member(fh, name, members[key].file_size)
        except InputError:
            raise
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            raise InputError(
                f"Could not read array '{key}' of '{p.name}' ({error_text(exc, p)}): the file is "
                "damaged or truncated. Save it again, e.g. np.savez(path, vectors=vectors)."
            ) from None
    return arr


def _check_zip_directory(p: Path) -> None:
    """Refuse a zip whose list of members is too long to parse, before zipfile parses it.

    The end record says how many members there are and how many bytes list them; zipfile
    keeps an object of some hundreds of bytes per member.
    """
    size = p.stat().st_size
    with p.open("rb") as fh:
        fh.seek(max(0, size - (22 + 65535)))  # the end record, after at most a 64 KiB comment
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return  # not a zip: zipfile says so
    members, listing = struct.unpack("<HI", tail[at + 10 : at + 16])
    if members > _MAX_ZIP_MEMBERS or listing > _MAX_ZIP_DIRECTORY:
        raise InputError(
            f"'{p.name}' lists {members:,} arrays in {listing:,} bytes; an .npz of vectors "
            "holds a few. Save only the vectors, e.g. np.savez(path, vectors=vectors)."
        )


def _read_member(fh: Any, name: str, claimed: int) -> np.ndarray:
    """The array of one .npz member, decompressed from `fh` no further than its header says.

    The header must declare no more than ``max_decoded_bytes``; the payload is read in pieces
    into an array of exactly that size, so a member that inflates to more is never read on.
    """
    shape, fortran, dtype = _npy_header(fh, name, None)
    _check_layout(shape, dtype, name)
    payload = math.prod(shape) * dtype.itemsize
    check_decoded(payload, name)
    if payload > claimed:  # the zip's own size may only refuse, never admit
        raise InputError(
            f"'{name}' announces shape {shape} of {dtype}, more than its {claimed} "
            "bytes hold: the file is damaged or truncated."
        )
    arr = np.empty(math.prod(shape), dtype=dtype)
    view = arr.view(np.uint8)
    got = 0
    while got < payload:
        piece = fh.read(min(_READ, payload - got))
        if not piece:
            raise InputError(
                f"'{name}' ends after {got} of the {payload} bytes its header declares: the "
                "file is damaged or truncated."
            )
        view[got : got + len(piece)] = np.frombuffer(piece, dtype=np.uint8)
        got += len(piece)
    return arr.reshape(shape[::-1]).T if fortran else arr.reshape(shape)


def matched(
    arr: np.ndarray, meta: pd.DataFrame | None, name: str, meta_name: str, limit: int | None
) -> np.ndarray:
    """`arr` cut to `limit` as float32, after checking it has one row per metadata row."""
    if meta is not None and len(meta) != arr.shape[0]:
        raise InputError(
            f"The metadata file '{meta_name}' has {len(meta)} rows but '{name}' has "
            f"{arr.shape[0]} vectors; they must match one to one, in the same order."
        )
    check_rows(arr.shape[0] if limit is None else min(arr.shape[0], limit), name)
    if limit is not None:
        arr = arr[:limit]
    # Always a copy: never hand out a read-only memory map or buffer of the upload.
    return np.array(arr, dtype=np.float32, order="C", copy=True)
