"""Image collections read safely from untrusted input: a folder, a .zip or a .npy of images.

Every read is bounded by the operator's limits (:mod:`explorer.core.limits`): a file is read in
pieces and refused past ``max_file_bytes``; all a collection reads to (zip members as they
decompress, never the sizes a zip claims) past ``max_decoded_bytes``; more than ``max_rows``
images too (`max_images` reads the first N, never the rest). Images are decoded only by
PIL's PNG and JPEG readers (magic bytes decide, not names; see ``decode``). A .npy is never
unpickled; its header's shape is checked before its payload is read. Files are named
relative to the folder or zip, never by a server path; nothing is extracted to disk.
"""

from __future__ import annotations

import io
import math
import os
import re
import struct
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np

from explorer.core.errors import InputError
from explorer.core.limits import env_name, limits, over_limit
from explorer.ingest.images.decode import (
    ADVICE,
    JPEG_MAGIC,
    PNG_MAGIC,
    Undecodable,
    admit_image,
    check_image_array,
    check_output,
)
from explorer.ingest.images.imageset import ImageSet

__all__ = ["IMAGE_SUFFIXES", "read_images"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_NPY = b"\x93NUMPY"
_ZIPS = (b"PK\x03\x04", b"PK\x05\x06")
_CHUNK = 1 << 20
_ZIP_TAIL = 22 + 65535 + 76  # end record, its longest comment, the zip64 record and locator
_ZIP64_LOCATOR = 20  # bytes of the ZIP64 end-record locator
_ZIP64_RECORD = 56  # bytes of the ZIP64 end record (without extensible data)
_ZIP_SLACK = 10_000  # folders and other files a zip may list besides its images
_LISTING_SHARE = 16  # zipfile keeps ~600 B per member it lists, 13x the least entry (47 B)
_ACCEPTED = "upload a .zip of .png/.jpg files, or a folder, or a .npy of image arrays"
_UNREADABLE = (OSError, EOFError, RuntimeError, NotImplementedError, zipfile.BadZipFile, zlib.error)


class _Reading:
    """The images kept so far, the bytes read, and what was skipped (for the notes)."""

    def __init__(self, name: str, max_images: int | None) -> None:
        self.name = name
        self.want = _want(max_images)
        self.used = 0  # bytes read so far, and the bytes their pixels decode to
        self.budget = limits().max_decoded_bytes
        self.seconds = 0.0  # spent decoding so far
        self.time_budget = float(limits().max_decode_seconds)
        self.left_out = 0  # image files a "first N" read left unread
        self.names: list[str] = []
        self.data: list[bytes] = []
        self.skipped: dict[str, list[str]] = {}

    def take(self, amount: int) -> None:
        """Count `amount` more bytes read or decoded, refused past ``max_decoded_bytes``."""
        self.used += amount
        if self.used > self.budget:
            what = f"The bytes of the images in '{self.name}', read and decoded so far"
            raise over_limit(what, self.used, "max_decoded_bytes", ADVICE)

    def decode(self, data: bytes, name: str) -> None:
        """Decode `data` once as later passes will, counting its pixels' bytes and the
        time it took against the collection's budgets."""
        start = time.perf_counter()
        decoded = admit_image(data, name)
        self.seconds += time.perf_counter() - start
        self.take(decoded)
        if self.seconds > self.time_budget:
            what = f"Seconds spent decoding the images of '{self.name}'"
            raise over_limit(what, round(self.seconds), "max_decode_seconds", ADVICE)

    def skip(self, why: str, name: str) -> None:
        self.skipped.setdefault(why, []).append(name)

    def read_all(self, names: list[str], opener: Callable[[str], IO[bytes]]) -> ImageSet:
        """The images of files `names` (sorted) opened by `opener`: the first `want`."""
        for i, rel in enumerate(names):
            if not rel.lower().endswith(IMAGE_SUFFIXES):
                self.skip("not PNG/JPEG", rel)
            elif len(self.names) >= self.want:  # a "first N" read: the rest stay unread
                self.left_out = sum(n.lower().endswith(IMAGE_SUFFIXES) for n in names[i:])
                break
            else:
                try:
                    with opener(rel) as fh:
                        self.read(fh, rel)
                except _UNREADABLE:
                    self.skip("could not be read or unpacked", rel)
        return self.result()

    def read(self, fh: IO[bytes], name: str) -> None:
        """Keep the PNG or JPEG of `fh` (at most ``max_file_bytes``), or skip it."""
        head = fh.read(len(PNG_MAGIC))
        self.take(len(head))
        if not head.startswith((PNG_MAGIC, JPEG_MAGIC)):
            self.skip("named as images but holding other data", name)
            return
        cap = limits().max_file_bytes
        parts = [head]
        got = len(head)
        while piece := fh.read(min(_CHUNK, cap + 1 - got)):
            got += len(piece)
            self.take(len(piece))
            parts.append(piece)
            if got > cap:
                what = f"The size of '{name}' in bytes read so far"
                raise over_limit(what, got, "max_file_bytes", ADVICE)
        data = b"".join(parts)
        try:
            self.decode(data, name)
        except Undecodable:
            self.skip("could not be decoded", name)
            return
        self.names.append(name)
        self.data.append(data)

    def result(self) -> ImageSet:
        """The ImageSet read, or an InputError when it holds no image or too many."""
        notes = []
        for why, names in self.skipped.items():
            more = f" and {len(names) - 3:,} more" if len(names) > 3 else ""
            shown = ", ".join(repr(n) for n in names[:3]) + more
            notes.append(f"Skipped {len(names):,} file(s) ({why}): {shown}.")
        if not self.names:
            said = " " + " ".join(notes) if notes else ""
            raise InputError(f"No PNG or JPEG images in '{self.name}'; {_ACCEPTED}.{said}")
        _check_count(len(self.names), self.name)
        if self.left_out:
            first = f"Read the first {len(self.names):,} images (in name order); left out"
            notes.append(f"{first} {self.left_out:,} more image files.")
        return ImageSet(names=self.names, notes=notes, _encoded=tuple(self.data))


def _want(max_images: int | None) -> int:
    """Images to read: `max_images`, or one past ``max_rows`` so that more shows."""
    if max_images is not None and max_images < 1:
        raise InputError(f"The number of images to read must be at least 1, not {max_images}.")
    most = limits().max_rows + 1
    return most if max_images is None else min(max_images, most)


def _check_count(n: int, name: str) -> None:
    """Refuse more images than ``max_rows``."""
    if n > limits().max_rows:
        what = f"The number of images in '{name}' (at least)"
        raise over_limit(what, n, "max_rows", f"Read only the first. {ADVICE}")


def _hidden(rel: str) -> bool:
    """Whether `rel` is a hidden file or a macOS resource fork, never an image."""
    return rel.startswith("__MACOSX/") or any(p.startswith(".") for p in rel.split("/"))


def _read_folder(root: Path, reading: _Reading) -> ImageSet:
    """Read the images of folder `root` in name order, following no link out of it."""
    top = root.resolve()
    found: dict[str, Path] = {}
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            reading.skip("a folder that could not be listed", folder.relative_to(top).as_posix())
            continue
        for entry in entries:
            path = Path(entry.path)
            rel = path.relative_to(top).as_posix()
            if _hidden(rel):
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append(path)
            elif entry.is_symlink() and not (
                path.resolve().is_relative_to(top) and path.resolve().is_file()
            ):
                reading.skip("a link to a folder or out of the folder", rel)
            elif entry.is_file():
                found[rel] = path
            else:
                reading.skip("not a regular file", rel)
    return reading.read_all(sorted(found), lambda rel: found[rel].open("rb"))


def _check_zip_listing(tail: bytes, name: str) -> None:
    """Refuse a zip whose list of members (its end record says) is too costly to parse."""
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return  # not a zip: zipfile says so
    members, listing = struct.unpack("<HI", tail[at + 10 : at + 16])
    # Where a ZIP64 locator sits just before the end record, zipfile takes the count and
    # size from the ZIP64 record before it, whatever the plain record says: so do we.
    locator = at - _ZIP64_LOCATOR
    record = locator - _ZIP64_RECORD
    if record >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
        if tail[record : record + 4] == b"PK\x06\x06":
            members64, listing64 = struct.unpack("<QQ", tail[record + 32 : record + 48])
            members = max(members, members64)
            listing = max(listing, listing64)
    most = limits().max_rows + _ZIP_SLACK
    allowed = limits().max_decoded_bytes // _LISTING_SHARE
    if members > most or listing > allowed:
        raise InputError(
            f"'{name}' lists {members:,} files in {listing:,} bytes; this server reads zips "
            f"of at most {most:,} files listed in {allowed:,} bytes (set by the operator "
            f"through {env_name('max_rows')} and {env_name('max_decoded_bytes')}). Zip fewer files."
        )


def _read_zip(source: Path | bytes, size: int, reading: _Reading) -> ImageSet:
    """Read the images of a zip in name order, each member through a counted stream."""
    with io.BytesIO(source) if isinstance(source, bytes) else source.open("rb") as fh:
        fh.seek(max(0, size - _ZIP_TAIL))
        _check_zip_listing(fh.read(), reading.name)
    try:
        zf = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, struct.error):
        raise InputError(f"'{reading.name}' is not a valid .zip file; {_ACCEPTED}.") from None
    members: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        raw = info.filename.replace("\\", "/")
        parts = [p for p in raw.split("/") if p not in ("", ".")]
        rel = "/".join(parts)
        if raw.startswith("/") or re.match(r"[A-Za-z]:", raw) or ".." in parts:
            reading.skip("unsafe name: absolute, or with '..'", info.filename)
        elif rel in members:
            reading.skip("listed twice", rel)
        elif not (info.is_dir() or not rel or _hidden(rel)):
            members[rel] = info

    def opener(rel: str) -> IO[bytes]:
        if members[rel].file_size > limits().max_file_bytes:  # a claim may refuse, not admit
            raise over_limit(
                f"The size of '{rel}' in bytes", members[rel].file_size, "max_file_bytes", ADVICE
            )
        return zf.open(members[rel])

    with zf:
        return reading.read_all(sorted(members), opener)


def _read_npy(source: Path | bytes, size: int, name: str, max_images: int | None) -> ImageSet:
    """The images of a .npy, its header checked before a byte of the payload is read."""
    with io.BytesIO(source) if isinstance(source, bytes) else source.open("rb") as fh:
        try:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        except ValueError as exc:
            why = re.sub(r"\s+", " ", str(exc))[:120]
            raise InputError(f"'{name}' is not a valid .npy array ({why}).") from None
        offset = fh.tell()
    check_image_array(shape, dtype, name)
    n = min(shape[0], _want(max_images))
    _check_count(n, name)
    check_output(n * math.prod(shape[1:]), f"The images of '{name}'")
    if math.prod(shape) * dtype.itemsize > size - offset:
        raise InputError(
            f"'{name}' announces shape {shape} of {dtype}, more than its {size:,} bytes "
            "hold: the file is damaged or truncated."
        )
    if isinstance(source, bytes):
        flat = np.frombuffer(source, dtype=dtype, count=math.prod(shape), offset=offset)
        arr = flat.reshape(shape, order="F" if fortran else "C")
    else:
        arr = np.load(source, mmap_mode="r", allow_pickle=False)
    images = ImageSet.from_array(arr[:n], name=name)
    if n < shape[0]:
        images.notes.append(f"Read the first {n:,} images of '{name}'; left out {shape[0] - n:,}.")
    return images


def read_images(
    source: Path | bytes, *, name: str = "images", max_images: int | None = None
) -> ImageSet:
    """The images of `source`: a folder or file path, or an upload's bytes (.zip or .npy),
    named `name` in messages; only the first `max_images` (by name, or a .npy's rows).

    Folder and zip: every PNG/JPEG in name order; hidden files, ``__MACOSX/`` and folders
    pass unmentioned. Other files, zip members named absolutely or with ``..``, links to
    folders or out of the folder, and images that cannot be decoded are skipped with a
    note: one good image is enough. Each image is decoded once here, as later passes
    will decode it (``decode.admit_image``), and counted: its pixels' bytes against
    ``max_decoded_bytes`` and the time against ``max_decode_seconds``. Raises InputError
    for no image; not a folder, .zip or .npy; an image of over :data:`MAX_PIXELS` pixels
    or a JPEG of over :data:`MAX_SCANS` scans; a limit exceeded (named, with its variable).
    """
    if not isinstance(source, bytes):
        source = Path(source)
        if source.is_dir():
            return _read_folder(source, _Reading(name, max_images))
        if not source.is_file():
            raise InputError(f"'{name}' is not a folder or a file that can be read; {_ACCEPTED}.")
    size = len(source) if isinstance(source, bytes) else source.stat().st_size
    if size > limits().max_file_bytes:
        raise over_limit(f"The size of '{name}' in bytes", size, "max_file_bytes", ADVICE)
    with io.BytesIO(source) if isinstance(source, bytes) else source.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(_NPY):
        return _read_npy(source, size, name, max_images)
    if not head.startswith(_ZIPS):
        single = head.startswith((PNG_MAGIC, JPEG_MAGIC))
        what = "a single image, not a collection" if single else "not a .zip, folder or .npy"
        raise InputError(f"'{name}' is {what}; {_ACCEPTED}.")
    return _read_zip(source, size, _Reading(name, max_images))
