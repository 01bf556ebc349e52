"""Read any user input into one validated table (``items``) and an optional matrix.

Every reader ends in :class:`Loaded`: ``items`` has a unique str ``id`` column, an optional
``text`` column, then metadata columns; ``vectors`` is an (n, d) float32 C-contiguous matrix,
or None when the texts still need embedding by a model (see ``explorer.embed``).

Uploads are untrusted: ``.npy``/``.npz`` are never unpickled, gensim's pickle-based ``load``
is never used, and paths inside a projector config may not leave the config's folder.
Errors are :class:`~explorer.errors.InputError` with messages that name the rows or columns
at fault and say what to do.

One module per format family: ``detect`` (which format), ``tables`` (CSV/TSV/Parquet/
JSONL/TXT), ``assemble`` (columns → items and vectors), ``arrays`` (npy/npz),
``projector`` (TensorFlow projector files), ``words`` (word vectors); ``read`` dispatches
and ``common`` holds what they share.
"""

from __future__ import annotations

from .common import FORMATS, Kind, Loaded
from .detect import detect_format
from .read import read_source, read_table_preview

__all__ = [
    "FORMATS",
    "Kind",
    "Loaded",
    "detect_format",
    "read_source",
    "read_table_preview",
]
