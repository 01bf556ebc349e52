"""One engine, one truth: figures are defined once, stored with their step, read back.

Also: opening a space only reads; a missing index is reported and rebuilt only by
an explicit action.
"""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.index.hnsw import IndexUnavailable, open_index
from explorer.maps.projections import (
    ProjectionParams,
    project_space,
    projection_quality,
    projection_stored,
)
from explorer.opened.handle import open_space
from tests.plotly_json import typed

ROOT = Path(__file__).resolve().parent.parent
PCA = ProjectionParams(method="pca")  # what the CLI makes with --method pca


@pytest.fixture()
def spaces(app_spaces: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Private copies of the iris and words spaces: their own folders, so no cache
    holds their figures."""
    root = tmp_path / "spaces"
    for name in ("iris", "words"):
        shutil.copytree(app_spaces / name, root / name)
    monkeypatch.setenv("EXPLORER_SPACES", str(root))
    monkeypatch.setenv("EXPLORER_DEFAULT_SPACE", "iris")
    monkeypatch.chdir(ROOT)
    return root


def _page(path: str, folder: Path, **state: object) -> AppTest:
    at = AppTest.from_file(str(ROOT / path), default_timeout=300)
    at.session_state["space_folder"] = str(folder)
    from dataclasses import asdict

    at.session_state["map_params"] = {str(folder): asdict(PCA)}
    for k, v in state.items():
        at.session_state[k] = v
    return at


def _colour_of(at: AppTest, row: int) -> float:
    """The colour value the Quality page's map gives `row` (from the figure it sends)."""
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    for trace in fig["data"]:
        ids = typed(trace.get("customdata", []))
        colours = trace.get("marker", {}).get("color")
        if isinstance(colours, dict | list) and row in ids.tolist():
            return float(typed(colours)[ids.tolist().index(row)])
    raise AssertionError(f"row {row} is not coloured on the Quality map")


def test_neighbours_honesty_equals_the_quality_figure(spaces: Path) -> None:
    folder = spaces / "iris"
    q = projection_quality(open_space(folder), PCA, 10)
    # An item the map keeps partly: neither 0 % nor 100 %, so a mismatch would show.
    row = int(np.flatnonzero((q.preservation > 0.2) & (q.preservation < 0.8))[0])

    nb = _page("pages/2_Neighbours.py", folder, nb_mode="An item").run()
    nb.selectbox(key="nb_item").select(row).run()
    assert not nb.exception and not nb.error
    honesty = next(m for m in nb.metric if m.label == "Map honesty for this item").value

    qa = _page("pages/5_Quality.py", folder).run()
    assert not qa.exception and not qa.error
    per_point = _colour_of(qa, row)
    assert honesty == f"{per_point:.0%}" == f"{q.preservation[row]:.0%}"


def test_figures_are_read_from_the_stored_map_not_recomputed(
    spaces: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import explorer.maps.quality as metrics
    from explorer.cli.main import main

    folder = spaces / "iris"
    stored = project_space(open_space(folder), PCA)
    assert stored.quality is not None and 0.9 < stored.quality.trustworthiness <= 1

    def spy(*a: object, **k: object) -> float:
        raise AssertionError("a stored figure was recomputed")

    # Every map-quality figure goes through these two; neither may run again.
    monkeypatch.setattr(metrics, "trustworthiness", spy)
    monkeypatch.setattr(metrics, "continuity", spy)

    at = _page("pages/5_Quality.py", folder).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = next(m for m in at.metric if m.label == "Trustworthiness").value
    assert shown == f"{stored.quality.trustworthiness:.3f}"

    assert main(["project", str(folder), "--method", "pca", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["trustworthiness"] == round(stored.quality.trustworthiness, 4)


def test_a_map_made_for_one_folder_is_not_taken_for_another_of_the_same_name(
    app_spaces: Path, tmp_path: Path
) -> None:
    """Two folders holding a space of the same name and content (another root, or a new
    version of the space): each gets its own map and clustering stored, rather than the
    job done for the other standing in for it ("no longer stored; press … again")."""
    from dataclasses import asdict

    from explorer.cluster.clusterings import ClusterParams, clustering_stored
    from ui import cache

    params = asdict(ProjectionParams(method="pca", dims=3))
    clusters = asdict(ClusterParams(algorithm="kmeans", n_clusters=5, features="full"))
    folders = [tmp_path / root / "iris" for root in ("a", "b")]
    for folder in folders:
        shutil.copytree(app_spaces / "iris", folder)
    for folder in folders:
        opened = cache.open_space(folder)
        assert not projection_stored(opened, ProjectionParams(**params))
        proj = cache.projection(opened, params)
        assert proj.coords.shape == (150, 3)
        assert projection_stored(opened, ProjectionParams(**params))
        cl = cache.clustering(opened, clusters)
        assert len(cl.clusters) == 5
        assert clustering_stored(opened, ClusterParams(**clusters))


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


def test_opening_a_space_without_an_index_writes_nothing(
    spaces: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from explorer.cli.main import main
    from ui import cache

    folder = spaces / "iris"
    for name in ("index.json", "index_rows.npy", "index.bin"):
        (folder / name).unlink(missing_ok=True)
    before = _snapshot(folder)

    with pytest.raises(IndexUnavailable, match="reindex"):
        open_index(folder, open_space(folder).space)
    with pytest.raises(IndexUnavailable):
        cache.open_space(folder).index  # noqa: B018
    assert main(["neighbours", str(folder), "--id", "0"]) == 2
    assert "reindex" in capsys.readouterr().err
    at = _page("pages/1_Map.py", folder).run()
    assert not at.exception and any("index" in e.value for e in at.error)
    assert _snapshot(folder) == before  # nothing was written, not even a lock file

    # The explicit action rebuilds it.
    home = _page("pages/home.py", folder).run()
    home.button(key="rebuild_index").click().run()
    assert not home.exception
    assert open_index(folder, open_space(folder).space).size == 150


def test_clusters_page_opens_on_the_clustering_the_map_shows(spaces: Path) -> None:
    folder = spaces / "words"  # no category column: the Map colours by cluster
    mp = _page("pages/1_Map.py", folder).run()
    assert not mp.exception and not mp.error
    assert mp.selectbox(key="map_colour").value == "cluster"
    fig = json.loads(mp.get("plotly_chart")[0].proto.spec)
    # The Map names the largest clusters (one colour each; the rest share "other").
    named = [t for t in fig["data"] if t["name"] != "noise" and not t["name"].startswith("other")]
    on_map = sorted((len(typed(t["customdata"])) for t in named), reverse=True)

    cl = _page("pages/4_Clusters.py", folder).run()  # no click, no form submitted
    assert not cl.exception and not cl.error
    table = next(d.value for d in cl.dataframe if "label terms" in d.value.columns)
    sizes = sorted(table["size"].tolist(), reverse=True)
    assert len(on_map) >= 2 and sizes[: len(on_map)] == on_map


def test_category_columns_are_one_rule(spaces: Path) -> None:
    iris = open_space(spaces / "iris").space
    assert iris.category_columns == ["species"]
    mp = _page("pages/1_Map.py", spaces / "iris").run()
    assert mp.selectbox(key="map_colour").value == "species"  # the Map's default colour
    cl = _page("pages/4_Clusters.py", spaces / "iris").run()
    assert cl.selectbox(key="cluster_label").options == ["species"]  # the Clusters choice


def test_cli_defaults_are_the_parameter_defaults() -> None:
    from dataclasses import fields

    from explorer.cli.main import parser
    from explorer.cluster.clusterings import ClusterParams

    p = parser()
    proj = p.parse_args(["project", "d"])
    clus = p.parse_args(["cluster", "d"])
    want = {f.name: f.default for f in fields(ProjectionParams)}
    assert {k: getattr(proj, k) for k in ("method", "dims", "n_neighbors", "min_dist", "seed")} == {
        k: want[k] for k in ("method", "dims", "n_neighbors", "min_dist", "seed")
    }
    cdef = {f.name: f.default for f in fields(ClusterParams)}
    assert (clus.method, clus.features, clus.k, clus.min_cluster_size, clus.seed) == (
        cdef["algorithm"],
        cdef["features"],
        cdef["n_clusters"],
        cdef["min_cluster_size"],
        cdef["seed"],
    )


def _names_on(at: AppTest) -> list[str]:
    """The names the Map page writes on its map (the figure's annotations)."""
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    return sorted(html.unescape(a["text"]) for a in fig["layout"].get("annotations", []))


def _names_in_svg(data: bytes) -> list[str]:
    """The names written on an exported SVG map (its middle-anchored, outlined texts)."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(data)
    texts = root.iter("{http://www.w3.org/2000/svg}text")
    return sorted(t.text or "" for t in texts if t.get("paint-order") == "stroke")


@pytest.mark.parametrize(("level", "flag"), [("broad regions", "broad"), ("each cluster", "each")])
def test_an_exported_svg_names_the_clusters_the_map_page_names(
    spaces: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], level: str, flag: str
) -> None:
    from explorer.cli.main import main

    folder = spaces / "words"
    at = _page("pages/1_Map.py", folder, map_level=level).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key="map_colour").value == "cluster"
    shown = _names_on(at)
    assert len(shown) >= 2, "the page named too few clusters for the check to mean much"

    out = tmp_path / "map.svg"
    args = ["export", str(folder), "--format", "svg", "--method", "pca", "--out", str(out)]
    assert main([*args, "--names", flag]) == 0, capsys.readouterr().err
    assert _names_in_svg(out.read_bytes()) == shown
