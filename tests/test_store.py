from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer.core.errors import IncompleteSpaceError
from explorer.core.manifest import seal
from explorer.core.space import make_space
from explorer.core.store import SpaceExists, list_spaces, load_step, save_space, save_step, step_key
from explorer.opened.handle import open_space


def _space(n: int = 20, seed: int = 0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    items = pd.DataFrame(
        {
            "id": [f"i{i}" for i in range(n)],
            "text": [f"text {i}" for i in range(n)],
            "label": rng.choice(["a", "b"], n),
        }
    )
    return make_space(items, rng.normal(size=(n, 8)), model="m", source={"file": "x.csv"})


def test_round_trip(tmp_path: Path) -> None:
    s = _space()
    folder = save_space(s, tmp_path / "s")
    t = open_space(folder).space
    assert t.fingerprint == s.fingerprint
    np.testing.assert_array_equal(np.asarray(t.vectors), s.vectors)
    pd.testing.assert_frame_equal(t.items, s.items)
    man = json.loads((folder / "manifest.json").read_text())
    assert man["complete"] and man["n"] == 20 and man["dim"] == 8 and man["model"] == "m"
    assert man["source"] == {"file": "x.csv"}


def test_replacing_a_space_is_atomic(tmp_path: Path) -> None:
    save_space(_space(seed=0), tmp_path / "s")
    s2 = _space(n=30, seed=1)
    # A name is never replaced unless asked.
    with pytest.raises(SpaceExists, match="already exists"):
        save_space(s2, tmp_path / "s")
    assert open_space(tmp_path / "s").space.n == 20
    first = (tmp_path / "s").resolve()
    save_space(s2, tmp_path / "s", overwrite=True)
    assert open_space(tmp_path / "s").space.n == 30
    # The name is a link swapped in one rename; the old version stays whole for
    # readers that resolved it just before, until the next build removes it.
    assert (tmp_path / "s").is_symlink() and (tmp_path / "s").resolve() != first
    assert open_space(first).space.n == 20
    import explorer.core.store as store

    store.REPLACED_GRACE_S = -1.0  # as if a minute had passed: no reader is left in it
    try:
        save_space(_space(n=40, seed=2), tmp_path / "s", overwrite=True)
    finally:
        store.REPLACED_GRACE_S = 60.0
    visible = [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")]
    assert visible == ["s"] and not first.exists()
    assert len(list(tmp_path.glob(".s.v-*"))) == 2  # the current one and the last


def test_half_written_folder_is_refused(tmp_path: Path) -> None:
    folder = save_space(_space(), tmp_path / "s")
    vec = folder / "vectors.npy"
    vec.write_bytes(vec.read_bytes()[:100])  # a crash mid-write
    with pytest.raises(IncompleteSpaceError, match="cut short"):
        open_space(folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(IncompleteSpaceError, match="no manifest"):
        open_space(folder)


def test_incomplete_flag_refused(tmp_path: Path) -> None:
    folder = save_space(_space(), tmp_path / "s")
    man = json.loads((folder / "manifest.json").read_text())
    man["complete"] = False
    man["seal"] = seal(man)  # even a consistently resealed manifest says incomplete
    (folder / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(IncompleteSpaceError, match="not a complete space"):
        open_space(folder)


def test_failed_build_leaves_nothing(tmp_path: Path) -> None:
    class Boom(Exception):
        pass

    s = _space()

    class BadItems(pd.DataFrame):
        def to_parquet(self, *a, **k):  # type: ignore[no-untyped-def,override]
            raise Boom()

    broken = type(s)(items=BadItems(s.items), vectors=s.vectors, fingerprint=s.fingerprint)
    with pytest.raises(Boom):
        save_space(broken, tmp_path / "s")
    assert [p.name for p in tmp_path.iterdir() if p.name != ".locks"] == []


def test_list_spaces_shows_broken_folders_as_broken(tmp_path: Path) -> None:
    save_space(_space(), tmp_path / "good")
    (tmp_path / "bad").mkdir()
    (tmp_path / ".good.v-1234").mkdir()  # a build killed half-way: hidden, not listed
    spaces = list_spaces(tmp_path)
    assert [(m["name"], m["ok"]) for m in spaces] == [("bad", False), ("good", True)]
    assert "no manifest" in spaces[0]["problem"]


def test_steps_are_stored_with_parameters(tmp_path: Path) -> None:
    s = _space()
    folder = save_space(s, tmp_path / "s")
    params = {"fingerprint": s.fingerprint, "method": "pca"}
    key = step_key(params)
    assert load_step(folder, "projection", key) is None
    save_step(folder, "projection", key, {"coords": np.ones((20, 2), np.float32)}, params)
    arrays, meta = load_step(folder, "projection", key)  # type: ignore[misc]
    assert arrays["coords"].shape == (20, 2) and meta == params
    man = json.loads((folder / "manifest.json").read_text())
    assert man["steps"][f"projection-{key}"] == params
    assert step_key({**params, "method": "umap"}) != key
