"""Map faithfulness, index recall and cluster agreement (explorer.maps.quality)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness as sk_trustworthiness

from explorer.cluster.agreement import cluster_agreement, silhouette
from explorer.core.errors import InputError
from explorer.core.space import make_space
from explorer.index.hnsw import IndexParams, build_index
from explorer.index.knn import knn_graph
from explorer.index.recall import index_recall, recall_at_k
from explorer.maps.quality import (
    continuity,
    map_quality,
    neighbourhood_preservation,
    trustworthiness,
)


@pytest.fixture(scope="module")
def iris():
    x = load_iris().data.astype(np.float32)
    good = PCA(n_components=2, random_state=0).fit_transform(x)
    bad = good[np.random.default_rng(0).permutation(len(good))]
    return x, good, bad


@pytest.fixture(scope="module")
def digits():
    return load_digits().data.astype(np.float32)


def test_trustworthiness_pca_high_shuffled_low(iris):
    x, good, bad = iris
    t_good = trustworthiness(x, good, k=10, metric="l2", sample=None)
    t_bad = trustworthiness(x, bad, k=10, metric="l2", sample=None)
    assert t_good > 0.95
    assert t_bad < 0.6
    # Iris has duplicate flowers: tied ranks are broken by row here and by sort
    # order in sklearn, so the figures differ in the fifth decimal.
    assert t_good == pytest.approx(sk_trustworthiness(x, good, n_neighbors=10), abs=1e-4)
    rng = np.random.default_rng(1)
    hi = rng.normal(size=(400, 12)).astype(np.float32)
    lo = hi[:, :2] + 0.3 * rng.normal(size=(400, 2)).astype(np.float32)
    for metric in ("l2", "cosine"):
        ours = trustworthiness(hi, lo, k=10, metric=metric, sample=None)
        ref = sk_trustworthiness(hi, lo, n_neighbors=10, metric=metric.replace("l2", "euclidean"))
        assert ours == pytest.approx(ref, abs=1e-9)  # no ties: sklearn's figure
    assert trustworthiness(x, good, k=10) > 0.85  # default metric: cosine
    assert trustworthiness(x, bad, k=10) < 0.6


def test_continuity_pca_high_shuffled_low(iris):
    x, good, bad = iris
    assert continuity(x, good, k=10, metric="l2", sample=None) > 0.95
    assert continuity(x, bad, k=10, metric="l2", sample=None) < 0.6


def test_continuity_is_trustworthiness_with_roles_swapped():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 10))
    y = x[:, :2] + 0.5 * rng.normal(size=(200, 2))
    assert continuity(x, y, k=7, metric="l2") == pytest.approx(
        sk_trustworthiness(y, x, n_neighbors=7), abs=1e-12
    )
    # Under cosine the high-dimensional neighbours are those of the unit vectors.
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    assert continuity(x, y, k=7, metric="cosine") == pytest.approx(
        sk_trustworthiness(y, unit, n_neighbors=7), abs=1e-12
    )
    # Not symmetric: continuity differs from trustworthiness on a lossy map.
    assert continuity(x, y, k=7, metric="l2") != pytest.approx(
        trustworthiness(x, y, k=7, metric="l2"), abs=1e-3
    )
    # Inner product ranks by minus the dot product.
    assert 0.5 < trustworthiness(x, y, k=7, metric="ip") <= 1.0


def test_continuity_counts_ranks_like_a_full_sort_with_ties():
    """The counted ranks equal those of a stable argsort, ties broken by row."""
    from explorer.maps.quality import _BLOCK, _distances, _k_smallest

    rng = np.random.default_rng(3)
    d = rng.integers(0, 5, size=(40, 60)).astype(float)  # many ties
    for k in (1, 4, 10):
        chosen = np.sort(_k_smallest(d, k), axis=1)
        ref = np.sort(np.argsort(d, axis=1, kind="stable")[:, :k], axis=1)
        np.testing.assert_array_equal(chosen, ref)
    # float32, as continuity() casts its inputs.
    x = rng.normal(size=(300, 8)).astype(np.float32)
    y = np.round(x[:, :2] + rng.normal(size=(300, 2)), 1).astype(np.float32)  # ties on the map
    x[5] = x[6]  # and in the space
    n = len(x)
    # Reference: full stable sorts, on distances computed exactly as the metric does
    # (block by block), so that the same pairs tie.
    rows = [np.arange(s, min(s + _BLOCK, n)) for s in range(0, n, _BLOCK)]
    dy = np.vstack([_distances(y[r], y, "euclidean") for r in rows])
    dx = np.vstack([_distances(x[r], x, "l2") for r in rows])
    np.fill_diagonal(dy, np.inf)
    np.fill_diagonal(dx, np.inf)
    rank = np.empty((n, n), dtype=int)
    np.put_along_axis(rank, np.argsort(dy, axis=1, kind="stable"), np.arange(1, n + 1)[None], 1)
    for k in (3, 10):
        near = np.argsort(dx, axis=1, kind="stable")[:, :k]
        penalty = np.maximum(np.take_along_axis(rank, near, 1) - k, 0).sum()
        expected = 1 - 2 * penalty / (n * k * (2 * n - 3 * k - 1))
        assert continuity(x, y, k=k, metric="l2", sample=None) == pytest.approx(expected, abs=1e-12)


def test_trustworthiness_subsamples_large_inputs(digits):
    low = PCA(n_components=2, random_state=0).fit_transform(digits)
    full = trustworthiness(digits, low, k=10, sample=None)
    a = trustworthiness(digits, low, k=10, sample=400, seed=1)
    b = trustworthiness(digits, low, k=10, sample=400, seed=1)
    c = trustworthiness(digits, low, k=10, sample=400, seed=2)
    assert a == b  # the seed fixes the subsample
    assert a != c  # another seed, another subsample
    assert abs(a - full) < 0.05
    sub = np.sort(np.random.default_rng(1).choice(len(digits), 400, replace=False))
    assert a == pytest.approx(
        sk_trustworthiness(digits[sub], low[sub], n_neighbors=10, metric="cosine")
    )


def test_trustworthiness_errors(iris):
    x, good, _ = iris
    with pytest.raises(InputError, match="must match"):
        trustworthiness(x, good[:-1])
    with pytest.raises(InputError, match="at least 3"):
        trustworthiness(x[:2], good[:2])
    assert 0 < trustworthiness(x[:9], good[:9], k=50) <= 1  # k is clamped below n / 2


def test_neighbourhood_preservation_identity_and_shuffled():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(400, 2)).astype(np.float32)
    space = make_space(pd.DataFrame({"id": [str(i) for i in range(400)]}), pts, metric="l2")
    index = build_index(space.vectors, space.metric)
    nbrs, _ = knn_graph(index, 10)
    same = neighbourhood_preservation(nbrs, pts, k=10)
    assert same.shape == (400,) and same.dtype == np.float32
    np.testing.assert_array_equal(same, 1.0)
    shuffled = neighbourhood_preservation(nbrs, pts[rng.permutation(400)], k=10)
    assert shuffled.mean() < 0.1
    assert ((shuffled >= 0) & (shuffled <= 1)).all()
    # A slightly jittered map keeps most but not all neighbours.
    jitter = neighbourhood_preservation(nbrs, pts + 0.05 * rng.normal(size=pts.shape), k=10)
    assert 0.5 < jitter.mean() < 1.0


def test_neighbourhood_preservation_hand_example_and_errors():
    low = np.array([[0.0, 0], [1, 0], [2.5, 0], [10, 0]])
    # map 2-NN: 0 → {1, 2}, 1 → {0, 2}, 2 → {1, 0}, 3 → {2, 1}
    high = np.array([[3, 1], [0, 2], [1, 3], [2, 1]])
    np.testing.assert_allclose(neighbourhood_preservation(high, low, k=2), [0.5, 1.0, 0.5, 1.0])
    np.testing.assert_allclose(neighbourhood_preservation(high, low, k=1), [0.0, 1.0, 1.0, 1.0])
    with pytest.raises(InputError, match="outside"):
        neighbourhood_preservation(np.array([[5], [0], [0], [0]]), low, k=1)
    with pytest.raises(InputError, match="one row per map point"):
        neighbourhood_preservation(high[:3], low)


def test_recall_at_k_hand_computed():
    approx = np.array([[1, 2, 3], [4, 5, 6]])
    exact = np.array([[1, 2, 9], [5, 8, 6]])
    assert recall_at_k(approx, exact, k=3) == pytest.approx((2 / 3 + 2 / 3) / 2)
    assert recall_at_k(approx, exact, k=1) == pytest.approx(0.5)
    assert recall_at_k(exact, exact, k=3) == 1.0
    # -1 pads a short exact list: only real ids count.
    assert recall_at_k(np.array([[7, 1]]), np.array([[1, -1]]), k=2) == 1.0
    with pytest.raises(InputError):
        recall_at_k(approx, exact[:1])


def test_index_recall_on_digits(digits):
    space = make_space(pd.DataFrame({"id": [str(i) for i in range(len(digits))]}), digits)
    good = build_index(
        space.vectors,
        space.metric,
        rows=np.flatnonzero(space.indexable),
        params=IndexParams(exact_below=0),
    )
    assert not good.exact
    r = index_recall(good, space, k=10, sample=300)
    assert 0.95 <= r <= 1.0
    exact = build_index(space.vectors, space.metric)
    assert index_recall(exact, space, k=10, sample=300) == 1.0
    # A deliberately poor graph has visibly lower recall: the measure is not constant.
    poor = build_index(
        space.vectors,
        space.metric,
        params=IndexParams(exact_below=0, M=2, ef_construction=4, ef_search=1),
        num_threads=1,
    )
    assert index_recall(poor, space, k=10, sample=300) < r


def test_cluster_agreement():
    true = np.array(["a", "a", "b", "b", "c", "c"])
    same = cluster_agreement(true, true)
    assert same["ari"] == pytest.approx(1.0) and same["nmi"] == pytest.approx(1.0)
    renamed = cluster_agreement(np.array([2, 2, 0, 0, 1, 1]), true)
    assert renamed["ari"] == pytest.approx(1.0) and renamed["nmi"] == pytest.approx(1.0)
    table = renamed["table"]
    assert isinstance(table, pd.DataFrame)
    assert table.shape == (3, 3) and table.to_numpy().sum() == 6
    assert table.loc["a", 2] == 2 and table.loc["b", 0] == 2
    mixed = cluster_agreement([0, 1, 0, 1, 0, 1], true)
    assert mixed["ari"] < 0.5
    with pytest.raises(InputError, match="match one to one"):
        cluster_agreement([0, 1], true)


def test_silhouette():
    rng = np.random.default_rng(0)
    blobs = np.vstack(
        [rng.normal(size=(50, 5)) + 10 * np.eye(5)[0], rng.normal(size=(50, 5)) + 10 * np.eye(5)[1]]
    )
    labels = np.repeat([0, 1], 50)
    s = silhouette(blobs, labels, metric="l2")
    assert s is not None and s > 0.7
    assert silhouette(blobs, labels) > 0.7  # cosine
    # Noise points (-1) are ignored.
    noise = rng.normal(size=(30, 5)) * 20
    with_noise = silhouette(
        np.vstack([blobs, noise]), np.concatenate([labels, -np.ones(30, dtype=int)]), metric="l2"
    )
    assert with_noise == pytest.approx(s)
    assert silhouette(blobs, rng.permutation(labels), metric="l2") < 0.1
    assert silhouette(blobs, np.zeros(100, dtype=int)) is None
    assert silhouette(blobs, -np.ones(100, dtype=int)) is None
    sampled = silhouette(blobs, labels, metric="l2", sample=40, seed=0)
    assert sampled is not None and abs(sampled - s) < 0.1


def test_an_ip_space_is_measured_by_the_neighbours_its_index_ranks() -> None:
    """One neighbour definition per metric: under ``ip`` the map's quality ranks by the
    dot product, as the index does, in trustworthiness and continuity as in the
    per-point preservation (a vector's long norm pulls it near everything)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 8)) * rng.uniform(0.2, 5.0, size=(300, 1))
    space = make_space(pd.DataFrame({"id": [str(i) for i in range(300)]}), x, metric="ip")
    index = build_index(space.vectors, "ip", params=IndexParams(exact_below=10_000))
    nbrs, _ = knn_graph(index, 10)
    coords = PCA(2, random_state=0).fit_transform(x).astype(np.float32)
    q = map_quality(space.vectors, coords, nbrs, "ip", k=10)
    by_dot = trustworthiness(space.vectors, coords, k=10, metric="ip")
    by_cosine = trustworthiness(space.vectors, coords, k=10, metric="cosine")
    assert q.trustworthiness == by_dot != by_cosine
    assert q.continuity == continuity(space.vectors, coords, k=10, metric="ip")
