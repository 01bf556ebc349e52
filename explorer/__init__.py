"""Embedding Explorer's engine: build, index, project, cluster and probe embedding spaces.

Importable without Streamlit; the app (``app.py``, ``pages/``, ``ui/``) builds on it. Its
packages are layers, lowest first: core, index, opened, ingest, maps, cluster, analysis,
render, share, train, runtime, scale, cli (docs/architecture.md).
"""

from explorer.core.errors import ExplorerError, IncompleteSpaceError, InputError, ModelError
from explorer.core.space import Space, make_space

__all__ = [
    "ExplorerError",
    "IncompleteSpaceError",
    "InputError",
    "ModelError",
    "Space",
    "make_space",
]
