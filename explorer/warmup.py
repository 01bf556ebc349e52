"""Numba compilation of UMAP: cached on disk, and warmed once per process.

umap-learn compiles its numba functions on first use (about 25 s here) and marks
most of them without ``cache=True``, so every fresh process paid again. Importing
umap through :func:`import_umap` turns numba's on-disk cache on for its functions;
:func:`warm_up` (run by ``make setup`` and in the background at app start) compiles
them once, so later processes load machine code instead of compiling.
"""

from __future__ import annotations

import sys
import threading
from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["import_umap", "warm_up", "warm_up_in_background"]

_lock = threading.Lock()
_started = False


def import_umap() -> ModuleType:
    """Import umap with numba's disk cache on for the functions it defines at import."""
    if "umap" in sys.modules:
        return sys.modules["umap"]
    import numba

    original = numba.njit

    def njit(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cache", True)
        return original(*args, **kwargs)

    with _lock:
        numba.njit = njit
        try:
            import umap
        finally:
            numba.njit = original
    return umap


def warm_up() -> float:
    """Run a tiny UMAP and clustering so numba compiles (or loads) everything; returns seconds."""
    import time

    from .index import build_index, knn_graph
    from .project import ProjectionParams, project

    t = time.perf_counter()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    knn = knn_graph(build_index(x, "cosine"), 14)
    for init in ("spectral", "pca"):
        project(x, ProjectionParams(method="umap", init=init, n_epochs=20), knn=knn)
    return time.perf_counter() - t


def warm_up_in_background() -> None:
    """Start :func:`warm_up` in a daemon thread, once per process."""
    global _started
    with _lock:
        if _started:
            return
        _started = True
    threading.Thread(target=warm_up, name="numba-warm-up", daemon=True).start()
