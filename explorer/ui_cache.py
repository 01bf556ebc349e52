"""The only module that imports Streamlit: st.cache_* wrappers over the engine.

Keys are small values (folder, fingerprint, parameter dicts); arrays never go into
session state. Expensive steps are also cached on disk by the engine, so a fresh
process reopens them quickly; these caches keep them in memory between reruns.
Arguments starting with ``_`` are not hashed (progress callbacks, indexes).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from .build import open_index
from .cluster import (
    Clustering,
    ClusterParams,
    cluster_space,
    clustering_key,
    load_clustering,
    resolve_space,
)
from .errors import ExplorerError
from .index import VectorIndex, rows_knn
from .project import Projection, ProjectionParams, project_space, projection_key
from .space import Space
from .store import has_step, open_space, read_manifest

__all__ = [
    "PROJECT_ROOT",
    "clustering",
    "knn",
    "projection",
    "space_and_index",
    "spaces_root",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def spaces_root() -> Path:
    """Where spaces are saved: $EXPLORER_SPACES, else ``spaces/`` in the project."""
    return Path(os.environ.get("EXPLORER_SPACES", PROJECT_ROOT / "spaces")).expanduser()


@st.cache_resource(max_entries=6, show_spinner=False)
def _space(folder: str, fingerprint: str) -> Space:
    return open_space(Path(folder))


@st.cache_resource(max_entries=6, show_spinner=False)
def _index(folder: str, fingerprint: str) -> VectorIndex:
    return open_index(Path(folder), _space(folder, fingerprint))


def space_and_index(folder: str | Path) -> tuple[Space, VectorIndex]:
    """The space in `folder` and its index, shared read-only by all sessions.

    The manifest's fingerprint is part of the key, so a rebuilt folder reloads.
    """
    folder = str(Path(folder).resolve())
    fp = read_manifest(Path(folder))["fingerprint"]
    return _space(folder, fp), _index(folder, fp)


def projection(
    folder: str, fingerprint: str, params: dict[str, Any], progress: Any = None
) -> Projection:
    """The map of `params`: computed (with progress) and stored on disk if new.

    The computation stays outside Streamlit's cache, which cannot replay progress
    updates; the cache only keeps the stored result in memory.
    """
    space, index = space_and_index(folder)
    p = ProjectionParams(**params)
    if not has_step(Path(folder), "projection", projection_key(space, p)):
        project_space(space, p, folder=Path(folder), index=index, progress=progress)
    return _stored_projection(folder, fingerprint, params)


@st.cache_data(max_entries=24, show_spinner=False)
def _stored_projection(folder: str, fingerprint: str, params: dict[str, Any]) -> Projection:
    space, index = space_and_index(folder)
    return project_space(space, ProjectionParams(**params), folder=Path(folder), index=index)


def clustering(
    folder: str,
    fingerprint: str,
    params: dict[str, Any],
    map_coords: np.ndarray | None = None,
    progress: Any = None,
) -> Clustering:
    """The clustering of `params` (on `map_coords` when its space is "map")."""
    space, index = space_and_index(folder)
    p = resolve_space(ClusterParams(**params), space.dim)
    key = clustering_key(space, p, map_coords)
    if not has_step(Path(folder), "clustering", key):
        cluster_space(
            space, p, folder=Path(folder), index=index, map_coords=map_coords, progress=progress
        )
    return _stored_clustering(folder, fingerprint, key)


@st.cache_data(max_entries=24, show_spinner=False)
def _stored_clustering(folder: str, fingerprint: str, key: str) -> Clustering:
    stored = load_clustering(Path(folder), key)
    if stored is None:  # removed from disk since it was computed: compute again
        raise ExplorerError("The clustering is no longer stored; press Cluster again.")
    return stored


@st.cache_data(max_entries=8, show_spinner=False)
def knn(folder: str, fingerprint: str, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest other map rows of every map row: (n_map, k) positions and distances.

    Positions are row numbers; -1 marks rows with no vector direction.
    """
    space, index = space_and_index(folder)
    n_map = space.n_map
    rows = np.flatnonzero(space.indexable[:n_map])
    pos, dist = rows_knn(space.vectors, space.metric, rows, k, index)
    nbr = rows[pos]  # positions among `rows` → row numbers
    out = np.full((n_map, nbr.shape[1]), -1, dtype=np.int64)
    out_d = np.full((n_map, nbr.shape[1]), np.inf, dtype=np.float32)
    out[rows], out_d[rows] = nbr, dist
    return out, out_d


@st.cache_data(max_entries=16, show_spinner=False)
def map_quality(folder: str, fingerprint: str, params: dict[str, Any], k: int) -> dict[str, Any]:
    """Trustworthiness, continuity (on ≤5,000 points) and per-point preservation of a map."""
    from .metrics import continuity, neighbourhood_preservation, trustworthiness

    space, _ = space_and_index(folder)
    proj = projection(folder, fingerprint, params)
    ok = np.flatnonzero(~np.isnan(proj.coords).any(axis=1))
    high = np.asarray(space.vectors[: space.n_map])[ok]
    metric = "euclidean" if space.metric == "l2" else "cosine"
    nbr, _ = knn(folder, fingerprint, k)
    # Re-number neighbours to positions among the drawn rows.
    pos = np.full(space.n_map + 1, -1, dtype=np.int64)
    pos[ok] = np.arange(ok.size)
    local = pos[nbr[ok]]
    per_point = np.full(space.n_map, np.nan, dtype=np.float32)
    per_point[ok] = neighbourhood_preservation(local, proj.coords[ok], k)
    return {
        "trustworthiness": trustworthiness(high, proj.coords[ok], k=k, metric=metric),
        "continuity": continuity(high, proj.coords[ok], k=k, metric=metric),
        "preservation": per_point,
        "sampled": ok.size > 5000,
    }


@st.cache_data(max_entries=16, show_spinner=False)
def silhouette_score(
    folder: str, fingerprint: str, params: dict[str, Any], labels_key: str, _labels: np.ndarray
) -> float | None:
    """Silhouette of a clustering in the full space (≤5,000 sampled points)."""
    from .metrics import silhouette

    space, _ = space_and_index(folder)
    return silhouette(
        np.asarray(space.vectors[: space.n_map]),
        _labels,
        metric="euclidean" if space.metric == "l2" else "cosine",
    )


@st.cache_data(max_entries=8, show_spinner=False)
def index_recall(folder: str, fingerprint: str, k: int) -> float:
    from .metrics import index_recall as _recall

    space, index = space_and_index(folder)
    return _recall(index, space, k=k, sample=500)
