"""Streamlit's caches of engine calls: the one place the app keeps engine results in memory.

Everything is keyed by what it was computed from: an opened space's version (its
``key``: the version folder and the content's fingerprint) and small parameter dicts;
arrays never go into session state. A version's data never changes once written, so a
handle is opened once per version and shared read-only by every session; a rebuilt
space is another version, hence another handle. Expensive steps are stored on disk by
the engine, so a fresh process reopens them quickly; these caches keep them in memory
between reruns. Nothing here computes: every figure comes from an engine function.
Arguments starting with ``_`` are not hashed (the handle itself, progress callbacks).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from explorer.analysis.zeroshot import ZeroShot, zero_shot_job
from explorer.cluster.agreement import silhouette
from explorer.cluster.clusterings import (
    Clustering,
    ClusterParams,
    check_clustering_cost,
    clustering_key,
    clustering_stored,
    load_clustering,
)
from explorer.cluster.levels import BroadLevel
from explorer.cluster.levels import broad_level as engine_broad_level
from explorer.cluster.renames import Level, rename, reset_names
from explorer.core.errors import ExplorerError
from explorer.core.limits import limits
from explorer.core.validate import check_k
from explorer.index.knn import map_knn
from explorer.maps.projections import (
    Projection,
    ProjectionParams,
    check_cost,
    load_projection,
    projection_quality,
    projection_stored,
    quality_stored,
)
from explorer.maps.quality import QUALITY_K, MapQuality
from explorer.opened.handle import OpenedSpace, open_version, resolve
from explorer.runtime import tasks
from explorer.runtime.jobs import JobQueue, JobStatus

__all__ = [
    "broad_level",
    "clustering",
    "job_queue",
    "map_neighbours_table",
    "map_quality",
    "open_space",
    "projection",
    "quality_in_background",
    "rename_cluster",
    "reset_cluster_names",
    "run_job",
    "silhouette_score",
    "stored_quality",
    "zero_shot",
]


@st.cache_resource(max_entries=8, show_spinner=False)
def _opened(version: str, name: str, folder: str) -> OpenedSpace:
    return open_version(Path(version), name, Path(folder))


def open_space(folder: str | Path) -> OpenedSpace:
    """The space at `folder` as it is now: its current version, opened once per process
    and shared read-only by all sessions (its index opens on first use).

    Reading only: a missing index raises ``IndexUnavailable`` when used, and is rebuilt
    by an explicit action, never here.
    """
    name, version = resolve(folder)
    return _opened(str(version), name, str(Path(folder)))


@st.cache_resource(show_spinner=False)
def job_queue() -> JobQueue:
    """The server's one queue of heavy jobs, shared by every session."""
    return JobQueue(limits().workers)


# Job keys this session cancelled: not run again until the user asks (small strings).
CANCELLED = "cancelled_jobs"


def _session() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""


def run_job(
    key: str,
    label: str,
    fn: Callable[..., Any],
    *args: Any,
    on_status: Callable[[JobStatus], None] | None = None,
) -> Any:
    """Run `fn` as a job in the worker pool (once per `key`) and wait for it, with a
    Cancel button. The job belongs to this session and this page: a newer job of the
    page replaces it, and leaving stops it (``explorer.runtime.jobs``)."""
    queue = job_queue()
    session = _session()
    cancelled: list[str] = st.session_state.setdefault(CANCELLED, [])
    tag = hashlib.sha256(key.encode()).hexdigest()[:12]
    if key in cancelled:
        st.info(f"{label}: cancelled.", icon=":material/block:")
        if not st.button("Run it again", key=f"job_again_{tag}"):
            st.stop()
        cancelled.remove(key)
    slot = str(st.session_state.get("current_page", ""))
    job = queue.submit(key, label, fn, *args, session=session, slot=slot)
    holder = st.empty()
    if holder.button("Cancel", key=f"job_cancel_{tag}") and not job.done:
        queue.cancel(job, session)
        cancelled.append(key)
        st.rerun()
    try:
        return queue.wait(job, on_status)
    finally:
        holder.empty()


def projection(
    opened: OpenedSpace,
    params: dict[str, Any],
    on_status: Callable[[JobStatus], None] | None = None,
) -> Projection:
    """The map of `params`: made by a worker process (queued, with progress) and
    stored on disk if new, then kept in memory. A new map is drawn before its quality
    is measured (:func:`quality_in_background`, :func:`map_quality`).

    The computation stays outside Streamlit's cache, which cannot replay progress
    updates; the cache only keeps the stored result in memory.
    """
    p = ProjectionParams(**params)
    p.validate()
    if not projection_stored(opened, p):
        check_cost(opened.space, p)  # refused here, before it is queued
        key = opened.job_key("projection", params)
        version = str(opened.version)
        run_job(
            key,
            "Making the map",
            tasks.make_map,
            version,
            opened.name,
            params,
            False,  # its quality is measured after it is drawn
            on_status=on_status,
        )
    return _stored_projection(opened.key, params, opened)


@st.cache_data(max_entries=24, show_spinner=False)
def _stored_projection(key: str, params: dict[str, Any], _opened: OpenedSpace) -> Projection:
    proj = load_projection(_opened, ProjectionParams(**params))
    if proj is None:  # removed from disk since it was computed
        raise ExplorerError("The map is no longer stored; press Compute map again.")
    return proj


def clustering(
    opened: OpenedSpace,
    params: dict[str, Any],
    map_coords: np.ndarray | None = None,
    on_status: Callable[[JobStatus], None] | None = None,
) -> Clustering:
    """The clustering of `params` (on `map_coords` when its features are the map),
    made by a worker process if new."""
    p = ClusterParams(**params)
    p.validate()
    if not clustering_stored(opened, p, map_coords):
        check_clustering_cost(opened.space, p)  # refused here, before it is queued
        key = opened.job_key("clustering", clustering_key(opened.space, p, map_coords))
        run_job(
            key,
            "Clustering",
            tasks.make_clustering,
            str(opened.version),
            opened.name,
            params,
            map_coords,
            on_status=on_status,
        )
    return _stored_clustering(opened.key, params, map_coords, opened)


@st.cache_data(max_entries=24, show_spinner=False)
def _stored_clustering(
    key: str, params: dict[str, Any], map_coords: np.ndarray | None, _opened: OpenedSpace
) -> Clustering:
    stored = load_clustering(_opened, ClusterParams(**params), map_coords)
    if stored is None:  # removed from disk since it was computed
        raise ExplorerError("The clustering is no longer stored; press Cluster again.")
    return stored


def zero_shot(
    opened: OpenedSpace, labels: list[str], on_status: Callable[[JobStatus], None] | None = None
) -> ZeroShot:
    """The zero-shot labels of `opened` for the categories `labels`: a worker's job, answered
    at once when the same categories were asked before (by any page)."""
    return run_job(  # type: ignore[no-any-return]
        opened.job_key("zeroshot", {"labels": labels}),
        "Zero-shot labels",
        zero_shot_job,
        str(opened.version),
        opened.name,
        labels,
        on_status=on_status,
    )


def map_quality(
    opened: OpenedSpace,
    params: dict[str, Any],
    k: int,
    on_status: Callable[[JobStatus], None] | None = None,
) -> MapQuality:
    """The quality of the map of `params` at k: stored with the map, or as its own step
    measured by a worker process (queued, with progress) if new."""
    k = check_k(k)  # bounded before it is queued
    if not quality_stored(opened, ProjectionParams(**params), k):
        run_job(*_measuring(opened, params, k), on_status=on_status)
    return _map_quality(opened.key, params, k, opened)


def _measuring(opened: OpenedSpace, params: dict[str, Any], k: int) -> tuple[Any, ...]:
    """(key, label, task, its arguments) of the job measuring the map of `params` at k."""
    key = opened.job_key("quality", {**params, "quality_k": k})
    task_args = (str(opened.version), opened.name, params, k)
    return (key, "Measuring the map", tasks.measure_map, *task_args)


def stored_quality(opened: OpenedSpace, params: dict[str, Any]) -> MapQuality | None:
    """The quality at k = 10 of the map of `params` if it is measured already, else None
    (nothing is started)."""
    if not quality_stored(opened, ProjectionParams(**params), QUALITY_K):
        return None
    return _map_quality(opened.key, params, QUALITY_K, opened)


def quality_in_background(
    opened: OpenedSpace, params: dict[str, Any]
) -> tuple[MapQuality | None, JobStatus | None]:
    """The quality at k = 10 of the (stored) map of `params` when it is measured; else
    (None, the status of the worker's job measuring it), the job started if need be.

    Nobody waits here: the caller asks again (asking keeps the job alive; a job no
    session asks about is cancelled, see ``explorer.runtime.jobs``).
    """
    measured = stored_quality(opened, params)
    if measured is not None:
        return measured, None
    queue = job_queue()
    slot = f"{st.session_state.get('current_page', '')}:quality"
    job = queue.submit(*_measuring(opened, params, QUALITY_K), session=_session(), slot=slot)
    status = queue.status(job)
    if status.state == "failed":
        assert status.error is not None
        raise status.error
    if status.state == "done":
        return _map_quality(opened.key, params, QUALITY_K, opened), None
    return None, status


@st.cache_data(max_entries=16, show_spinner=False)
def _map_quality(key: str, params: dict[str, Any], k: int, _opened: OpenedSpace) -> MapQuality:
    return projection_quality(_opened, ProjectionParams(**params), k)


def map_neighbours_table(opened: OpenedSpace, k: int) -> np.ndarray:
    """(n_map, k) true neighbours of every map row (``explorer.index.knn.map_knn``)."""
    return _map_neighbours_table(opened.key, k, opened)


@st.cache_data(max_entries=8, show_spinner=False)
def _map_neighbours_table(key: str, k: int, _opened: OpenedSpace) -> np.ndarray:
    return map_knn(_opened.space, _opened.index, k)


def broad_level(opened: OpenedSpace, clustering: Clustering) -> BroadLevel:
    """The broad level of `clustering`, whose labels (n_map,) are the key: a clustering
    on the map changes with the map while its parameters stay the same; so are the
    names people gave its regions."""
    given = sorted(clustering.broad_names.items())
    return _broad_level(opened.key, clustering.labels, given, opened, clustering)


@st.cache_data(max_entries=8, show_spinner=False)
def _broad_level(
    key: str,
    labels: np.ndarray,
    given: list[tuple[int, str]],
    _opened: OpenedSpace,
    _clustering: Clustering,
) -> BroadLevel:
    return engine_broad_level(_opened.space, _clustering)


def rename_cluster(
    opened: OpenedSpace,
    params: dict[str, Any],
    map_coords: np.ndarray | None,
    level: Level,
    number: int,
    name: str,
    count: int,
) -> None:
    """Give a cluster (or broad region) of the clustering of `params` a name (empty: its
    automatic one again), stored with it; every session reads the clustering afresh."""
    key = clustering_key(opened.space, ClusterParams(**params), map_coords)
    rename(opened, key, level, number, name, count)
    _stored_clustering.clear()


def reset_cluster_names(
    opened: OpenedSpace, params: dict[str, Any], map_coords: np.ndarray | None
) -> None:
    """Back to the automatic names of the clustering of `params`."""
    reset_names(opened, clustering_key(opened.space, ClusterParams(**params), map_coords))
    _stored_clustering.clear()


def silhouette_score(opened: OpenedSpace, labels: np.ndarray) -> float | None:
    """Silhouette of cluster `labels` (n_map,) in the full space (≤5,000 sampled points);
    the labels are part of the key, as for :func:`broad_level`."""
    return _silhouette_score(opened.key, labels, opened)


@st.cache_data(max_entries=16, show_spinner=False)
def _silhouette_score(key: str, labels: np.ndarray, _opened: OpenedSpace) -> float | None:
    s = _opened.space
    return silhouette(np.asarray(s.vectors[: s.n_map]), labels, metric=s.metric)
