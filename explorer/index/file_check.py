"""Checks of a saved hnswlib index file, made before hnswlib is allowed to read it.

hnswlib trusts its file completely: an entry point or a neighbour id out of range is
read as a memory address, and the first query crashes the whole server process. So
an index file is read only when its checksum matches the manifest *and* its structure
fits the space: this module parses the header and every link list (hnswlib 0.8's
``HierarchicalNSW::saveIndex`` layout) with numpy, without hnswlib.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

__all__ = ["HnswFileError", "check_hnsw_file"]

# size_t ×6, int maxlevel, uint32 entry point, size_t ×3, double mult, size_t ef_c
_HEADER = struct.Struct("<6Q i I 3Q d Q")
_MAX_LEVELS = 64  # 2**64 elements would not reach this level with any sane M
_CHUNK_BYTES = 32 * 2**20  # level-0 bytes checked at a time


class HnswFileError(ValueError):
    """The file is not an hnswlib index of this space (wrong shape, or tampered with)."""


def _header(buf: memoryview) -> dict[str, int]:
    if len(buf) < _HEADER.size:
        raise HnswFileError("shorter than an index header")
    (off0, max_el, count, per_el, label_off, off_data, max_level, entry, max_m, max_m0, m, _, _) = (
        _HEADER.unpack_from(buf, 0)
    )
    return {
        "offset_level0": off0,
        "max_elements": max_el,
        "count": count,
        "per_element": per_el,
        "label_offset": label_off,
        "offset_data": off_data,
        "max_level": max_level,
        "entry": entry,
        "max_m": max_m,
        "max_m0": max_m0,
        "m": m,
    }


def _check_header(h: dict[str, int], dim: int, count: int) -> None:
    links0 = h["max_m0"] * 4 + 4  # neighbour ids (uint32) and their count
    expected = {
        "count": count,
        "offset_level0": 0,
        "offset_data": links0,
        "label_offset": links0 + 4 * dim,
        "per_element": links0 + 4 * dim + 8,  # the vector (float32) and a uint64 label
        "max_m": h["m"],
        "max_m0": 2 * h["m"],
    }
    for key, want in expected.items():
        if h[key] != want:
            raise HnswFileError(f"its header's {key} is {h[key]}, not {want}")
    if not 1 <= h["m"] <= 4096 or h["max_elements"] < count:
        raise HnswFileError("its header's sizes are out of range")
    if not 0 <= h["max_level"] < _MAX_LEVELS or not 0 <= h["entry"] < max(count, 1):
        raise HnswFileError("its entry point is out of range")


def _check_links(block: np.ndarray, width: int, count: int, what: str) -> None:
    """Rows of `block` are [k, id_1 … id_width]: k ≤ width and every used id < count."""
    k = block[:, 0] & 0xFFFF  # hnswlib reads the count as an unsigned short
    if (k > width).any():
        raise HnswFileError(f"a {what} link list is longer than allowed")
    used = np.arange(width)[None, :] < k[:, None]
    if (block[:, 1:][used] >= count).any():
        raise HnswFileError(f"a {what} link points outside the index")


def check_hnsw_file(path: Path, dim: int, count: int, n_rows: int) -> None:
    """Raise HnswFileError unless `path` is an hnswlib index of `count` vectors of `dim`.

    Checks the header against the space, the level-0 block (every neighbour id in
    range, vectors finite, labels distinct rows below `n_rows`), and every
    upper-level link list (sizes, levels consistent with the entry point, ids in
    range). O(file size) time; the level-0 block (nearly all of the file) is read in
    :data:`_CHUNK_BYTES` pieces, so that the check does not hold a second copy of the
    index while hnswlib loads the first (1M × 384: 1.7 GB).
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        h = _header(memoryview(f.read(_HEADER.size)))
        _check_header(h, dim, count)
        per = h["per_element"]
        end0 = _HEADER.size + count * per
        if size < end0:
            raise HnswFileError("it is cut short")
        labels = np.empty(count, dtype=np.uint64)
        rows = max(1, _CHUNK_BYTES // per)
        buf = bytearray(min(rows, max(count, 1)) * per)
        for first in range(0, count, rows):
            m = min(rows, count - first)
            view = memoryview(buf)[: m * per]
            if f.readinto(view) != m * per:
                raise HnswFileError("it is cut short")
            block = np.frombuffer(view, dtype=np.uint8).reshape(m, per)
            links0 = block[:, : h["offset_data"]].copy().view(np.uint32)
            _check_links(links0, h["max_m0"], count, "level-0")
            vectors = block[:, h["offset_data"] : h["label_offset"]].copy().view(np.float32)
            if not np.isfinite(vectors).all():
                raise HnswFileError("it holds vectors that are not finite")
            labels[first : first + m] = block[:, h["label_offset"] :].copy().view(np.uint64)[:, 0]
        if count and (labels.max() >= n_rows or np.unique(labels).size != count):
            raise HnswFileError("its labels are not distinct rows of the space")
        # The upper levels: a few bytes per element (hnswlib allocates as much to load them).
        _check_upper_levels(np.frombuffer(f.read(), dtype=np.uint8), 0, h, count)


def _check_upper_levels(data: np.ndarray, pos: int, h: dict[str, int], count: int) -> None:
    """Each element: uint32 byte size, then its levels' link lists (maxM + 1 uint32 each)."""
    per_level = (h["max_m"] + 1) * 4
    levels = np.zeros(count, dtype=np.int64)
    blocks = []
    raw = data.data
    read_size = struct.Struct("<I").unpack_from
    for i in range(count):
        if pos + 4 > data.size:
            raise HnswFileError("it is cut short")
        (size,) = read_size(raw, pos)
        pos += 4
        if size % per_level or size // per_level >= _MAX_LEVELS or pos + size > data.size:
            raise HnswFileError("an element's upper levels are malformed")
        if size:
            levels[i] = size // per_level
            blocks.append(data[pos : pos + size])
            pos += size
    if pos != data.size:
        raise HnswFileError("it has bytes after the last element")
    if levels[h["entry"]] != h["max_level"] or (levels > h["max_level"]).any():
        raise HnswFileError("its levels do not match its entry point")
    if blocks:
        upper = np.concatenate(blocks).view(np.uint32).reshape(-1, h["max_m"] + 1)
        _check_links(upper, h["max_m"], count, "upper-level")
