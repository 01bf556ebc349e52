"""Clustering of a space's map rows: KMeans, agglomerative or HDBSCAN, with labels.

Each clustering runs on *features* (the vectors, a 50-d PCA of them, a 5-d UMAP of
them, or the 2-D/3-D map), and each cluster is described in the *original* vectors
(``explorer.cluster.names``: medoid exemplars and c-TF-IDF terms). A clustering of a
space is a stored step (``explorer.opened.steps``).

Degenerate inputs (one point, duplicates, fewer points than clusters, a
min_cluster_size above n) give valid labels and a note instead of an error.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np

from explorer.cluster import algorithms
from explorer.cluster.features import (
    FEATURES,
    NEED_MAP,
    PCA_DIMS,
    UMAP_DIMS,
    UMAP_NEIGHBORS,
    Features,
    directions,
    features_of,
    map_features,
)
from explorer.cluster.names import ClusterInfo, describe_clusters
from explorer.cluster.renames import load_names, named
from explorer.core.errors import InputError
from explorer.core.limits import limits, over_limit
from explorer.core.progress import Progress
from explorer.core.space import METRICS, Metric, Space
from explorer.core.validate import check_matrix, is_int
from explorer.index.hnsw import VectorIndex
from explorer.index.knn import map_graph
from explorer.ingest.word_categories import categories_of
from explorer.maps.umap import Knn
from explorer.opened import steps
from explorer.opened.handle import OpenedSpace, as_opened

__all__ = [
    "ALGORITHMS",
    "FEATURES",
    "LINKAGES",
    "MAX_CLUSTERS",
    "MAX_MIN_SIZE",
    "MAX_TERMS",
    "Algorithm",
    "ClusterInfo",
    "ClusterParams",
    "Clustering",
    "Features",
    "cluster",
    "check_clustering_cost",
    "cluster_space",
    "clustering_key",
    "clustering_stored",
    "load_clustering",
    "resolve_features",
    "with_given_names",
]

# Upper bounds of the settings a browser can send (the Clusters page offers far less).
MAX_CLUSTERS = 1000
MAX_MIN_SIZE = 100_000
MAX_TERMS = 50

Algorithm = Literal["auto", "kmeans", "hdbscan", "agglomerative"]
Linkage = Literal["ward", "average", "complete", "single"]

ALGORITHMS: tuple[Algorithm, ...] = ("auto", "kmeans", "hdbscan", "agglomerative")
LINKAGES: tuple[Linkage, ...] = ("ward", "average", "complete", "single")

_ALGO_NAMES = {
    "auto": "Automatic",
    "kmeans": "KMeans",
    "hdbscan": "HDBSCAN",
    "agglomerative": "Agglomerative",
}
# "auto" keeps HDBSCAN's clusters unless it leaves more than this share as noise.
AUTO_MAX_NOISE = 0.3
# The most clusters "auto"'s KMeans makes (about √(n/20) of them): as many as a map has
# distinct colours (explorer.render.colours.MAX_CATEGORIES), so none is drawn as "other".
AUTO_MAX_CLUSTERS = 20


@dataclass(frozen=True)
class ClusterParams:
    """What a clustering is made from. Only the fields of the chosen algorithm matter.

    features: what the algorithm runs on: ``full`` vectors, ``pca50``, ``umap5`` or
    the ``map``. None picks a default with :func:`resolve_features`: ``pca50`` for
    KMeans and agglomerative when d > 50 (else ``full``); ``umap5`` for HDBSCAN
    (``full`` when d ≤ 5, where a 5-d UMAP would not reduce anything).
    min_samples None lets HDBSCAN use min_cluster_size.

    The default, ``auto``, runs HDBSCAN on a 5-d UMAP with a minimum cluster size of
    1% of the points (10 to 50), chosen because it agrees better than KMeans with the
    labelled samples' real categories (the ARIs are in docs/design-figures.md). When
    HDBSCAN leaves more than 30% of the points as noise, or finds fewer than two
    groups, as on large word spaces, it uses KMeans with √(n/20) clusters (2 to 20) on
    the same features instead, and says so.
    """

    algorithm: Algorithm = "auto"
    features: Features | None = None
    n_clusters: int = 8
    linkage: Linkage = "ward"
    min_cluster_size: int = 10
    min_samples: int | None = None
    seed: int = 42
    n_terms: int = 6
    n_exemplars: int = 5

    def validate(self) -> None:
        """Raise InputError naming the first bad setting and what it may be."""
        if self.algorithm not in ALGORITHMS:
            raise InputError(
                f"Unknown clustering algorithm {self.algorithm!r}; choose one of "
                f"{', '.join(ALGORITHMS)}."
            )
        if self.features is not None and self.features not in FEATURES:
            raise InputError(
                f"Unknown clustering features {self.features!r}; choose one of "
                f"{', '.join(FEATURES)} (or leave it empty for the default)."
            )
        if not is_int(self.n_clusters) or not 1 <= self.n_clusters <= MAX_CLUSTERS:
            raise InputError(
                f"n_clusters must be a whole number from 1 to {MAX_CLUSTERS}, "
                f"not {str(self.n_clusters)[:40]!r}."
            )
        if self.linkage not in LINKAGES:
            raise InputError(
                f"Unknown linkage {self.linkage!r}; choose one of {', '.join(LINKAGES)}."
            )
        if not is_int(self.min_cluster_size) or not 2 <= self.min_cluster_size <= MAX_MIN_SIZE:
            raise InputError(
                f"HDBSCAN's min_cluster_size must be a whole number from 2 to "
                f"{MAX_MIN_SIZE:,}, not {str(self.min_cluster_size)[:40]!r}."
            )
        if self.min_samples is not None and (
            not is_int(self.min_samples) or not 1 <= self.min_samples <= MAX_MIN_SIZE
        ):
            raise InputError(
                f"HDBSCAN's min_samples must be empty or a whole number from 1 to "
                f"{MAX_MIN_SIZE:,}, not {str(self.min_samples)[:40]!r}."
            )
        if not is_int(self.seed) or not 0 <= self.seed < 2**32:
            raise InputError(f"seed must be a whole number from 0 to 2³²-1, not {self.seed!r}.")
        if not is_int(self.n_terms) or not 1 <= self.n_terms <= MAX_TERMS:
            raise InputError(
                f"n_terms must be a whole number from 1 to {MAX_TERMS}, "
                f"not {str(self.n_terms)[:40]!r}."
            )
        if not is_int(self.n_exemplars) or self.n_exemplars < 1:
            raise InputError(
                f"n_exemplars must be a whole number of at least 1, not {self.n_exemplars!r}."
            )


@dataclass
class Clustering:
    """Cluster labels of the first ``len(labels)`` rows of a space.

    labels: (n_map,) int64; clusters are numbered by size (0 = largest);
        -1 = noise (HDBSCAN) or not clustered (zero vectors under cosine).
    clusters: one ClusterInfo per cluster, largest first, noise excluded.
    params: the parameters, with the features resolved.
    ran_on: a sentence saying what ran on which features.
    broad_names: names people gave its broad regions, by region number
        (:mod:`explorer.cluster.renames`; the clusters' own are in `clusters`).
    """

    labels: np.ndarray
    clusters: list[ClusterInfo]
    params: dict[str, Any]
    ran_on: str
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    broad_names: dict[int, str] = field(default_factory=dict)


def resolve_features(params: ClusterParams, dim: int) -> ClusterParams:
    """`params` with `features` filled in for vectors of dimension `dim`."""
    if params.features is not None:
        return params
    if params.algorithm in ("hdbscan", "auto"):
        features: Features = "umap5" if dim > UMAP_DIMS else "full"
    else:
        features = "pca50" if dim > PCA_DIMS else "full"
    return replace(params, features=features)


def cluster(
    vectors: np.ndarray,
    params: ClusterParams | None = None,
    *,
    metric: Metric = "cosine",
    texts: Sequence[str] | None = None,
    map_coords: np.ndarray | None = None,
    knn: Knn | None = None,
    categories: Sequence[object] | None = None,
) -> Clustering:
    """Cluster (n, d) vectors.

    Args:
        vectors: (n, d) finite rows. Under cosine, zero rows get label -1 (no
            direction) and the rest are normalised to unit length here.
        params: algorithm and settings; see ClusterParams.
        metric: the space's metric; decides how exemplars are chosen and UMAP's metric.
        texts: (n,) texts for label terms (c-TF-IDF; single words: central content words).
        categories: (n,) each word's category (None: none), e.g. its WordNet one: a
            category most of a cluster's words share leads its name.
        map_coords: (n, 2 or 3) map coordinates, needed when space is ``map``;
            rows with NaN coordinates (not drawn) get label -1.
        knn: optional (neighbours (n, ≥14), distances) of each row, self excluded,
            as from explorer.index.knn.knn_graph; the 5-d UMAP reuses it.

    Returns:
        a Clustering whose labels are (n,) int64, clusters numbered by size.

    Raises:
        InputError: bad parameters, texts or map coordinates of the wrong length,
            NaN/inf vectors, or space ``map`` without map coordinates.
    """
    p = params or ClusterParams()
    p.validate()
    if metric not in METRICS:
        raise InputError(f"Unknown metric {metric!r}; choose one of {', '.join(METRICS)}.")
    t0 = time.perf_counter()
    x = check_matrix(vectors)
    n, d = x.shape
    if not np.isfinite(x).all():
        raise InputError("Some vectors hold NaN or infinite values; fix them to cluster.")
    if texts is not None and len(texts) != n:
        raise InputError(f"There are {len(texts)} texts for {n} vectors; they must match.")
    p = resolve_features(p, d)
    notes: list[str] = []

    x, keep = directions(x, metric, notes)
    map_xy = None
    if p.features == "map":
        map_xy = map_features(map_coords, n)
        undrawn = ~np.isfinite(map_xy).all(1)
        if (undrawn & keep).any():
            notes.append(f"{int((undrawn & keep).sum())} item(s) not on the map are not clustered.")
        keep &= ~undrawn
    rows = np.flatnonzero(keep)
    if knn is not None and rows.size < n:
        knn = None  # its positions refer to all rows; UMAP searches again
    xs = x[rows]
    sub = _cluster_rows(xs, p, metric, map_xy[rows] if map_xy is not None else None, knn, notes)
    labels = np.full(n, -1, dtype=np.int64)
    labels[rows] = algorithms.by_size(sub.labels)
    sub_texts = None if texts is None else [texts[int(r)] for r in rows]
    sub_cats = None if categories is None else [categories[int(r)] for r in rows]
    infos = describe_clusters(
        xs, labels[rows], metric, sub_texts, p.n_terms, p.n_exemplars, sub_cats
    )
    for info in infos:  # positions in xs → rows of the input
        info.exemplars = [int(rows[i]) for i in info.exemplars]
    if not infos and rows.size and p.algorithm == "hdbscan" and sub.ran:
        notes.append(
            f"HDBSCAN found no separate dense groups, so every point is noise "
            "(a single group is reported as noise too). Lower min_cluster_size "
            f"(now {p.min_cluster_size}) or min_samples, or use KMeans."
        )
    return Clustering(
        labels=labels,
        clusters=infos,
        params=asdict(p),
        ran_on=sub.ran_on,
        notes=notes,
        seconds=time.perf_counter() - t0,
    )


@dataclass
class _Sub:
    labels: np.ndarray
    ran_on: str
    ran: bool = False  # the algorithm itself ran (not a degenerate shortcut)


def _cluster_rows(
    x: np.ndarray,
    p: ClusterParams,
    metric: Metric,
    map_xy: np.ndarray | None,
    knn: Knn | None,
    notes: list[str],
) -> _Sub:
    """Raw labels (any numbering, -1 = noise) of the clusterable rows `x` (m, d)."""
    m = x.shape[0]
    name = _ALGO_NAMES[p.algorithm]
    assert p.features is not None
    if m == 0:
        notes.append("No item has a usable vector, so nothing was clustered.")
        return _Sub(np.zeros(0, dtype=np.int64), f"{name}: nothing to cluster")
    w_src = map_xy if map_xy is not None else x
    distinct = algorithms.n_distinct(w_src)
    identical = distinct == 1
    if p.algorithm == "auto":
        if identical:
            notes.append(f"All {m} points are identical, so they form one cluster.")
            return _Sub(np.zeros(m, dtype=np.int64), f"{name}: not run (identical points)")
        return _auto(x, p, metric, map_xy, knn, notes, distinct)

    if p.algorithm == "hdbscan":
        if p.min_cluster_size > m:
            notes.append(
                f"min_cluster_size={p.min_cluster_size} is larger than the {m} point(s), so "
                f"no cluster can form and every point is noise. Lower min_cluster_size to "
                f"at most {m} (e.g. {max(2, m // 10)})."
            )
            return _Sub(
                np.full(m, -1, dtype=np.int64),
                f"{name}: not run (min_cluster_size above the number of points)",
            )
        if identical:
            notes.append(f"All {m} points are identical, so they form one cluster.")
            return _Sub(np.zeros(m, dtype=np.int64), f"{name}: not run (identical points)")
        w, what = features_of(x, p.features, metric, p.seed, map_xy, knn, notes)
        min_samples = p.min_samples
        if min_samples is not None and min_samples >= m:
            # The core distance needs min_samples other points.
            min_samples = m - 1
            notes.append(f"min_samples lowered to {min_samples}: there are only {m} points.")
        labels = algorithms.run_hdbscan(w, p.min_cluster_size, min_samples)
        return _Sub(labels, f"{name} on {what}", ran=True)

    k = p.n_clusters
    if distinct < k:
        notes.append(f"Only {distinct} distinct point(s), so {distinct} cluster(s) instead of {k}.")
        k = distinct
    if k == 1:
        return _Sub(np.zeros(m, dtype=np.int64), f"{name}: one cluster, nothing to split")
    w, what = features_of(x, p.features, metric, p.seed, map_xy, knn, notes)
    if p.algorithm == "kmeans":
        labels = algorithms.run_kmeans(w, k, p.seed)
        if m > algorithms.MINIBATCH_ABOVE:
            name = "MiniBatchKMeans"
    else:
        labels = algorithms.run_agglomerative(w, k, p.linkage, p.seed, notes)
        name = f"Agglomerative ({p.linkage} linkage)"
    return _Sub(labels, f"{name} on {what}", ran=True)


def _auto(
    x: np.ndarray,
    p: ClusterParams,
    metric: Metric,
    map_xy: np.ndarray | None,
    knn: Knn | None,
    notes: list[str],
    distinct: int,
) -> _Sub:
    """HDBSCAN, unless it leaves too much noise or too few groups; then KMeans."""
    m = x.shape[0]
    assert p.features is not None
    w, what = features_of(x, p.features, metric, p.seed, map_xy, knn, notes)
    mcs = min(int(np.clip(m // 100, 10, 50)), m)
    labels = algorithms.run_hdbscan(w, mcs, None) if m > mcs else np.full(m, -1, np.int64)
    found = np.unique(labels[labels >= 0]).size
    noise = float((labels < 0).mean())
    if found >= 2 and noise <= AUTO_MAX_NOISE:
        return _Sub(labels, f"HDBSCAN (min cluster size {mcs}, automatic) on {what}", ran=True)
    k = min(int(np.clip(round(np.sqrt(m / 20)), 2, AUTO_MAX_CLUSTERS)), distinct)
    if k < 2:
        return _Sub(np.zeros(m, dtype=np.int64), "Automatic: one cluster, nothing to split")
    notes.append(
        f"HDBSCAN found {found} dense group(s) and left {noise:.0%} of the points as noise, "
        f"so KMeans with {k} clusters was used instead; choose HDBSCAN to see its groups."
    )
    labels = algorithms.run_kmeans(w, k, p.seed)
    return _Sub(labels, f"KMeans ({k} clusters, automatic) on {what}", ran=True)


def _map_hash(map_coords: np.ndarray) -> str:
    a = np.ascontiguousarray(map_coords, dtype=np.float32)
    h = hashlib.sha256(np.asarray(a.shape, dtype=np.int64).tobytes())
    h.update(a.tobytes())
    return h.hexdigest()[:16]


def clustering_key(
    space: Space, params: ClusterParams, map_coords: np.ndarray | None = None
) -> dict[str, Any]:
    """What a clustering's stored step (and the job that makes it) is keyed by: its
    parameters as resolved for `space`, and a digest of the map it runs on, if any."""
    params = _resolved(space, params)
    key: dict[str, Any] = asdict(params)
    if params.features == "map":
        if map_coords is None:
            raise InputError(NEED_MAP)
        if len(map_coords) != space.n_map:
            raise InputError(
                f"The map has {len(map_coords)} points but this space maps "
                f"{space.n_map} items; make the map again."
            )
        key["map"] = _map_hash(map_coords)
    return key


def _decode(stored: steps.Stored) -> Clustering:
    meta = stored.meta
    return Clustering(
        labels=stored.arrays["labels"],
        clusters=[ClusterInfo(**c) for c in meta["clusters"]],
        # The key's map hash is not a parameter of the algorithm.
        params={k: v for k, v in meta["params"].items() if k != "map"},
        ran_on=meta["ran_on"],
        notes=list(meta.get("notes", [])),
        seconds=float(meta.get("seconds", 0.0)),
    )


def _resolved(space: Space, params: ClusterParams | None) -> ClusterParams:
    p = params or ClusterParams()
    p.validate()
    return resolve_features(p, space.dim)


def load_clustering(
    opened: OpenedSpace, params: ClusterParams, map_coords: np.ndarray | None = None
) -> Clustering | None:
    """The stored clustering of `params`, or None if it was never made."""
    key = clustering_key(opened.space, params, map_coords)
    stored = steps.load(opened, "clustering", key)
    return None if stored is None else with_given_names(opened, key, _decode(stored))


def with_given_names(opened: OpenedSpace, key: dict[str, Any], c: Clustering) -> Clustering:
    """`c` with the names people gave its clusters and broad regions (if any)."""
    names = load_names(opened, key)
    if not names.clusters and not names.broad:
        return c
    return replace(c, clusters=named(c.clusters, names.clusters), broad_names=names.broad)


def clustering_stored(
    opened: OpenedSpace, params: ClusterParams, map_coords: np.ndarray | None = None
) -> bool:
    """Whether the clustering of `params` is stored (cheap: nothing is read)."""
    return steps.is_stored(opened, "clustering", clustering_key(opened.space, params, map_coords))


def check_clustering_cost(space: Space, params: ClusterParams) -> None:
    """Refuse the clustering of `params` of `space` before it is queued when it is larger
    than the operator allows (HDBSCAN's points, a 5-d UMAP's points)."""
    _check_size(_resolved(space, params), space.mapped_rows.size)


def _check_size(p: ClusterParams, n: int) -> None:
    """Refuse a clustering larger than the operator allows (HDBSCAN, a 5-d UMAP)."""
    lim = limits()
    if p.algorithm in ("hdbscan", "auto") and n > lim.max_hdbscan_rows:
        raise over_limit(
            "Points to cluster with HDBSCAN", n, "max_hdbscan_rows", "Use KMeans, or fewer rows."
        )
    if p.features == "umap5" and n > lim.max_umap_rows:
        raise over_limit("Points in a 5-d UMAP", n, "max_umap_rows", "Cluster on pca50 instead.")


def _compute(
    space: Space,
    p: ClusterParams,
    index: VectorIndex | None,
    map_coords: np.ndarray | None,
    progress: Progress | None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A clustering of the space's map rows: the arrays and record to store."""
    n_map = space.n_map
    rows = space.mapped_rows
    _check_size(p, rows.size)
    knn = None
    umap5 = p.features == "umap5" and rows.size > UMAP_NEIGHBORS + 1
    if p.algorithm in ("hdbscan", "auto") and umap5:
        rows, knn = map_graph(space, UMAP_NEIGHBORS - 1, index, progress)
    if progress:
        progress(0.2, f"Clustering {rows.size:,} points with {_ALGO_NAMES[p.algorithm]}")
    x = np.asarray(space.vectors[rows], dtype=np.float32)
    texts = [str(t) for t in space.display_text[rows]] if space.has_text else None
    mc = None if p.features != "map" or map_coords is None else np.asarray(map_coords)[rows]
    cats = categories_of(space, rows)
    res = cluster(x, p, metric=space.metric, texts=texts, map_coords=mc, knn=knn, categories=cats)
    labels = np.full(n_map, -1, dtype=np.int64)
    labels[rows] = res.labels
    for info in res.clusters:  # positions in x → rows of the space
        info.exemplars = [int(rows[i]) for i in info.exemplars]
    if rows.size < n_map:
        res.notes.append(
            f"{n_map - rows.size} item(s) with a zero vector have no "
            "direction and are not clustered."
        )
    meta = {
        "clusters": [asdict(c) for c in res.clusters],
        "ran_on": res.ran_on,
        "notes": res.notes,
        "seconds": res.seconds,
    }
    return {"labels": labels}, meta


def cluster_space(
    opened: OpenedSpace | Space,
    params: ClusterParams | None = None,
    *,
    map_coords: np.ndarray | None = None,
    progress: Progress | None = None,
) -> Clustering:
    """The clustering of the space's map rows: read back when stored, else made (and
    stored with a saved space's version).

    Rows that are not indexable (zero vectors under cosine) get label -1; label
    terms come from the items' text when the space has a ``text`` column.
    Exemplars are row numbers of the space. The 5-d UMAP's kNN graph comes from
    `index` when it covers exactly the clustered rows, else from a temporary index.

    Args:
        map_coords: (n_map, 2 or 3) coordinates of a map of this space (NaN rows
            not drawn); needed when features is ``map`` and part of the key then.
    """
    o = as_opened(opened)
    p = _resolved(o.space, params)
    key = clustering_key(o.space, p, map_coords)
    stored = steps.run(
        o, "clustering", key, lambda: _compute(o.space, p, o.index_if_any, map_coords, progress)
    )
    res = with_given_names(o, key, _decode(stored))
    if progress:
        progress(1.0, f"{len(res.clusters)} cluster(s) in {res.seconds:.1f} s")
    return res
