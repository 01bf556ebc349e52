"""Embedding Explorer's engine: build, index, project, cluster and probe embedding spaces.

Importable without Streamlit; the app (``app.py``, ``pages/``, ``ui/``) builds on it. Its
packages are layers, lowest first: core, index, opened, ingest, maps, cluster, analysis,
render, share, train, runtime, scale, cli, api (docs/architecture.md).

For notebooks (docs/python.md): ``explorer.open(path)``, ``explorer.build(data, out)`` and
``explorer.compare(a, b)``, from ``explorer.api``, imported on first use so that
``import explorer`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from explorer.core.errors import ExplorerError, IncompleteSpaceError, InputError, ModelError
from explorer.core.space import Space, make_space

if TYPE_CHECKING:
    from explorer.api import ExplorerSpace, build, compare, open

__all__ = [
    "ExplorerError",
    "ExplorerSpace",
    "IncompleteSpaceError",
    "InputError",
    "ModelError",
    "Space",
    "build",
    "compare",
    "make_space",
    "open",
]

_API = ("ExplorerSpace", "build", "compare", "open")


def __getattr__(name: str) -> Any:
    """The notebook API's names (``explorer.api``), imported when first asked for."""
    if name in _API:
        import explorer.api

        return getattr(explorer.api, name)
    raise AttributeError(f"module 'explorer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})
