"""The only module that imports Streamlit: st.cache_* wrappers over the engine.

Keys are small values (folder, fingerprint, parameter dicts); arrays never go into
session state. Expensive steps are stored on disk by the engine, so a fresh process
reopens them quickly; these caches keep them in memory between reruns. Nothing here
computes: every figure comes from an engine function. Arguments starting with ``_``
are not hashed (progress callbacks).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from explorer.cluster.clusterings import (
    Clustering,
    ClusterParams,
    clustering_stored,
    load_clustering,
)
from explorer.cluster.levels import BroadLevel
from explorer.cluster.levels import broad_level as _broad_level
from explorer.core.errors import ExplorerError
from explorer.core.limits import limits
from explorer.core.space import Space
from explorer.core.store import open_space, read_manifest
from explorer.index.hnsw import VectorIndex, open_index
from explorer.index.knn import map_knn
from explorer.maps.projections import (
    Projection,
    ProjectionParams,
    load_projection,
    projection_quality,
    projection_stored,
)
from explorer.maps.quality import MapQuality, silhouette
from explorer.runtime import tasks
from explorer.runtime.jobs import JobQueue, JobStatus

__all__ = [
    "broad_level",
    "clustering",
    "job_queue",
    "run_job",
    "map_neighbours_table",
    "map_quality",
    "projection",
    "silhouette_score",
    "space_and_index",
]


@st.cache_resource(max_entries=6, show_spinner=False)
def _space(folder: str, fingerprint: str) -> Space:
    return open_space(Path(folder))


@st.cache_resource(max_entries=6, show_spinner=False)
def _index(folder: str, fingerprint: str) -> VectorIndex:
    return open_index(Path(folder), _space(folder, fingerprint))


def space_and_index(folder: str | Path) -> tuple[Space, VectorIndex]:
    """The space in `folder` and its index, shared read-only by all sessions.

    The manifest's fingerprint is part of the key, so a rebuilt folder reloads.
    Reading only: a missing index raises ``IndexUnavailable`` and is rebuilt by an
    explicit action, never here.
    """
    folder = str(Path(folder).resolve())
    fp = read_manifest(Path(folder))["fingerprint"]
    return _space(folder, fp), _index(folder, fp)


@st.cache_resource(show_spinner=False)
def job_queue() -> JobQueue:
    """The server's one queue of heavy jobs, shared by every session."""
    return JobQueue(limits().workers)


def run_job(
    key: str,
    label: str,
    fn: Callable[..., Any],
    *args: Any,
    on_status: Callable[[JobStatus], None] | None = None,
) -> Any:
    """Run `fn` as a job in the worker pool (once per `key`) and wait for it."""
    queue = job_queue()
    return queue.wait(queue.submit(key, label, fn, *args), on_status)


def _step_job_key(kind: str, folder: str, fingerprint: str, params: dict[str, Any]) -> str:
    """The job key of a stored step: the folder it is stored in, resolved. A finished job
    is not run again under its key, so a key naming only the space (its name, its
    content) would let a job done for another folder of the same name and content, or
    an older version of the space, stand in for this one, whose step was never stored."""
    where = Path(folder).resolve()
    return f"{kind}:{where}:{fingerprint}:{json.dumps(params, sort_keys=True)}"


def projection(
    folder: str,
    fingerprint: str,
    params: dict[str, Any],
    _on_status: Callable[[JobStatus], None] | None = None,
) -> Projection:
    """The map of `params`: made by a worker process (queued, with progress) and
    stored on disk if new, then kept in memory.

    The computation stays outside Streamlit's cache, which cannot replay progress
    updates; the cache only keeps the stored result in memory.
    """
    space, _ = space_and_index(folder)
    p = ProjectionParams(**params)
    p.validate()
    if not projection_stored(space, p, Path(folder)):
        key = _step_job_key("map", folder, fingerprint, params)
        run_job(key, "Making the map", tasks.make_map, folder, params, on_status=_on_status)
    return _stored_projection(folder, fingerprint, params)


@st.cache_data(max_entries=24, show_spinner=False)
def _stored_projection(folder: str, fingerprint: str, params: dict[str, Any]) -> Projection:
    space, _ = space_and_index(folder)
    proj = load_projection(space, ProjectionParams(**params), Path(folder))
    if proj is None:  # removed from disk since it was computed
        raise ExplorerError("The map is no longer stored; press Compute map again.")
    return proj


def clustering(
    folder: str,
    fingerprint: str,
    params: dict[str, Any],
    map_coords: np.ndarray | None = None,
    _on_status: Callable[[JobStatus], None] | None = None,
) -> Clustering:
    """The clustering of `params` (on `map_coords` when its features are the map),
    made by a worker process if new."""
    space, _ = space_and_index(folder)
    p = ClusterParams(**params)
    p.validate()
    if not clustering_stored(space, p, Path(folder), map_coords):
        map_key = "" if map_coords is None else str(hash(np.asarray(map_coords).tobytes()))
        key = _step_job_key("cluster", folder, fingerprint, params)
        run_job(
            key + map_key,
            "Clustering",
            tasks.make_clustering,
            folder,
            params,
            map_coords,
            on_status=_on_status,
        )
    return _stored_clustering(folder, fingerprint, params, map_coords)


@st.cache_data(max_entries=24, show_spinner=False)
def _stored_clustering(
    folder: str, fingerprint: str, params: dict[str, Any], map_coords: np.ndarray | None
) -> Clustering:
    space, _ = space_and_index(folder)
    stored = load_clustering(space, ClusterParams(**params), Path(folder), map_coords)
    if stored is None:  # removed from disk since it was computed
        raise ExplorerError("The clustering is no longer stored; press Cluster again.")
    return stored


@st.cache_data(max_entries=16, show_spinner=False)
def map_quality(folder: str, fingerprint: str, params: dict[str, Any], k: int) -> MapQuality:
    """The quality of the map of `params` at k: stored with the map, or as its own step."""
    space, index = space_and_index(folder)
    return projection_quality(
        space, ProjectionParams(**params), k, folder=Path(folder), index=index
    )


@st.cache_data(max_entries=8, show_spinner=False)
def map_neighbours_table(folder: str, fingerprint: str, k: int) -> np.ndarray:
    """(n_map, k) true neighbours of every map row (``explorer.index.knn.map_knn``)."""
    space, index = space_and_index(folder)
    return map_knn(space, index, k)


@st.cache_data(max_entries=8, show_spinner=False)
def broad_level(
    folder: str, fingerprint: str, labels: np.ndarray, _clustering: Clustering
) -> BroadLevel:
    """The broad level of `_clustering`, whose labels (n_map,) are the key."""
    space, _ = space_and_index(folder)
    return _broad_level(space, _clustering)


@st.cache_data(max_entries=16, show_spinner=False)
def silhouette_score(folder: str, fingerprint: str, labels: np.ndarray) -> float | None:
    """Silhouette of cluster `labels` (n_map,) in the full space (≤5,000 sampled points).

    The labels themselves are part of the key: a clustering on the map changes
    with the map while its parameters stay the same.
    """
    space, _ = space_and_index(folder)
    return silhouette(np.asarray(space.vectors[: space.n_map]), labels, metric=space.metric)
