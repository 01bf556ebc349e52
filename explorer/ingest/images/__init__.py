"""Image collections: reading them from untrusted input (``read``), decoding one image
within the operator's bounds (``decode``), the collection itself (``imageset``) and its
captions (``captions``)."""

from __future__ import annotations

from explorer.ingest.images.captions import read_captions
from explorer.ingest.images.decode import MAX_PIXELS
from explorer.ingest.images.imageset import ImageSet
from explorer.ingest.images.read import IMAGE_SUFFIXES, read_images

__all__ = ["IMAGE_SUFFIXES", "MAX_PIXELS", "ImageSet", "read_captions", "read_images"]
