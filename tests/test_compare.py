"""Comparing two spaces: matching, Jaccard@k, CKA, aligned maps, the CLI and the page."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from explorer.analysis.compare import (
    CompareParams,
    align_maps,
    compare_spaces,
    linear_cka,
    match_ids,
    neighbour_jaccard,
)
from explorer.core.space import Space, make_space
from explorer.index.hnsw import build_index
from explorer.ingest.build import build_space
from explorer.maps.projections import ProjectionParams, project_space
from tests.plotly_json import typed

ROOT = Path(__file__).resolve().parent.parent
PCA = {"method": "pca", "dims": 2, "seed": 42}
N_TOPICS, PER_TOPIC, DIM = 6, 50, 16


def _topics(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """300 items in 6 topic groups, 16-d: neighbourhoods with few near-ties."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(N_TOPICS, DIM)) * 3
    x = np.repeat(centres, PER_TOPIC, 0) + rng.normal(size=(N_TOPICS * PER_TOPIC, DIM))
    n = x.shape[0]
    items = pd.DataFrame(
        {
            "id": [f"item-{i:03d}" for i in range(n)],
            "text": [f"word {i}" for i in range(n)],
            "topic": np.repeat(list("abcdef"), PER_TOPIC),
        }
    )
    return items, x


def _rotation(seed: int = 1) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(DIM, DIM)))
    return np.asarray(q)


def _rotated_copy(items: pd.DataFrame, x: np.ndarray, seed: int = 2) -> Space:
    """The same items, shuffled, their vectors rotated and scaled."""
    perm = np.random.default_rng(seed).permutation(len(items))
    return make_space(items.iloc[perm], x[perm] @ _rotation() * 2.5)


def _partial(items: pd.DataFrame, x: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """260 of the items (shuffled, rotated) plus 25 new ones: 40 only in A, 25 only in B."""
    rng = np.random.default_rng(3)
    keep = rng.permutation(len(items))[:260]
    new = pd.DataFrame(
        {"id": [f"new-{i}" for i in range(25)], "text": ["new"] * 25, "topic": ["z"] * 25}
    )
    vectors = np.vstack([x[keep] @ _rotation(), rng.normal(size=(25, DIM))])
    return pd.concat([items.iloc[keep], new], ignore_index=True), vectors


@pytest.fixture(scope="module")
def spaces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A spaces folder with ``alpha`` and ``beta`` (a partial, rotated, shuffled copy)."""
    root = tmp_path_factory.mktemp("compare_spaces")
    items, x = _topics()
    build_space(items, x, root / "alpha")
    build_space(*_partial(items, x), root / "beta")
    return root


# --------------------------------------------------------------------------- engine


def test_jaccard_is_one_for_a_space_against_itself() -> None:
    items, x = _topics()
    a = make_space(items, x)
    index = build_index(a.vectors, a.metric)
    res = compare_spaces(a, a, CompareParams(k=10), index_a=index, index_b=index)
    assert res.shared == a.n and res.only_a == res.only_b == 0
    assert res.compared == a.n and res.k == 10
    assert np.all(res.jaccard == 1.0) and res.mean_jaccard == 1.0
    assert res.cka == pytest.approx(1.0, abs=1e-9)
    # Per map row, for colouring the maps: every row compared.
    assert np.all(res.jaccard_a == 1.0) and np.all(res.jaccard_b == 1.0)


def test_ari_is_one_for_the_same_groups_and_about_zero_for_shuffled_ones() -> None:
    items, x = _topics()
    a, b = make_space(items, x), _rotated_copy(items, x)
    topics = np.asarray(items["topic"].astype("category").cat.codes)
    rows_b = b.rows(list(a.ids))  # where each of A's items is in B
    in_b = np.empty_like(topics)
    in_b[rows_b] = topics  # B's labels in B's own (shuffled) row order
    same = compare_spaces(a, a, labels=(topics, topics))
    assert same.ari == pytest.approx(1.0) and same.ari_items == 300
    assert same.mean_jaccard == 1.0 and same.cka == pytest.approx(1.0, abs=1e-9)
    # Labels are paired by id, not by row, and their numbers do not matter.
    paired = compare_spaces(a, b, labels=(topics, (in_b + 2) % N_TOPICS))
    assert paired.ari == pytest.approx(1.0) and paired.ari_items == 300
    # Labels read by row instead of by id: B's rows are shuffled, so the groups disagree.
    assert abs(compare_spaces(a, b, labels=(topics, topics)).ari) < 0.05
    # Half the items moved to a random group: clearly lower, clearly above chance
    # (measured 0.25).
    rng = np.random.default_rng(4)
    moved = topics.copy()
    half = rng.choice(300, 150, replace=False)
    moved[half] = rng.integers(0, N_TOPICS, 150)
    partial = compare_spaces(a, a, labels=(topics, moved)).ari
    assert partial is not None and 0.1 < partial < 0.5
    # Items outside a clustering (noise, -1) are left out of the ARI, and counted so.
    noisy = topics.copy()
    noisy[:30] = -1
    res = compare_spaces(a, a, labels=(topics, noisy))
    assert res.ari == pytest.approx(1.0) and res.ari_items == 270


def test_jaccard_drops_for_a_noisier_space_and_lists_the_most_changed_first() -> None:
    items, x = _topics()
    a = make_space(items, x)
    noisy = make_space(items, x + np.random.default_rng(5).normal(size=x.shape) * 2.0)
    res = compare_spaces(a, noisy, CompareParams(k=10, n_listed=5))
    assert 0.0 < res.mean_jaccard < 0.9
    listed = [c.jaccard for c in res.most_changed]
    assert listed == sorted(listed) and listed[0] == pytest.approx(res.jaccard.min())
    assert res.least_changed[0].jaccard == pytest.approx(res.jaccard.max())
    assert len(res.most_changed[0].neighbours_a) == 5


def test_cka_is_one_for_a_rotated_copy_and_below_one_for_unrelated_data() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, DIM))
    rotated, n = linear_cka(x, x @ _rotation() * 3.0 + 7.0)
    assert rotated == pytest.approx(1.0, abs=1e-9) and n == 400
    unrelated, _ = linear_cka(x, rng.normal(size=(400, 24)))
    assert unrelated is not None and unrelated < 0.3
    # Fewer items than dimensions (the Gram form) gives the same answer.
    wide = rng.normal(size=(20, 64))
    q, _ = np.linalg.qr(rng.normal(size=(64, 64)))
    assert linear_cka(wide, wide @ q)[0] == pytest.approx(1.0, abs=1e-9)
    # Large n: a seeded sample, said so by the count.
    big = rng.normal(size=(900, 4))
    value, used = linear_cka(big, big, sample=300, seed=1)
    assert used == 300 and value == pytest.approx(1.0)
    # No spread on one side: undefined, not a number.
    assert linear_cka(x, np.ones((400, 3)))[0] is None


def test_a_rotated_copy_has_the_same_neighbours_and_cka_one() -> None:
    items, x = _topics()
    a, b = make_space(items, x), _rotated_copy(items, x)
    res = compare_spaces(a, b, CompareParams(k=8))
    assert res.shared == 300 and res.mean_jaccard == 1.0
    assert res.cka == pytest.approx(1.0, abs=1e-6)


def test_align_maps_undoes_rotation_reflection_scale_and_shift() -> None:
    rng = np.random.default_rng(0)
    map_a = rng.normal(size=(50, 2)).astype(np.float32)
    turn = np.array([[np.cos(1.1), -np.sin(1.1)], [np.sin(1.1), np.cos(1.1)]])
    mirrored = turn @ np.diag([1.0, -1.0])
    perm = rng.permutation(50)
    map_b = (map_a[perm] @ mirrored) * 4.0 + np.array([10.0, -3.0])
    map_b = np.vstack([map_b, [[np.nan, np.nan]]])  # a point B does not draw
    rows_b = np.argsort(perm)  # where each of A's rows sits in B
    aligned, disparity = align_maps(map_a, map_b, np.arange(50), rows_b)
    np.testing.assert_allclose(aligned[rows_b], map_a, atol=1e-4)
    assert disparity == pytest.approx(0.0, abs=1e-8)
    assert np.isnan(aligned[-1]).all()


def test_aligned_maps_of_a_space_and_its_rotated_copy_coincide() -> None:
    items, x = _topics()
    a, b = make_space(items, x), _rotated_copy(items, x)
    params = ProjectionParams(**PCA)  # type: ignore[arg-type]
    maps = (project_space(a, params).coords, project_space(b, params).coords)
    res = compare_spaces(a, b, maps=maps)
    assert res.map_a is not None and res.map_b is not None
    rows_b = b.rows(list(a.ids))
    spread = float(np.abs(res.map_a).max())
    np.testing.assert_allclose(res.map_b[rows_b], res.map_a, atol=1e-4 * spread)
    assert res.map_disparity == pytest.approx(0.0, abs=1e-8)
    # Unaligned, the two PCA maps differ (mirrored or turned): the alignment did it.
    assert not np.allclose(maps[1][rows_b], maps[0], atol=1e-2 * spread)


def test_shared_ids_with_partial_overlap_are_counted_and_paired() -> None:
    items, x = _topics()
    a = make_space(items, x)
    b = make_space(*_partial(items, x))
    matched = match_ids(a, b)
    assert (matched.shared, matched.only_a, matched.only_b) == (260, 40, 25)
    assert list(a.ids[matched.rows_a]) == list(b.ids[matched.rows_b])
    assert np.all(np.diff(matched.rows_a) > 0)  # in A's row order
    keep, jac, _, _ = neighbour_jaccard(a, b, matched, 10)
    assert keep.size == 260 and np.all(jac == 1.0)  # neighbours among the shared items
    labels_a = np.asarray(items["topic"].astype("category").cat.codes)
    # B's first 200 rows clustered (as if only they were on its map), as in A.
    labels_b = labels_a[a.rows(list(b.ids[:200]))]
    res = compare_spaces(a, b, labels=(labels_a, labels_b))
    assert (res.shared, res.only_a, res.only_b, res.compared) == (260, 40, 25, 260)
    assert res.ari == pytest.approx(1.0) and res.ari_items == 200


def test_analogies_are_asked_of_both_word_spaces_over_the_shared_words(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    words = ["man", "woman", "king", "uncle", "aunt", *(f"w{i}" for i in range(30))]
    unit = rng.normal(size=(len(words), 20))
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    queen = unit[1] + unit[2] - unit[0]  # woman - man + king: A answers right
    a = make_space(
        pd.DataFrame({"id": [*words, "queen"]}), np.vstack([unit, queen]), source={"kind": "words"}
    )
    # B: the same words but "aunt", and queen pointing away: B answers wrong.
    b_words = [w for w in words if w != "aunt"]
    b_vectors = np.vstack([unit[[words.index(w) for w in b_words]], -queen])
    b = make_space(pd.DataFrame({"id": [*b_words, "queen"]}), b_vectors, source={"kind": "words"})
    questions = tmp_path / "questions.txt"
    questions.write_text(": family\nman woman king queen\nman woman uncle aunt\n")
    res = compare_spaces(a, b, CompareParams(k=3), analogies=questions)
    assert res.analogies is not None
    an = res.analogies
    # "aunt" is not shared, so neither space is asked its question.
    assert (an.questions, an.answered_a, an.answered_b) == (2, 1, 1)
    assert (an.accuracy_a, an.accuracy_b) == (1.0, 0.0)
    # Not word spaces: skipped, and said so.
    plain = compare_spaces(make_space(a.items, a.vectors), b, analogies=questions)
    assert plain.analogies is None and any("word spaces" in n for n in plain.notes)


def test_nothing_shared_is_an_input_error() -> None:
    from explorer.core.errors import InputError

    items, x = _topics()
    other = items.assign(id=[f"other-{i}" for i in range(len(items))])
    with pytest.raises(InputError, match="No item id is in both spaces"):
        compare_spaces(make_space(items, x), make_space(other, x))


# --------------------------------------------------------------------------- CLI


def test_cli_compare_json(spaces: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from explorer.cli.main import main

    argv = ["compare", str(spaces / "alpha"), str(spaces / "beta"), "-k", "5", "--map", "pca"]
    assert main([*argv, "--listed", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"shared", "mean_jaccard", "cka", "ari", "most_changed"} <= set(out)
    assert (out["shared"], out["only_a"], out["only_b"], out["k"]) == (260, 40, 25, 5)
    assert out["mean_jaccard"] == 1.0 and out["cka"] == 1.0
    # The six topics are far apart: both default clusterings find them, the same groups.
    assert out["ari"] == pytest.approx(1.0) and out["ari_items"] == 260
    assert len(out["most_changed"]) == 3
    assert set(out["most_changed"][0]) == {"id", "text", "jaccard", "neighbours_a", "neighbours_b"}
    assert main(argv) == 0
    assert "260 shared items (40 only in A, 25 only in B)" in capsys.readouterr().out
    # The same items with their vectors dealt out to other ids: every figure falls to
    # about chance (measured: Jaccard@5 0.01, CKA 0.01, ARI -0.01).
    items, x = _topics()
    build_space(items, x[np.random.default_rng(9).permutation(len(x))], tmp_path / "dealt")
    argv = ["compare", str(spaces / "alpha"), str(tmp_path / "dealt"), "-k", "5", "--map", "pca"]
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["shared"] == out["ari_items"] == 300
    assert out["mean_jaccard"] < 0.1 and out["cka"] < 0.1 and abs(out["ari"]) < 0.05


# --------------------------------------------------------------------------- page


def _highlighted(at: AppTest, chart: int) -> list[int]:
    """Rows in the highlight trace of the chart-th figure on the page ([] if none)."""
    spec = json.loads(at.get("plotly_chart")[chart].proto.spec)
    traces = [t for t in spec["data"] if t.get("name") == "selected"]
    return sorted(typed(traces[0]["customdata"]).tolist()) if traces else []


def _select(rows: list[int]) -> dict[str, object]:
    points = [{"customdata": r, "curve_number": 0, "point_number": r} for r in rows]
    return {"selection": {"points": points, "point_indices": rows, "box": [], "lasso": []}}


def _no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_compare_page_metrics_and_linked_selection(
    spaces: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from explorer.opened.handle import open_space

    monkeypatch.setenv("EXPLORER_SPACES", str(spaces))
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "pages/6_Compare.py"), default_timeout=300)
    at.session_state["space_folder"] = str(spaces / "alpha")
    at.session_state["map_params"] = {str(spaces / n): PCA for n in ("alpha", "beta")}
    at.run()
    _no_errors(at)
    assert at.selectbox(key="cmp_b").value == "beta"  # the other space by default
    at.button(key="cmp_run").click().run()
    _no_errors(at)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Shared items"] == "260"
    assert shown["Mean Jaccard@10"] == "1.000" and shown["Linear CKA"] == "1.000"
    assert shown["Clusterings' ARI"] == "1.000"  # the same six topic groups in both
    assert len(at.get("plotly_chart")) == 2 and _highlighted(at, 1) == []

    a, b = open_space(spaces / "alpha").space, open_space(spaces / "beta").space
    ids = [str(i) for i in b.ids[:3]]  # shared items, at other rows in A than in B
    rows_a, rows_b = sorted(a.rows(ids).tolist()), sorted(b.rows(ids).tolist())
    assert rows_a != rows_b
    at.session_state["cmp_map_a"] = _select(rows_a)
    at.run()
    _no_errors(at)
    assert _highlighted(at, 1) == rows_b  # B's map shows the items selected in A
    assert _highlighted(at, 0) == rows_a
    assert any(s.value == "Selection: 3 items" for s in at.subheader)

    # And the other way: a selection in B is shown in A (an item only in B is in B only).
    only_b = int(b.row_of["new-0"])
    at.session_state["cmp_map_b"] = _select([int(b.row_of[str(a.ids[7])]), only_b])
    at.run()
    _no_errors(at)
    assert _highlighted(at, 0) == [7]
    assert _highlighted(at, 1) == sorted([int(b.row_of[str(a.ids[7])]), only_b])
    assert any(s.value == "Selection: 2 items" for s in at.subheader)


def test_compare_alone_offers_to_build_the_same_items_by_another_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no second space, Compare does not offer the active space as its own partner:
    it says what it needs and builds the sample of the same items by another model."""
    items, x = _topics()
    source = {"sample": "wordnet-minilm", "title": "WordNet nouns · MiniLM"}
    build_space(items, x, tmp_path / "wordnet-minilm", source=source)
    monkeypatch.setenv("EXPLORER_SPACES", str(tmp_path))
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "pages/6_Compare.py"), default_timeout=600)
    at.session_state["space_folder"] = str(tmp_path / "wordnet-minilm")
    at.run()
    _no_errors(at)
    assert not [s for s in at.selectbox if s.key == "cmp_b"]  # no partner to choose
    assert any("needs a second saved space" in i.value for i in at.info)
    build = at.button(key="cmp_build_partner")
    assert build.label == "Build “WordNet nouns · GloVe” to compare with"
    build.click().run()
    _no_errors(at)
    assert (tmp_path / "wordnet-glove").exists()
    assert at.session_state["space_folder"].endswith("wordnet-minilm")  # A stays active
    assert at.selectbox(key="cmp_b").value == "wordnet-glove"
