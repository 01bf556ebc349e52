"""Retrieval figures (hand-computed), benchmark files, the WordNet reverse dictionary,
and cross-lingual alignment with Procrustes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from explorer.analysis.crosslingual import (
    Alignment,
    align_and_translate,
    align_en_it,
    gensim_en_it_paths,
    read_pairs,
    read_word_vectors,
)
from explorer.analysis.retrieval import (
    evaluate_retrieval,
    read_qrels,
    read_queries,
    reverse_dictionary,
    score_rankings,
    word_space,
)
from explorer.cli.main import main
from explorer.core.errors import InputError
from explorer.core.space import make_space
from explorer.index.hnsw import IndexParams, build_index


def test_figures_equal_a_hand_computation() -> None:
    rankings = {"q1": ["a", "b", "c", "d", "e"], "q2": ["x", "y"], "q3": ["w"]}
    qrels = {
        "q1": {"b": 1, "d": 2, "z": 1},  # z is relevant but never retrieved
        "q2": {"x": 1},
        "q3": {"w": 0},  # no relevant item: left out, as trec_eval does
    }
    s = score_rankings(rankings, qrels, k=3)
    # q1: top 3 holds b of {b, d, z} → 1/3; first relevant at rank 2 → 1/2;
    #     DCG = 1/log2(3) + 2/log2(5) = 0.6309298 + 0.8613531 = 1.4922829,
    #     IDCG = 2/log2(2) + 1/log2(3) + 1/log2(4) = 2 + 0.6309298 + 0.5 = 3.1309298.
    # q2: everything perfect (1, 1, 1).
    assert s.queries == 2 and s.k == 3
    assert s.recall == pytest.approx((1 / 3 + 1) / 2)
    assert s.mrr == pytest.approx((0.5 + 1) / 2)
    assert s.ndcg == pytest.approx((1.4922829 / 3.1309298 + 1) / 2, abs=1e-6)
    # MRR and nDCG stop at rank 10, whatever k is.
    late = score_rankings({"q": [f"n{i}" for i in range(10)] + ["hit"]}, {"q": {"hit": 1}}, k=20)
    assert (late.recall, late.mrr, late.ndcg) == (1.0, 0.0, 0.0)


def _angles_space() -> tuple[object, object]:
    """Five words on a circle: a 0°, b 10°, c 20°, d 90°, e 180°."""
    deg = np.radians([0, 10, 20, 90, 180])
    space = make_space(pd.DataFrame({"id": list("abcde")}), np.c_[np.cos(deg), np.sin(deg)])
    return space, build_index(np.asarray(space.vectors), space.metric)


def test_evaluate_through_the_index_by_hand() -> None:
    space, index = _angles_space()
    queries = pd.DataFrame({"query_id": ["q1", "q2"], "text": ["a", "nothing known"]})
    qrels = pd.DataFrame(
        {
            "query_id": ["q1", "q1", "q1", "q2"],
            "item_id": ["b", "d", "gone", "a"],
            "relevance": [1, 1, 1, 1],
        }
    )
    ev = evaluate_retrieval(space, index, queries, qrels, k=2)  # type: ignore[arg-type]
    # Query "a" ranks a, b, c, d, e: top 2 = a, b → recall 1/2; b at rank 2 → MRR 1/2;
    # nDCG = (1/log2(3) + 1/log2(5)) / (1 + 1/log2(3)) = 1.0616063 / 1.6309298.
    assert ev.exact.recall == pytest.approx(0.5) and ev.exact.mrr == pytest.approx(0.5)
    assert ev.exact.ndcg == pytest.approx(1.0616063 / 1.6309298, abs=1e-6)
    assert ev.index == ev.exact and ev.exact_index  # five items: the index is exact search
    assert ev.effect == {"recall@k": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0}
    notes = " ".join(ev.notes)
    assert "not in this space" in notes and "no word that is an item" in notes


def test_index_effect_is_index_minus_exact() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 16)).astype(np.float32)
    space = make_space(pd.DataFrame({"id": [f"w{i}" for i in range(3000)]}), x)
    # A deliberately poor hnswlib index (tiny graph, tiny search breadth).
    index = build_index(
        np.asarray(space.vectors),
        "cosine",
        params=IndexParams(M=2, ef_construction=4, ef_search=1, exact_below=0),
    )
    queries = pd.DataFrame(
        {"query_id": [f"q{i}" for i in range(200)], "text": [f"w{i}" for i in range(200)]}
    )
    truth, _ = index.search(np.asarray(space.vectors[:200]), 11, exact=True)
    qrels = pd.DataFrame(
        [(f"q{i}", f"w{r}", 1) for i in range(200) for r in truth[i, 1:6]],
        columns=["query_id", "item_id", "relevance"],
    )
    ev = evaluate_retrieval(space, index, queries, qrels, k=10)
    assert not ev.exact_index and ev.exact.recall == pytest.approx(1.0)
    assert ev.index.recall < ev.exact.recall
    assert ev.effect["recall@k"] == pytest.approx(ev.index.recall - ev.exact.recall)


def test_read_beir_trec_and_csv_files(tmp_path: Path) -> None:
    (tmp_path / "queries.jsonl").write_text(
        '{"_id": "q1", "text": "a small cat"}\n{"_id": "q2", "text": "bread"}\n'
    )
    assert read_queries(tmp_path / "queries.jsonl").to_dict("list") == {
        "query_id": ["q1", "q2"],
        "text": ["a small cat", "bread"],
    }
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\tcat\t2\nq2\tbread\t1\n")
    beir = read_qrels(tmp_path / "qrels.tsv")
    assert beir.to_dict("list") == {
        "query_id": ["q1", "q2"],
        "item_id": ["cat", "bread"],
        "relevance": [2, 1],
    }
    (tmp_path / "qrels.txt").write_text("q1 0 cat 2\nq2 0 bread 1\n")
    assert read_qrels(tmp_path / "qrels.txt").equals(beir)
    upload = io.BytesIO(b"query_id,item_id\nq1,cat\n")
    upload.name = "mine.csv"  # type: ignore[attr-defined]
    assert read_qrels(upload)["relevance"].tolist() == [1]  # no relevance column: 1
    (tmp_path / "bad.csv").write_text("query_id,item_id,relevance\nq1,cat,high\n")
    with pytest.raises(InputError, match="number"):
        read_qrels(tmp_path / "bad.csv")


def test_reverse_dictionary_on_glove_words(glove_small_file: Path, tmp_path: Path) -> None:
    from explorer.ingest.build import build_from_file

    space, index, _ = build_from_file(
        glove_small_file, tmp_path / "g", read_kwargs={"fmt": "glove"}
    )
    assert word_space(space)
    queries, qrels = reverse_dictionary(space, n_queries=50, seed=1)
    assert len(queries) == 50 and queries["query_id"].is_unique
    assert set(qrels["query_id"]) == set(queries["query_id"])
    assert qrels["item_id"].isin(space.row_of).all()
    gloss = dict(zip(queries["query_id"], queries["text"], strict=True))
    # The answer is never a word of its own definition.
    assert not any(f" {w} " in f" {gloss[q]} " for q, w in qrels[["query_id", "item_id"]].values)
    again, _ = reverse_dictionary(space, n_queries=50, seed=1)
    assert again.equals(queries)
    ev = evaluate_retrieval(space, index, queries, qrels)
    # A definition none of whose words is among the 5,000 words is left out, with a note.
    assert ev.index.queries >= 45 and 0.0 < ev.exact.recall <= 1.0


def test_cli_retrieval_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from explorer.ingest.build import build_space

    deg = np.radians([0, 10, 20, 90, 180])
    build_space(
        pd.DataFrame({"id": list("abcde")}),
        np.c_[np.cos(deg), np.sin(deg), deg * 0],
        tmp_path / "s",
    )
    (tmp_path / "q.csv").write_text("query_id,text\nq1,a\n")
    (tmp_path / "r.tsv").write_text("query-id\tcorpus-id\tscore\nq1\tb\t1\nq1\td\t1\n")
    args = [
        "retrieval",
        str(tmp_path / "s"),
        "--queries",
        str(tmp_path / "q.csv"),
        "--qrels",
        str(tmp_path / "r.tsv"),
        "-k",
        "2",
        "--json",
    ]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"recall@k", "mrr@10", "ndcg@10", "exact", "index", "effect", "k"} <= set(data)
    assert data["recall@k"] == pytest.approx(0.5) and data["k"] == 2
    assert set(data["exact"]) == {"recall@k", "mrr@10", "ndcg@10"}
    assert main(["retrieval", str(tmp_path / "s")]) == 2
    assert "--reverse-dictionary" in capsys.readouterr().err


# --------------------------------------------------------------------------- cross-lingual


def test_alignment_translates_a_rotated_copy_perfectly() -> None:
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(20, 20)))
    src = rng.normal(size=(100, 20))
    words = [f"w{i}" for i in range(100)]
    mots = [f"m{i}" for i in range(100)]
    res = align_and_translate((words, src), (mots, src @ q), list(zip(words, mots, strict=True)))
    assert (res.train_pairs, res.test_pairs) == (70, 30)
    assert res.accuracy_at_1 == 1.0 and res.accuracy_at_5 == 1.0


def test_english_to_italian_beats_chance() -> None:
    res = align_en_it(test_fraction=0.3, seed=0)
    assert (res.train_pairs, res.test_pairs, res.targets) == (14, 6, 20)
    # Chance is 5 in 20 = 0.25 at 5. Measured: accuracy@5 1.0 at seed 0, 0.88 on average
    # over seeds 0-9 (accuracy@1 0.33 and 0.12).
    assert res.accuracy_at_5 >= 0.5
    en, it, pairs = gensim_en_it_paths()
    data = (read_word_vectors(en), read_word_vectors(it), read_pairs(pairs))
    mean5 = np.mean([align_and_translate(*data, seed=seed).accuracy_at_5 for seed in range(10)])
    assert mean5 >= 0.6


def _align_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["align", *args, "--json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def _same_alignment(data: dict[str, Any], res: Alignment) -> None:
    """The CLI's JSON holds the engine's figures, and they agree with its examples."""
    assert (data["accuracy@1"], data["accuracy@5"]) == (res.accuracy_at_1, res.accuracy_at_5)
    counts = ("train_pairs", "test_pairs", "targets", "skipped", "seed")
    assert [data[c] for c in counts] == [getattr(res, c) for c in counts]
    assert data["examples"] == [
        {"source": s, "target": t, "nearest": list(n)} for s, t, n in res.examples
    ]
    # Each held-out pair is listed with the 5 nearest target words: the accuracies are
    # the share with the target first, and among the five.
    ex = data["examples"]
    assert len(ex) == data["test_pairs"] and all(len(e["nearest"]) == 5 for e in ex)
    assert data["accuracy@1"] == np.mean([e["nearest"][0] == e["target"] for e in ex])
    assert data["accuracy@5"] == np.mean([e["target"] in e["nearest"] for e in ex])


def test_cli_align_json(capsys: pytest.CaptureFixture[str]) -> None:
    data = _align_cli([], capsys)
    _same_alignment(data, align_en_it(test_fraction=0.3, seed=0))
    # 6 of the 20 pairs held out; 20 Italian words searched, so chance is 0.05 at 1 and
    # 0.25 at 5. Measured: 2 of 6 first (0.33), all 6 among the five (1.0).
    assert (data["train_pairs"], data["test_pairs"], data["targets"]) == (14, 6, 20)
    assert data["accuracy@5"] == 1.0 and data["accuracy@1"] >= 0.3
    # The options reach the engine: another seed and share held out.
    data = _align_cli(["--seed", "3", "--test-fraction", "0.5"], capsys)
    _same_alignment(data, align_en_it(test_fraction=0.5, seed=3))
    assert (data["train_pairs"], data["test_pairs"]) == (10, 10)
    assert data["accuracy@5"] >= 0.5  # measured 0.8
    assert main(["align", "--source", "x.txt"]) == 2


@pytest.mark.slow
def test_reverse_dictionary_on_a_minilm_word_space() -> None:
    from explorer.ingest.embed import embed_texts
    from explorer.ingest.models import DEFAULT_MODEL
    from explorer.ingest.samples import wordnet_items

    items = wordnet_items(per_category=40)
    vecs = embed_texts(items["text"].tolist(), DEFAULT_MODEL).vectors
    space = make_space(items, vecs, model=DEFAULT_MODEL)
    queries, qrels = reverse_dictionary(space, n_queries=100, seed=0)
    ev = evaluate_retrieval(space, build_index(np.asarray(space.vectors), "cosine"), queries, qrels)
    # Measured on these 480 nouns: recall@10 0.71, MRR@10 0.40, nDCG@10 0.47 (chance ≈ 0.02).
    assert ev.index.queries == 100
    assert ev.index.recall >= 0.5 and ev.index.mrr >= 0.25 and ev.index.ndcg >= 0.3
