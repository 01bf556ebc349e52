"""UMAP's epochs on all cores (explorer.maps.epochs) and the landmark start of big maps."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

import explorer.maps.umap as umap_run
from explorer.index.hnsw import build_index
from explorer.index.knn import knn_graph
from explorer.maps.epochs import optimize_layout, place_by_neighbours
from explorer.maps.quality import trustworthiness


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    x = load_digits().data.astype(np.float32)
    return x, knn_graph(build_index(x, "l2"), 14, exact=True)


def _umap(x: np.ndarray, knn: object, **kw: object) -> np.ndarray:
    args = {"dims": 2, "n_neighbors": 15, "min_dist": 0.1, "metric": "l2", "seed": 3}
    return umap_run.umap_layout(x, knn=knn, **{**args, **kw})  # type: ignore[arg-type]


def test_parallel_layout_is_as_faithful_as_umap_learn(digits: tuple) -> None:
    """Both modes of our epochs against umap-learn's own full UMAP on the same graph."""
    x, knn = digits
    umap = umap_run.import_umap()
    reference = umap.UMAP(n_neighbors=15, min_dist=0.1, random_state=3).fit_transform(x)
    t_ref = trustworthiness(x, reference, k=10, metric="l2", sample=None)
    for parallel in (False, True):
        coords = _umap(x, knn, parallel=parallel)
        assert coords.shape == (len(x), 2) and np.isfinite(coords).all()
        t = trustworthiness(x, coords, k=10, metric="l2", sample=None)
        assert t >= 0.97 and t >= t_ref - 0.01, (parallel, t, t_ref)


def test_one_core_gives_the_same_map_for_the_same_seed(digits: tuple) -> None:
    x, knn = digits
    a = _umap(x, knn, parallel=False, n_epochs=50)
    b = _umap(x, knn, parallel=False, n_epochs=50)
    c = _umap(x, knn, parallel=False, n_epochs=50, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_epochs_pull_neighbours_together() -> None:
    """Two cliques joined by nothing: after the epochs each clique is tighter than the gap."""
    rng = np.random.default_rng(0)
    head, tail = [], []
    for base in (0, 20):
        for i in range(20):
            for j in range(20):
                if i != j:
                    head.append(base + i)
                    tail.append(base + j)
    h, t = np.array(head), np.array(tail)
    start = rng.uniform(0, 10, (40, 2)).astype(np.float32)
    before = start.copy()
    out = optimize_layout(start, h, t, np.ones(h.size), 200, 1.58, 0.9, seed=0)
    spread = max(
        np.linalg.norm(out[s] - out[s].mean(0), axis=1).mean()
        for s in (slice(0, 20), slice(20, 40))
    )
    gap = np.linalg.norm(out[:20].mean(0) - out[20:].mean(0))
    assert gap > 3 * spread
    # The caller's start is not moved; no edges, or no epochs: it comes back unchanged.
    np.testing.assert_array_equal(start, before)
    assert not np.allclose(out, start)
    np.testing.assert_array_equal(
        optimize_layout(start, h, t, np.zeros(h.size), 10, 1.58, 0.9, seed=0), start
    )
    np.testing.assert_array_equal(
        optimize_layout(start, h, t, np.ones(h.size), 0, 1.58, 0.9, seed=0), start
    )


def test_place_by_neighbours() -> None:
    # 0 and 1 are fixed; 2 joins both; 3 only knows 2 (placed in round two); 4 knows nobody.
    nbr = np.array([[1, -1], [0, -1], [0, 1], [2, -1], [-1, -1]])
    fixed_xy = np.array([[0.0, 0.0], [2.0, 4.0]], dtype=np.float32)
    pos = place_by_neighbours(nbr, np.array([0, 1]), fixed_xy, seed=0)
    np.testing.assert_array_equal(pos[:2], fixed_xy)
    np.testing.assert_allclose(pos[2], [1.0, 2.0], atol=0.05)
    np.testing.assert_allclose(pos[3], pos[2], atol=0.05)
    assert any(np.allclose(pos[4], p, atol=0.05) for p in fixed_xy)
    assert pos.dtype == np.float32 and np.isfinite(pos).all()


def test_big_maps_start_from_landmarks(digits: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    """init auto: a spectral layout of a few landmarks, the rest placed, then the epochs."""
    x, knn = digits
    monkeypatch.setattr(umap_run, "LANDMARKS", 400)
    calls = []
    original = umap_run.landmark_start

    def spy(*a: object, **kw: object) -> np.ndarray:
        out = original(*a, **kw)  # type: ignore[arg-type]
        calls.append(out)
        return out

    monkeypatch.setattr(umap_run, "landmark_start", spy)
    start = original(x, knn, dims=2, n_neighbors=15, metric="l2", seed=3)
    assert start.shape == (len(x), 2) and np.isfinite(start).all()
    # The start alone already keeps neighbours together (PCA of digits: about 0.8).
    assert trustworthiness(x, start, k=10, metric="l2", sample=None) > 0.85
    coords = _umap(x, knn, init="auto", parallel=False)
    assert len(calls) == 1
    assert trustworthiness(x, coords, k=10, metric="l2", sample=None) >= 0.97
    # Below twice the landmarks, auto starts from PCA.
    small = x[:700]
    _umap(small, knn_graph(build_index(small, "l2"), 14), init="auto", n_epochs=10)
    assert len(calls) == 1


def test_a_convergence_rule_ends_the_epochs_with_a_decay(digits: tuple) -> None:
    """`until` is asked every check_every epochs; once it says yes, the step size falls
    to 0 over decay_share × the epochs done, and no more epochs run after that."""
    x, knn = digits
    reducer, start = umap_run.fuzzy_start(
        x, dims=2, n_neighbors=15, metric="l2", seed=3, init="pca", knn=knn
    )
    asked: list[int] = []

    def rule(done: int, emb: np.ndarray) -> bool:
        asked.append(done)
        assert emb.shape == (len(x), 2)
        return done >= 40

    coords = umap_run.run_epochs(reducer, start, 500, seed=3, parallel=False, until=rule)
    assert asked == [10, 20, 30, 40]  # asked until it said yes, then never again
    assert np.isfinite(coords).all()
    # 40 epochs, then a 20-epoch decay to a step of 0: a faithful map of digits.
    assert trustworthiness(x, coords, k=10, metric="l2", sample=None) >= 0.95
    # Without a rule, the same call runs all 500 epochs and differs.
    full = umap_run.run_epochs(reducer, start, 500, seed=3, parallel=False)
    assert not np.allclose(full, coords)
