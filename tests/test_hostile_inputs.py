"""The hostile inputs a user can bring, in one place: each gets a clear message naming
what was wrong and what to do, or is read with a note, and nothing crashes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer.analysis.probes import neighbours
from explorer.cluster.clusterings import ClusterParams, cluster
from explorer.core.errors import InputError
from explorer.core.space import make_space
from explorer.index.hnsw import build_index
from explorer.ingest.sources import read_source
from explorer.maps.projections import ProjectionParams, project


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("ragged.csv", b"id,text\n1,hello,extra\n2,world\n", "more fields than its header"),
        ("later.csv", b"id,text\n1,hello\n2,world,extra,more\n", "Check the delimiter"),
        ("empty.csv", b"", "has no rows"),
        ("header.csv", b"id,text\n", "has no rows"),
        ("blank.csv", b"id,text\n1,\n2,\n", "empty in every row"),
        ("w.kv", b"\x80\x04junk", "Unsupported file type '.kv'"),
        ("w.model", b"\x80\x04junk", "Unsupported file type '.model'"),
    ],
)
def test_bad_files_get_a_message(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message) as err:
        read_source(_write(tmp_path, name, data))
    assert str(tmp_path) not in str(err.value)


def test_pickled_arrays_are_never_unpickled(tmp_path: Path) -> None:
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(tmp_path / "obj.npz", a=np.array([{"a": 1}], dtype=object))
    for name in ("obj.npy", "obj.npz"):
        with pytest.raises(InputError, match="never unpickled"):
            read_source(tmp_path / name)


def test_a_wrong_delimiter_is_read_with_a_note(tmp_path: Path) -> None:
    got = read_source(_write(tmp_path, "tabs.csv", b"id\ttext\n1\thello\n2\tworld\n"))
    assert got.items["text"].tolist() == ["hello", "world"]
    assert any("separated by tabs" in n for n in got.notes)


def test_latin1_is_decoded_with_replacement_and_counted(tmp_path: Path) -> None:
    got = read_source(_write(tmp_path, "latin.csv", b"id,text\n1,caf\xe9\n2,ok\n"))
    assert got.items["text"].tolist() == ["caf\ufffd", "ok"]
    assert any("1 row(s) decoded with replacement" in n for n in got.notes)


def test_nan_and_inf_rows_are_named() -> None:
    x = np.ones((4, 3))
    x[1, 0], x[3, 2] = np.nan, np.inf
    items = pd.DataFrame({"id": ["a", "b", "c", "d"]})
    with pytest.raises(InputError, match="'b'.*'d'|'d'.*'b'"):
        make_space(items, x)


def test_duplicate_ids_are_refused_or_dropped_with_a_note() -> None:
    items = pd.DataFrame({"id": ["a", "a", "b"]})
    with pytest.raises(InputError, match="'a'"):
        make_space(items, np.eye(3))
    kept = make_space(items, np.eye(3), duplicates="first")
    assert kept.n == 2 and any("repeated id" in n for n in kept.notes)


def test_k_larger_than_n_and_wrong_dimensions() -> None:
    space = make_space(pd.DataFrame({"id": list("abc")}), np.eye(3) + 0.1)
    index = build_index(space.vectors, space.metric)
    assert len(neighbours(space, index, row=0, k=50)) == 2  # clamped to what exists
    with pytest.raises(InputError, match="dimension"):
        neighbours(space, index, vector=np.ones(5))


def test_zero_vectors_under_cosine_have_no_direction() -> None:
    x = np.eye(4)
    x[2] = 0
    space = make_space(pd.DataFrame({"id": list("abcd")}), x)
    assert any("zero vector" in n for n in space.notes)
    index = build_index(space.vectors, space.metric, rows=np.flatnonzero(space.indexable))
    with pytest.raises(InputError, match="all-zero vector"):
        neighbours(space, index, row=2)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_tiny_spaces_still_map_and_cluster(n: int) -> None:
    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, 8)).astype(np.float32)
    for method in ("umap", "tsne", "pca"):
        proj = project(x, ProjectionParams(method=method))  # type: ignore[arg-type]
        assert proj.coords.shape == (n, 2) and np.isfinite(proj.coords).all()
        if method != "pca":
            assert any("PCA" in note for note in proj.notes)  # said, not silent
    for algorithm in ("kmeans", "hdbscan", "agglomerative"):
        params = ClusterParams(algorithm=algorithm, n_clusters=3, min_cluster_size=2)  # type: ignore[arg-type]
        res = cluster(x, params)
        assert res.labels.shape == (n,)


def test_hdbscan_on_one_blob_says_so() -> None:
    x = np.random.default_rng(0).normal(size=(200, 5)).astype(np.float32)
    res = cluster(x, ClusterParams(algorithm="hdbscan", features="full", min_cluster_size=50))
    assert (res.labels == -1).all() and res.clusters == []
    assert any("no separate dense groups" in n for n in res.notes)


def test_a_5d_umap_of_4d_vectors_clusters_them_as_they_are() -> None:
    x = np.random.default_rng(0).normal(size=(150, 4)).astype(np.float32)
    res = cluster(x, ClusterParams(algorithm="kmeans", features="umap5", n_clusters=3))
    assert res.ran_on == "KMeans on the 4-d vectors"
    assert any("only 4 dimensions" in n for n in res.notes)


def test_clusters_page_with_only_noise_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from explorer.ingest.build import build_space

    root = Path(__file__).resolve().parent.parent
    rng = np.random.default_rng(0)
    items = pd.DataFrame({"id": [f"i{i}" for i in range(30)], "kind": ["a", "b", "c"] * 10})
    build_space(items, rng.normal(size=(30, 8)), tmp_path / "spaces" / "flat")
    monkeypatch.setenv("EXPLORER_SPACES", str(tmp_path / "spaces"))
    monkeypatch.chdir(root)
    at = AppTest.from_file(str(root / "pages/4_Clusters.py"), default_timeout=300)
    at.session_state["space_folder"] = "flat"
    from dataclasses import asdict

    hdbscan = asdict(ClusterParams(algorithm="hdbscan"))
    at.session_state["cluster_params"] = {str(tmp_path / "spaces" / "flat"): hdbscan}
    at.run()  # HDBSCAN finds no dense group in 30 random points: all noise
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("If every item is noise" in c.value for c in at.caption)
