"""The Python API for notebooks: open or build a space, probe it, map, cluster, measure,
export and compare it, through the engine calls the app and the command line make.

``explorer.open``, ``explorer.build`` and ``explorer.compare`` are these (docs/python.md).
"""

from explorer.api.build import build
from explorer.api.compare import compare
from explorer.api.frames import Clusters
from explorer.api.space import ExplorerSpace, open

__all__ = ["Clusters", "ExplorerSpace", "build", "compare", "open"]
