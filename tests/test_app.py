"""Every page under streamlit.testing's AppTest, on small sample spaces."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    "pages/1_Map.py",
    "pages/2_Neighbours.py",
    "pages/3_Analogies.py",
    "pages/4_Clusters.py",
    "pages/5_Quality.py",
    "pages/6_Compare.py",
    "pages/7_Labels.py",
    "pages/8_Export.py",
    "pages/9_Tour.py",
    "pages/10_Train.py",
]


@pytest.fixture()
def env(app_spaces: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    spaces = app_spaces
    monkeypatch.setenv("EXPLORER_SPACES", str(spaces))
    monkeypatch.setenv("EXPLORER_DEFAULT_SPACE", "words")
    monkeypatch.chdir(ROOT)
    return spaces


def page(path: str, spaces: Path, space: str = "words", **state: object) -> AppTest:
    at = AppTest.from_file(str(ROOT / path), default_timeout=300)
    at.session_state["space_folder"] = str(spaces / space)
    # Fast maps in tests: PCA unless a test asks for UMAP.
    at.session_state["map_params"] = {
        str(spaces / space): {
            "method": "pca",
            "dims": 2,
            "n_neighbors": 15,
            "min_dist": 0.1,
            "init": "spectral",
            "n_epochs": None,
            "perplexity": 30.0,
            "seed": 42,
        }
    }
    for k, v in state.items():
        at.session_state[k] = v
    return at


def frame(at: AppTest, column: str, index: int = 0):  # type: ignore[no-untyped-def]
    """The index-th table that has `column` (st.dataframe keys are not exposed to AppTest)."""
    tables = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(tables) > index, f"no table with column {column!r}"
    return tables[index]


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_home_opens_the_default_space_without_clicks(env: Path) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    no_errors(at)
    assert at.session_state["space_folder"].endswith("words")
    assert any(m.label == "Items" and m.value == "5,000" for m in at.metric)
    assert [t.label for t in at.tabs] == ["Samples", "Upload data", "Saved spaces"]
    # Sample cards: built ones say Open.
    labels = {b.key: b.label for b in at.button}
    assert labels["sample_iris"] == "Open" and labels["sample_digits"] == "Build and open"


def test_home_switches_space_from_saved_list(env: Path) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    open_iris = next(
        b for b in at.button if b.key and b.key.startswith("open_") and b.key.endswith("iris")
    )
    open_iris.click().run()
    no_errors(at)
    assert at.session_state["space_folder"].endswith("iris")
    assert any(m.label == "Items" and m.value == "150" for m in at.metric)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders(env: Path, path: str) -> None:
    at = page(path, env).run()
    no_errors(at)
    titles = ("Map", "Neighbours", "Analogies", "Clusters", "Quality", "Compare", "Labels")
    assert at.title[0].value.endswith((*titles, "Export", "Tour", "Train"))
    # Every page's sidebar names the active space (Train, which needs none, included).
    assert at.selectbox(key="sidebar_space").value == "words"


def test_map_colour_search_and_selection(env: Path) -> None:
    at = page("pages/1_Map.py", env, "iris").run()
    no_errors(at)
    colour = at.selectbox(key="map_colour")
    assert "species" in colour.options
    colour.select("species").run()
    no_errors(at)
    at.text_input(key="map_search").input("iris-00").run()
    assert any("10 item(s) contain" in c.value for c in at.caption)
    # A box selection, as the browser would report it (ids travel in customdata).
    points = [
        {"customdata": [r], "curve_number": 0, "point_number": r, "point_index": r}
        for r in (3, 7, 42)
    ]
    at.session_state["map_chart"] = {
        "selection": {"points": points, "point_indices": [3, 7, 42], "box": [], "lasso": []}
    }
    at.run()
    no_errors(at)
    assert any(s.value == "Selection: 3 items" for s in at.subheader)
    table = frame(at, "x")
    assert table["id"].tolist() == ["iris-003", "iris-007", "iris-042"]


def test_map_click_shows_neighbours(env: Path) -> None:
    at = page("pages/1_Map.py", env, "words").run()
    row = 0  # "the"
    at.session_state["map_chart"] = {
        "selection": {
            "points": [{"customdata": [row]}],
            "point_indices": [row],
            "box": [],
            "lasso": [],
        }
    }
    at.run()
    no_errors(at)
    assert at.session_state["map_focus"] == row
    assert any("Neighbours of the" in m.value for m in at.markdown)


def test_neighbours_of_an_item(env: Path) -> None:
    at = page("pages/2_Neighbours.py", env, "words").run()
    at.text_input(key="nb_find").input("france").run()
    no_errors(at)
    table = frame(at, "similarity")
    assert table["id"].iloc[0] in {"french", "belgium", "paris", "spain"}
    assert "france" not in table["id"].tolist()
    assert any(m.label == "Map honesty for this item" for m in at.metric)


def test_neighbours_free_text_needs_a_model(env: Path) -> None:
    at = page("pages/2_Neighbours.py", env, "iris").run()
    at.radio(key="nb_mode").set_value("Free text").run()
    at.text_input(key="nb_text").input("a tall flower").run()
    assert not at.exception
    assert any("no model" in e.value for e in at.error)


def test_analogy_preset_answers_queen(env: Path) -> None:
    at = page("pages/3_Analogies.py", env, "words").run()
    no_errors(at)
    at.button(key="preset_king").click().run()
    no_errors(at)
    table = frame(at, "answer")
    assert table["answer"].iloc[0] == "queen"
    assert any("(king - man + woman)" in s.value for s in at.subheader)


def test_analogy_lists_and_unknown_terms(env: Path) -> None:
    at = page("pages/3_Analogies.py", env, "words").run()
    at.radio(key="an_mode").set_value("Lists of terms").run()
    at.text_input(key="an_plus").input("paris, italy").run()
    at.text_input(key="an_minus").input("france").run()
    no_errors(at)
    assert frame(at, "answer")["answer"].iloc[0] == "rome"
    at.text_input(key="an_plus").input("paris, zzzqqq").run()
    assert not at.exception
    assert any("zzzqqq" in e.value for e in at.error)


def test_analogy_evaluation_bars(env: Path) -> None:
    at = page("pages/3_Analogies.py", env, "words").run()
    at.button(key="an_run").click().run()
    no_errors(at)
    acc = next(m for m in at.metric if m.label == "Accuracy")
    assert acc.value.endswith("%") and float(acc.value[:-1]) > 20


def test_clusters_with_label_agreement(env: Path) -> None:
    at = page("pages/4_Clusters.py", env, "iris").run()
    no_errors(at)
    at.selectbox[0].select("kmeans")
    at.slider[0].set_value(3)
    at.button[0].click().run()
    no_errors(at)
    table = frame(at, "label terms")
    assert len(table) == 3 and table["size"].sum() == 150
    ari = next(m for m in at.metric if m.label == "Adjusted Rand index")
    assert float(ari.value) > 0.5
    at.selectbox(key="cluster_pick").select(0).run()
    no_errors(at)
    assert len(frame(at, "species")) == table["size"].iloc[0]


def test_quality_page_numbers(env: Path) -> None:
    at = page("pages/5_Quality.py", env, "iris").run()
    no_errors(at)
    trust = next(m for m in at.metric if m.label == "Trustworthiness")
    assert 0.9 < float(trust.value) <= 1.0
    # A small space is searched exactly: said, not a constant recall.
    assert next(m for m in at.metric if m.label == "Search").value == "exact search"


def test_quality_page_shows_the_measured_recall(env: Path) -> None:
    from explorer.index.hnsw import open_index
    from explorer.opened.handle import open_space

    space = open_space(env / "words").space
    index = open_index(env / "words", space)
    assert not index.exact and index.recall is not None
    at = page("pages/5_Quality.py", env, "words").run()
    no_errors(at)
    shown = next(m for m in at.metric if m.label == "Recall@10 against exact search")
    # The figure tune_ef measured at build and saved with the index.
    assert shown.value == f"{index.recall:.3f}" and index.recall >= 0.98


def test_page_without_any_space_points_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXPLORER_SPACES", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "pages/1_Map.py"), default_timeout=60).run()
    assert not at.exception
    assert any("No space is open" in i.value for i in at.info)


def test_page_state_survives_moving_between_pages(env: Path) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("pages/3_Analogies.py").run()
    at.button(key="preset_paris").click().run()
    no_errors(at)
    assert frame(at, "answer")["answer"].iloc[0] == "rome"
    at.switch_page("pages/1_Map.py").run()
    at.text_input(key="map_search").input("king").run()
    at.switch_page("pages/3_Analogies.py").run()
    no_errors(at)
    assert at.selectbox(key="an_a").value == "paris"
    assert frame(at, "answer")["answer"].iloc[0] == "rome"
    at.switch_page("pages/1_Map.py").run()
    assert at.text_input(key="map_search").value == "king"


def test_a_map_over_the_point_budget_opens_as_a_density_picture(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    import explorer.render.density

    monkeypatch.setattr(explorer.render.density, "POINT_BUDGET", 100)  # iris has 150 points
    at = page("pages/1_Map.py", env, "iris").run()
    no_errors(at)
    assert any("Density view: 150 points" in c.value for c in at.caption)
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert len(fig["layout"]["images"]) == 1  # the picture, not 150 markers
    assert fig["layout"]["images"][0]["source"].startswith("data:image/png;base64,")


def test_the_map_is_drawn_before_its_quality_which_then_fills_in(env: Path) -> None:
    """A new map shows at once with a line saying its quality is coming; a worker
    measures it, and the line then shows the stored figures."""
    import time

    from explorer.maps.projections import ProjectionParams, projection_quality
    from explorer.opened.handle import open_space

    at = page("pages/1_Map.py", env)
    params = {**at.session_state["map_params"][str(env / "words")], "seed": 4242}
    at.session_state["map_params"] = {str(env / "words"): params}
    at.run()
    no_errors(at)
    assert at.get("plotly_chart"), "the map is drawn"
    assert any("Measuring how faithful this map is" in c.value for c in at.caption)
    line: list[str] = []
    deadline = time.monotonic() + 120
    while not line and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
        no_errors(at)
        line = [c.value for c in at.caption if "How faithful this map is" in c.value]
    assert line, "the quality never filled in"
    assert not any("Measuring how faithful" in c.value for c in at.caption)
    q = projection_quality(open_space(env / "words"), ProjectionParams(**params))
    assert f"trustworthiness {q.trustworthiness:.3f}" in line[0]
    assert f"continuity {q.continuity:.3f}" in line[0]


def test_a_word_space_clustering_is_compared_with_wordnet(env: Path) -> None:
    """Words get WordNet's categories at build time; Clusters compares with them at
    once, leaving out the words WordNet lacks."""
    from explorer.cluster.agreement import cluster_agreement
    from explorer.cluster.clusterings import ClusterParams, cluster_space
    from explorer.opened.handle import open_space

    at = page("pages/4_Clusters.py", env)
    at.session_state["cluster_params"] = {
        str(env / "words"): {**vars(ClusterParams(algorithm="kmeans", n_clusters=20))}
    }
    at.run()
    no_errors(at)
    assert at.selectbox(key="cluster_label").value == "wordnet"
    ari = float(next(m for m in at.metric if m.label == "Adjusted Rand index").value)
    nmi = float(next(m for m in at.metric if m.label == "Normalised mutual information").value)
    opened = open_space(env / "words")
    result = cluster_space(opened, ClusterParams(algorithm="kmeans", n_clusters=20))
    cats = opened.space.items["wordnet"].iloc[: opened.space.n_map]
    keep = (result.labels >= 0) & cats.notna().to_numpy()
    assert 0 < keep.sum() < opened.space.n_map  # some words have no category
    want = cluster_agreement(result.labels[keep], cats.to_numpy(dtype=object)[keep].astype(str))
    assert ari == pytest.approx(want["ari"], abs=5e-4) and nmi == pytest.approx(
        want["nmi"], abs=5e-4
    )
    assert any("with a wordnet" in c.value for c in at.caption)


def test_clusters_are_renamed_and_reset_on_the_clusters_page(env: Path) -> None:
    from explorer.cluster.clusterings import ClusterParams, cluster_space
    from explorer.opened.handle import open_space

    params = ClusterParams(algorithm="kmeans", n_clusters=7, seed=77)
    at = page("pages/4_Clusters.py", env)
    at.session_state["cluster_params"] = {str(env / "words"): vars(params)}
    at.run()
    no_errors(at)
    automatic = frame(at, "label terms")["name"].tolist()
    at.radio(key="rename_level").set_value("a cluster")
    at.selectbox(key="rename_which").set_value(3)
    at.text_input(key="rename_text").input("Places abroad")
    next(b for b in at.button if b.label == "Save name").click().run()
    no_errors(at)
    names = frame(at, "label terms")["name"].tolist()
    assert names[3] == "Places abroad" and names[:3] + names[4:] == automatic[:3] + automatic[4:]
    # Stored with the clustering: a fresh read of the space has it.
    assert cluster_space(open_space(env / "words"), params).clusters[3].label == "3: Places abroad"
    at.button(key="rename_reset").click().run()
    no_errors(at)
    assert frame(at, "label terms")["name"].tolist() == automatic
    assert cluster_space(open_space(env / "words"), params).clusters[3].name is None


def _marker_colours(at: AppTest, title: str) -> tuple[list[int], list[float]]:
    """(rows, colour values) of the trace whose colour bar is titled `title`."""
    import json

    from tests.plotly_json import typed

    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    trace = next(
        t
        for t in fig["data"]
        if t.get("marker", {}).get("colorbar", {}).get("title", {}).get("text") == title
    )
    return typed(trace["customdata"]).tolist(), typed(trace["marker"]["color"]).tolist()


def test_the_map_is_coloured_by_neighbours_kept_and_zero_shot_margin(env: Path) -> None:
    """Per-point figures as a continuous colour with a colour bar: the map's neighbours
    kept (once measured) and the zero-shot margin of the Labels page's categories."""
    import time

    import numpy as np

    from explorer.analysis.zeroshot import zero_shot
    from explorer.maps.projections import ProjectionParams, projection_quality
    from explorer.opened.handle import open_space

    labels = ["animal", "food", "city", "sport"]
    at = page("pages/1_Map.py", env, zs_choice={str(env / "words"): {"labels": labels}})
    params = {**at.session_state["map_params"][str(env / "words")], "seed": 5151}
    at.session_state["map_params"] = {str(env / "words"): params}
    at.run()
    no_errors(at)
    deadline = time.monotonic() + 120
    while "neighbours kept (map)" not in at.selectbox(key="map_colour").options:
        assert time.monotonic() < deadline, "the map's quality never came"
        time.sleep(0.5)
        at.run()
    assert "zero-shot margin" in at.selectbox(key="map_colour").options
    opened = open_space(env / "words")
    at.selectbox(key="map_colour").select("neighbours kept (map)").run()
    no_errors(at)
    rows, colours = _marker_colours(at, "neighbours kept (map)")
    kept = projection_quality(opened, ProjectionParams(**params)).preservation
    np.testing.assert_allclose(colours, kept[rows], atol=1e-6)
    assert len(set(np.round(colours, 3))) > 2  # really a scale of values
    at.selectbox(key="map_colour").select("zero-shot margin").run()
    no_errors(at)
    rows, colours = _marker_colours(at, "zero-shot margin")
    margin = zero_shot(opened.space, labels).margin
    np.testing.assert_allclose(colours, margin[rows], atol=1e-5)


def test_home_says_where_to_start(env: Path) -> None:
    """A first-time visitor is told what the open space shows best: for words, the named
    regions and their WordNet agreement, and the nouns sample coloured by meaning."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    no_errors(at)
    guide = next(m.value for m in at.markdown if m.value.startswith("**Where to start**"))
    assert "WordNet category" in guide and "ARI" in guide
    assert any(b.key == "start_nouns" and "WordNet nouns" in b.label for b in at.button)
    at.session_state["space_folder"] = str(env / "iris")
    at.run()
    no_errors(at)
    guide = next(m.value for m in at.markdown if m.value.startswith("**Where to start**"))
    assert "coloured by species" in guide and "WordNet" not in guide
    assert not any(b.key == "start_nouns" for b in at.button)
