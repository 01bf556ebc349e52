"""A saved space opened for a notebook: :func:`open` and :class:`ExplorerSpace`.

Each method makes the engine call the pages and ``python -m explorer`` make (neighbours,
analogies, the stored map, clustering and map quality, the export), so a notebook sees the
figures the app shows. A notebook is its operator's own: any folder opens, and any model
may embed a query (``explorer.ingest.models.trusted_models``), as on the command line.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from explorer.analysis.probes import AnalogyMethod, analogy, neighbours
from explorer.api import settings
from explorer.api.export import export_format
from explorer.api.frames import Clusters, clusters_of, hits_frame
from explorer.cluster.clusterings import cluster_space
from explorer.core.errors import InputError
from explorer.core.progress import Progress
from explorer.core.space import Space
from explorer.core.validate import check_k
from explorer.ingest.models import trusted_models
from explorer.ingest.query import text_vector
from explorer.maps.projections import ProjectionParams, project_space, projection_quality
from explorer.maps.quality import QUALITY_K, MapQuality
from explorer.opened.handle import OpenedSpace, open_space
from explorer.render.export_files import titled_figure, write_export

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

    from explorer.ingest.build import BuildSummary

__all__ = ["ExplorerSpace", "as_space", "open"]


def open(path: str | os.PathLike[str]) -> ExplorerSpace:
    """Open the space saved at `path` (a folder ``build`` or ``python -m explorer build``
    wrote); its files are checked against their manifest once.

    Raises:
        InputError: no space there.
        IncompleteSpaceError: half-written, damaged or tampered with.
    """
    return ExplorerSpace(open_space(Path(path)))


class ExplorerSpace:
    """An embedding space opened for a notebook.

    Attributes:
        opened: the engine's handle (``explorer.opened.handle.OpenedSpace``): what every
            engine call takes.
        summary: what the build did, when this space was just built (else None).
    """

    def __init__(self, opened: OpenedSpace, summary: BuildSummary | None = None) -> None:
        self.opened = opened
        self.summary = summary

    # ------------------------------------------------------------------------ what it holds
    @property
    def space(self) -> Space:
        """The engine's ``Space`` (read-only)."""
        return self.opened.space

    @property
    def name(self) -> str:
        return self.opened.name

    @property
    def path(self) -> Path | None:
        """The folder the space is saved in."""
        return self.opened.folder

    @property
    def n(self) -> int:
        """Number of items."""
        return self.space.n

    @property
    def dim(self) -> int:
        """Dimension of the vectors."""
        return self.space.dim

    @property
    def n_map(self) -> int:
        """Number of items on the map and in clusterings (the first ``n_map``)."""
        return self.space.n_map

    @property
    def metric(self) -> str:
        return self.space.metric

    @property
    def model(self) -> str | None:
        """The model that embedded the texts (None: given vectors)."""
        return self.space.model

    @property
    def ids(self) -> list[str]:
        return [str(i) for i in self.space.ids]

    @property
    def items(self) -> pd.DataFrame:
        """One row per item: ``id``, ``text`` (if any), then metadata (a copy)."""
        return self.space.items.copy()

    @property
    def vectors(self) -> np.ndarray:
        """(n, dim) float32, read-only; unit rows under cosine."""
        return self.space.vectors

    def __repr__(self) -> str:
        made = f"model {self.model}" if self.model else "given vectors"
        shown = f"; the map shows the first {self.n_map:,}" if self.n_map < self.n else ""
        return (
            f"ExplorerSpace({self.name!r}: {self.n:,} items × {self.dim} dims, "
            f"metric {self.metric}, {made}{shown})"
        )

    # ----------------------------------------------------------------------------- probes
    def neighbours(
        self, query: str | np.ndarray, k: int = 10, *, text: bool | None = None
    ) -> pd.DataFrame:
        """The `k` nearest items to `query`, best first: columns ``id``, ``text``,
        ``similarity`` (the index's: cosine, dot product, or minus the L2 distance);
        the index is the rank.

        Args:
            query: an item (its id, or a word of a word space: the item itself is left
                out), free text (embedded with the space's model), or a (dim,) vector.
            text: True: always embed `query` as free text; False: it must be an item;
                None: an item when one has that id (ignoring case), else free text.

        Raises:
            InputError: an unknown item, or free text in a space with no model.
        """
        k = check_k(k)
        if not isinstance(query, str):
            hits = neighbours(self.space, self.opened.index, vector=np.asarray(query), k=k)
            return hits_frame(hits, "similarity")
        row = None if text else self.space.lookup(query.strip())
        if text is False and row is None:
            row = int(self.space.rows([query])[0])  # raises, naming it
        if row is not None:
            hits = neighbours(self.space, self.opened.index, row=row, k=k)
        else:
            with trusted_models():
                vec, _ = text_vector(self.space, query)
            hits = neighbours(self.space, self.opened.index, vector=vec, k=k)
        return hits_frame(hits, "similarity")

    def analogy(
        self,
        plus: Sequence[str],
        minus: Sequence[str] = (),
        k: int = 10,
        *,
        method: AnalogyMethod = "3cosadd",
    ) -> pd.DataFrame:
        """Answers to ``plus[0] - minus + plus[1:]`` (king − man + woman:
        ``plus=["king", "woman"], minus=["man"]``), best first: columns ``id``, ``text``,
        ``score``; the query terms are never answers. ``df.attrs["query"]`` names it.

        method: ``3cosadd`` (the cosine with Σ plus − Σ minus) or ``3cosmul``.

        Raises:
            InputError: a term not in the space (with spelling suggestions).
        """
        res = analogy(self.space, plus, minus, k=k, method=method, index=self.opened.index)
        table = hits_frame(res.hits, "score")
        table.attrs["query"] = res.name
        return table

    # ------------------------------------------------------------------- maps and clusters
    def map(
        self,
        method: str | None = None,
        *,
        colour: str | None = None,
        names: settings.Names = "broad",
        clusters: str | None = None,
        n_clusters: int | None = None,
        progress: Progress | None = None,
        **params: Any,
    ) -> Figure:
        """The map as a plotly figure, drawn as the Map page and
        ``python -m explorer export --format html`` draw it (the same colours and names).

        The map is the space's stored one of these settings (made and stored if missing).

        Args:
            method: ``umap`` (the default), ``pca``, ``tsne``, ``axis`` or ``given``.
            colour: ``cluster``, ``none`` or a metadata column (default: as the Map page:
                the first category column, else the clusters).
            names: names on a 2-D map coloured by cluster: ``broad``, ``each`` or ``none``.
            clusters, n_clusters: the clustering the colours name (an algorithm of
                ``ClusterParams``; default: the pages' default clustering).
            params: any field of ``ProjectionParams``: ``dims``, ``n_neighbors``,
                ``min_dist``, ``perplexity``, ``seed``, ``x_from`` ... (terms may be lists).
        """
        p = settings.map_params(method, params)
        view = settings.map_view(self.space, colour, names)
        with trusted_models():  # axis terms may be free text
            proj = project_space(self.opened, p, progress=progress)
        clustering = None
        if settings.colour_clusters(self.space, view):
            cp = settings.cluster_params({"algorithm": clusters, "n_clusters": n_clusters})
            clustering = cluster_space(self.opened, cp, map_coords=proj.coords, progress=progress)
        fig: Figure = titled_figure(self.opened, p, proj, clustering, view)
        return fig

    def map_coords(self, method: str | None = None, **params: Any) -> np.ndarray:
        """(n_map, dims) float32 coordinates of the map (NaN: not drawn), as stored."""
        p = settings.map_params(method, params)
        with trusted_models():
            return project_space(self.opened, p).coords

    def clusters(self, *, progress: Progress | None = None, **params: Any) -> Clusters:
        """The clustering of the map rows the Clusters page shows for these settings
        (read back when stored, else made and stored), as :class:`Clusters` tables.

        params: any field of ``ClusterParams``: ``algorithm`` (``auto``, the default;
            ``kmeans``, ``hdbscan``, ``agglomerative``), ``n_clusters``, ``features``,
            ``min_cluster_size``, ``seed`` ... With ``features="map"`` it runs on the
            default map (``self.map()``'s).
        """
        cp = settings.cluster_params(params)
        coords = None
        if cp.features == "map":
            with trusted_models():
                coords = project_space(self.opened, ProjectionParams()).coords
        clustering = cluster_space(self.opened, cp, map_coords=coords, progress=progress)
        return clusters_of(self.space, clustering)

    def quality(self, method: str | None = None, k: int = QUALITY_K, **params: Any) -> MapQuality:
        """How faithful the map is at neighbourhood size `k` (the engine's ``MapQuality``:
        ``trustworthiness``, ``continuity``, per map row ``preservation``), as the Quality
        page measures it (at k = 10: the figure stored with the map)."""
        p = settings.map_params(method, params)
        with trusted_models():
            return projection_quality(self.opened, p, k)

    # ------------------------------------------------------------------------------ export
    def export(
        self,
        path: str | os.PathLike[str],
        method: str | None = None,
        format: str | None = None,
        *,
        colour: str | None = None,
        names: settings.Names = "broad",
        clusters: str | None = None,
        n_clusters: int | None = None,
        map_only: bool = False,
        overwrite: bool = False,
        progress: Progress | None = None,
        **params: Any,
    ) -> Path:
        """Write what ``python -m explorer export DIR --format F --out PATH`` writes, with the
        same options, and return `path`.

        Args:
            format: ``csv``, ``parquet``, ``html``, ``png``, ``svg`` or ``projector`` (a
                folder of three files); None: from `path`'s suffix.
            method, params: the map (as :meth:`map`); colour, names: its view.
            clusters: the clustering in the table and the colours: an algorithm, or
                ``none``; n_clusters: its number of clusters (KMeans, agglomerative).
            map_only: only the items on the map (the first ``n_map``).
            overwrite: replace existing files (else InputError, before any work).
        """
        target = Path(path)
        fmt = export_format(target, format)
        p = settings.map_params(method, params)
        view = settings.map_view(self.space, colour, names)
        cp = None
        if clusters != "none":
            cp = settings.cluster_params({"algorithm": clusters, "n_clusters": n_clusters})
        with trusted_models():
            write_export(
                self.opened,
                target,
                fmt,
                p,
                cp,
                view,
                map_only=map_only,
                overwrite=overwrite,
                progress=progress,
            )
        return target


def as_space(space: ExplorerSpace | str | os.PathLike[str]) -> ExplorerSpace:
    """`space` itself, or the space saved at that path, opened."""
    if isinstance(space, ExplorerSpace):
        return space
    if isinstance(space, str | os.PathLike):
        return open(space)
    raise InputError(f"Give an ExplorerSpace or the folder of a saved space, not {space!r}.")
