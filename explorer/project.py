"""Projections to 2-D or 3-D: PCA, UMAP (on the hnswlib kNN graph) and t-SNE.

Very small or degenerate inputs fall back to PCA with a note instead of failing,
and inputs that are already 2-D or 3-D are shown as they are.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .errors import InputError
from .index import VectorIndex, rows_knn
from .space import Metric, Space
from .store import load_step, save_step, step_key

__all__ = [
    "METHODS",
    "Projection",
    "ProjectionParams",
    "project",
    "project_space",
    "projection_key",
    "scaled_epochs",
    "umap_layout",
]

Method = Literal["pca", "umap", "tsne"]
METHODS: tuple[Method, ...] = ("umap", "pca", "tsne")
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ProjectionParams:
    """What a map is made from. Only the fields of the chosen method matter.

    n_epochs None scales the epochs to n (see :func:`scaled_epochs`); PCA init
    starts UMAP from the global structure, which is faster than spectral init at
    the same quality (both measured in bench/b_pipeline.py).
    """

    method: Method = "umap"
    dims: int = 2
    n_neighbors: int = 15
    min_dist: float = 0.1
    init: Literal["spectral", "pca", "random"] = "pca"
    n_epochs: int | None = None
    perplexity: float = 30.0
    seed: int = 42

    def validate(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"Unknown projection {self.method!r}; choose one of {METHODS}.")
        if self.dims not in (2, 3):
            raise InputError(f"A map has 2 or 3 dimensions, not {self.dims}.")
        if self.n_neighbors < 2:
            raise InputError("UMAP needs n_neighbors of at least 2.")
        if not 0.0 <= self.min_dist <= 1.0:
            raise InputError("UMAP's min_dist must lie between 0 and 1.")
        if self.perplexity <= 0:
            raise InputError("t-SNE's perplexity must be positive.")


@dataclass
class Projection:
    """Coordinates of the first ``len(coords)`` rows of a space.

    coords: (n_map, dims) float32; NaN rows were left out (zero vectors under cosine).
    method: what actually ran ("pca" when a small input fell back, "as-is" for 2-D/3-D).
    """

    coords: np.ndarray
    params: dict[str, Any]
    method: str
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def scaled_epochs(n: int) -> int:
    """UMAP epochs for n points: 500 for small maps, falling as 1/√n to 100 from 80k.

    Each epoch visits every edge of the kNN graph, so large maps converge in fewer
    epochs; umap-learn's own rule is a step (500 below 10k, 200 above).
    """
    return int(np.clip(round(200 * np.sqrt(20_000 / max(n, 1))), 100, 500))


def _pca(x: np.ndarray, dims: int, seed: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    n, d = x.shape
    k = min(dims, n, d)
    out = np.zeros((n, dims), dtype=np.float32)
    if n >= 2 and k >= 1 and (x != x[0]).any():
        out[:, :k] = PCA(n_components=k, random_state=seed).fit_transform(x)
    return out


def _umap_metric(metric: Metric) -> str:
    return "euclidean" if metric == "l2" else "cosine"


def umap_layout(
    x: np.ndarray,
    p: ProjectionParams,
    metric: Metric,
    knn: tuple[np.ndarray, np.ndarray] | None,
) -> np.ndarray:
    """UMAP of (n, d) rows to (n, p.dims) float32, reusing `knn` when given.

    Used for maps (2-D/3-D) and for clustering spaces (e.g. 5-D), so `p.dims` is
    not limited here.
    """
    from .warmup import import_umap

    umap = import_umap()
    kwargs: dict[str, Any] = {}
    if knn is not None:
        nbr, dist = knn
        n = x.shape[0]
        # umap-learn wants each point as its own first neighbour at distance 0.
        idx = np.concatenate([np.arange(n)[:, None], nbr[:, : p.n_neighbors - 1]], axis=1)
        dst = np.concatenate([np.zeros((n, 1), np.float32), dist[:, : p.n_neighbors - 1]], 1)
        kwargs["precomputed_knn"] = (idx.astype(np.int32), dst.astype(np.float32))
    reducer = umap.UMAP(
        n_components=p.dims,
        n_neighbors=p.n_neighbors,
        min_dist=p.min_dist,
        init=p.init,
        n_epochs=p.n_epochs or scaled_epochs(x.shape[0]),
        metric=_umap_metric(metric),
        random_state=p.seed,
        **kwargs,
    )
    with warnings.catch_warnings():
        # umap warns that a precomputed graph without an NNDescent index cannot
        # transform new data, and that a seed disables parallelism: both expected.
        warnings.simplefilter("ignore")
        out = reducer.fit_transform(x)
    return np.asarray(out, dtype=np.float32)


def _tsne(x: np.ndarray, p: ProjectionParams, metric: Metric) -> np.ndarray:
    from sklearn.manifold import TSNE

    perplexity = min(p.perplexity, max(1.0, (x.shape[0] - 1) / 3))
    tsne = TSNE(
        n_components=p.dims,
        perplexity=perplexity,
        metric=_umap_metric(metric),
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
    knn: tuple[np.ndarray, np.ndarray] | None = None,
) -> Projection:
    """Project (n, d) vectors to (n, dims) float32 coordinates.

    Args:
        vectors: (n, d) rows to map (all finite; zero rows are the caller's concern).
        params: method and settings.
        metric: the space's metric, used by UMAP and t-SNE.
        knn: optional (neighbours (n, ≥k-1), distances) of each row, self excluded,
            e.g. from explorer.index.knn_graph; UMAP reuses it instead of searching.
    """
    p = params or ProjectionParams()
    p.validate()
    t0 = time.perf_counter()
    x = np.asarray(vectors, dtype=np.float32)
    notes: list[str] = []
    if x.shape[1] in (2, 3):
        notes.append(f"The vectors are already {x.shape[1]}-D, so they are shown as they are.")
        coords = x.copy()
        method = "as-is"
    else:
        method = p.method
        reason = _fallback_reason(x, p)
        if reason and p.method != "pca":
            notes.append(f"{p.method.upper()} needs more varied data ({reason}); showing PCA.")
            method = "pca"
        if method == "pca":
            coords = _pca(x, p.dims, p.seed)
        elif method == "umap":
            if knn is not None and knn[0].shape[1] < p.n_neighbors - 1:
                knn = None  # too few neighbours stored: let UMAP search itself
            coords = umap_layout(x, p, metric, knn)
        else:
            coords = _tsne(x, p, metric)
    return Projection(
        coords=coords,
        params=asdict(p),
        method=method,
        notes=notes,
        seconds=time.perf_counter() - t0,
    )


def projection_key(space: Space, params: ProjectionParams) -> str:
    """The on-disk key of a map of `space` made with `params`."""
    return step_key({"fingerprint": space.fingerprint, "n_map": space.n_map, **asdict(params)})


def project_space(
    space: Space,
    params: ProjectionParams | None = None,
    *,
    folder: Path | None = None,
    index: VectorIndex | None = None,
    progress: Progress | None = None,
) -> Projection:
    """Project the map rows of `space`, cached on disk in `folder` when given.

    Rows without a direction (zero vectors under cosine) get NaN coordinates.
    The kNN graph comes from `index` when it covers exactly the map rows, else
    from a temporary index over them.
    """
    p = params or ProjectionParams()
    p.validate()
    n_map = space.n_map
    key = projection_key(space, p)
    if folder is not None:
        hit = load_step(folder, "projection", key)
        if hit is not None:
            arrays, meta = hit
            return Projection(
                arrays["coords"],
                meta["params"],
                meta["method"],
                meta.get("notes", []),
                meta.get("seconds", 0.0),
            )
    rows = np.flatnonzero(space.indexable[:n_map])
    x = np.asarray(space.vectors[rows], dtype=np.float32)
    knn = None
    if p.method == "umap" and x.shape[1] > 3 and rows.size > p.n_neighbors:
        if progress:
            progress(0.05, f"Finding {p.n_neighbors} neighbours of {rows.size:,} points")
        nbr, dist = rows_knn(space.vectors, space.metric, rows, p.n_neighbors - 1, index)
        knn = (nbr, dist)
    if progress:
        progress(0.2, f"Running {p.method.upper()} on {rows.size:,} points")
    proj = project(x, p, metric=space.metric, knn=knn)
    coords = np.full((n_map, proj.coords.shape[1]), np.nan, dtype=np.float32)
    coords[rows] = proj.coords
    if rows.size < n_map:
        proj.notes.append(f"{n_map - rows.size} item(s) with a zero vector are not drawn.")
    proj.coords = coords
    if folder is not None:
        save_step(
            folder,
            "projection",
            key,
            {"coords": coords},
            {
                "params": proj.params,
                "method": proj.method,
                "notes": proj.notes,
                "seconds": proj.seconds,
                "n_map": n_map,
                "fingerprint": space.fingerprint,
            },
        )
    if progress:
        progress(1.0, f"{proj.method.upper()} done in {proj.seconds:.1f} s")
    return proj


def with_params(params: ProjectionParams, **changes: Any) -> ProjectionParams:
    """A copy of `params` with `changes` (a convenience for the pages and the CLI)."""
    return replace(params, **changes)
