"""A collection of images held encoded (or as one array) and decoded one at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from explorer.ingest.images.decode import (
    BILINEAR,
    DECODE_SIDE,
    as_uint8,
    check_image_array,
    check_output,
    flatten_image,
    open_image,
    square_image,
)

if TYPE_CHECKING:
    from PIL import Image as PILImage

__all__ = ["ImageSet"]


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
        check_image_array(arr.shape, arr.dtype, name)
        pixels = as_uint8(arr.reshape(*arr.shape[:3], -1), name)
        names = [f"image-{i:05d}" for i in range(len(arr))] if names is None else list(names)
        return cls(names=names, _array=pixels)

    def pil(self, rows: Sequence[int], max_side: int = 512) -> list[PILImage.Image]:
        """RGB images of `rows`, each shrunk so that its longest side is ≤ `max_side` pixels.
        Raises InputError past ``max_decoded_bytes`` (at max_side² × 3 bytes an image) or
        for an image that cannot be decoded (named)."""
        n = len(self.names)
        if any(not -n <= int(r) < n for r in rows) or max_side < 1:
            raise IndexError(f"rows must be in 0..{n - 1}, and max_side ≥ 1")
        check_output(len(rows) * max_side**2 * 3, "The images asked for")
        out = []
        for r in rows:
            img = self._decoded(int(r) % n, max_side)[0].convert("RGB")
            img.thumbnail((max_side, max_side), BILINEAR)
            out.append(img)
        return out

    def pixels(self, size: int = 28, channels: int | None = None) -> np.ndarray:
        """(n, size, size, C) uint8: every image centre-cropped to a square, then resized
        (bilinear). C is `channels`, or when None 1 if every image is greyscale, else 3.
        Raises InputError past ``max_decoded_bytes`` or for an image that cannot be decoded."""
        if size < 1 or channels not in (None, 1, 3):
            raise ValueError("size must be ≥ 1, and channels None, 1 or 3")
        n = len(self.names)
        check_output(n * size * size * 3, "The resized images")
        out = np.empty((n, size, size, channels or 3), np.uint8)
        grey = np.zeros(n, bool)
        for r in range(n):
            img, grey[r] = self._decoded(r, size)
            arr = np.asarray(square_image(img.convert("L" if channels == 1 else "RGB"), size))
            out[r] = arr[:, :, None] if arr.ndim == 2 else arr
        if channels is None and n and grey.all():
            return np.ascontiguousarray(out[..., :1])  # "L" as RGB repeats it: any channel
        return out

    def thumbnails(self, size: int = 32) -> np.ndarray:
        """(n, size, size, 3) uint8 RGB thumbnails (:meth:`pixels` with 3 channels)."""
        return self.pixels(size, 3)

    def _decoded(self, r: int, side: int) -> tuple[PILImage.Image, bool]:
        """Row `r` as "L" or "RGB" (sides ≥ `side` where it has them, never decoded larger
        than the reading pass decoded it), and whether grey."""
        from PIL import Image

        if self._array is not None:
            arr = self._array[r]
            return flatten_image(Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr))
        assert self._encoded is not None
        side = min(side, DECODE_SIDE)  # what the reading pass decoded and counted
        return flatten_image(open_image(self._encoded[r], self.names[r], side))
