"""Safe to deploy for a team: hostile folders, forged files, races and leaks.

Each test names the problem of the security review it covers (issue 8).
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from explorer.core.errors import IncompleteSpaceError, InputError, user_message
from explorer.core.manifest import file_digest, seal
from explorer.core.store import SpaceExists, list_spaces, save_space
from explorer.index.hnsw import IndexParams, IndexUnavailable, open_index
from explorer.ingest.build import build_space, index_space, reindex
from explorer.opened.handle import open_space

ROOT = Path(__file__).resolve().parent.parent
HNSW = IndexParams(exact_below=0)  # an hnswlib index even for a few hundred points
# The Streamlit elements that take free text (AppTest's names for them).
FREE_TEXT = ("text_input", "text_area", "chat_input")


def _items(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    items = pd.DataFrame({"id": [f"w{i}" for i in range(n)], "text": [f"t{i}" for i in range(n)]})
    return items, rng.normal(size=(n, 16)).astype(np.float32)


def _build(folder: Path, n: int = 300, seed: int = 0, **kw: object) -> Path:
    items, vecs = _items(n, seed)
    build_space(items, vecs, folder, index_params=HNSW, **kw)  # type: ignore[arg-type]
    return folder


def _reseal(folder: Path, **file_changes: dict[str, object]) -> None:
    """Forge consistently: what an attacker who rewrote files would also rewrite."""
    real = folder.resolve()
    man = json.loads((real / "manifest.json").read_text())
    man["files"].update(file_changes)
    man["seal"] = seal(man)
    (real / "manifest.json").write_text(json.dumps(man))


# ----------------------------------------------------------------- 1. server paths


def test_home_offers_no_server_path_box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _build(tmp_path / "spaces" / "mine")
    monkeypatch.setenv("EXPLORER_SPACES", str(tmp_path / "spaces"))
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "pages/home.py"), default_timeout=120)
    # A path chosen in the session never reaches the file system: only its last part,
    # as a space name under the operator's folder.
    at.session_state["space_folder"] = "/etc"
    at.run()
    assert not at.exception
    assert not [t for t in at.text_input if "folder" in t.label.lower()]
    assert not any("etc" in str(m.value) for m in at.metric)
    # The complete list of what Home lets one type or give: no box takes free text at
    # all (a path box would be one), data arrives only through the two uploaders, and a
    # space is chosen only among those saved in the operator's folder.
    free_text = [(w.type, w.label) for k in FREE_TEXT for w in at.get(k)]
    assert free_text == []
    uploads = [(u.proto.label, u.proto.id.rsplit("-", 1)[-1]) for u in at.get("file_uploader")]
    assert uploads == [
        ("Data file", "upload_main_0"),
        ("Metadata for a vectors file (optional: CSV/TSV, one row per vector)", "upload_meta_0"),
    ]
    assert [(s.key, s.options) for s in at.selectbox] == [("sidebar_space", ["mine"])]
    assert at.selectbox(key="sidebar_space").value is None  # "/etc" is not a space here
    opens = [b.key for b in at.button if b.label == "Open"]
    assert opens == ["open_mine"]


def test_a_build_never_replaces_a_space_it_was_not_asked_to(tmp_path: Path) -> None:
    folder = _build(tmp_path / "words-glove")
    keep = folder.resolve() / "team-notes.txt"
    keep.write_text("precious")
    before = open_space(folder).space.fingerprint
    with pytest.raises(SpaceExists, match="already exists"):
        _build(folder, seed=1)
    assert open_space(folder).space.fingerprint == before and keep.read_text() == "precious"
    _build(folder, seed=1, overwrite=True)  # an explicit, confirmed overwrite
    assert open_space(folder).space.fingerprint != before


def test_space_names_cannot_climb_out_of_the_spaces_folder(tmp_path: Path) -> None:
    items, vecs = _items(10)
    for bad in ("..", ".hidden", "x" * 200, "name with spaces"):
        with pytest.raises(InputError, match="cannot name a space"):
            build_space(items, vecs, tmp_path / "root" / bad)


# ----------------------------------------------------------------- 2. one folder takes all down


def test_a_directory_named_manifest_json_breaks_only_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "spaces"
    _build(root / "good")
    (root / "x" / "manifest.json").mkdir(parents=True)
    (root / "junk").mkdir()
    (root / "junk" / "manifest.json").write_bytes(b"\xff\xfe not json")
    spaces = {m["name"]: m for m in list_spaces(root)}
    assert spaces["good"]["ok"] and not spaces["x"]["ok"] and not spaces["junk"]["ok"]
    assert str(tmp_path) not in spaces["x"]["problem"] + spaces["junk"]["problem"]
    monkeypatch.setenv("EXPLORER_SPACES", str(root))
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "pages/home.py"), default_timeout=120).run()
    assert not at.exception
    assert any("broken" in m.value for m in at.markdown)
    assert any(b.key == "open_good" for b in at.button)


def test_manifest_fields_are_validated(tmp_path: Path) -> None:
    folder = _build(tmp_path / "s")
    real = folder.resolve()
    good = json.loads((real / "manifest.json").read_text())
    for change in (
        {"metric": "manhattan"},
        {"n": -1},
        {"files": {**good["files"], "../../etc/passwd": {"bytes": 1, "xxh3": "0" * 16}}},
        {"model": ["a"]},
        {"fingerprint": "not hex"},
    ):
        man = {**good, **change}
        man["seal"] = seal(man)  # a consistent forgery, not just an edit
        (real / "manifest.json").write_text(json.dumps(man))
        with pytest.raises(IncompleteSpaceError) as err:
            open_space(folder)
        assert str(tmp_path) not in str(err.value)


# ----------------------------------------------------------------- 3. forged index


def _patch(path: Path, offset: int, fmt: str, value: int) -> None:
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, offset, value)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("offset", "fmt", "value"),
    [
        (6 * 8 + 4, "<I", 10**6),  # the entry point, far outside the index
        (96 + 4, "<I", 10**6),  # the first neighbour of element 0 at level 0
        (2 * 8, "<Q", 10**6),  # the element count
    ],
    ids=["entry-point", "level0-neighbour", "count"],
)
def test_a_forged_index_is_refused_not_loaded(
    tmp_path: Path, offset: int, fmt: str, value: int
) -> None:
    folder = _build(tmp_path / "s")
    index_bin = folder.resolve() / "index.bin"
    _patch(index_bin, offset, fmt, value)
    _reseal(folder, **{"index.bin": file_digest(index_bin)})  # checksums forged too
    # In a fresh process: hnswlib must never see the file, so no signal, a message.
    res = subprocess.run(
        [sys.executable, "-m", "explorer", "neighbours", str(folder), "--id", "w1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert res.returncode == 2, res.stderr  # an exit with a message, not -11 (SIGSEGV)
    assert "damaged or does not fit" in res.stderr and "Traceback" not in res.stderr
    reindex(open_space(folder))  # the explicit rebuild from the vectors
    assert open_index(folder, open_space(folder).space).size == 300


def test_the_index_check_reads_in_pieces_and_still_sees_every_element(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The level-0 block is checked piece by piece (so a 1M-point check does not hold a
    second copy of the index): a forgery in a late piece, or one that only shows across
    pieces (a label used twice), is still refused."""
    import hnswlib

    from explorer.index import file_check as index_file
    from explorer.index.file_check import HnswFileError, check_hnsw_file

    n, dim, m = 300, 16, 8
    hnsw = hnswlib.Index(space="cosine", dim=dim)
    hnsw.init_index(max_elements=n, M=m, ef_construction=32, random_seed=1)
    hnsw.add_items(np.random.default_rng(3).normal(size=(n, dim)).astype(np.float32))
    good = tmp_path / "good.bin"
    hnsw.save_index(str(good))
    per = (2 * m + 1) * 4 + 4 * dim + 8  # level-0 links, the vector, the label
    monkeypatch.setattr(index_file, "_CHUNK_BYTES", 7 * per)  # 43 pieces
    check_hnsw_file(good, dim, n, n)  # a good file passes

    def forged(name: str, element: int, at: int, fmt: str, value: float) -> Path:
        path = tmp_path / name
        data = bytearray(good.read_bytes())
        struct.pack_into(fmt, data, 96 + element * per + at, value)  # 96: the header
        path.write_bytes(bytes(data))
        return path

    vec_at, label_at = (2 * m + 1) * 4, (2 * m + 1) * 4 + 4 * dim
    cases = {
        "outside the index": forged("nbr.bin", 290, 4, "<I", 10**6),
        "not finite": forged("nan.bin", 299, vec_at, "<f", float("nan")),
        "not distinct": forged("label.bin", 250, label_at, "<Q", 3),  # element 3's label
    }
    for message, path in cases.items():
        with pytest.raises(HnswFileError, match=message):
            check_hnsw_file(path, dim, n, n)
    short = tmp_path / "short.bin"
    short.write_bytes(good.read_bytes()[: 96 + 200 * per])
    with pytest.raises(HnswFileError, match="cut short"):
        check_hnsw_file(short, dim, n, n)


# ----------------------------------------------------------------- tampering and crashes


def test_tampering_is_detected_on_open(tmp_path: Path) -> None:
    folder = _build(tmp_path / "s")
    real = folder.resolve()
    vec = real / "vectors.npy"
    data = bytearray(vec.read_bytes())
    data[-5] ^= 0xFF  # one flipped byte
    vec.write_bytes(bytes(data))
    with pytest.raises(IncompleteSpaceError, match="checksum"):
        open_space(folder)

    folder = _build(tmp_path / "t")
    real = folder.resolve()
    (real / "index.bin").write_bytes((real / "index.bin").read_bytes()[:-100])
    with pytest.raises(IndexUnavailable, match="damaged"):
        open_index(folder, open_space(folder).space)
    reindex(open_space(folder))
    assert open_index(folder, open_space(folder).space).size == 300

    man = json.loads((real / "manifest.json").read_text())
    man["metric"] = "l2"  # an edit by hand
    (real / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(IncompleteSpaceError, match="edited"):
        open_space(folder)


_KILLED_BUILD = r"""
import sys, time
from pathlib import Path
import numpy as np, pandas as pd
import explorer.ingest.build as build

real = build.write_space_files
def slow(space, folder, extra=None):
    space.items.to_parquet(Path(folder) / "items.parquet", index=False)  # half written
    Path(sys.argv[2]).write_text("now")
    time.sleep(120)
build.write_space_files = slow
rng = np.random.default_rng(1)
items = pd.DataFrame({"id": [f"w{i}" for i in range(300)]})
build.build_space(items, rng.normal(size=(300, 16)), Path(sys.argv[1]), overwrite=True)
"""


def test_a_build_killed_mid_write_leaves_the_previous_version(tmp_path: Path) -> None:
    folder = _build(tmp_path / "s")
    before = open_space(folder).space.fingerprint
    ready = tmp_path / "ready"
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_BUILD, str(folder), str(ready)], cwd=ROOT
    )
    try:
        deadline = time.time() + 120
        while not ready.exists() and time.time() < deadline and child.poll() is None:
            time.sleep(0.05)
        assert ready.exists(), "the child build never started writing"
    finally:
        child.kill()  # SIGKILL: no cleanup code runs
        child.wait()
    assert open_space(folder).space.fingerprint == before  # the name still opens the old one
    assert open_index(folder, open_space(folder).space).size == 300
    half = [p for p in (tmp_path).glob(".s.v-*") if p.resolve() != folder.resolve()]
    assert half, "the half-written version should be there"
    with pytest.raises(IncompleteSpaceError, match="no manifest"):
        open_space(half[0])  # detected as half-written
    assert [m["name"] for m in list_spaces(tmp_path)] == ["s"]  # and never listed
    _build(folder, seed=2, overwrite=True)  # the next build clears it away
    assert not half[0].exists()


# ----------------------------------------------------------------- 6. races


def test_two_builds_of_one_name_do_not_interleave(tmp_path: Path) -> None:
    results: list[str] = []
    gate = threading.Event()
    import explorer.ingest.build as build

    real = build.write_space_files

    def slow(*a: object, **k: object) -> None:
        gate.set()
        time.sleep(1.0)  # the first build is still writing when the second starts
        real(*a, **k)  # type: ignore[arg-type]

    def first() -> None:
        build.write_space_files = slow  # type: ignore[assignment]
        try:
            _build(tmp_path / "s")
            results.append("built")
        finally:
            build.write_space_files = real

    t = threading.Thread(target=first)
    t.start()
    gate.wait(30)
    try:
        _build(tmp_path / "s", seed=1)
        results.append("second built")
    except InputError as exc:
        results.append(str(exc))
    t.join()
    assert results[0].startswith("Another build of the space 's' is running")
    assert results[1] == "built" and open_space(tmp_path / "s").space.n == 300


def test_the_demo_is_built_once(tmp_path: Path) -> None:
    from explorer.ingest.build import build_sample

    outcomes: list[str] = []

    def visit() -> None:
        try:
            build_sample("iris", tmp_path / "iris", wait=True)
            outcomes.append("built")
        except SpaceExists:
            outcomes.append("opened the one built meanwhile")

    visitors = [threading.Thread(target=visit) for _ in range(3)]
    for v in visitors:
        v.start()
    for v in visitors:
        v.join()
    assert sorted(outcomes) == ["built"] + ["opened the one built meanwhile"] * 2
    assert open_space(tmp_path / "iris").space.n == 150


def test_readers_never_see_a_missing_space_during_rebuilds(tmp_path: Path) -> None:
    folder = _build(tmp_path / "s")
    failures: list[str] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                open_space(folder)
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                failures.append(repr(exc))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for seed in range(5):
            items, vecs = _items(300, seed)
            save_space(__import__("explorer").make_space(items, vecs), folder, overwrite=True)
    finally:
        stop.set()
        reader.join()
    assert failures == []


# ----------------------------------------------------------------- 7. numba threading layer


def test_numba_uses_a_thread_safe_layer_under_concurrent_use() -> None:
    script = r"""
import threading
import explorer.maps.umap as u
u.import_umap()
import numba, numpy as np
assert numba.config.THREADING_LAYER == "threadsafe", numba.config.THREADING_LAYER
@numba.njit(parallel=True)
def f(x):
    s = 0.0
    for i in numba.prange(x.shape[0]):
        s += np.sqrt(x[i])
    return s
x = np.ones(1_000_000)
f(x)
threads = [threading.Thread(target=lambda: [f(x) for _ in range(10)]) for _ in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
print(numba.threading_layer())
"""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    res = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]  # workqueue would abort (SIGABRT)
    assert res.stdout.strip() in ("omp", "tbb")


# ----------------------------------------------------------------- 8. leaks


def test_unforeseen_errors_never_show_their_text() -> None:
    exc = FileNotFoundError(2, "No such file", "/srv/secret/spaces/x/vectors.npy")
    msg = user_message(exc, "Opening the space")
    assert "/srv" not in msg and "FileNotFoundError" in msg


def test_engine_messages_name_spaces_not_paths(tmp_path: Path) -> None:
    folder = _build(tmp_path / "deep" / "s")
    (folder.resolve() / "vectors.npy").write_bytes(b"x")
    with pytest.raises(IncompleteSpaceError) as damaged:
        open_space(folder)
    with pytest.raises(InputError) as missing:
        open_space(tmp_path / "nope")
    for err in (damaged, missing):
        assert str(tmp_path) not in str(err.value) and "'" in str(err.value)
    # Named as the user knows it, not by its hidden version folder.
    assert "space 's'" in str(damaged.value) and ".v-" not in str(damaged.value)
    other = _build(tmp_path / "deep" / "t")
    space = open_space(other).space
    (other.resolve() / "index_rows.npy").write_bytes(b"x")
    with pytest.raises(IndexUnavailable) as index_err:
        open_index(other, space)
    assert ".v-" not in str(index_err.value) and str(tmp_path) not in str(index_err.value)


# ----------------------------------------------------------------- 9. shared index


def test_ef_is_per_query_and_clamped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _build(tmp_path / "s", n=2000)
    space = open_space(folder).space
    index = open_index(folder, space)
    q = np.asarray(space.vectors[:50])
    narrow = index.search(q, 10, ef=16)[0]
    wide = index.search(q, 10, ef=400)[0]
    errors: list[str] = []

    def hammer(ef: int, want: np.ndarray) -> None:
        for _ in range(30):
            got = index.search(q, 10, ef=ef)[0]
            if not np.array_equal(got, want):
                errors.append(f"ef={ef} gave other answers under concurrency")

    threads = [
        threading.Thread(target=hammer, args=(16, narrow)),
        threading.Thread(target=hammer, args=(400, wide)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    monkeypatch.setenv("EXPLORER_MAX_EF", "64")
    index.search(q, 10, ef=10**9)
    assert index._hnsw is not None and index._hnsw.ef == 64  # clamped to the limit


def test_map_size_limits_name_their_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from explorer.cluster.clusterings import ClusterParams, cluster_space
    from explorer.maps.projections import ProjectionParams, project_space

    folder = _build(tmp_path / "s")
    space = open_space(folder).space
    monkeypatch.setenv("EXPLORER_MAX_TSNE_ROWS", "100")
    with pytest.raises(InputError, match="EXPLORER_MAX_TSNE_ROWS"):
        project_space(space, ProjectionParams(method="tsne"))
    monkeypatch.setenv("EXPLORER_MAX_UMAP_ROWS", "100")
    with pytest.raises(InputError, match="EXPLORER_MAX_UMAP_ROWS"):
        project_space(space, ProjectionParams(method="umap"))
    monkeypatch.setenv("EXPLORER_MAX_HDBSCAN_ROWS", "100")
    with pytest.raises(InputError, match="EXPLORER_MAX_HDBSCAN_ROWS"):
        cluster_space(space, ClusterParams(algorithm="hdbscan", features="full"))
    assert project_space(space, ProjectionParams(method="pca")).coords.shape == (300, 2)


def test_index_files_are_written_under_unique_names(tmp_path: Path) -> None:
    folder = _build(tmp_path / "s")
    space = open_space(folder).space
    calls: list[str] = []
    import hnswlib

    real = hnswlib.Index.save_index

    def spy(self: hnswlib.Index, path: str) -> None:
        calls.append(path)
        real(self, path)

    hnswlib.Index.save_index = spy  # type: ignore[method-assign]
    try:
        index_space(folder.resolve(), space, HNSW)
        index_space(folder.resolve(), space, HNSW)
    finally:
        hnswlib.Index.save_index = real  # type: ignore[method-assign]
    assert len(set(calls)) == 2 and all(Path(c).name != ".index.bin.tmp" for c in calls)
    assert open_index(folder, space).size == 300


def test_a_viewer_is_not_switched_to_another_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "spaces"
    _build(root / "a")
    _build(root / "b", seed=1)
    monkeypatch.setenv("EXPLORER_SPACES", str(root))
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "pages/1_Map.py"), default_timeout=120)
    at.session_state["space_folder"] = "b"
    (root / "b").unlink()  # b is unavailable for a moment (removed, or being rebuilt)
    at.run()
    assert not at.exception
    assert at.session_state["space_folder"] == "b"  # still this viewer's choice, not "a"
    assert any("no space named 'b'" in e.value for e in at.error)
