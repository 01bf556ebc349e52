from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "explorer", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).parent.parent,
    )


def ok(*args: str) -> dict:  # type: ignore[type-arg]
    res = run(*args, "--json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_samples_and_info(iris_dir: Path) -> None:
    names = [s["name"] for s in ok("samples")["samples"]]
    assert "words-glove" in names and "digits" in names
    info = ok("info", str(iris_dir))
    assert info["n"] == 150 and info["dim"] == 4 and info["metric"] == "l2"


def test_build_sample_then_neighbours_project_cluster(tmp_path: Path) -> None:
    out = tmp_path / "digits"
    built = ok("build", "--sample", "digits", "--out", str(out))
    assert built["n"] == 1797 and built["dim"] == 64
    nb = ok("neighbours", str(out), "--id", "digit-0000", "-k", "5")["neighbours"]
    assert len(nb) == 5 and all(set(h) == {"id", "text", "modality", "score"} for h in nb)
    assert {h["modality"] for h in nb} == {"vector"}  # given vectors, no text
    assert "digit-0000" not in [h["id"] for h in nb]
    proj = ok("project", str(out), "--method", "pca")
    assert proj["method"] == "pca" and 0.5 < proj["trustworthiness"] <= 1.0
    umap = ok("project", str(out), "--repeatable", "--seed", "7")
    assert umap["method"] == "umap" and umap["trustworthiness"] > 0.95
    stored = [json.loads(p.read_text()) for p in out.glob("**/steps/projection-*.json")]
    assert {(m["params"]["method"], m["params"]["parallel"]) for m in stored} == {
        ("pca", True),
        ("umap", False),
    }
    cl = ok("cluster", str(out), "--method", "kmeans", "-k", "10")
    assert len(cl["clusters"]) == 10 and sum(c["size"] for c in cl["clusters"]) == 1797
    steps = ok("info", str(out))["steps"]
    assert any(k.startswith("projection-") for k in steps)
    assert any(k.startswith("clustering-") for k in steps)


def test_word_file_analogy_and_evaluation(tmp_path: Path, glove_small_file: Path) -> None:
    out = tmp_path / "glove"
    built = ok("build", str(glove_small_file), "--format", "glove", "--out", str(out))
    assert built["n"] == 5000 and built["dim"] == 50
    res = ok("analogy", str(out), "--plus", "king", "woman", "--minus", "man", "-k", "3")
    assert res["results"][0]["id"] == "queen"
    assert res["query"] == "(king - man + woman)"
    mul = ok(
        "analogy", str(out), "--plus", "king", "woman", "--minus", "man", "--method", "3cosmul"
    )
    assert mul["results"][0]["id"] == "queen"
    import gensim

    data = Path(gensim.__file__).parent / "test" / "test_data"
    ev = ok("evaluate", str(out), "--analogies", str(data / "questions-words.txt"))
    assert 0.3 < ev["accuracy"] < 1 and "capital-common-countries" in ev["sections"]
    sim = ok("evaluate", str(out), "--similarity", str(data / "wordsim353.tsv"))
    assert sim["spearman"] > 0.3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("info", "/no/such/space"), "There is no space named 'space'"),
        (("build", "--sample", "nope", "--out", "/tmp/x"), "No sample named 'nope'"),
        (("build", "--out", "/tmp/x"), "Give an INPUT file"),
    ],
)
def test_errors_are_one_line(args: tuple[str, ...], message: str) -> None:
    res = run(*args)
    assert res.returncode == 2
    assert message in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_unknown_id_and_free_text_without_model(iris_dir: Path) -> None:
    res = run("neighbours", str(iris_dir), "--id", "rose")
    assert res.returncode == 2 and "'rose'" in res.stderr
    res = run("neighbours", str(iris_dir), "--text", "a tall flower")
    assert res.returncode == 2 and "no model" in res.stderr


@pytest.mark.slow
def test_free_text_neighbours_with_the_model(tmp_path: Path) -> None:
    csv = tmp_path / "pets.csv"
    csv.write_text(
        "id,body\n1,My dog loves to fetch the ball\n2,The stock market fell today\n"
        "3,Cats sleep most of the day\n4,Interest rates were raised by the bank\n"
    )
    out = tmp_path / "pets"
    ok("build", str(csv), "--text-col", "body", "--id-col", "id", "--out", str(out))
    nb = ok("neighbours", str(out), "--text", "puppies and kittens", "-k", "2")["neighbours"]
    assert {h["id"] for h in nb} == {"1", "3"}
