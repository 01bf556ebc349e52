"""What one browser user may ask of the server is bounded before any work starts
(issue 18's holes, each with the test that found it)."""

from __future__ import annotations

import io
import shutil
import struct
import zipfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer.core.errors import ExplorerError, InputError
from explorer.core.store import check_space_name, list_spaces
from explorer.ingest.build import build_space
from explorer.ingest.images import read_images
from explorer.maps.projections import MAX_EPOCHS, ProjectionParams, check_cost
from explorer.opened.handle import open_space
from explorer.render.projector import projector_metadata
from explorer.share.views import Tour, make_view, save_tour, view_from_query

HUGE = "man, " * (17 << 18)  # a 17 MB "x from"


def _build(folder: Path, n: int = 40, seed: int = 0, **kw: object) -> Path:
    rng = np.random.default_rng(seed)
    items = pd.DataFrame({"id": [f"w{i}" for i in range(n)], "text": [f"t {i}" for i in range(n)]})
    build_space(items, rng.normal(size=(n, 8)), folder, **kw)  # type: ignore[arg-type]
    return folder


def test_a_huge_axis_term_is_refused_and_every_space_still_opens(tmp_path: Path) -> None:
    from explorer.maps.projections import project_space

    folder = _build(tmp_path / "s")
    params = ProjectionParams(method="axis", x_from=HUGE, x_to="woman")
    with pytest.raises(InputError, match="longer than 500 characters"):
        params.validate()
    with pytest.raises(InputError, match="longer than 500"):
        project_space(open_space(folder), params)
    assert [(s["name"], s["ok"]) for s in list_spaces(tmp_path)] == [("s", True)]
    assert (folder / "manifest.json").stat().st_size < 64 << 10


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"n_epochs": "2000000000"}, "n_epochs must be"),
        ({"n_epochs": str(MAX_EPOCHS + 1)}, "n_epochs must be"),
        ({"n_neighbors": "1000000"}, "n_neighbors must be"),
        ({"perplexity": "1e9"}, "perplexity must"),
        ({"method": "axis", "x_from": "a" * 501, "x_to": "b"}, "x_from=.* is not valid"),
    ],
)
def test_a_shared_link_cannot_ask_for_an_absurd_map(query: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        view_from_query({"space": "iris", "page": "map", **query})
    # Within the bounds, the same link is a map.
    assert view_from_query({"space": "iris", "page": "map", "n_epochs": "500"}).params()


def test_a_map_over_the_work_limit_is_refused_before_it_is_queued(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _build(tmp_path / "s", n=300)
    opened = open_space(folder)
    monkeypatch.setenv("EXPLORER_MAX_UMAP_POINT_EPOCHS", str(300 * 1000))
    check_cost(opened.space, ProjectionParams(n_epochs=1000))  # 300 × 1,000: at the limit
    with pytest.raises(InputError, match="EXPLORER_MAX_UMAP_POINT_EPOCHS"):
        check_cost(opened.space, ProjectionParams(n_epochs=1001))

    from ui import cache

    submitted: list[object] = []
    monkeypatch.setattr(cache, "run_job", lambda *a, **k: submitted.append(a))
    with pytest.raises(InputError, match="points × epochs"):
        cache.projection(cache.open_space(folder), asdict(ProjectionParams(n_epochs=5000)))
    assert submitted == []  # nothing was queued


def _zip64_liar(members: int) -> bytes:
    """A zip of one PNG whose plain end record says 1 member, and whose ZIP64 record (the
    one Python's zipfile reads) says `members`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    data = buf.getvalue()
    eocd = data.rfind(b"PK\x05\x06")
    cd_size, cd_offset = struct.unpack("<II", data[eocd + 12 : eocd + 20])
    record_at = eocd  # the ZIP64 record and locator go where the plain record was
    record = struct.pack(
        "<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, members, members, cd_size, cd_offset
    )
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, record_at, 1)
    return data[:eocd] + record + locator + data[eocd:]


def test_a_zip64_record_cannot_hide_the_listing_from_the_check() -> None:
    with pytest.raises(InputError, match="lists 50,000,000 files"):
        read_images(_zip64_liar(50_000_000), name="bomb.zip")


def test_a_build_removes_only_its_own_leftovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import explorer.core.store as store

    monkeypatch.setattr(store, "REPLACED_GRACE_S", 0.0)  # every replaced version is old
    other = _build(tmp_path / "X.v-1", seed=1)  # a space whose name looks like a version
    linked = _build(tmp_path / "X.link-2", seed=2)
    before = open_space(other).space.fingerprint
    _build(tmp_path / "X", seed=3)
    _build(tmp_path / "X", seed=4, overwrite=True)
    _build(tmp_path / "X", seed=5, overwrite=True)
    assert open_space(other).space.fingerprint == before
    assert open_space(linked).space.n == 40
    assert sorted(s["name"] for s in list_spaces(tmp_path) if s["ok"]) == [
        "X",
        "X.link-2",
        "X.v-1",
    ]


def test_a_saved_tour_obeys_the_limits_of_an_imported_one(app_spaces: Path, tmp_path: Path) -> None:
    shutil.copytree(app_spaces / "iris", tmp_path / "iris")
    opened = open_space(tmp_path / "iris")
    view = make_view({"space": "iris", "page": "map"})
    with pytest.raises(InputError, match="1 to 100 views"):
        save_tour(opened, Tour("Too long", tuple([view] * 101)))
    with pytest.raises(InputError, match="longer than 500"):
        save_tour(opened, Tour("t" * 20_000, (view,)))
    assert save_tour(opened, Tour("Fine", (view,))) == "fine"


def test_projector_metadata_is_neutralised_like_a_csv(tmp_path: Path) -> None:
    items = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "text": ['=HYPERLINK("http://x")', "+1 plain", "fine"],
            "score": [-1.5, 2.0, 3.0],
        }
    )
    build_space(items, np.eye(3, 4) + 0.1, tmp_path / "s")
    meta = projector_metadata(open_space(tmp_path / "s").space)
    assert meta["text"].tolist() == ['\'=HYPERLINK("http://x")', "'+1 plain", "fine"]
    assert meta["score"].tolist() == ["-1.5", "2.0", "3.0"]  # numbers are not formulas


def test_names_are_whole_and_messages_name_spaces_not_version_folders(tmp_path: Path) -> None:
    for bad in ("iris\n", "iris\nrm", "../iris", ".iris", ""):
        with pytest.raises(InputError):
            check_space_name(bad)
    folder = _build(tmp_path / "iris")
    vectors = folder.resolve() / "vectors.npy"
    data = bytearray(vectors.read_bytes())
    data[-1] ^= 0xFF
    vectors.write_bytes(bytes(data))
    with pytest.raises(ExplorerError) as err:
        open_space(folder)
    assert "'iris'" in str(err.value) and ".iris.v-" not in str(err.value)


def test_word2vec_keeps_only_the_words_its_bound_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    from explorer.train.corpus import builtin_corpus
    from explorer.train.word2vec import Word2VecParams, train_word2vec, vocabulary_bound

    small = builtin_corpus(max_tokens=30_000)
    p = Word2VecParams(dim=20, epochs=1, min_count=1)
    everything = train_word2vec(small, p)
    monkeypatch.setenv("EXPLORER_MAX_WORD_VECTOR_CELLS", str(20 * 300))
    assert vocabulary_bound(p) == 300 < len(everything.words)
    bounded = train_word2vec(small, p)
    assert len(bounded.words) <= 300
    # The most frequent words are the ones kept.
    assert set(bounded.words) <= set(everything.words[:400])
    assert vocabulary_bound(Word2VecParams(dim=20, max_vocab=100)) == 100


def _zip_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _scan_bomb(repeats: int) -> bytes:
    """A progressive JPEG whose last scan is repeated `repeats` times: tiny, and each
    scan makes the decoder go over the whole picture again."""
    from PIL import Image

    buf = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buf, format="JPEG", progressive=True)
    data = buf.getvalue()
    last = data.rfind(b"\xff\xda")
    end = data.rfind(b"\xff\xd9")
    return data[:end] + data[last:end] * repeats + data[end:]


def test_a_jpeg_scan_bomb_is_refused() -> None:
    from explorer.ingest.images.decode import MAX_SCANS, jpeg_scans

    plain = _scan_bomb(0)
    assert 1 < jpeg_scans(plain) <= MAX_SCANS
    assert read_images(_zip_of({"ok.jpg": plain})).names == ["ok.jpg"]
    bomb = _scan_bomb(800)
    with pytest.raises(InputError, match="800 scans|scans, over the limit"):
        read_images(_zip_of({"bomb.jpg": bomb}))


def test_decoded_pixels_count_against_the_budget_not_the_bytes_on_disk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.zeros((3000, 3000), dtype=np.uint16)).save(buf, format="PNG")
    flat = buf.getvalue()  # a few kB on disk, 18 MB once decoded (16-bit grey)
    assert len(flat) < 100_000
    monkeypatch.setenv("EXPLORER_MAX_DECODED_BYTES", str(40 << 20))
    assert len(read_images(_zip_of({"a.png": flat, "b.png": flat}))) == 2
    with pytest.raises(InputError, match="read and decoded so far.*EXPLORER_MAX_DECODED_BYTES"):
        read_images(_zip_of({f"{i}.png": flat for i in range(3)}))


def test_decoding_a_collection_has_a_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    import explorer.ingest.images.read as read

    clock = iter(range(0, 10_000, 400))  # every decode seems to take 400 s
    monkeypatch.setattr(read, "time", SimpleNamespace(perf_counter=lambda: float(next(clock))))
    png = io.BytesIO()
    from PIL import Image

    Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(png, format="PNG")
    files = {f"{i}.png": png.getvalue() for i in range(3)}
    with pytest.raises(InputError, match="Seconds spent decoding.*EXPLORER_MAX_DECODE_SECONDS"):
        read_images(_zip_of(files))


class _Upload:
    def __init__(self, name: str, data: bytes) -> None:
        self.name, self.size, self._data = name, len(data), data

    def getvalue(self) -> bytes:
        return self._data


def test_a_session_keeps_one_upload_per_uploader(tmp_path: Path) -> None:
    from ui.build_ui import save_upload

    first = save_upload(_Upload("a.csv", b"x" * 100), tmp_path)
    second = save_upload(_Upload("b.csv", b"y" * 50), tmp_path)
    assert not first.exists() and second.read_bytes() == b"y" * 50
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.csv"]


def test_upload_folders_of_ended_or_idle_sessions_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import time

    import ui.build_ui as build_ui

    monkeypatch.setattr(build_ui.tempfile, "gettempdir", lambda: str(tmp_path))
    alive = {"live": True, "ended": False}
    monkeypatch.setattr(build_ui, "_session_alive", lambda sid: alive.get(sid))
    folders = {}
    for name in ("live", "ended", "unknown", "idle", "own"):
        folders[name] = tmp_path / f"{build_ui.UPLOADS}{name}--x1"
        folders[name].mkdir()
        (folders[name] / "data.csv").write_text("id\n1\n")
    old = time.time() - build_ui.UPLOAD_IDLE_S - 10
    os.utime(folders["idle"], (old, old))
    os.utime(folders["own"], (old, old))
    build_ui.sweep_uploads(own=folders["own"])
    left = sorted(p.name.split("--")[0][len(build_ui.UPLOADS) :] for p in tmp_path.iterdir())
    assert left == ["live", "own", "unknown"]


def test_an_image_training_over_its_cost_is_refused_before_it_starts(tmp_path: Path) -> None:
    from explorer.train.clip import ClipParams
    from explorer.train.image_jobs import BUILTIN_IMAGES, train_clip_space, train_simclr_space
    from explorer.train.simclr import SimCLRParams

    with pytest.raises(InputError, match="12,000,000.*EXPLORER_MAX_IMAGE_EPOCHS"):
        train_simclr_space(BUILTIN_IMAGES, tmp_path / "s", SimCLRParams(epochs=200), limit=60_000)
    with pytest.raises(InputError, match="EXPLORER_MAX_IMAGE_EPOCHS"):
        train_clip_space(BUILTIN_IMAGES, tmp_path / "c", ClipParams(epochs=200), limit=60_000)
    assert not (tmp_path / "s").exists() and not (tmp_path / "c").exists()


def test_a_space_keeps_its_newest_steps_and_a_bounded_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import explorer.core.store as store
    from explorer.maps.projections import load_projection, project_space

    monkeypatch.setattr(store, "MAX_STEPS", 3)
    folder = _build(tmp_path / "s")
    maps = [ProjectionParams(method="pca", seed=s) for s in range(5)]
    for p in maps:
        project_space(open_space(folder), p)
    opened = open_space(folder)
    steps = opened.manifest()["steps"]
    assert len(steps) == 3 and len(list((folder / "steps").iterdir())) == 6
    assert [load_projection(opened, p) is not None for p in maps] == [False] * 2 + [True] * 3


def test_a_space_holds_a_bounded_number_of_tours(
    app_spaces: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import explorer.share.views as views

    monkeypatch.setattr(views, "MAX_TOURS", 2)
    shutil.copytree(app_spaces / "iris", tmp_path / "iris")
    opened = open_space(tmp_path / "iris")
    view = make_view({"space": "iris", "page": "map"})
    save_tour(opened, Tour("one", (view,)))
    save_tour(opened, Tour("two", (view,)))
    save_tour(opened, Tour("two", (view, view)))  # replacing one is fine
    with pytest.raises(InputError, match="holds 2 tours"):
        save_tour(opened, Tour("three", (view,)))


def test_every_k_a_figure_is_measured_at_is_bounded(tmp_path: Path) -> None:
    from explorer.analysis.compare import CompareParams
    from explorer.maps.projections import projection_quality

    folder = _build(tmp_path / "s")
    with pytest.raises(InputError, match="from 1 to 1,000"):
        projection_quality(open_space(folder), ProjectionParams(method="pca"), 10**9)
    for bad in ({"k": 10**6}, {"cka_sample": 10**9}, {"n_listed": 10**7}):
        with pytest.raises(InputError, match="must be a whole number from"):
            CompareParams(**bad).validate()  # type: ignore[arg-type]


def test_a_shared_selection_keeps_only_the_spaces_ids(
    app_spaces: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from ui.views import SELECTION

    root = Path(__file__).resolve().parent.parent
    monkeypatch.setenv("EXPLORER_SPACES", str(app_spaces))
    monkeypatch.chdir(root)
    at = AppTest.from_file(str(root / "pages/1_Map.py"), default_timeout=300)
    ids = open_space(app_spaces / "iris").space.ids[:2].tolist()
    at.query_params["space"] = "iris"
    at.query_params["page"] = "map"
    at.query_params["method"] = "pca"
    at.query_params["selection"] = ",".join([ids[0], "no-such-item", "x" * 400, ids[1]])
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state[SELECTION] == ids


def test_a_clustering_over_its_limit_is_refused_before_it_is_queued(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from explorer.cluster.clusterings import ClusterParams
    from ui import cache

    folder = _build(tmp_path / "s", n=300)
    monkeypatch.setenv("EXPLORER_MAX_HDBSCAN_ROWS", "100")
    submitted: list[object] = []
    monkeypatch.setattr(cache, "run_job", lambda *a, **k: submitted.append(a))
    with pytest.raises(InputError, match="EXPLORER_MAX_HDBSCAN_ROWS"):
        cache.clustering(cache.open_space(folder), asdict(ClusterParams(algorithm="hdbscan")))
    assert submitted == []
