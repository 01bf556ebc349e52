"""The heavy steps as jobs for worker processes (``explorer.runtime.jobs``).

Each task is a module-level function of plain, picklable arguments (a space's version
folder and name as strings, parameters as dicts) that opens what it needs, runs one
engine step, and
leaves its result on disk for the app to read. Progress goes to the `progress`
callback the worker passes in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from explorer.core.progress import Progress

__all__ = [
    "build_file",
    "build_images",
    "build_sample",
    "make_clustering",
    "make_map",
    "measure_map",
    "rebuild_index",
]


def make_map(
    version: str, name: str, params: dict[str, Any], quality: bool = True, *, progress: Progress
) -> None:
    """Compute and store the map of `params` of the space `name` in its `version` folder
    (with its quality, unless `quality` is False: see :func:`measure_map`)."""
    from explorer.maps.projections import ProjectionParams, project_space
    from explorer.opened.handle import open_version

    opened = open_version(Path(version), name)
    project_space(opened, ProjectionParams(**params), progress=progress, quality=quality)


def measure_map(
    version: str, name: str, params: dict[str, Any], k: int, *, progress: Progress
) -> None:
    """Measure and store the quality at `k` of the map of `params` (made if need be)."""
    from explorer.maps.projections import ProjectionParams, projection_quality
    from explorer.opened.handle import open_version

    opened = open_version(Path(version), name)
    progress(0.1, "Measuring how faithful the map is")
    projection_quality(opened, ProjectionParams(**params), k)


def make_clustering(
    version: str,
    name: str,
    params: dict[str, Any],
    map_coords: np.ndarray | None,
    *,
    progress: Progress,
) -> None:
    """Compute and store the clustering of `params` (on `map_coords` for features "map")."""
    from explorer.cluster.clusterings import ClusterParams, cluster_space
    from explorer.opened.handle import open_version

    opened = open_version(Path(version), name)
    cluster_space(opened, ClusterParams(**params), map_coords=map_coords, progress=progress)


def build_sample(name: str, out: str, *, progress: Progress) -> list[str]:
    """Build a built-in sample into `out` (waiting for another build of it); summary lines."""
    from explorer.ingest.build import build_sample as build

    _, _, summary = build(name, Path(out), progress=progress, wait=True)
    return summary.lines()


def build_file(
    path: str, out: str, build_kwargs: dict[str, Any], *, progress: Progress
) -> list[str]:
    """Build a space from a user's file (``explorer.ingest.build.build_from_file``); the
    summary lines."""
    from explorer.ingest.build import build_from_file

    _, _, summary = build_from_file(Path(path), Path(out), progress=progress, **build_kwargs)
    return summary.lines()


def build_images(path: str, out: str, options: dict[str, Any], *, progress: Progress) -> list[str]:
    """Embed the images at `path` (and `options["captions"]`) with the CLIP model
    `options["model"]` into one space (:func:`explorer.ingest.image_space.build_image_space`)."""
    from explorer.ingest.image_space import build_image_space, load_image_input

    captions = options.get("captions")
    summary = build_image_space(
        load_image_input(Path(path), max_images=options.get("limit")),
        Path(out),
        model=str(options.get("model") or ""),
        captions=Path(captions) if captions else None,
        overwrite=bool(options.get("overwrite", False)),
        progress=progress,
    )
    lines: list[str] = summary.lines()
    return lines


def rebuild_index(folder: str, *, progress: Progress) -> None:
    """Rebuild the search index of the space in `folder` (the version it points at now)."""
    from explorer.ingest.build import reindex
    from explorer.opened.handle import open_space

    reindex(open_space(folder), progress=progress)
