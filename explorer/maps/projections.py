"""Projections to 2-D or 3-D: PCA, UMAP (on the hnswlib kNN graph) and t-SNE.

Very small or degenerate inputs fall back to PCA with a note instead of failing,
and inputs that are already 2-D or 3-D are shown as they are. A map of a space is a
stored step (``explorer.opened.steps``); its quality figures (trustworthiness,
continuity and per-point neighbourhood preservation at k = 10) are measured with it,
or, for a map wanted on screen at once (``quality=False``), later as a step of their
own, from the true neighbours the map kept.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from explorer.core.errors import InputError
from explorer.core.limits import limits, over_limit
from explorer.core.linalg import distance_name, pca
from explorer.core.progress import Progress
from explorer.core.space import Metric, Space
from explorer.core.validate import check_k, check_text, is_int
from explorer.index.hnsw import VectorIndex
from explorer.index.knn import map_graph, map_knn
from explorer.maps.axes import Axis, axis_coords, parse_terms
from explorer.maps.quality import QUALITY_K, MapQuality, map_quality
from explorer.maps.umap import Knn, scaled_epochs, umap_layout
from explorer.opened import steps
from explorer.opened.handle import OpenedSpace, as_opened

__all__ = [
    "GIVEN_COLUMNS",
    "INITS",
    "METHODS",
    "MAX_EPOCHS",
    "MAX_NEIGHBORS",
    "MAX_PERPLEXITY",
    "Projection",
    "ProjectionParams",
    "check_cost",
    "default_params",
    "given_columns",
    "load_projection",
    "project",
    "project_space",
    "projection_quality",
    "projection_record",
    "projection_stored",
    "quality_stored",
    "store_projection",
]

Method = Literal["pca", "umap", "tsne", "axis", "given"]
Init = Literal["auto", "spectral", "pca", "random"]
METHODS: tuple[Method, ...] = ("umap", "pca", "tsne", "axis", "given")
# Columns of a map the user brought with the data (method "given").
GIVEN_COLUMNS = ("x", "y", "z")
INITS: tuple[Init, ...] = ("auto", "spectral", "pca", "random")
# Upper bounds of the settings a browser can send. UMAP's own defaults are far below
# them (15 neighbours, at most 500 epochs); the cost of a map is bounded separately,
# by its points × epochs (:func:`check_cost`).
MAX_NEIGHBORS = 200
MAX_EPOCHS = 5000
MAX_PERPLEXITY = 100.0


@dataclass(frozen=True)
class ProjectionParams:
    """What a map is made from. Only the fields of the chosen method matter.

    n_epochs None scales the epochs to n (see ``explorer.maps.umap.scaled_epochs``);
    init "auto" starts UMAP from PCA below 40k points, and from 40k on from a spectral
    layout of 20k landmarks (``explorer.maps.umap.landmark_start``): on big maps a PCA
    start is less faithful on some data (GloVe), and a spectral layout of all points is
    slow (docs/maps.md).

    ``parallel`` runs UMAP's epochs on all cores (``explorer.maps.epochs``), which is
    faster, but two runs give slightly different maps. The stored map is what a demo
    shows again; False gives the same map for the same seed on any run.

    ``axis`` (see ``explorer.maps.axes``): x runs from the terms of `x_from` to those of
    `x_to` (comma-separated items, or free text embedded with the space's model); y
    likewise from `y_from` to `y_to` when given (made orthogonal to x when
    `orthogonal`), else the main spread x leaves unexplained. 2-D only.

    ``given``: the map the user brought, columns x, y (and z for 3-D) of the items,
    shown as it is and measured like any other.
    """

    method: Method = "umap"
    dims: int = 2
    n_neighbors: int = 15
    min_dist: float = 0.1
    init: Init = "auto"
    n_epochs: int | None = None
    parallel: bool = True
    perplexity: float = 30.0
    seed: int = 42
    x_from: str = ""
    x_to: str = ""
    y_from: str = ""
    y_to: str = ""
    orthogonal: bool = True

    def validate(self) -> None:
        """Raise InputError naming the first bad setting and what it may be."""
        if self.method not in METHODS:
            raise InputError(
                f"Unknown projection {self.method!r}; choose one of {', '.join(METHODS)}."
            )
        if self.dims not in (2, 3) or not is_int(self.dims):
            raise InputError(f"A map has 2 or 3 dimensions, not {self.dims!r}.")
        if not is_int(self.n_neighbors) or not 2 <= self.n_neighbors <= MAX_NEIGHBORS:
            raise InputError(
                f"UMAP's n_neighbors must be a whole number from 2 to {MAX_NEIGHBORS}, "
                f"not {str(self.n_neighbors)[:40]!r}."
            )
        if not isinstance(self.min_dist, int | float) or not 0.0 <= self.min_dist <= 1.0:
            raise InputError(f"UMAP's min_dist must lie between 0 and 1, not {self.min_dist!r}.")
        if self.init not in INITS:
            raise InputError(f"Unknown UMAP init {self.init!r}; choose one of {', '.join(INITS)}.")
        if not isinstance(self.parallel, bool):
            raise InputError(f"parallel must be true or false, not {self.parallel!r}.")
        epochs_ok = self.n_epochs is None or (
            is_int(self.n_epochs) and 1 <= self.n_epochs <= MAX_EPOCHS
        )
        if not epochs_ok:
            raise InputError(
                f"UMAP's n_epochs must be empty (scaled to the number of points) or a whole "
                f"number from 1 to {MAX_EPOCHS:,}, not {str(self.n_epochs)[:40]!r}."
            )
        if not isinstance(self.perplexity, int | float) or not (
            0 < self.perplexity <= MAX_PERPLEXITY
        ):
            raise InputError(
                f"t-SNE's perplexity must lie above 0 and at most {MAX_PERPLEXITY:g}, "
                f"not {str(self.perplexity)[:40]!r}."
            )
        for name in ("x_from", "x_to", "y_from", "y_to"):
            check_text(getattr(self, name), f"The axis field {name}")
        if not is_int(self.seed) or not 0 <= self.seed < 2**32:
            raise InputError(f"seed must be a whole number from 0 to 2³²-1, not {self.seed!r}.")
        if self.method == "axis":
            self._validate_axes()

    def _validate_axes(self) -> None:
        if self.dims != 2:
            raise InputError("A semantic-axis map is 2-D: choose 2 dimensions.")
        if not (parse_terms(self.x_from) and parse_terms(self.x_to)):
            raise InputError(
                "A semantic axis needs terms at both ends of x, e.g. from 'man' to 'woman', "
                "or from 'bad, awful' to 'good, great'."
            )
        if bool(parse_terms(self.y_from)) != bool(parse_terms(self.y_to)):
            raise InputError("Give terms at both ends of y, or leave both empty.")


@dataclass
class Projection:
    """Coordinates of the first ``len(coords)`` rows of a space.

    coords: (n_map, dims) float32; NaN rows were left out (zero vectors under cosine).
    method: what actually ran ("pca" when a small input fell back, "as-is" for 2-D/3-D).
    quality: how faithful the map is at k = 10, stored with it (None for a bare
        :func:`project` of vectors, or a map made without it: see :func:`project_space`).
    neighbours: (m, ≥10) the true neighbours UMAP used, as positions among the map rows
        with a direction (None: searched again when the quality is measured).
    """

    coords: np.ndarray
    params: dict[str, Any]
    method: str
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    quality: MapQuality | None = None
    neighbours: np.ndarray | None = None


def _tsne(x: np.ndarray, p: ProjectionParams, metric: Metric) -> np.ndarray:
    from sklearn.manifold import TSNE

    perplexity = min(p.perplexity, max(1.0, (x.shape[0] - 1) / 3))
    tsne = TSNE(
        n_components=p.dims,
        perplexity=perplexity,
        metric=distance_name(metric, ip="cosine"),
        init="pca",
        random_state=p.seed,
        method="barnes_hut" if p.dims <= 3 else "exact",
    )
    return np.asarray(tsne.fit_transform(x), dtype=np.float32)


def _fallback_reason(x: np.ndarray, p: ProjectionParams) -> str | None:
    n = x.shape[0]
    if n < 5:
        return f"only {n} point(s)"
    if not (x != x[0]).any():
        return "all points are identical"
    if p.method == "umap" and p.n_neighbors >= n:
        return f"n_neighbors={p.n_neighbors} is not below the number of points ({n})"
    return None


def project(
    vectors: np.ndarray,
    params: ProjectionParams | None = None,
    *,
    metric: Metric = "cosine",
    knn: Knn | None = None,
) -> Projection:
    """Project (n, d) vectors to (n, dims) float32 coordinates.

    Args:
        vectors: (n, d) rows to map (all finite; zero rows are the caller's concern).
        params: method and settings.
        metric: the space's metric, used by UMAP and t-SNE.
        knn: optional (neighbours (n, ≥k-1), distances) of each row, self excluded,
            e.g. from explorer.index.knn.knn_graph; UMAP reuses it instead of searching.
    """
    p = params or ProjectionParams()
    p.validate()
    if p.method in ("axis", "given"):
        raise InputError(f"A {p.method} map is made of a space's items: use project_space.")
    t0 = time.perf_counter()
    x = np.asarray(vectors, dtype=np.float32)
    notes: list[str] = []
    method: str = p.method
    if x.shape[1] in (2, 3):
        notes.append(f"The vectors are already {x.shape[1]}-D, so they are shown as they are.")
        coords, method = x.copy(), "as-is"
    else:
        reason = _fallback_reason(x, p)
        if reason and p.method != "pca":
            notes.append(f"{p.method.upper()} needs more varied data ({reason}); showing PCA.")
            method = "pca"
        if method == "pca":
            coords = pca(x, p.dims, p.seed)
        elif method == "umap":
            coords = umap_layout(
                x,
                dims=p.dims,
                n_neighbors=p.n_neighbors,
                min_dist=p.min_dist,
                metric=metric,
                seed=p.seed,
                init=p.init,
                n_epochs=p.n_epochs,
                knn=knn,
                parallel=p.parallel,
            )
        else:
            coords = _tsne(x, p, metric)
    return Projection(coords, asdict(p), method, notes, time.perf_counter() - t0)


def _quality_of(
    space: Space,
    coords: np.ndarray,
    index: VectorIndex | None,
    k: int,
    graph: np.ndarray | None = None,
) -> MapQuality:
    """The map's quality at k, against the true neighbours from ``index.map_knn``."""
    high = np.asarray(space.vectors[: space.n_map], dtype=np.float32)
    return map_quality(high, coords, map_knn(space, index, k, graph), space.metric, k)


def _quality_record(q: MapQuality) -> dict[str, Any]:
    return {
        "k": q.k,
        "trustworthiness": q.trustworthiness,
        "continuity": q.continuity,
        "sample": q.sample,
    }


def _quality_from(arrays: dict[str, np.ndarray], rec: dict[str, Any] | None) -> MapQuality | None:
    if rec is None or "preservation" not in arrays:
        return None
    return MapQuality(
        k=int(rec["k"]),
        trustworthiness=float(rec["trustworthiness"]),
        continuity=float(rec["continuity"]),
        preservation=arrays["preservation"],
        sample=int(rec["sample"]),
    )


_ROW_LIMITS = {"umap": "max_umap_rows", "tsne": "max_tsne_rows"}


def check_cost(space: Space, params: ProjectionParams) -> None:
    """Refuse the map of `params` of `space` before it is queued when its cost is over
    the operator's limits: its points (UMAP, t-SNE) and UMAP's points × epochs."""
    n = space.mapped_rows.size
    _check_size(params.method, n)
    if params.method == "umap":
        work = n * (params.n_epochs or scaled_epochs(n))
        if work > limits().max_umap_point_epochs:
            raise over_limit(
                "UMAP's points × epochs",
                work,
                "max_umap_point_epochs",
                "Use fewer epochs (leave n_epochs empty), or a space with fewer mapped rows.",
            )


def _check_size(method: str, n: int) -> None:
    """Refuse a map larger than the operator allows for `method` (PCA has no limit)."""
    field = _ROW_LIMITS.get(method)
    if field is not None and n > getattr(limits(), field):
        raise over_limit(
            f"Points in a {method.upper()} map",
            n,
            field,
            "Use PCA, or a space with fewer mapped rows.",
        )


def _compute(
    space: Space,
    p: ProjectionParams,
    index: VectorIndex | None,
    progress: Progress | None,
    measure: bool = True,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A map of the space's map rows, and its quality unless not `measure`: the arrays
    and record to store."""
    n_map = space.n_map
    rows = space.mapped_rows
    check_cost(space, p)
    x = np.asarray(space.vectors[rows], dtype=np.float32)
    if p.method == "axis":
        return _axis_compute(space, p, rows, x, index, progress, measure)
    if p.method == "given":
        return _given_compute(space, p, index, measure)
    knn = None
    if p.method == "umap" and x.shape[1] > 3 and rows.size > p.n_neighbors:
        rows, knn = map_graph(space, p.n_neighbors - 1, index, progress)
    if progress:
        progress(0.2, f"Running {p.method.upper()} on {rows.size:,} points")
    proj = project(x, p, metric=space.metric, knn=knn)
    coords = np.full((n_map, proj.coords.shape[1]), np.nan, dtype=np.float32)
    coords[rows] = proj.coords
    if rows.size < n_map:
        proj.notes.append(f"{n_map - rows.size} item(s) with a zero vector are not drawn.")
    if progress and measure:
        progress(0.9, "Measuring how faithful the map is")
    # UMAP's graph already holds the true neighbours; other methods search once here.
    graph = None if knn is None else knn[0]
    return projection_record(
        space, coords, index, proj.method, proj.notes, proj.seconds, graph, measure=measure
    )


def projection_record(
    space: Space,
    coords: np.ndarray,
    index: VectorIndex | None,
    method: str,
    notes: list[str],
    seconds: float,
    graph: np.ndarray | None = None,
    extra: dict[str, Any] | None = None,
    *,
    measure: bool = True,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """What a map's step stores: its coordinates and its quality, measured now unless
    not `measure` (the one record of a map, whoever made it).

    graph: (m, ≥k) neighbour positions among the map rows that have a direction, when
        the caller has them (UMAP's graph); else they are searched here. A map stored
        without its quality keeps the first k columns, to measure it from later.
    extra: more of the map's record (how a fit-and-place map was made).
    """
    meta = {"method": method, "notes": notes, "seconds": seconds, **(extra or {})}
    if not measure:
        arrays = {"coords": coords}
        if graph is not None and graph.shape[1] >= QUALITY_K:
            arrays["neighbours"] = np.ascontiguousarray(graph[:, :QUALITY_K], dtype=np.int32)
        return arrays, meta
    quality = _quality_of(space, coords, index, QUALITY_K, graph)
    meta["quality"] = _quality_record(quality)
    return {"coords": coords, "preservation": quality.preservation}, meta


def _axis_compute(
    space: Space,
    p: ProjectionParams,
    rows: np.ndarray,
    x: np.ndarray,
    index: VectorIndex | None,
    progress: Progress | None,
    measure: bool = True,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A semantic-axis map of the space's map rows (see ``explorer.maps.axes``)."""
    t0 = time.perf_counter()
    if progress:
        progress(0.2, "Finding the poles of the axes")
    ax = Axis(parse_terms(p.x_from), parse_terms(p.x_to))
    dx = ax.direction(space)
    dy = None
    if parse_terms(p.y_from):
        dy = Axis(parse_terms(p.y_from), parse_terms(p.y_to)).direction(space)
    xy, notes = axis_coords(x, dx, dy, orthogonal=p.orthogonal, seed=p.seed)
    coords = np.full((space.n_map, 2), np.nan, dtype=np.float32)
    coords[rows] = xy
    notes.insert(0, f"x runs from {ax.name.replace(' → ', ' (left) to ')} (right).")
    if progress and measure:
        progress(0.9, "Measuring how faithful the map is")
    seconds = time.perf_counter() - t0
    return projection_record(space, coords, index, "axis", notes, seconds, measure=measure)


def given_columns(space: Space) -> list[str]:
    """The item columns that hold a map the user brought: x, y (and z), else []."""
    by_name = {str(c).lower(): str(c) for c in space.metadata_columns}
    if not {"x", "y"} <= set(by_name):
        return []
    return [by_name[a] for a in GIVEN_COLUMNS if a in by_name]


def default_params(space: Space) -> ProjectionParams:
    """The map a space opens on: the user's own map when they brought one, else UMAP."""
    return ProjectionParams(method="given") if given_columns(space) else ProjectionParams()


def _given_compute(
    space: Space, p: ProjectionParams, index: VectorIndex | None, measure: bool = True
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The map in the items' x, y (, z) columns, measured like any other."""
    t0 = time.perf_counter()
    cols = given_columns(space)[: p.dims]
    if len(cols) < p.dims:
        raise InputError(
            f"This space has no given {p.dims}-D map: a {p.dims}-D map needs columns "
            f"{', '.join(GIVEN_COLUMNS[: p.dims])} in the uploaded table."
        )
    table = space.items[cols].iloc[: space.n_map]
    # A copy: float32 columns may come back as a read-only view of the items.
    coords = np.array(table.apply(pd.to_numeric, errors="coerce"), dtype=np.float32)
    coords[~np.isfinite(coords).all(axis=1)] = np.nan
    notes = [f"The map given with the data (columns {', '.join(cols)}), shown as it is."]
    missing = int(np.isnan(coords[:, 0]).sum())
    if missing:
        notes.append(f"{missing} item(s) have no given position and are not drawn.")
    seconds = time.perf_counter() - t0
    return projection_record(space, coords, index, "given", notes, seconds, measure=measure)


def _decode(stored: steps.Stored) -> Projection:
    meta = stored.meta
    return Projection(
        coords=stored.arrays["coords"],
        params=meta["params"],
        method=meta["method"],
        notes=list(meta.get("notes", [])),
        seconds=float(meta.get("seconds", 0.0)),
        quality=_quality_from(stored.arrays, meta.get("quality")),
        neighbours=stored.arrays.get("neighbours"),
    )


def project_space(
    opened: OpenedSpace | Space,
    params: ProjectionParams | None = None,
    *,
    progress: Progress | None = None,
    quality: bool = True,
) -> Projection:
    """The map of the space's map rows: read back when stored, else made (and stored
    with a saved space's version).

    Rows without a direction (zero vectors under cosine) get NaN coordinates.
    The kNN graph comes from the space's index when it covers exactly the map rows,
    else from a temporary index over them. The map's quality at k = 10 is measured
    once and stored: with the map; or, with `quality` False, not now (the map is
    wanted at once), and later by :func:`projection_quality` or a call with `quality`.
    """
    o = as_opened(opened)
    p = params or ProjectionParams()
    p.validate()
    stored = steps.run(
        o,
        "projection",
        asdict(p),
        lambda: _compute(o.space, p, o.index_if_any, progress, measure=quality),
    )
    proj = _decode(stored)
    if progress:
        progress(1.0, f"{proj.method.upper()} done in {proj.seconds:.1f} s")
    if quality and proj.quality is None:
        proj.quality = _later_quality(o, p, proj, QUALITY_K)
    return proj


def store_projection(
    opened: OpenedSpace,
    params: ProjectionParams,
    arrays: dict[str, np.ndarray],
    meta: dict[str, Any],
) -> str:
    """Store a map made elsewhere (``projection_record``'s arrays and record) as the map
    of `params`; returns its step's name in the manifest."""
    steps.run(opened, "projection", asdict(params), lambda: (arrays, meta))
    return f"projection-{opened.step_key(asdict(params))}"


def load_projection(opened: OpenedSpace, params: ProjectionParams) -> Projection | None:
    """The stored map of `params`, or None if it was never made."""
    stored = steps.load(opened, "projection", asdict(params))
    return None if stored is None else _decode(stored)


def projection_stored(opened: OpenedSpace, params: ProjectionParams) -> bool:
    """Whether the map of `params` is stored (cheap: nothing is read)."""
    return steps.is_stored(opened, "projection", asdict(params))


def projection_quality(
    opened: OpenedSpace | Space, params: ProjectionParams, k: int = QUALITY_K
) -> MapQuality:
    """The quality of the map of `params` at neighbourhood size k.

    At k = 10 it is the figure stored with the map; another k is a step of its own,
    measured once and stored beside the map.
    """
    k = check_k(k)
    o = as_opened(opened)
    proj = project_space(o, params, quality=False)
    if proj.quality is not None and proj.quality.k == k:
        return proj.quality
    return _later_quality(o, params, proj, k)


def quality_stored(opened: OpenedSpace, params: ProjectionParams, k: int = QUALITY_K) -> bool:
    """Whether the quality at k of the (stored) map of `params` is stored: with the map,
    or as its own step. Cheap for a map measured later; reads the map's record else."""
    if steps.is_stored(opened, "quality", {**asdict(params), "quality_k": k}):
        return True
    proj = load_projection(opened, params) if projection_stored(opened, params) else None
    return proj is not None and proj.quality is not None and proj.quality.k == k


def _later_quality(
    o: OpenedSpace, params: ProjectionParams, proj: Projection, k: int
) -> MapQuality:
    """The quality at k of the map `proj`, a step of its own (measured once, stored).

    Uses the true neighbours the map kept when they reach k, else searches them."""

    def compute() -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        q = _quality_of(o.space, proj.coords, o.index_if_any, k, proj.neighbours)
        return {"preservation": q.preservation}, {"quality": _quality_record(q)}

    stored = steps.run(o, "quality", {**asdict(params), "quality_k": k}, compute)
    quality = _quality_from(stored.arrays, stored.meta["quality"])
    assert quality is not None
    return quality
