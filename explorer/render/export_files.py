"""A space's exports as files: its table, its map as HTML, PNG or SVG, or a Projector
bundle, made from the stored map and clustering (either made if missing) with
:func:`explorer.render.export.export_figure`, hence the Map page's colours and names.
``python -m explorer export`` and the Python API both write through here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from explorer.cluster.clusterings import Clustering, ClusterParams, cluster_space
from explorer.core.progress import Progress
from explorer.maps.axes import axis_titles
from explorer.maps.projections import Projection, ProjectionParams, project_space
from explorer.opened.handle import OpenedSpace
from explorer.render import export, projector, raster, tables
from explorer.render.map_style import MapView
from explorer.render.svg import map_svg

__all__ = ["map_title", "titled_figure", "write_export"]


def map_title(opened: OpenedSpace, proj: Projection) -> str:
    """The title the command line and the Export page give a map of `opened`."""
    return f"{opened.space.source.get('title') or opened.name} · {proj.method.upper()} map"


def titled_figure(
    opened: OpenedSpace,
    params: ProjectionParams,
    proj: Projection,
    clustering: Clustering | None,
    view: MapView,
) -> Any:
    """The plotly figure of the map `proj` (made with `params`) under `view`."""
    axes = None
    if proj.method == "axis":
        axes = axis_titles(params.x_from, params.x_to, params.y_from, params.y_to)
    return export.export_figure(
        opened.space,
        proj,
        clustering=clustering,
        view=view,
        title=map_title(opened, proj),
        axis_titles=axes,
    )


def _file_bytes(
    opened: OpenedSpace,
    fmt: str,
    params: ProjectionParams,
    clusters: ClusterParams | None,
    view: MapView,
    rows: np.ndarray | None,
    progress: Progress | None,
) -> bytes:
    """The bytes of a one-file export (csv, parquet, html, png or svg)."""
    proj = project_space(opened, params, progress=progress)
    clustering = None
    if clusters is not None:
        clustering = cluster_space(opened, clusters, map_coords=proj.coords)
    if fmt in ("csv", "parquet"):
        table = tables.export_table(opened.space, proj, clustering, rows)
        return tables.table_csv(table) if fmt == "csv" else tables.table_parquet(table)
    fig = titled_figure(opened, params, proj, clustering, view)
    if fmt == "svg":
        return map_svg(fig)
    return export.map_html(fig, map_title(opened, proj)) if fmt == "html" else raster.map_png(fig)


def write_export(
    opened: OpenedSpace,
    path: Path,
    fmt: str,
    params: ProjectionParams,
    clusters: ClusterParams | None,
    view: MapView,
    *,
    map_only: bool = False,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> dict[Path, int]:
    """Write the export `fmt` of `opened` at `path` (a folder for ``projector``); the
    bytes written to each file.

    clusters: the clustering in the table and the map's colours (None: none).
    map_only: only the items on the map (the first ``n_map``).
    Existing files are refused (before any work) unless `overwrite`.
    """
    if fmt == "projector":
        paths = [path / name for name in projector.PROJECTOR_FILES]
    else:
        paths = [path]
    export.check_free(paths, overwrite)
    space = opened.space
    rows = np.arange(space.n_map) if map_only else None
    if fmt == "projector":
        return dict(projector.write_projector(space, path, rows=rows, overwrite=overwrite))
    data = _file_bytes(opened, fmt, params, clusters, view, rows, progress)
    return {path: export.write_bytes(path, data, overwrite=overwrite)}
