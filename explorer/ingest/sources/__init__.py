"""Read any user input into one validated table (``items``) and an optional matrix.

Every reader ends in :class:`Loaded`: ``items`` has a unique str ``id`` column, an optional
``text`` column, then metadata columns; ``vectors`` is an (n, d) float32 C-contiguous matrix,
or None when the texts still need embedding by a model (see ``explorer.ingest.embed``).

Uploads are untrusted: ``.npy``/``.npz`` are never unpickled, gensim's pickle-based ``load``
is never used, and paths inside a projector config may not leave the config's folder.
Errors are :class:`~explorer.core.errors.InputError` with messages that name the rows or columns
at fault and say what to do.

Every read is bounded by the operator's limits (:mod:`explorer.core.limits`): a file over
``max_file_bytes`` is refused before it is opened; readers stream and stop after the rows
they need (a preview or "first N rows" parses about N rows; without a limit, more than
``max_rows`` is an error); Parquet and npz are refused past ``max_decoded_bytes``, counted
from what they really decode to, never from the sizes they claim; texts longer than
``max_text_chars`` are cut, with a note. Messages name files by base name, never by path.

One module per format family: ``detect`` (which format), ``tables`` (CSV/TSV/JSONL/TXT),
``parquet``, ``assemble`` (columns → items and vectors), ``arrays`` (npy/npz),
``projector`` (TensorFlow projector files), ``words`` (word vectors); ``read`` dispatches,
``lines`` streams text, ``bounds`` applies the limits and ``common`` holds what they share.
"""

from __future__ import annotations

from explorer.ingest.sources.common import FORMATS, Kind, Loaded
from explorer.ingest.sources.detect import detect_format
from explorer.ingest.sources.read import read_source, read_table_preview

__all__ = [
    "FORMATS",
    "Kind",
    "Loaded",
    "detect_format",
    "read_source",
    "read_table_preview",
]
