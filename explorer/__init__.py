"""Embedding Explorer's engine: build, index, project, cluster and probe embedding spaces.

Importable without Streamlit; the app's caching lives in ``explorer.ui_cache`` alone.
"""

from .errors import ExplorerError, IncompleteSpaceError, InputError, ModelError
from .space import Space, make_space

__all__ = [
    "ExplorerError",
    "IncompleteSpaceError",
    "InputError",
    "ModelError",
    "Space",
    "make_space",
]
