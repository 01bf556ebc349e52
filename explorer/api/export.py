"""The Python API's exports: the format a file name asks for; the files themselves are
written by :mod:`explorer.render.export_files`, as ``python -m explorer export`` writes them.
"""

from __future__ import annotations

from pathlib import Path

from explorer.core.errors import InputError
from explorer.render import export

__all__ = ["SUFFIXES", "export_format"]

# The format a file name's suffix asks for (the projector bundle is a folder: name it).
SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".html": "html", ".png": "png", ".svg": "svg"}


def export_format(path: Path, fmt: str | None) -> str:
    """`fmt`, or the format `path`'s suffix names; InputError for neither."""
    if fmt is None:
        fmt = SUFFIXES.get(path.suffix.lower())
        if fmt is None:
            raise InputError(
                f"Give format= ({', '.join(export.FORMATS)}): '{path.name}' has no suffix "
                f"that names one ({', '.join(SUFFIXES)})."
            )
    if fmt not in export.FORMATS:
        raise InputError(f"Unknown format {fmt!r}; choose one of {', '.join(export.FORMATS)}.")
    return fmt
