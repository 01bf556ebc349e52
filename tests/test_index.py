from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer.core.errors import InputError
from explorer.core.space import make_space
from explorer.core.store import save_space
from explorer.index.hnsw import IndexParams, VectorIndex, build_index, exact_search
from explorer.index.knn import graph_ef, knn_graph
from explorer.ingest.build import index_space
from explorer.opened.handle import open_space


def _recall(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean([len(set(x) & set(y)) / len(y) for x, y in zip(a, b, strict=True)]))


def _clustered(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(20, d))
    return (centres[rng.integers(0, 20, n)] + 0.5 * rng.normal(size=(n, d))).astype(np.float32)


def _space(x: np.ndarray, metric: str = "cosine"):  # type: ignore[no-untyped-def]
    items = pd.DataFrame({"id": [f"i{i}" for i in range(len(x))]})
    return make_space(items, x, metric=metric)  # type: ignore[arg-type]


@pytest.mark.parametrize("metric", ["cosine", "ip", "l2"])
def test_hnsw_matches_exact_search(metric: str) -> None:
    s = _space(_clustered(6000, 32), metric)
    idx = build_index(s.vectors, s.metric, params=IndexParams(exact_below=0))
    assert not idx.exact
    q = s.vectors[:300]
    approx, a_scores = idx.search(q, 10)
    exact, e_scores = idx.search(q, 10, exact=True)
    assert _recall(approx, exact) >= 0.95
    # Scores are similarities (higher first) and agree between the two paths.
    assert (np.diff(e_scores, axis=1) <= 1e-5).all()
    same = approx[:, 0] == exact[:, 0]
    np.testing.assert_allclose(a_scores[same, 0], e_scores[same, 0], atol=1e-4)


def test_exact_search_scores_by_metric() -> None:
    data = np.array([[1, 0], [0, 1], [3, 4]], dtype=np.float32)
    q = np.array([[1, 0]], dtype=np.float32)
    _, s_ip = exact_search(data, q, 3, "ip")
    assert s_ip[0].tolist() == [3.0, 1.0, 0.0]
    r_l2, s_l2 = exact_search(data, q, 3, "l2")
    assert r_l2[0].tolist() == [0, 1, 2]
    np.testing.assert_allclose(s_l2[0], [0.0, -np.sqrt(2), -np.sqrt(20)], atol=1e-5)


def test_small_spaces_use_exact_and_k_is_clamped() -> None:
    s = _space(_clustered(50, 8))
    idx = build_index(s.vectors, s.metric)
    assert idx.exact
    rows, _ = idx.search(s.vectors[:1], 500, exclude=np.array([[0]]))
    assert rows.shape == (1, 49) and 0 not in rows[0]
    nbr, dist = knn_graph(idx, 100)
    assert nbr.shape == (50, 49)
    assert not (nbr == np.arange(50)[:, None]).any()  # never its own neighbour
    assert (dist >= 0).all()


def test_zero_vectors_are_not_indexed() -> None:
    x = _clustered(40, 8)
    x[5] = 0
    s = _space(x)
    idx = build_index(s.vectors, s.metric, rows=np.flatnonzero(s.indexable))
    rows, _ = idx.search(s.vectors[10:20], 39)
    assert 5 not in rows


def test_knn_graph_matches_exact() -> None:
    s = _space(_clustered(6000, 16))
    idx = build_index(s.vectors, s.metric, params=IndexParams(exact_below=0))
    nbr, _ = knn_graph(idx, 10)
    ref, _ = knn_graph(idx, 10, exact=True)
    assert _recall(nbr, ref) >= 0.95


def test_map_graph_searches_at_graph_ef_not_the_tuned_breadth() -> None:
    """A map's graph queries every point: it uses graph_ef(k), whatever ef the
    neighbour lists were tuned to, and still agrees with exact search."""
    from dataclasses import replace

    from explorer.index.knn import map_graph

    s = _space(_clustered(6000, 16))
    idx = build_index(s.vectors, s.metric, params=IndexParams(exact_below=0))
    idx.params = replace(idx.params, ef_search=512)  # as tune_ef leaves a hard index
    assert graph_ef(14) == 28 and graph_ef(3) == 16
    rows, (nbr, _) = map_graph(s, 14, idx)
    assert rows.size == 6000
    same, _ = knn_graph(idx, 14, ef=graph_ef(14))
    np.testing.assert_array_equal(nbr, same)
    ref, _ = knn_graph(idx, 14, exact=True)
    assert _recall(nbr, ref) >= 0.9


def test_save_and_reopen_gives_identical_neighbours(tmp_path: Path) -> None:
    s = _space(_clustered(6000, 16))
    folder = save_space(s, tmp_path / "s")
    s = open_space(folder).space
    params = IndexParams(exact_below=0, ef_search=80)
    idx = index_space(folder, s, params)
    before = idx.search(s.vectors[:200], 10)
    again = open_space(folder).space
    loaded = VectorIndex.load(folder, again)
    assert loaded is not None and not loaded.exact
    # ef (tuned at build) is restored, not left at hnswlib's default of 10.
    assert loaded.params.ef_search == idx.params.ef_search
    after = loaded.search(again.vectors[:200], 10)
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_allclose(before[1], after[1])


def test_stale_index_is_not_loaded(tmp_path: Path) -> None:
    s = _space(_clustered(100, 8))
    folder = save_space(s, tmp_path / "s")
    index_space(folder, open_space(folder).space)
    other = _space(_clustered(100, 8, seed=1))
    assert VectorIndex.load(folder, other) is None


def test_query_errors() -> None:
    s = _space(_clustered(20, 8))
    idx = build_index(s.vectors, s.metric)
    with pytest.raises(InputError, match="dimension 4.*dimension 8"):
        idx.search(np.ones((1, 4)), 3)
    with pytest.raises(InputError, match="zero query"):
        idx.search(np.zeros((1, 8)), 3)
    with pytest.raises(InputError, match="at least 1"):
        idx.search(np.ones((1, 8)), 0)


def test_tune_ef_picks_the_smallest_ef_that_reaches_the_target() -> None:
    from explorer.index.hnsw import EF_LADDER, tune_ef
    from explorer.index.recall import recall_at_k

    s = _space(_clustered(6000, 32))
    idx = build_index(s.vectors, s.metric, params=IndexParams(exact_below=0, ef_search=500))
    tune_ef(idx, target=0.99, sample=300)
    ef = idx.params.ef_search
    assert ef in EF_LADDER and ef < 500
    rows = np.arange(0, 6000, 20)
    truth, _ = idx.search(s.vectors[rows], 10, exclude=rows[:, None], exact=True)
    found, _ = idx.search(s.vectors[rows], 10, exclude=rows[:, None], ef=ef)
    assert recall_at_k(found, truth, 10) >= 0.98
    smaller = [e for e in EF_LADDER if e < ef]
    if smaller:  # the step below did not reach the target on the tuning sample
        sample = np.sort(np.random.default_rng(0).choice(6000, 300, replace=False))
        t2, _ = idx.search(s.vectors[sample], 10, exclude=sample[:, None], exact=True)
        f2, _ = idx.search(s.vectors[sample], 10, exclude=sample[:, None], ef=smaller[-1])
        assert recall_at_k(f2, t2, 10) < 0.99


@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_search_among_some_rows_is_exact_search_over_them(metric: str) -> None:
    rng = np.random.default_rng(3)
    data = rng.normal(size=(3000, 16)).astype(np.float32)
    if metric == "cosine":  # a space's cosine vectors are unit rows
        data /= np.linalg.norm(data, axis=1, keepdims=True)
    index = build_index(data, metric)  # type: ignore[arg-type]
    among = rng.random(3000) < 0.1
    q = rng.normal(size=(2, 16)).astype(np.float32)
    rows, scores = index.search(q, 7, exclude=[[int(np.flatnonzero(among)[0])], []], among=among)
    assert among[rows].all() and rows.shape == (2, 7)
    allowed = np.flatnonzero(among)
    qq = q / np.linalg.norm(q, axis=1, keepdims=True) if metric == "cosine" else q
    pos, want = exact_search(data[allowed], qq, 8, metric)  # type: ignore[arg-type]
    assert rows[1].tolist() == allowed[pos[1, :7]].tolist()
    assert (
        allowed[0] not in rows[0]
        and rows[0].tolist() == [r for r in allowed[pos[0]] if r != allowed[0]][:7]
    )
    np.testing.assert_allclose(scores[1], want[1, :7], rtol=1e-5)
    with pytest.raises(InputError, match="among"):
        index.search(q, 3, among=among[:10])
