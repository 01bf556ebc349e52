"""The opened space: one handle per version, checked once per process, counted.

The counts come from Python's audit hook ("open" events, which numpy's and the json
reader's file opens raise) and from spies on the two checks that read a whole file (the
xxh3 checksum and the hnswlib file check).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import explorer.core.manifest as manifest
import explorer.index.hnsw as hnsw
from explorer.core.errors import IncompleteSpaceError
from explorer.ingest.build import build_space
from explorer.maps.projections import ProjectionParams, load_projection
from explorer.opened.handle import OpenedSpace, open_space
from explorer.runtime import tasks

ROOT = Path(__file__).resolve().parent.parent
PCA = ProjectionParams(method="pca")

_opens: list[str] | None = None  # the paths opened while a count runs


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and _opens is not None and isinstance(args[0], str | Path):
        _opens.append(str(args[0]))


sys.addaudithook(_audit)  # a hook cannot be removed: it only counts while asked to


@contextmanager
def opened_files() -> Iterator[list[str]]:
    """The paths of every file opened in this process inside the block."""
    global _opens
    _opens = []
    try:
        yield _opens
    finally:
        _opens = None


def named(paths: list[str], name: str) -> int:
    return sum(Path(p).name == name for p in paths)


@pytest.fixture()
def spaces(app_spaces: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Private copies of iris and words: folders no process cache has seen (two, so
    that the sidebar's list of spaces reads more than one manifest if it reads any)."""
    root = tmp_path / "spaces"
    for name in ("iris", "words"):
        shutil.copytree(app_spaces / name, root / name)
    monkeypatch.setenv("EXPLORER_SPACES", str(root))
    monkeypatch.chdir(ROOT)
    return root


@pytest.fixture()
def hashing(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every whole-file check of a file read that runs: checksums (by file name) and
    hnswlib file checks. Hashing a file as it is written is not counted."""
    seen: list[str] = []
    once, check = manifest.check_once, hnsw.check_hnsw_file

    def counted_once(path: Path, what: str, run: Callable[[], None]) -> None:
        def counted() -> None:
            seen.append(Path(path).name)
            run()

        once(path, what, counted)

    def counted_check(path: Path, *args: int) -> None:
        seen.append(f"structure of {Path(path).name}")
        check(path, *args)

    monkeypatch.setattr(manifest, "check_once", counted_once)
    monkeypatch.setattr(hnsw, "check_hnsw_file", counted_check)
    return seen


def _map_page(root: Path) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages/1_Map.py"), default_timeout=300)
    at.session_state["space_folder"] = "iris"
    at.session_state["map_params"] = {str(root / "iris"): asdict(PCA)}
    return at


def test_a_handle_names_its_version_and_knows_when_it_is_replaced(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    import pandas as pd

    items = pd.DataFrame({"id": [f"i{k}" for k in range(30)]})
    build_space(items, rng.normal(size=(30, 8)), tmp_path / "s")
    first = open_space(tmp_path / "s")
    assert first.name == "s" and first.stored and first.is_current()
    assert first.version == (tmp_path / "s").resolve() != tmp_path / "s"
    assert first.index.size == 30 and first.manifest()["n"] == 30
    build_space(items, rng.normal(size=(30, 8)), tmp_path / "s", overwrite=True)
    second = open_space(tmp_path / "s")
    assert not first.is_current() and second.is_current()
    assert second.version != first.version
    # One job-key policy: the version, the content and the parameters.
    assert first.job_key("projection", asdict(PCA)) != second.job_key("projection", asdict(PCA))
    assert first.job_key("projection", asdict(PCA)) == first.job_key("projection", asdict(PCA))


def test_a_space_in_memory_computes_and_stores_nothing(tmp_path: Path) -> None:
    import pandas as pd

    from explorer.core.space import make_space
    from explorer.maps.projections import project_space

    space = make_space(pd.DataFrame({"id": list("abcdef")}), np.eye(6, 4) + 0.1)
    held = OpenedSpace.of(space)
    assert not held.stored and held.index_if_any is None and held.thumbnails is None
    proj = project_space(held, PCA)
    assert proj.coords.shape == (6, 2) and not held.has_step("projection", asdict(PCA))


def test_one_map_page_rerun_opens_the_manifest_at_most_once(spaces: Path) -> None:
    at = _map_page(spaces)
    at.run()  # the first visit makes the map and the clustering
    assert not at.exception and not at.error, [e.value for e in at.error]
    with opened_files() as first_rerun:
        at.run()
    with opened_files() as second_rerun:
        at.selectbox(key="map_colour").select("(none)").run()
    assert not at.exception and not at.error
    assert named(first_rerun, "manifest.json") <= 1
    assert named(second_rerun, "manifest.json") <= 1
    # The page did read the space's stored step, so the count is of a real page.
    assert load_projection(open_space(spaces / "iris"), PCA) is not None


def test_a_job_on_a_verified_version_hashes_no_file_again(spaces: Path, hashing: list[str]) -> None:
    opened = open_space(spaces / "iris")
    opened.index  # noqa: B018 - the process checks the version: its data and its index
    assert {"items.parquet", "vectors.npy", "index.json", "index_rows.npy"} <= set(hashing)
    version, name = str(opened.version), opened.name
    # A copy of iris may already store these two (earlier tests add them); the first
    # job reads and checks them once, which is the one check this test allows.
    tasks.make_map(version, name, asdict(PCA), progress=lambda f, m: None)
    tasks.make_clustering(version, name, {"algorithm": "kmeans"}, None, progress=print)
    hashing.clear()
    umap = ProjectionParams(method="umap", seed=11)  # made here: no copy of iris has it
    tasks.make_map(version, name, asdict(umap), progress=lambda f, m: None)
    tasks.make_map(version, name, asdict(PCA), progress=lambda f, m: None)
    tasks.make_clustering(version, name, {"algorithm": "kmeans"}, None, progress=print)
    assert open_space(spaces / "iris").has_step("projection", asdict(umap))
    assert hashing == [], hashing


def test_a_file_changed_after_it_was_checked_is_checked_again(
    spaces: Path, hashing: list[str]
) -> None:
    folder = spaces / "iris"
    open_space(folder)
    hashing.clear()
    open_space(folder)
    assert hashing == []  # unchanged: trusted
    vectors = folder.resolve() / "vectors.npy"
    data = bytearray(vectors.read_bytes())
    data[-1] ^= 0xFF  # the same size, other content
    vectors.write_bytes(bytes(data))
    with pytest.raises(IncompleteSpaceError, match="checksum"):
        open_space(folder)
    assert "vectors.npy" in hashing


def test_thumbnails_are_read_once_per_version(
    image_spaces: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "spaces"
    shutil.copytree(image_spaces / "shapes", root / "shapes")
    monkeypatch.setenv("EXPLORER_SPACES", str(root))
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "pages/1_Map.py"), default_timeout=300)
    at.session_state["space_folder"] = "shapes"
    at.session_state["map_params"] = {str(root / "shapes"): asdict(PCA)}
    with opened_files() as first:
        at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert named(first, "thumbs.npy") > 0, "the page drew no pictures"
    with opened_files() as later:
        at.run()
        nb = AppTest.from_file(str(ROOT / "pages/2_Neighbours.py"), default_timeout=300)
        nb.session_state["space_folder"] = "shapes"
        nb.run()
        nb.selectbox(key="nb_item").set_value(0).run()
    assert not nb.exception and not nb.error
    table = next(d.value for d in nb.dataframe if "picture" in d.value.columns)
    assert table["picture"].str.startswith("data:image/png;base64,").sum() >= 9
    assert named(later, "thumbs.npy") == 0


def test_a_cancelled_map_waits_for_the_user_to_ask_again(spaces: Path) -> None:
    from ui.cache import CANCELLED

    params = asdict(ProjectionParams(method="umap", n_epochs=20))
    opened = open_space(spaces / "iris")
    at = _map_page(spaces)
    at.session_state["map_params"] = {str(spaces / "iris"): params}
    at.session_state[CANCELLED] = [opened.job_key("projection", params)]
    at.run()
    assert not at.exception
    assert any("Making the map: cancelled" in i.value for i in at.info)
    assert not opened.has_step("projection", params)  # nothing was queued or made
    at.button(key=[b.key for b in at.button if b.label == "Run it again"][0]).click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert opened.has_step("projection", params)
    assert at.session_state[CANCELLED] == []
