"""Decoding one image safely: only PIL's PNG and JPEG readers, only once the header says
at most :data:`MAX_PIXELS` pixels, and never more pixels than ``max_decoded_bytes`` allow.
"""

from __future__ import annotations

import io
import math
import re
import struct
import warnings
import zlib
from typing import TYPE_CHECKING, Any

import numpy as np

from explorer.core.errors import InputError
from explorer.core.limits import limits, over_limit

if TYPE_CHECKING:
    from PIL import Image as PILImage

__all__ = [
    "ADVICE",
    "BILINEAR",
    "JPEG_MAGIC",
    "MAX_PIXELS",
    "PNG_MAGIC",
    "Undecodable",
    "as_uint8",
    "check_image_array",
    "check_output",
    "flatten_image",
    "open_image",
    "square_image",
    "too_large",
]

# A 40-megapixel photo decodes to 160 MB as RGBA; a larger "image" is a bomb or a scan.
MAX_PIXELS = 40_000_000
# The largest side any pass decodes a JPEG at (it decodes at 1/2..1/8 scale when that
# still reaches it): the reading pass decodes each image once this way and counts what
# it took, and no later pass asks for more.
DECODE_SIDE = 512
# A progressive JPEG has about ten scans; each decodes the whole picture again.
MAX_SCANS = 64
_FORMATS = ("PNG", "JPEG")  # PIL may use no other reader (some run external programs)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
BILINEAR: Any = 2  # PIL.Image.Resampling.BILINEAR, without importing PIL here
ADVICE = "Use fewer or smaller images, or ask the operator to raise the limit."
# What PIL raises on damaged data (it parses with struct, zlib and indexing), then what
# reading one file raises when it is damaged, encrypted, oddly compressed or unreadable.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    struct.error,
    zlib.error,
)


def check_output(amount: int, what: str) -> None:
    """Refuse to make `amount` bytes of pixels past ``max_decoded_bytes``."""
    if amount > limits().max_decoded_bytes:
        raise over_limit(f"{what} would take this many bytes", amount, "max_decoded_bytes", ADVICE)


def too_large(name: str, size: tuple[int, int] | None) -> InputError:
    """The error for an image of more than MAX_PIXELS pixels (the caller raises it)."""
    what = f"is {size[0]:,}×{size[1]:,} pixels" if size else "has far too many pixels"
    return InputError(
        f"The image '{name}' {what}, over the limit of {MAX_PIXELS:,} pixels per image "
        "(it could be a decompression bomb). Shrink it, or leave it out."
    )


class Undecodable(InputError):
    """An image whose data PIL's reader cannot make sense of."""


def open_image(data: bytes, name: str, side: int | None = None) -> PILImage.Image:
    """`data` opened by PIL's PNG or JPEG reader once its header says ≤ MAX_PIXELS: decoded
    (a JPEG at the smallest scale whose sides are ≥ `side`), or with `side` None checked."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # PIL warns past 89 Mpx and refuses past 179 Mpx: over MAX_PIXELS either way.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=_FORMATS)
            if img.size[0] * img.size[1] > MAX_PIXELS:
                raise too_large(name, img.size)
            if side is None and img.format == "PNG":
                img.verify()  # every chunk there with a right checksum; nothing decoded
            elif side is not None:
                img.draft(None, (side, side))  # a JPEG decodes at 1/2..1/8 scale if enough
                img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_large(name, None) from None
    except InputError:
        raise
    except _DECODE_ERRORS as exc:
        why = re.sub(r"\s+", " ", str(exc))[:120] or type(exc).__name__
        raise Undecodable(
            f"The image '{name}' could not be decoded ({why}): the file is damaged or "
            "truncated. Save it again, or leave it out."
        ) from None
    return img


def jpeg_scans(data: bytes) -> int:
    """How many scans a JPEG holds (its start-of-scan markers; inside a scan's data a 0xFF
    byte is always followed by 0x00, so the marker cannot occur there by chance)."""
    return data.count(b"\xff\xda")


def decoded_bytes(img: PILImage.Image) -> int:
    """The bytes of `img`'s pixels as PIL holds them once decoded."""
    per_band = 2 if "16" in img.mode else 4 if img.mode in ("I", "F") else 1
    return img.size[0] * img.size[1] * len(img.getbands()) * per_band


def admit_image(data: bytes, name: str) -> int:
    """Decode `data` once as every later pass may (a JPEG at the scale whose sides reach
    :data:`DECODE_SIDE`, a PNG in full), under the pixel and scan limits; returns the
    bytes the decoded pixels take, for the collection's budget.

    Raises:
        InputError: over :data:`MAX_PIXELS`, or a JPEG of more than :data:`MAX_SCANS`
            scans (each scan decodes the whole image again: a scan bomb).
        Undecodable: data PIL's reader cannot make sense of.
    """
    if data.startswith(JPEG_MAGIC) and jpeg_scans(data) > MAX_SCANS:
        raise InputError(
            f"The image '{name}' is a JPEG of {jpeg_scans(data):,} scans, over the limit of "
            f"{MAX_SCANS} (each scan decodes the whole picture again). Save it again as a "
            "plain JPEG, or leave it out."
        )
    return decoded_bytes(open_image(data, name, DECODE_SIDE))


def flatten_image(img: PILImage.Image) -> tuple[PILImage.Image, bool]:
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


def square_image(img: PILImage.Image, size: int) -> PILImage.Image:
    """The centre square of `img`, resized to size×size (bilinear)."""
    w, h = img.size
    s = min(w, h)
    left = (w - s) // 2
    top = (h - s) // 2
    # Cropped first: resizing with a box would blend in pixels from outside it.
    square = img.crop((left, top, left + s, top + s))
    return square if s == size else square.resize((size, size), BILINEAR)


def check_image_array(shape: tuple[int, ...], dtype: np.dtype[Any], name: str) -> None:
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
        raise too_large(name, (shape[2], shape[1]))


def as_uint8(arr: np.ndarray, name: str) -> np.ndarray:
    """A C-ordered uint8 copy of images `arr`: floats (and booleans) in 0..1 are scaled by
    255, other numbers must be in 0..255. Read in pieces: a memory map is never read whole."""
    step = max(1, (64 << 20) // max(1, arr[0].nbytes))
    pieces = [slice(i, i + step) for i in range(0, len(arr), step)]
    scale = 1.0
    out = np.empty(arr.shape, np.uint8)
    if arr.dtype != np.uint8:
        low = math.inf
        high = -math.inf
        for s in pieces:
            piece = np.asarray(arr[s], dtype=np.float64)
            if not np.isfinite(piece).all():
                raise InputError(f"'{name}' holds NaN or infinite values; images cannot.")
            low = min(low, float(piece.min()))
            high = max(high, float(piece.max()))
        if low < 0 or high > 255:
            raise InputError(
                f"'{name}' holds values from {low:g} to {high:g}; images must be uint8, or "
                "numbers in 0..1 or 0..255."
            )
        scale = 255.0 if arr.dtype.kind in "fb" and high <= 1 else 1.0
    for s in pieces:
        out[s] = arr[s] if arr.dtype.kind in "iu" else np.rint(np.asarray(arr[s], float) * scale)
    return out
