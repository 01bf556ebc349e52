"""Clustering of a space's map rows: KMeans, agglomerative or HDBSCAN, with labels.

Each clustering runs in a *work space* (the vectors, a 50-d PCA of them, a 5-d UMAP
of them, or the 2-D/3-D map), and each cluster is described in the *original*
vectors: its medoid exemplars (closest to the cluster's mean direction) and, for
text, its top terms by class-based TF-IDF (BERTopic's c-TF-IDF).

Degenerate inputs (one point, duplicates, fewer points than clusters, a
min_cluster_size above n) give valid labels and a note instead of an error.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .errors import InputError
from .index import VectorIndex, rows_knn
from .space import METRICS, Metric, Space
from .store import load_step, save_step, step_key
from .validate import check_matrix

__all__ = [
    "ALGORITHMS",
    "CLUSTER_SPACES",
    "Algorithm",
    "ClusterInfo",
    "ClusterParams",
    "ClusterSpace",
    "Clustering",
    "cluster",
    "clustering_key",
    "load_clustering",
    "cluster_space",
    "resolve_space",
]

Algorithm = Literal["kmeans", "hdbscan", "agglomerative"]
ClusterSpace = Literal["full", "pca50", "umap5", "map"]
Linkage = Literal["ward", "average", "complete", "single"]
Progress = Callable[[float, str], None]

ALGORITHMS: tuple[Algorithm, ...] = ("kmeans", "hdbscan", "agglomerative")
CLUSTER_SPACES: tuple[ClusterSpace, ...] = ("full", "pca50", "umap5", "map")
LINKAGES: tuple[Linkage, ...] = ("ward", "average", "complete", "single")

# Above this many points KMeans switches to MiniBatchKMeans (full Lloyd passes get slow).
MINIBATCH_ABOVE = 20_000
# Agglomerative clustering needs O(n²) memory; above AGGLO_MAX points it clusters a
# seeded sample of AGGLO_SAMPLE points and gives every other point the cluster of
# the nearest sample-cluster centroid (in the work space).
AGGLO_MAX = 20_000
AGGLO_SAMPLE = 10_000
PCA_DIMS = 50
UMAP_DIMS = 5
UMAP_NEIGHBORS = 15
# Terms in a cluster's short label ("3: rain · storm · flood").
LABEL_TERMS = 3
_LABEL_TEXT_CHARS = 32
# Words of two or more letters (no digits or underscores), as BERTopic's default.
_TOKEN_PATTERN = r"(?u)\b[^\W\d_]{2,}\b"

_NEED_MAP = (
    "Clustering on the map needs the map's coordinates: make a map first, "
    "or choose another space (full, pca50 or umap5)."
)
_ALGO_NAMES = {"kmeans": "KMeans", "hdbscan": "HDBSCAN", "agglomerative": "Agglomerative"}


@dataclass(frozen=True)
class ClusterParams:
    """What a clustering is made from. Only the fields of the chosen algorithm matter.

    space None picks a default with :func:`resolve_space`: ``pca50`` for KMeans and
    agglomerative when d > 50 (else ``full``); ``umap5`` for HDBSCAN (``full``
    when d ≤ 5, where a 5-d UMAP would not reduce anything).
    min_samples None lets HDBSCAN use min_cluster_size.
    """

    algorithm: Algorithm = "kmeans"
    space: ClusterSpace | None = None
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
        if self.space is not None and self.space not in CLUSTER_SPACES:
            raise InputError(
                f"Unknown clustering space {self.space!r}; choose one of "
                f"{', '.join(CLUSTER_SPACES)} (or leave it empty for the default)."
            )
        if not _is_int(self.n_clusters) or self.n_clusters < 1:
            raise InputError(
                f"n_clusters must be a whole number of at least 1, not {self.n_clusters!r}."
            )
        if self.linkage not in LINKAGES:
            raise InputError(
                f"Unknown linkage {self.linkage!r}; choose one of {', '.join(LINKAGES)}."
            )
        if not _is_int(self.min_cluster_size) or self.min_cluster_size < 2:
            raise InputError(
                f"HDBSCAN's min_cluster_size must be a whole number of at "
                f"least 2, not {self.min_cluster_size!r}."
            )
        if self.min_samples is not None and (not _is_int(self.min_samples) or self.min_samples < 1):
            raise InputError(
                f"HDBSCAN's min_samples must be empty or a whole number of at "
                f"least 1, not {self.min_samples!r}."
            )
        if not _is_int(self.seed) or not 0 <= self.seed < 2**32:
            raise InputError(f"seed must be a whole number from 0 to 2³²-1, not {self.seed!r}.")
        if not _is_int(self.n_terms) or self.n_terms < 1:
            raise InputError(f"n_terms must be a whole number of at least 1, not {self.n_terms!r}.")
        if not _is_int(self.n_exemplars) or self.n_exemplars < 1:
            raise InputError(
                f"n_exemplars must be a whole number of at least 1, not {self.n_exemplars!r}."
            )


def _is_int(v: object) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


@dataclass
class ClusterInfo:
    """One cluster: its number, size, label terms and exemplar rows (medoid first)."""

    cluster: int
    size: int
    terms: list[str]
    exemplars: list[int]
    label: str


@dataclass
class Clustering:
    """Cluster labels of the first ``len(labels)`` rows of a space.

    labels: (n_map,) int64; clusters are numbered by size (0 = largest);
        -1 = noise (HDBSCAN) or not clustered (zero vectors under cosine).
    clusters: one ClusterInfo per cluster, largest first, noise excluded.
    params: the parameters, with the space resolved.
    space_used: a sentence saying what ran on which space.
    """

    labels: np.ndarray
    clusters: list[ClusterInfo]
    params: dict[str, Any]
    space_used: str
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def resolve_space(params: ClusterParams, dim: int) -> ClusterParams:
    """`params` with `space` filled in for vectors of dimension `dim`."""
    if params.space is not None:
        return params
    if params.algorithm == "hdbscan":
        space: ClusterSpace = "umap5" if dim > UMAP_DIMS else "full"
    else:
        space = "pca50" if dim > PCA_DIMS else "full"
    return replace(params, space=space)


# ---------------------------------------------------------------------------
# Work spaces


def _pca(x: np.ndarray, dims: int, seed: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    return np.asarray(PCA(n_components=dims, random_state=seed).fit_transform(x), np.float32)


def _umap5(
    x: np.ndarray, metric: Metric, seed: int, knn: tuple[np.ndarray, np.ndarray] | None
) -> np.ndarray:
    # Reuse the map's UMAP runner (same precomputed-kNN handling); min_dist=0 packs
    # clusters tightly, which is what density clustering wants (UMAP docs' advice).
    from .project import ProjectionParams, umap_layout

    p = ProjectionParams(
        method="umap", dims=UMAP_DIMS, n_neighbors=UMAP_NEIGHBORS, min_dist=0.0, seed=seed
    )
    if knn is not None and knn[0].shape[1] < UMAP_NEIGHBORS - 1:
        knn = None  # too few neighbours stored: let UMAP search itself
    return umap_layout(x, p, metric, knn)


def _work_space(
    x: np.ndarray,
    space: ClusterSpace,
    metric: Metric,
    seed: int,
    map_xy: np.ndarray | None,
    knn: tuple[np.ndarray, np.ndarray] | None,
    notes: list[str],
) -> tuple[np.ndarray, str]:
    """(work-space points (n, k), phrase naming them) for `space`."""
    n, d = x.shape
    if space == "map":
        assert map_xy is not None
        return map_xy, f"the {map_xy.shape[1]}-D map coordinates"
    if space == "umap5":
        if n > UMAP_NEIGHBORS + 1:
            return _umap5(x, metric, seed, knn), f"a {UMAP_DIMS}-d UMAP of the {d}-d vectors"
        space = "pca50" if d > PCA_DIMS else "full"
        notes.append(
            f"A 5-d UMAP needs more than {UMAP_NEIGHBORS + 1} points (there are {n}), "
            f"so {space} was used instead."
        )
    if space == "pca50":
        k = min(PCA_DIMS, n - 1, d)
        if 1 <= k < d:
            return _pca(x, k, seed), f"a {k}-d PCA of the {d}-d vectors"
    return x, f"the {d}-d vectors"


# ---------------------------------------------------------------------------
# Algorithms (module-level so that tests can watch them)


def _run_kmeans(w: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if w.shape[0] > MINIBATCH_ABOVE:
        km: Any = MiniBatchKMeans(n_clusters=k, n_init="auto", random_state=seed, batch_size=4096)
    else:
        km = KMeans(n_clusters=k, n_init="auto", random_state=seed)
    return np.asarray(km.fit_predict(w), dtype=np.int64)


def _run_agglomerative(
    w: np.ndarray, k: int, linkage: str, seed: int, notes: list[str]
) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    n = w.shape[0]
    # Euclidean in the work space: ward requires it, and under cosine the vectors
    # are unit length, so Euclidean distance ranks pairs as cosine does.
    model = AgglomerativeClustering(n_clusters=k, linkage=linkage, metric="euclidean")
    if n <= AGGLO_MAX:
        return np.asarray(model.fit_predict(w), dtype=np.int64)
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, AGGLO_SAMPLE, replace=False))
    sub = np.asarray(model.fit_predict(w[sample]), dtype=np.int64)
    k_found = int(sub.max()) + 1
    cent = np.stack([w[sample[sub == c]].mean(0) for c in range(k_found)])
    labels = _nearest_centroid(w, cent)
    labels[sample] = sub
    notes.append(
        f"Agglomerative clustering needs memory that grows with n², so it ran on a "
        f"sample of {AGGLO_SAMPLE:,} of the {n:,} points; the rest joined the cluster "
        "with the nearest centre. Use KMeans or HDBSCAN to cluster every point directly."
    )
    return labels


def _nearest_centroid(w: np.ndarray, cent: np.ndarray, chunk: int = 8192) -> np.ndarray:
    out = np.empty(w.shape[0], dtype=np.int64)
    cc = (cent**2).sum(1)
    for s in range(0, w.shape[0], chunk):
        out[s : s + chunk] = np.argmin(cc[None, :] - 2 * w[s : s + chunk] @ cent.T, axis=1)
    return out


def _run_hdbscan(w: np.ndarray, min_cluster_size: int, min_samples: int | None) -> np.ndarray:
    import hdbscan

    model = hdbscan.HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. numerical warnings on duplicate points
        return np.asarray(model.fit_predict(np.asarray(w, dtype=np.float64)), dtype=np.int64)


# ---------------------------------------------------------------------------
# Description of each cluster


def _n_distinct(x: np.ndarray) -> int:
    # One opaque byte string per row makes np.unique a fast 1-d sort.
    rows = np.ascontiguousarray(x).view(np.dtype((np.void, x.dtype.itemsize * x.shape[1])))
    return int(np.unique(rows).size)


def _exemplars(x: np.ndarray, members: np.ndarray, k: int, metric: Metric) -> list[int]:
    """The k members of `members` closest to their mean (direction), closest first."""
    v = x[members].astype(np.float64)
    if metric == "l2":
        score = -((v - v.mean(0)) ** 2).sum(1)
    else:
        # The mean *direction*: under ip, long vectors must not dominate.
        norms = np.linalg.norm(v, axis=1, keepdims=True)
        u = np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)
        centre = u.mean(0)
        score = u @ centre  # ∝ cosine to the centre; the order is the same
    order = np.argsort(-score, kind="stable")[:k]
    return [int(members[i]) for i in order]


def _is_wordlike(texts: Sequence[str]) -> bool:
    """True when (nearly) every item is one token, as in a word-vector space."""
    if not len(texts):
        return False
    single = sum(len(str(t).split()) <= 1 for t in texts)
    return single >= 0.9 * len(texts)


def _ctfidf_terms(docs: list[str], n_terms: int) -> list[list[str]] | None:
    """Top terms per class by c-TF-IDF; None when no usable words are found.

    docs: one concatenated document per class. tf = a term's share of its class's
    words; idf = log(1 + A / f_t), A = mean words per class, f_t = the term's count
    over all classes (BERTopic's ClassTfidfTransformer).
    """
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(stop_words="english", token_pattern=_TOKEN_PATTERN, min_df=1)
    try:
        c = vectorizer.fit_transform(docs).tocsr().astype(np.float64)
    except ValueError:  # empty vocabulary: only stop words, numbers or 1-letter tokens
        return None
    vocab = vectorizer.get_feature_names_out()
    words = np.asarray(c.sum(1)).ravel()
    f_t = np.asarray(c.sum(0)).ravel()
    idf = np.log(1.0 + words.mean() / np.maximum(f_t, 1.0))
    # Kept sparse: many clusters × a large vocabulary would not fit densely.
    score = c.multiply(1.0 / np.maximum(words, 1.0)[:, None]).multiply(idf[None, :]).tocsr()
    out = []
    for i in range(score.shape[0]):
        lo, hi = score.indptr[i], score.indptr[i + 1]
        cols, vals = score.indices[lo:hi], score.data[lo:hi]
        # Ties (equal scores) go to the alphabetically first term: stable and repeatable.
        top = np.lexsort((cols, -vals))[:n_terms]
        out.append([str(vocab[cols[j]]) for j in top if vals[j] > 0])
    return out


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _LABEL_TEXT_CHARS else text[: _LABEL_TEXT_CHARS - 1] + "…"


def _describe(
    x: np.ndarray,
    labels: np.ndarray,
    metric: Metric,
    texts: Sequence[str] | None,
    p: ClusterParams,
) -> list[ClusterInfo]:
    k = int(labels.max()) + 1 if labels.size else 0
    members = [np.flatnonzero(labels == c) for c in range(k)]
    exemplars = [_exemplars(x, m, p.n_exemplars, metric) for m in members]
    terms: list[list[str]] = [[] for _ in range(k)]
    if texts is not None and k:
        from_ex = [[_short(texts[r]) for r in ex] for ex in exemplars]
        if _is_wordlike([texts[i] for i in np.flatnonzero(labels >= 0)]):
            terms = from_ex  # single words: the most central words say it best
        else:
            docs = [" ".join(str(texts[r]) for r in m) for m in members]
            found = _ctfidf_terms(docs, p.n_terms)
            # A cluster with no usable word (stop words only, numbers) falls back
            # to its exemplars' texts.
            terms = (
                from_ex if found is None else [t or e for t, e in zip(found, from_ex, strict=True)]
            )
        terms = [t[: p.n_terms] for t in terms]
    return [
        ClusterInfo(
            cluster=c,
            size=int(members[c].size),
            terms=terms[c],
            exemplars=exemplars[c],
            label=f"{c}: {' · '.join(terms[c][:LABEL_TERMS])}" if terms[c] else str(c),
        )
        for c in range(k)
    ]


def _by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 0, 1, ... by size, largest first (ties: old number); keep -1."""
    out = np.full(labels.shape, -1, dtype=np.int64)
    found = labels[labels >= 0]
    if not found.size:
        return out
    ids, sizes = np.unique(found, return_counts=True)
    order = ids[np.lexsort((ids, -sizes))]
    remap = np.full(int(ids.max()) + 1, -1, dtype=np.int64)
    remap[order] = np.arange(order.size)
    out[labels >= 0] = remap[found]
    return out


# ---------------------------------------------------------------------------
# Entry points


def cluster(
    vectors: np.ndarray,
    params: ClusterParams | None = None,
    *,
    metric: Metric = "cosine",
    texts: Sequence[str] | None = None,
    map_coords: np.ndarray | None = None,
    knn: tuple[np.ndarray, np.ndarray] | None = None,
) -> Clustering:
    """Cluster (n, d) vectors.

    Args:
        vectors: (n, d) finite rows. Under cosine, zero rows get label -1 (no
            direction) and the rest are normalised to unit length here.
        params: algorithm and settings; see ClusterParams.
        metric: the space's metric; decides how exemplars are chosen and UMAP's metric.
        texts: (n,) texts for label terms (c-TF-IDF; single words: the exemplars).
        map_coords: (n, 2 or 3) map coordinates, needed when space is ``map``;
            rows with NaN coordinates (not drawn) get label -1.
        knn: optional (neighbours (n, ≥14), distances) of each row, self excluded,
            as from explorer.index.knn_graph; the 5-d UMAP reuses it.

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
    p = resolve_space(p, d)
    notes: list[str] = []

    keep = np.ones(n, dtype=bool)
    if metric == "cosine":
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        keep = norms[:, 0] > 0
        x = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
        if not keep.all():
            notes.append(
                f"{int((~keep).sum())} item(s) with a zero vector have no direction "
                "and are not clustered."
            )
    map_xy = None
    if p.space == "map":
        if map_coords is None:
            raise InputError(_NEED_MAP)
        map_xy = np.asarray(map_coords, dtype=np.float32)
        if map_xy.ndim != 2 or map_xy.shape[0] != n or map_xy.shape[1] not in (2, 3):
            raise InputError(
                f"The map coordinates have shape {map_xy.shape}; they must be "
                f"({n}, 2) or ({n}, 3), one row per vector."
            )
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
    labels[rows] = _by_size(sub.labels)
    sub_texts = None if texts is None else [texts[r] for r in rows]
    infos = _describe(xs, labels[rows], metric, sub_texts, p)
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
        space_used=sub.space_used,
        notes=notes,
        seconds=time.perf_counter() - t0,
    )


@dataclass
class _Sub:
    labels: np.ndarray
    space_used: str
    ran: bool = False  # the algorithm itself ran (not a degenerate shortcut)


def _cluster_rows(
    x: np.ndarray,
    p: ClusterParams,
    metric: Metric,
    map_xy: np.ndarray | None,
    knn: tuple[np.ndarray, np.ndarray] | None,
    notes: list[str],
) -> _Sub:
    """Raw labels (any numbering, -1 = noise) of the clusterable rows `x` (m, d)."""
    m = x.shape[0]
    name = _ALGO_NAMES[p.algorithm]
    assert p.space is not None
    if m == 0:
        notes.append("No item has a usable vector, so nothing was clustered.")
        return _Sub(np.zeros(0, dtype=np.int64), f"{name}: nothing to cluster")
    w_src = map_xy if map_xy is not None else x
    distinct = _n_distinct(w_src)
    identical = distinct == 1

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
        w, what = _work_space(x, p.space, metric, p.seed, map_xy, knn, notes)
        min_samples = p.min_samples
        if min_samples is not None and min_samples >= m:
            # The core distance needs min_samples other points.
            min_samples = m - 1
            notes.append(f"min_samples lowered to {min_samples}: there are only {m} points.")
        labels = _run_hdbscan(w, p.min_cluster_size, min_samples)
        return _Sub(labels, f"{name} on {what}", ran=True)

    k = p.n_clusters
    if distinct < k:
        notes.append(f"Only {distinct} distinct point(s), so {distinct} cluster(s) instead of {k}.")
        k = distinct
    if k == 1:
        return _Sub(np.zeros(m, dtype=np.int64), f"{name}: one cluster, nothing to split")
    w, what = _work_space(x, p.space, metric, p.seed, map_xy, knn, notes)
    if p.algorithm == "kmeans":
        labels = _run_kmeans(w, k, p.seed)
        if m > MINIBATCH_ABOVE:
            name = "MiniBatchKMeans"
    else:
        labels = _run_agglomerative(w, k, p.linkage, p.seed, notes)
        name = f"Agglomerative ({p.linkage} linkage)"
    return _Sub(labels, f"{name} on {what}", ran=True)


def _map_hash(map_coords: np.ndarray) -> str:
    a = np.ascontiguousarray(map_coords, dtype=np.float32)
    h = hashlib.sha256(np.asarray(a.shape, dtype=np.int64).tobytes())
    h.update(a.tobytes())
    return h.hexdigest()[:16]


def clustering_key(space: Space, params: ClusterParams, map_coords: np.ndarray | None) -> str:
    """The on-disk key of a clustering of `space` (params already resolved)."""
    key_params: dict[str, Any] = {
        "fingerprint": space.fingerprint,
        "n_map": space.n_map,
        **asdict(params),
    }
    if params.space == "map":
        if map_coords is None:
            raise InputError(_NEED_MAP)
        if len(map_coords) != space.n_map:
            raise InputError(
                f"The map has {len(map_coords)} points but this space maps "
                f"{space.n_map} items; make the map again."
            )
        key_params["map"] = _map_hash(map_coords)
    return step_key(key_params)


def load_clustering(folder: Path, key: str) -> Clustering | None:
    """A clustering stored under `key` (see :func:`clustering_key`), or None."""
    hit = load_step(folder, "clustering", key)
    if hit is None:
        return None
    arrays, meta = hit
    return Clustering(
        labels=arrays["labels"],
        clusters=[ClusterInfo(**c) for c in meta["clusters"]],
        params=meta["params"],
        space_used=meta["space_used"],
        notes=meta.get("notes", []),
        seconds=meta.get("seconds", 0.0),
    )


def cluster_space(
    space: Space,
    params: ClusterParams | None = None,
    *,
    folder: Path | None = None,
    index: VectorIndex | None = None,
    map_coords: np.ndarray | None = None,
    progress: Progress | None = None,
) -> Clustering:
    """Cluster the map rows of `space`, cached on disk in `folder` when given.

    Rows that are not indexable (zero vectors under cosine) get label -1; label
    terms come from the items' text when the space has a ``text`` column.
    Exemplars are row numbers of the space. The 5-d UMAP's kNN graph comes from
    `index` when it covers exactly the clustered rows, else from a temporary index.

    Args:
        map_coords: (n_map, 2 or 3) coordinates of a map of this space (NaN rows
            not drawn); needed when space is ``map`` and part of the cache key then.
    """
    p = params or ClusterParams()
    p.validate()
    p = resolve_space(p, space.dim)
    n_map = space.n_map
    key = clustering_key(space, p, map_coords)
    if folder is not None:
        stored = load_clustering(folder, key)
        if stored is not None:
            return stored
    rows = np.flatnonzero(space.indexable[:n_map])
    x = np.asarray(space.vectors[rows], dtype=np.float32)
    knn = None
    if p.algorithm == "hdbscan" and p.space == "umap5" and rows.size > UMAP_NEIGHBORS + 1:
        if progress:
            progress(0.05, f"Finding {UMAP_NEIGHBORS} neighbours of {rows.size:,} points")
        nbr, dist = rows_knn(space.vectors, space.metric, rows, UMAP_NEIGHBORS - 1, index)
        knn = (nbr, dist)
    if progress:
        progress(0.2, f"Clustering {rows.size:,} points with {_ALGO_NAMES[p.algorithm]}")
    texts = [str(t) for t in space.labels[rows]] if space.has_text else None
    mc = None if p.space != "map" or map_coords is None else np.asarray(map_coords)[rows]
    res = cluster(x, p, metric=space.metric, texts=texts, map_coords=mc, knn=knn)
    labels = np.full(n_map, -1, dtype=np.int64)
    labels[rows] = res.labels
    for info in res.clusters:  # positions in x → rows of the space
        info.exemplars = [int(rows[i]) for i in info.exemplars]
    if rows.size < n_map:
        res.notes.append(
            f"{n_map - rows.size} item(s) with a zero vector have no "
            "direction and are not clustered."
        )
    res.labels = labels
    if folder is not None:
        save_step(
            folder,
            "clustering",
            key,
            {"labels": labels},
            {
                "params": res.params,
                "clusters": [asdict(c) for c in res.clusters],
                "space_used": res.space_used,
                "notes": res.notes,
                "seconds": res.seconds,
                "n_map": n_map,
                "fingerprint": space.fingerprint,
            },
        )
    if progress:
        progress(1.0, f"{len(res.clusters)} cluster(s) in {res.seconds:.1f} s")
    return res
