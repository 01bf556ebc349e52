"""How good is a learned image space? Set it beside raw pixels and PCA of the pixels.

Each space (same images, same labels) gets three figures, all with one metric
(cosine by default, the app's metric for image spaces):

* kNN accuracy: a k-nearest-neighbour vote (k = 5) predicts each image's class from
  the other images, in stratified 5-fold cross-validation (every image is predicted
  once, by a classifier that never saw it); the share predicted right.
* ARI: k-means with as many clusters as classes (10 starts, seeded) against the true
  classes, by the adjusted Rand index (1 = the same partition, 0 = chance). With the
  cosine metric the rows are scaled to unit length first, so k-means groups directions.
* trustworthiness (k = 10) of the app's default 2-D map (UMAP with PCA init,
  :func:`explorer.maps.projections.project`) of at most ``sample`` images chosen at random:
  are the map's neighbours real neighbours in the space?

Labels are used only to score, never to make a space.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from explorer.cluster.agreement import cluster_agreement
from explorer.core.errors import InputError
from explorer.core.linalg import pca, unit_rows
from explorer.maps.quality import QUALITY_K, trustworthiness

__all__ = ["SpaceScore", "compare_image_spaces", "image_baselines", "knn_accuracy"]

PCA_DIMS = 50


@dataclass(frozen=True)
class SpaceScore:
    """One space's figures (see the module docstring); 0..1, higher is better."""

    name: str
    knn_accuracy: float
    ari: float
    trustworthiness: float
    dims: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def knn_accuracy(
    vectors: np.ndarray, labels: np.ndarray, *, k: int = 5, seed: int = 0, metric: str = "cosine"
) -> float:
    """Stratified 5-fold cross-validated accuracy of a k-NN vote, 0..1.

    Args:
        vectors: (n, d) rows.
        labels: (n,) classes; a class with fewer than 5 images means as many folds as
            it has images (at least 2).
        metric: any scikit-learn distance (``cosine``, ``euclidean``).
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    y = np.asarray(labels)
    folds = min(5, int(np.unique(y, return_counts=True)[1].min()))
    if folds < 2:
        raise InputError("Every class needs at least 2 images for a kNN accuracy.")
    # Within a fold the training part must still hold k neighbours.
    k = max(1, min(k, len(y) - len(y) // folds - 1))
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    knn = KNeighborsClassifier(n_neighbors=k, metric=metric, algorithm="brute")
    return float(cross_val_score(knn, vectors, y, cv=cv).mean())


def _ari(x: np.ndarray, labels: np.ndarray, metric: str, seed: int) -> float:
    from sklearn.cluster import KMeans

    classes = len(np.unique(labels))
    rows = unit_rows(x)[0] if metric == "cosine" else x
    pred = KMeans(n_clusters=classes, n_init=10, random_state=seed).fit_predict(rows)
    return float(cluster_agreement(pred.tolist(), labels.tolist())["ari"])


def _map_trust(x: np.ndarray, rows: np.ndarray, metric: str, seed: int) -> float:
    from explorer.maps.projections import ProjectionParams, project

    sub = x[rows]
    # UMAP and the app know cosine and l2; euclidean is l2.
    space_metric = "l2" if metric == "euclidean" else metric
    coords = project(sub, ProjectionParams(seed=seed), metric=space_metric).coords  # type: ignore[arg-type]
    return trustworthiness(sub, coords, k=QUALITY_K, metric=space_metric, sample=None)


def _checked(
    spaces: dict[str, np.ndarray], labels: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) < 10:
        raise InputError(f"Give one label per image, for at least 10 images (got {y.shape}).")
    if not spaces:
        raise InputError("Give at least one space to score.")
    out = {}
    for name, v in spaces.items():
        x = np.asarray(v, dtype=np.float32)
        if x.ndim != 2 or x.shape[0] != len(y):
            raise InputError(
                f"Space {name!r} has shape {x.shape}; it needs one row per label ({len(y)})."
            )
        if not np.isfinite(x).all():
            raise InputError(f"Space {name!r} holds NaN or infinite values.")
        out[name] = x
    return out, y


def compare_image_spaces(
    spaces: dict[str, np.ndarray],
    labels: np.ndarray,
    *,
    k: int = 5,
    seed: int = 0,
    sample: int = 2000,
    metric: str = "cosine",
) -> list[SpaceScore]:
    """Score each space of the same images (see the module docstring), in order given.

    Args:
        spaces: name → (n, d) vectors, row i of each being image i.
        labels: (n,) true classes.
        k: neighbours that vote in the kNN accuracy.
        sample: images mapped for the trustworthiness (the same ones for every space).
        metric: ``cosine`` or ``euclidean``, for every space alike.

    Raises:
        InputError: shapes that do not match, NaN, a class with one image.
    """
    if metric not in ("cosine", "euclidean"):
        raise InputError(f"metric must be 'cosine' or 'euclidean', not {metric!r}.")
    checked, y = _checked(spaces, labels)
    n = len(y)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n, size=min(sample, n), replace=False))
    return [
        SpaceScore(
            name=name,
            knn_accuracy=knn_accuracy(x, y, k=k, seed=seed, metric=metric),
            ari=_ari(x, y, metric, seed),
            trustworthiness=_map_trust(x, rows, metric, seed),
            dims=int(x.shape[1]),
        )
        for name, x in checked.items()
    ]


def image_baselines(images: np.ndarray) -> dict[str, np.ndarray]:
    """The spaces a learned one should beat: the pixels themselves, and their PCA.

    Returns:
        ``{"raw pixels": (n, h·w·C) float32 in 0..1, "PCA of pixels (50-d)": (n, 50)
        float32}``.
    """
    from explorer.train.encoder import check_images

    a = check_images(images)
    flat = a.reshape(a.shape[0], -1).astype(np.float32)
    if a.dtype.kind in "ui":
        flat /= 255.0
    return {"raw pixels": flat, f"PCA of pixels ({PCA_DIMS}-d)": pca(flat, PCA_DIMS, seed=0)}
