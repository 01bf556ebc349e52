"""Small formulas the engine uses in many places, each written once.

* :func:`unit_rows`: rows scaled to unit length (zero rows stay zero);
* :func:`distance_name`: our metric names as scikit-learn / umap-learn distances;
* :func:`pca`: a seeded PCA that also copes with one point or identical points;
* :func:`procrustes`: the rotation that best maps one set of points onto another.
"""

from __future__ import annotations

import numpy as np

__all__ = ["distance_name", "pca", "procrustes", "unit_rows"]


def unit_rows(x: object) -> tuple[np.ndarray, np.ndarray]:
    """Rows of `x` divided by their Euclidean norm.

    Args:
        x: (n, d) numbers.

    Returns:
        (unit (n, d) float32, a new array; norms (n,) float32). A zero row stays zero
        (it has no direction) and its norm is 0, so ``norms == 0`` finds them.
    """
    mat = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(mat, axis=1).astype(np.float32)
    # `!= 0` rather than `> 0`: a NaN row stays NaN, so later checks can name it.
    unit = np.divide(mat, norms[:, None], out=np.zeros_like(mat), where=norms[:, None] != 0)
    return unit, norms


def distance_name(metric: str, *, ip: str = "ip") -> str:
    """Our metric name as a scikit-learn / umap-learn distance: ``l2`` is ``euclidean``.

    ``ip`` has no distance of that name: pass ``ip="cosine"`` where the caller
    wants the nearest such distance (UMAP, t-SNE, silhouette). Other names pass through.
    """
    if metric == "l2":
        return "euclidean"
    if metric == "ip":
        return ip
    return metric


def pca(x: np.ndarray, dims: int, seed: int = 0) -> np.ndarray:
    """(n, d) rows → (n, dims) float32 principal components, seeded.

    With fewer points or dimensions than `dims` the missing components are 0, and
    one point or identical points give all zeros (there is no direction to find).
    """
    from sklearn.decomposition import PCA

    a = np.asarray(x, dtype=np.float32)
    n, d = a.shape
    k = min(dims, n, d)
    out = np.zeros((n, dims), dtype=np.float32)
    if n >= 2 and k >= 1 and (a != a[0]).any():
        out[:, :k] = PCA(n_components=k, random_state=seed).fit_transform(a)
    return out


def procrustes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The orthogonal (d, d) matrix R minimising ||a R - b|| (Frobenius).

    a, b: (n, d) paired rows (e.g. the same items in two spaces, or word pairs of two
    languages). R = U Vᵀ from the SVD of aᵀ b (Schönemann 1966); float64.
    """
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(
            f"procrustes needs two (n, d) arrays of one shape, got {x.shape}, {y.shape}"
        )
    u, _, vt = np.linalg.svd(x.T @ y)
    return np.asarray(u @ vt)
