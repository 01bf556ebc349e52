"""Format detection: a file's format from its extension, sniffing the ambiguous ones."""

from __future__ import annotations

import json
from pathlib import Path

from explorer.core.errors import InputError
from explorer.ingest.sources.common import SMALL_JSON_BYTES, head_lines, is_number

__all__ = ["_ACCEPTED", "EXTENSIONS", "detect_format"]

# Extension → format before sniffing (.tsv, .txt and .json are sniffed, see detect_format).
EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "projector-config",
    ".txt": "txt",
    ".npy": "npy",
    ".npz": "npz",
    ".vec": "fasttext",
    ".bin": "word2vec-bin",
}
_ACCEPTED = (
    ".csv, .tsv, .parquet, .jsonl, .txt (one item per line, or word2vec/GloVe vectors), "
    ".npy, .npz, .json (TensorFlow projector config), .vec (fastText), .bin (word2vec binary)"
)


def detect_format(path: str | Path) -> str:
    """The format of `path` from its extension, sniffing ``.tsv``, ``.txt`` and ``.json``.

    ``.tsv`` with only numbers on its first line is a projector vectors file; ``.txt`` whose
    first line is ``count dim`` is word2vec text, lines of ``word num num ...`` are GloVe;
    ``.json`` is a projector config, or JSON Lines when it is not one.

    Raises:
        InputError: the extension is not one of the accepted ones.
    """
    p = Path(path)
    ext = p.suffix.lower()
    fmt = EXTENSIONS.get(ext)
    if fmt is None:
        what = f"'{ext}'" if ext else f"'' ('{p.name}' has no extension)"
        raise InputError(f"Unsupported file type {what}. Accepted: {_ACCEPTED}.")
    if not p.is_file():
        return fmt
    if fmt == "tsv":
        lines = head_lines(p, 1)
        if lines and all(is_number(f) for f in lines[0].split("\t")):
            return "projector"
    elif fmt == "txt":
        return _sniff_txt(head_lines(p, 6))
    elif fmt == "projector-config":
        return _sniff_json(p)
    return fmt


def _sniff_txt(lines: list[str]) -> str:
    """``word2vec``, ``glove`` or ``txt`` from the first non-blank lines of a .txt."""
    if not lines:
        return "txt"
    head = lines[0].split()
    if len(head) == 2 and all(h.isdigit() for h in head):
        return "word2vec"
    widths = set()
    for line in lines:
        parts = line.rstrip().split(" ")
        if len(parts) < 3 or not all(is_number(x) for x in parts[1:]):
            return "txt"
        widths.add(len(parts))
    return "glove" if len(widths) == 1 else "txt"


def _sniff_json(p: Path) -> str:
    """``projector-config`` or ``jsonl`` for a .json; InputError when it is neither."""
    # Parse a small file whole; a large one is judged by its first line only.
    if p.stat().st_size <= SMALL_JSON_BYTES:
        text = p.read_bytes().decode("utf-8", errors="replace").lstrip("\ufeff")
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and "embeddings" in doc:
            return "projector-config"
        if isinstance(doc, list) and all(isinstance(r, dict) for r in doc):
            return "jsonl"
    lines = head_lines(p, 1)
    if lines:
        try:
            first = json.loads(lines[0])
        except ValueError:
            first = None
        if isinstance(first, dict):
            return "jsonl"
    raise InputError(
        f"'{p.name}' is neither a TensorFlow projector config (a JSON object with "
        '"embeddings") nor JSON Lines (one JSON object per line).'
    )
