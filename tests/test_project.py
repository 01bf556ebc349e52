from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.manifold import trustworthiness

from explorer.core.errors import InputError
from explorer.core.space import make_space
from explorer.core.store import load_step, save_space, step_key
from explorer.index.hnsw import IndexParams, build_index
from explorer.maps.projections import ProjectionParams, project, project_space
from explorer.opened.handle import OpenedSpace, open_space


@pytest.fixture(scope="module")
def iris() -> np.ndarray:
    return load_iris().data.astype(np.float32)


def test_umap_on_iris_is_trustworthy(iris: np.ndarray) -> None:
    proj = project(iris, ProjectionParams(method="umap"), metric="l2")
    assert proj.method == "umap" and proj.coords.shape == (150, 2)
    assert trustworthiness(iris, proj.coords, n_neighbors=10) >= 0.97


@pytest.fixture()
def umap_kwargs(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """The keyword arguments of the latest umap.UMAP(...) made by the code under test."""
    import umap

    seen: dict[str, object] = {}
    real = umap.UMAP

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(umap, "UMAP", spy)
    return seen


def test_umap_reuses_the_index_graph(iris_dir: Path, umap_kwargs: dict[str, object]) -> None:
    seen = umap_kwargs
    space = open_space(iris_dir).space
    index = build_index(space.vectors, space.metric)
    proj = project_space(OpenedSpace.of(space, index), ProjectionParams(n_neighbors=12))
    knn_idx, knn_dist = seen["precomputed_knn"]  # type: ignore[misc]
    assert knn_idx.shape == (150, 12)
    assert (knn_idx[:, 0] == np.arange(150)).all() and (knn_dist[:, 0] == 0).all()
    assert trustworthiness(np.asarray(space.vectors), proj.coords, n_neighbors=10) >= 0.95


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_pca_and_tsne_quality(iris: np.ndarray, method: str) -> None:
    proj = project(iris, ProjectionParams(method=method), metric="l2")  # type: ignore[arg-type]
    assert trustworthiness(iris, proj.coords, n_neighbors=10) >= 0.95


@pytest.mark.parametrize("method", ["pca", "umap", "tsne"])
def test_three_dimensions(iris: np.ndarray, method: str) -> None:
    proj = project(iris, ProjectionParams(method=method, dims=3), metric="l2")  # type: ignore[arg-type]
    assert proj.coords.shape == (150, 3) and np.isfinite(proj.coords).all()
    assert np.ptp(proj.coords[:, 2]) > 0  # the third axis is used


@pytest.mark.parametrize(
    ("x", "params", "reason"),
    [
        (np.random.default_rng(0).normal(size=(3, 10)), ProjectionParams(), "only 3 point"),
        (np.ones((30, 10)), ProjectionParams(method="tsne"), "identical"),
        (
            np.random.default_rng(0).normal(size=(12, 10)),
            ProjectionParams(n_neighbors=15),
            "n_neighbors=15",
        ),
    ],
)
def test_tiny_or_degenerate_input_falls_back_to_pca(
    x: np.ndarray, params: ProjectionParams, reason: str
) -> None:
    proj = project(x, params)
    assert proj.method == "pca"
    assert proj.coords.shape == (len(x), 2) and np.isfinite(proj.coords).all()
    assert any(reason in n and "PCA" in n for n in proj.notes)


def test_single_point_and_two_points() -> None:
    # One point: UMAP (the default) falls back to PCA, which has no direction to find:
    # the point sits at the origin.
    one = project(np.arange(5.0)[None, :])
    assert one.method == "pca" and any("only 1 point" in n and "PCA" in n for n in one.notes)
    np.testing.assert_array_equal(one.coords, np.zeros((1, 2), np.float32))
    # Two points: PCA too; the one direction they span is the first axis, on which they
    # sit either side of the origin at their true distance apart; the second axis is 0.
    a, b = np.array([0.0, 1, 2, 3, 4]), np.array([3.0, -1, 2, 0, 8])
    for params in (ProjectionParams(), ProjectionParams(method="tsne", dims=3)):
        two = project(np.stack([a, b]), params)
        assert two.method == "pca" and any("only 2 point" in n for n in two.notes)
        assert two.coords.shape == (2, params.dims) and two.coords.dtype == np.float32
        np.testing.assert_allclose(two.coords[0], -two.coords[1], atol=1e-5)
        assert abs(two.coords[0, 0] - two.coords[1, 0]) == pytest.approx(
            np.linalg.norm(a - b), rel=1e-5
        )
        np.testing.assert_allclose(two.coords[:, 1:], 0.0, atol=1e-5)
    # Two identical points: no direction either, both at the origin.
    same = project(np.stack([a, a]))
    np.testing.assert_array_equal(same.coords, np.zeros((2, 2), np.float32))


def test_low_dimensional_input_is_shown_as_is() -> None:
    x = np.random.default_rng(0).normal(size=(40, 2)).astype(np.float32)
    proj = project(x, ProjectionParams(method="umap"), metric="l2")
    assert proj.method == "as-is"
    np.testing.assert_array_equal(proj.coords, x)


def test_bad_parameters_are_named() -> None:
    with pytest.raises(InputError, match="2 or 3"):
        ProjectionParams(dims=4).validate()
    with pytest.raises(InputError, match="min_dist"):
        ProjectionParams(min_dist=2).validate()
    with pytest.raises(InputError, match="n_neighbors"):
        ProjectionParams(n_neighbors=1).validate()
    with pytest.raises(InputError, match="n_epochs"):
        ProjectionParams(n_epochs=0).validate()  # an error, not a silent default
    with pytest.raises(InputError, match="init"):
        ProjectionParams(init="bogus").validate()  # type: ignore[arg-type]
    with pytest.raises(InputError, match="seed"):
        ProjectionParams(seed=-1).validate()
    with pytest.raises(InputError, match="parallel must be true or false"):
        ProjectionParams(parallel="yes").validate()  # type: ignore[arg-type]
    ProjectionParams(init="auto", parallel=False).validate()
    with pytest.raises(InputError, match="n_neighbors"):
        ProjectionParams(n_neighbors=7.5).validate()  # type: ignore[arg-type]


def test_projection_is_cached_with_parameters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 10))
    x[7] = 0  # no direction under cosine: not drawn
    space = make_space(pd.DataFrame({"id": [str(i) for i in range(60)]}), x)
    folder = save_space(space, tmp_path / "s")
    space = open_space(folder).space
    params = ProjectionParams(method="pca")
    first = project_space(open_space(folder), params)
    assert np.isnan(first.coords[7]).all() and np.isfinite(np.delete(first.coords, 7, 0)).all()
    assert any("zero vector" in n for n in first.notes)
    key = step_key(
        {"fingerprint": space.fingerprint, "n_map": 60, **__import__("dataclasses").asdict(params)}
    )
    arrays, meta = load_step(folder, "projection", key)  # type: ignore[misc]
    assert meta["params"]["method"] == "pca" and meta["fingerprint"] == space.fingerprint
    # The map's quality is stored with it.
    assert meta["quality"]["k"] == 10 and 0.5 < meta["quality"]["trustworthiness"] <= 1
    assert arrays["preservation"].shape == (60,) and np.isnan(arrays["preservation"][7])

    import explorer.maps.projections as mod

    monkeypatch.setattr(mod, "project", lambda *a, **k: pytest.fail("recomputed"))
    again = project_space(open_space(folder), params)
    np.testing.assert_array_equal(again.coords, first.coords)


def test_map_rows_limit_the_projection(umap_kwargs: dict[str, object]) -> None:
    rng = np.random.default_rng(1)
    ids = pd.DataFrame({"id": [str(i) for i in range(6000)]})
    x = rng.normal(size=(6000, 20))
    space = make_space(ids, x, map_rows=400)
    first = make_space(ids[:400], x[:400])  # a space of the first 400 rows alone
    index = build_index(space.vectors, space.metric, params=IndexParams(exact_below=0))
    # PCA (deterministic): the map is the PCA of the first 400 rows, found from them
    # alone, not the first 400 points of a PCA of all 6,000.
    pca = ProjectionParams(method="pca")
    proj = project_space(OpenedSpace.of(space, index), pca)
    assert proj.coords.shape == (400, 2)
    np.testing.assert_allclose(proj.coords, project_space(first, pca).coords, atol=1e-5)
    whole = project_space(make_space(ids, x), pca).coords[:400]
    assert not np.allclose(np.abs(whole), np.abs(proj.coords), atol=0.05)
    # UMAP: its kNN graph holds the first 400 rows only, and is their exact kNN graph
    # (the index over all 6,000 rows is not used for it); the layout is then that of
    # the first 400 rows alone (one thread: the same seed gives the same map).
    umap = ProjectionParams(method="umap", n_epochs=50, parallel=False)
    proj = project_space(OpenedSpace.of(space, index), umap)
    knn_idx, _ = umap_kwargs["precomputed_knn"]  # type: ignore[misc]
    assert proj.coords.shape == (400, 2) and np.isfinite(proj.coords).all()
    assert knn_idx.shape == (400, umap.n_neighbors)
    unit = x[:400] / np.linalg.norm(x[:400], axis=1, keepdims=True)
    exact = np.argsort(-(unit @ unit.T), axis=1)[:, : umap.n_neighbors]
    assert np.array_equal(np.sort(knn_idx, axis=1), np.sort(exact, axis=1))
    np.testing.assert_allclose(proj.coords, project_space(first, umap).coords, atol=1e-4)


def test_epochs_scale_with_n() -> None:
    from explorer.maps.umap import scaled_epochs

    assert scaled_epochs(150) == 500 and scaled_epochs(20_000) == 200
    assert scaled_epochs(100_000) == scaled_epochs(1_000_000) == 200
    ns = [100, 1_000, 5_000, 20_000, 50_000]
    assert [scaled_epochs(n) for n in ns] == sorted((scaled_epochs(n) for n in ns), reverse=True)


def test_umap_gets_scaled_epochs_and_pca_init(
    umap_kwargs: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    import explorer.maps.umap as umap_run
    from explorer.maps.umap import scaled_epochs

    seen = umap_kwargs
    epochs: list[tuple[int, bool]] = []
    real = umap_run.optimize_layout

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        epochs.append((args[4], kwargs["parallel"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(umap_run, "optimize_layout", spy)
    x = np.random.default_rng(0).normal(size=(300, 8)).astype(np.float32)
    project(x, ProjectionParams())
    # umap-learn builds the graph and the start only; the epochs run on all cores.
    assert seen["n_epochs"] == 0 and seen["init"] == "pca"
    assert epochs[-1] == (scaled_epochs(300), True)
    project(x, ProjectionParams(n_epochs=37, init="spectral", parallel=False))
    assert seen["init"] == "spectral" and epochs[-1] == (37, False)


def test_a_map_drawn_first_is_measured_later_from_the_graph_it_kept(
    digits_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The map comes without its quality; measuring it afterwards needs no new search
    and gives the figures a search for the true neighbours gives."""
    from explorer.index import knn
    from explorer.maps.projections import projection_quality, quality_stored
    from explorer.maps.quality import map_quality

    opened = open_space(digits_dir)
    p = ProjectionParams(method="umap", seed=913)
    proj = project_space(opened, p, quality=False)
    assert proj.quality is None and not quality_stored(opened, p)
    assert proj.neighbours is not None and proj.neighbours.shape == (opened.space.n_map, 10)

    def no_search(*args: object, **kwargs: object) -> None:
        raise AssertionError("the true neighbours were searched again")

    with monkeypatch.context() as m:
        m.setattr(knn, "rows_knn", no_search)
        q = projection_quality(opened, p)
    assert quality_stored(opened, p)
    space = opened.space
    searched = knn.map_knn(space, opened.index, 10)
    want = map_quality(np.asarray(space.vectors), proj.coords, searched, space.metric, 10)
    assert q.trustworthiness == pytest.approx(want.trustworthiness, abs=2e-3)
    assert np.nanmean(q.preservation) == pytest.approx(np.nanmean(want.preservation), abs=5e-3)
    assert q.trustworthiness >= 0.95
    # Reopened, the map and its quality are read back, not made again.
    reopened = open_space(digits_dir)
    with monkeypatch.context() as m:
        m.setattr(knn, "rows_knn", no_search)
        m.setattr("explorer.maps.projections.project", no_search)
        again = project_space(reopened, p)
    assert again.quality is not None and again.quality.trustworthiness == q.trustworthiness
    np.testing.assert_array_equal(again.coords, proj.coords)
