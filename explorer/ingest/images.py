"""Image collections read safely from untrusted input: a folder, a .zip or a .npy of images.

Every read is bounded by the operator's limits (:mod:`explorer.core.limits`): a file is read in
pieces and refused past ``max_file_bytes``; all a collection reads to (zip members as they
decompress, never the sizes a zip claims) past ``max_decoded_bytes``; more than ``max_rows``
images too (`max_images` reads the first N, never the rest). Images are decoded only by
PIL's PNG and JPEG readers (magic bytes decide, not names), and only once their header says
they have at most :data:`MAX_PIXELS` pixels. A .npy is never unpickled; its header's shape is
checked before its payload is read. Files are named relative to the folder or zip, never by
a server path; nothing is extracted to disk.
"""

from __future__ import annotations

import base64
import io
import math
import os
import re
import struct
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from explorer.core.errors import InputError
from explorer.core.limits import env_name, limits, over_limit
from explorer.ingest.sources.bounds import cut_texts, too_many_rows

if TYPE_CHECKING:
    from PIL import Image as PILImage

__all__ = ["IMAGE_SUFFIXES", "MAX_PIXELS", "ImageSet", "read_captions", "read_images"]
__all__ += ["thumbnail_uri"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# A 40-megapixel photo decodes to 160 MB as RGBA; a larger "image" is a bomb or a scan.
MAX_PIXELS = 40_000_000
_FORMATS = ("PNG", "JPEG")  # PIL may use no other reader (some run external programs)
_PNG, _JPEG = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"
_NPY, _ZIPS = b"\x93NUMPY", (b"PK\x03\x04", b"PK\x05\x06")
_CHUNK = 1 << 20
_BILINEAR: Any = 2  # PIL.Image.Resampling.BILINEAR, without importing PIL here
_ZIP_TAIL = 22 + 65535 + 76  # end record, its longest comment, the zip64 record and locator
_ZIP_SLACK = 10_000  # folders and other files a zip may list besides its images
_LISTING_SHARE = 16  # zipfile keeps ~600 B per member it lists, 13x the least entry (47 B)
_ADVICE = "Use fewer or smaller images, or ask the operator to raise the limit."
_ACCEPTED = "upload a .zip of .png/.jpg files, or a folder, or a .npy of image arrays"
# What PIL raises on damaged data (it parses with struct, zlib and indexing), then what
# reading one file raises when it is damaged, encrypted, oddly compressed or unreadable.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError,
                  TypeError, struct.error, zlib.error)  # fmt: skip
_UNREADABLE = (OSError, EOFError, RuntimeError, NotImplementedError, zipfile.BadZipFile,
               zlib.error)  # fmt: skip
_FILE_COLUMNS = ("file", "filename", "file_name", "image", "path", "name")
_TEXT_COLUMNS = ("caption", "text", "label", "description")


@dataclass(frozen=True, eq=False)
class ImageSet:
    """n images: ``names`` (n,), unique, relative to the folder or zip ("a/b.png") or
    "image-00000"... for a .npy's rows; ``notes``, what reading skipped or left out.

    Images of a folder or zip stay encoded, decoded one at a time by :meth:`pil` and
    :meth:`pixels`; data damaged past what reading checked raises there, naming the image.
    """

    names: list[str]
    notes: list[str] = field(default_factory=list)
    _encoded: tuple[bytes, ...] | None = field(default=None, repr=False)
    _array: np.ndarray | None = field(default=None, repr=False)  # (n, h, w, 1|3) uint8

    def __post_init__(self) -> None:
        held = self._encoded if self._array is None else self._array
        if held is None or len(held) != len(self.names) or len(set(self.names)) != len(held):
            raise ValueError("an ImageSet needs one image per name, and unique names")

    def __len__(self) -> int:
        return len(self.names)

    @classmethod
    def from_array(
        cls, images: np.ndarray, names: Sequence[str] | None = None, *, name: str = "the images"
    ) -> ImageSet:
        """Images (n, h, w) or (n, h, w, 1|3) of uint8, or of numbers in 0..1 or 0..255,
        named `names` (default "image-00000", ...); `name` names them in messages."""
        arr = np.asarray(images)
        _check_npy(arr.shape, arr.dtype, name)
        pixels = _as_uint8(arr.reshape(*arr.shape[:3], -1), name)
        names = [f"image-{i:05d}" for i in range(len(arr))] if names is None else list(names)
        return cls(names=names, _array=pixels)

    def pil(self, rows: Sequence[int], max_side: int = 512) -> list[PILImage.Image]:
        """RGB images of `rows`, each shrunk so that its longest side is ≤ `max_side` pixels.
        Raises InputError past ``max_decoded_bytes`` (at max_side² × 3 bytes an image) or
        for an image that cannot be decoded (named)."""
        n = len(self.names)
        if any(not -n <= int(r) < n for r in rows) or max_side < 1:
            raise IndexError(f"rows must be in 0..{n - 1}, and max_side ≥ 1")
        _check_output(len(rows) * max_side**2 * 3, "The images asked for")
        out = []
        for r in rows:
            img = self._decoded(int(r) % n, max_side)[0].convert("RGB")
            img.thumbnail((max_side, max_side), _BILINEAR)
            out.append(img)
        return out

    def pixels(self, size: int = 28, channels: int | None = None) -> np.ndarray:
        """(n, size, size, C) uint8: every image centre-cropped to a square, then resized
        (bilinear). C is `channels`, or when None 1 if every image is greyscale, else 3.
        Raises InputError past ``max_decoded_bytes`` or for an image that cannot be decoded."""
        if size < 1 or channels not in (None, 1, 3):
            raise ValueError("size must be ≥ 1, and channels None, 1 or 3")
        n = len(self.names)
        _check_output(n * size * size * 3, "The resized images")
        out = np.empty((n, size, size, channels or 3), np.uint8)
        grey = np.zeros(n, bool)
        for r in range(n):
            img, grey[r] = self._decoded(r, size)
            arr = np.asarray(_square(img.convert("L" if channels == 1 else "RGB"), size))
            out[r] = arr[:, :, None] if arr.ndim == 2 else arr
        if channels is None and n and grey.all():
            return np.ascontiguousarray(out[..., :1])  # "L" as RGB repeats it: any channel
        return out

    def thumbnails(self, size: int = 32) -> np.ndarray:
        """(n, size, size, 3) uint8 RGB thumbnails (:meth:`pixels` with 3 channels)."""
        return self.pixels(size, 3)

    def _decoded(self, r: int, side: int) -> tuple[PILImage.Image, bool]:
        """Row `r` as "L" or "RGB" (sides ≥ `side` where it has them), and whether grey."""
        from PIL import Image

        if self._array is not None:
            arr = self._array[r]
            return _flatten(Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr))
        assert self._encoded is not None
        return _flatten(_open(self._encoded[r], self.names[r], side))


def _check_output(amount: int, what: str) -> None:
    """Refuse to make `amount` bytes of pixels past ``max_decoded_bytes``."""
    if amount > limits().max_decoded_bytes:
        raise over_limit(f"{what} would take this many bytes", amount, "max_decoded_bytes", _ADVICE)


def _too_large(name: str, size: tuple[int, int] | None) -> InputError:
    """The error for an image of more than MAX_PIXELS pixels (the caller raises it)."""
    what = f"is {size[0]:,}×{size[1]:,} pixels" if size else "has far too many pixels"
    return InputError(
        f"The image '{name}' {what}, over the limit of {MAX_PIXELS:,} pixels per image "
        "(it could be a decompression bomb). Shrink it, or leave it out."
    )


class _Undecodable(InputError):
    """An image whose data PIL's reader cannot make sense of."""


def _open(data: bytes, name: str, side: int | None = None) -> PILImage.Image:
    """`data` opened by PIL's PNG or JPEG reader once its header says ≤ MAX_PIXELS: decoded
    (a JPEG at the smallest scale whose sides are ≥ `side`), or with `side` None checked."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # PIL warns past 89 Mpx and refuses past 179 Mpx: over MAX_PIXELS either way.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=_FORMATS)
            if img.size[0] * img.size[1] > MAX_PIXELS:
                raise _too_large(name, img.size)
            if side is None and img.format == "PNG":
                img.verify()  # every chunk there with a right checksum; nothing decoded
            elif side is not None:
                img.draft(None, (side, side))  # a JPEG decodes at 1/2..1/8 scale if enough
                img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large(name, None) from None
    except InputError:
        raise
    except _DECODE_ERRORS as exc:
        why = re.sub(r"\s+", " ", str(exc))[:120] or type(exc).__name__
        raise _Undecodable(
            f"The image '{name}' could not be decoded ({why}): the file is damaged or "
            "truncated. Save it again, or leave it out."
        ) from None
    return img


def _flatten(img: PILImage.Image) -> tuple[PILImage.Image, bool]:
    """`img` as "L" (greyscale) or "RGB", transparent parts over white, and whether grey."""
    from PIL import Image

    if img.mode in ("I", "F") or img.mode.startswith("I;16"):
        # 16-bit (or 32-bit) grey: PIL's conversion to "L" would clip, not scale.
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode != "F" and arr.max(initial=0) > 255 else 255.0
        return Image.fromarray(np.clip(arr * (255.0 / top), 0, 255).astype(np.uint8)), True
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    grey = img.mode in ("1", "L", "LA", "La")
    target = "L" if grey else "RGB"
    if img.mode in ("LA", "La", "RGBA", "RGBa", "PA"):
        base = Image.new(target, img.size, 255 if grey else (255, 255, 255))
        base.paste(img.convert(target), mask=img.getchannel("A"))
        return base, grey
    return img.convert(target), grey


def _square(img: PILImage.Image, size: int) -> PILImage.Image:
    """The centre square of `img`, resized to size×size (bilinear)."""
    (w, h), s = img.size, min(img.size)
    left, top = (w - s) // 2, (h - s) // 2
    # Cropped first: resizing with a box would blend in pixels from outside it.
    square = img.crop((left, top, left + s, top + s))
    return square if s == size else square.resize((size, size), _BILINEAR)


class _Reading:
    """The images kept so far, the bytes read, and what was skipped (for the notes)."""

    def __init__(self, name: str, max_images: int | None) -> None:
        self.name, self.want = name, _want(max_images)
        self.used, self.budget, self.left_out = 0, limits().max_decoded_bytes, 0
        self.names: list[str] = []
        self.data: list[bytes] = []
        self.skipped: dict[str, list[str]] = {}

    def take(self, amount: int) -> None:
        """Count `amount` more bytes read, refused past ``max_decoded_bytes``."""
        self.used += amount
        if self.used > self.budget:
            what = f"The bytes of the images in '{self.name}' read so far"
            raise over_limit(what, self.used, "max_decoded_bytes", _ADVICE)

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
        head = fh.read(len(_PNG))
        self.take(len(head))
        if not head.startswith((_PNG, _JPEG)):
            self.skip("named as images but holding other data", name)
            return
        cap, parts, got = limits().max_file_bytes, [head], len(head)
        while piece := fh.read(min(_CHUNK, cap + 1 - got)):
            got += len(piece)
            self.take(len(piece))
            parts.append(piece)
            if got > cap:
                what = f"The size of '{name}' in bytes read so far"
                raise over_limit(what, got, "max_file_bytes", _ADVICE)
        data = b"".join(parts)
        try:
            _open(data, name)
        except _Undecodable:
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
        what, advice = f"The number of images in '{name}' (at least)", "Read only the first."
        raise over_limit(what, n, "max_rows", f"{advice} {_ADVICE}")


def _hidden(rel: str) -> bool:
    """Whether `rel` is a hidden file or a macOS resource fork, never an image."""
    return rel.startswith("__MACOSX/") or any(p.startswith(".") for p in rel.split("/"))


def _read_folder(root: Path, reading: _Reading) -> ImageSet:
    """Read the images of folder `root` in name order, following no link out of it."""
    top, found, stack = root.resolve(), {}, [root.resolve()]
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
    at64 = tail.rfind(b"PK\x06\x06", 0, at)
    if (members == 0xFFFF or listing == 0xFFFFFFFF) and at64 >= 0 and at - at64 >= 48:
        members, listing = struct.unpack("<QQ", tail[at64 + 32 : at64 + 48])
    most, allowed = limits().max_rows + _ZIP_SLACK, limits().max_decoded_bytes // _LISTING_SHARE
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
                f"The size of '{rel}' in bytes", members[rel].file_size, "max_file_bytes", _ADVICE
            )
        return zf.open(members[rel])

    with zf:
        return reading.read_all(sorted(members), opener)


def _check_npy(shape: tuple[int, ...], dtype: np.dtype[Any], name: str) -> None:
    """Raise unless (`shape`, `dtype`) is n images of plain numbers, each ≤ MAX_PIXELS."""
    if dtype.hasobject or dtype.names is not None or dtype.kind not in "uifb":
        raise InputError(
            f"'{name}' holds {dtype} values (never unpickled here); images must be uint8, "
            "or floats in 0..1 or 0..255, e.g. np.save(path, images.astype(np.uint8))."
        )
    if not (len(shape) == 3 or (len(shape) == 4 and shape[3] in (1, 3))) or 0 in shape:
        raise InputError(
            f"'{name}' has shape {shape}; images must be an array of shape (n, height, "
            "width) for greyscale or (n, height, width, 3) for colour, with n ≥ 1."
        )
    if shape[1] * shape[2] > MAX_PIXELS:
        raise _too_large(name, (shape[2], shape[1]))


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
    _check_npy(shape, dtype, name)
    n = min(shape[0], _want(max_images))
    _check_count(n, name)
    _check_output(n * math.prod(shape[1:]), f"The images of '{name}'")
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


def _as_uint8(arr: np.ndarray, name: str) -> np.ndarray:
    """A C-ordered uint8 copy of images `arr`: floats (and booleans) in 0..1 are scaled by
    255, other numbers must be in 0..255. Read in pieces: a memory map is never read whole."""
    step = max(1, (64 << 20) // max(1, arr[0].nbytes))
    pieces = [slice(i, i + step) for i in range(0, len(arr), step)]
    scale, out = 1.0, np.empty(arr.shape, np.uint8)
    if arr.dtype != np.uint8:
        low, high = math.inf, -math.inf
        for s in pieces:
            piece = np.asarray(arr[s], dtype=np.float64)
            if not np.isfinite(piece).all():
                raise InputError(f"'{name}' holds NaN or infinite values; images cannot.")
            low, high = min(low, float(piece.min())), max(high, float(piece.max()))
        if low < 0 or high > 255:
            raise InputError(
                f"'{name}' holds values from {low:g} to {high:g}; images must be uint8, or "
                "numbers in 0..1 or 0..255."
            )
        scale = 255.0 if arr.dtype.kind in "fb" and high <= 1 else 1.0
    for s in pieces:
        out[s] = arr[s] if arr.dtype.kind in "iu" else np.rint(np.asarray(arr[s], float) * scale)
    return out


def read_images(
    source: Path | bytes, *, name: str = "images", max_images: int | None = None
) -> ImageSet:
    """The images of `source`: a folder or file path, or an upload's bytes (.zip or .npy),
    named `name` in messages; only the first `max_images` (by name, or a .npy's rows).

    Folder and zip: every PNG/JPEG in name order; hidden files, ``__MACOSX/`` and folders
    pass unmentioned. Other files, zip members named absolutely or with ``..``, links to
    folders or out of the folder, and images whose header (or a PNG's chunks) is damaged
    are skipped with a note: one good image is enough. Damage found only in decoding
    raises then. Raises InputError for no image; not a folder, .zip or .npy; an image of
    over :data:`MAX_PIXELS` pixels; a limit exceeded (named, with its variable).
    """
    if not isinstance(source, bytes):
        source = Path(source)
        if source.is_dir():
            return _read_folder(source, _Reading(name, max_images))
        if not source.is_file():
            raise InputError(f"'{name}' is not a folder or a file that can be read; {_ACCEPTED}.")
    size = len(source) if isinstance(source, bytes) else source.stat().st_size
    if size > limits().max_file_bytes:
        raise over_limit(f"The size of '{name}' in bytes", size, "max_file_bytes", _ADVICE)
    with io.BytesIO(source) if isinstance(source, bytes) else source.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(_NPY):
        return _read_npy(source, size, name, max_images)
    if not head.startswith(_ZIPS):
        single = head.startswith((_PNG, _JPEG))
        what = "a single image, not a collection" if single else "not a .zip, folder or .npy"
        raise InputError(f"'{name}' is {what}; {_ACCEPTED}.")
    return _read_zip(source, size, _Reading(name, max_images))


def thumbnail_uri(thumb: np.ndarray) -> str:
    """A ``data:image/png;base64,...`` URI of a (s, s, 3), (s, s, 1) or (s, s) uint8 image,
    for plotly's images and ``st.column_config.ImageColumn``."""
    from PIL import Image

    arr = np.asarray(thumb)[:, :, 0] if np.ndim(thumb) == 3 and thumb.shape[2] == 1 else thumb
    if arr.dtype != np.uint8 or not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)):
        raise ValueError(f"a thumbnail is (s, s, 3) or (s, s) uint8, not {arr.shape} {arr.dtype}")
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _caption_columns(columns: list[str], name: str) -> tuple[str, str]:
    """(file-name column, text column) of a captions table's `columns`."""
    lowered = {c.strip().lower(): c for c in reversed(columns)}  # the first of a name wins
    file_col = next((lowered[w] for w in _FILE_COLUMNS if w in lowered), None)
    text_col = next((lowered[w] for w in _TEXT_COLUMNS if w in lowered), None)
    if len(columns) == 2 and file_col != columns[1] and text_col != columns[0]:
        return columns[0], columns[1]  # two columns: file name, then text, named anyhow
    if file_col is None or text_col is None:
        raise InputError(
            f"'{name}' has columns {', '.join(repr(c) for c in columns)}; it needs a file-name "
            f"column (one of {', '.join(_FILE_COLUMNS)}) and a text column (one of "
            f"{', '.join(_TEXT_COLUMNS)}), or exactly two columns: file name, then text."
        )
    return file_col, text_col


def _matcher(names: Sequence[str]) -> Callable[[str], str | None]:
    """A function from a file name in a captions table to the one of `names` it means:
    the same relative name, else the only one with that base name."""
    exact, bases = set(names), Counter(n.rsplit("/", 1)[-1] for n in names)
    single = {n.rsplit("/", 1)[-1]: n for n in names if bases[n.rsplit("/", 1)[-1]] == 1}

    def match(raw: str) -> str | None:
        value = raw.strip().replace("\\", "/").removeprefix("./")
        return value if value in exact else single.get(value.rsplit("/", 1)[-1])

    return match


def read_captions(
    source: Path | bytes, names: Sequence[str], *, name: str = "captions.csv"
) -> pd.DataFrame:
    """Captions of the images `names` from a CSV (a TSV when `name` ends in .tsv): columns
    ``file`` (as in `names`), ``text`` (str, cut to ``max_text_chars``), then the table's
    other columns as they are (as text); ``attrs["notes"]`` counts the rows dropped because
    they name no image. Several rows may caption one image.

    The file column is found by name (any case) among :data:`_FILE_COLUMNS`, the text column
    among :data:`_TEXT_COLUMNS`; exactly two columns may be named anyhow (file first). A file
    name matches an image by relative name, else by base name when one image alone has it.
    Raises InputError past ``max_file_bytes`` or ``max_rows``, or for a table that is not
    CSV or lacks those columns.
    """
    most = limits().max_file_bytes
    with io.BytesIO(source) if isinstance(source, bytes) else Path(source).open("rb") as fh:
        data = fh.read(most + 1)  # a BytesIO hands back its bytes themselves, not a copy
    if len(data) > most:
        raise over_limit(f"The size of '{name}' in bytes", len(data), "max_file_bytes", _ADVICE)
    try:
        table = pd.read_csv(io.BytesIO(data), sep="\t" if name.lower().endswith(".tsv") else ",",
                            dtype=str, keep_default_na=False, encoding="utf-8-sig",
                            encoding_errors="replace", nrows=limits().max_rows + 1)  # fmt: skip
    except pd.errors.EmptyDataError:
        raise InputError(f"'{name}' is empty; it needs a header row, then captions.") from None
    except (pd.errors.ParserError, ValueError) as exc:
        why = re.sub(r"\s+", " ", str(exc))[:160]
        raise InputError(f"'{name}' could not be read as CSV ({why}).") from None
    if len(table) > limits().max_rows:
        raise too_many_rows(name)
    table.columns = columns = [str(c) for c in table.columns]
    file_col, text_col = _caption_columns(columns, name)
    files = table[file_col].map(_matcher(names))
    known = files.notna().to_numpy(bool)
    out = table.loc[known, [c for c in columns if c not in (file_col, text_col)]]
    out = out.rename(columns={c: f"{c}_csv" for c in out.columns if c in ("file", "text")})
    out.insert(0, "text", table.loc[known, text_col])
    out.insert(0, "file", files[known])
    out = out.reset_index(drop=True)
    notes: list[str] = []
    if dropped := int((~known).sum()):
        unknown = ", ".join(repr(v) for v in table.loc[~known, file_col][:3])
        notes.append(
            f"Dropped {dropped:,} row(s) of '{name}' naming no image of the collection (or a "
            f"base name several images share): {unknown}{' and more' if dropped > 3 else ''}."
        )
    cut_texts(out, notes)
    out.attrs["notes"] = notes
    return out
