"""What every command of ``python -m explorer`` shares: output, progress, opening a space.

Command modules (``explorer/cli/*.py``) import these; ``explorer.cli.main`` finds those
modules and calls their ``register(add)`` to add their commands.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from explorer.opened.handle import OpenedSpace

__all__ = ["Add", "defaults", "opened_space", "out", "progress"]

# add(name, function, help) -> the command's parser (with --json already on it)
Add = Callable[[str, Callable[[argparse.Namespace], None], str], argparse.ArgumentParser]


def out(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    """Print `data` as JSON with --json, else the human `text`."""
    print(json.dumps(data, default=_jsonable) if args.json else text)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def progress(args: argparse.Namespace) -> Callable[[float, str], None] | None:
    """A progress line on stderr when it is a terminal (and not --json)."""
    if args.json or not sys.stderr.isatty():
        return None
    return lambda f, msg: print(f"\r[{f * 100:5.1f}%] {msg:<70}", end="", file=sys.stderr)


def opened_space(folder: str) -> OpenedSpace:
    """The space saved in `folder`, opened (its index opens on first use; read only)."""
    from explorer.opened.handle import open_space

    return open_space(Path(folder))


def defaults(cls: Any) -> dict[str, Any]:
    """Field defaults of a parameter dataclass: the CLI's defaults, never copies."""
    return {f.name: f.default for f in fields(cls)}
