"""One engine, one truth: figures are defined once, stored with their step, read back.

Also: opening a space only reads; a missing index is reported and rebuilt only by
an explicit action.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.index import IndexUnavailable, open_index
from explorer.project import ProjectionParams, project_space, projection_quality
from explorer.store import open_space

ROOT = Path(__file__).resolve().parent.parent
PCA = ProjectionParams(method="pca")  # what the CLI makes with --method pca


@pytest.fixture()
def spaces(app_spaces: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the iris space: its own folder, so no cache holds its figures."""
    root = tmp_path / "spaces"
    shutil.copytree(app_spaces / "iris", root / "iris")
    monkeypatch.setenv("EXPLORER_SPACES", str(root))
    monkeypatch.setenv("EXPLORER_DEFAULT_SPACE", "iris")
    monkeypatch.chdir(ROOT)
    return root


def _page(path: str, folder: Path, **state: object) -> AppTest:
    at = AppTest.from_file(str(ROOT / path), default_timeout=300)
    at.session_state["space_folder"] = str(folder.resolve())
    from dataclasses import asdict

    at.session_state["map_params"] = {str(folder.resolve()): asdict(PCA)}
    for k, v in state.items():
        at.session_state[k] = v
    return at


def _typed(v: object) -> np.ndarray:
    """A plotly array from figure JSON: a list, or a base64 typed array."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v)


def _colour_of(at: AppTest, row: int) -> float:
    """The colour value the Quality page's map gives `row` (from the figure it sends)."""
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    for trace in fig["data"]:
        ids = _typed(trace.get("customdata", []))
        colours = trace.get("marker", {}).get("color")
        if isinstance(colours, dict | list) and row in ids.tolist():
            return float(_typed(colours)[ids.tolist().index(row)])
    raise AssertionError(f"row {row} is not coloured on the Quality map")


def test_neighbours_honesty_equals_the_quality_figure(spaces: Path) -> None:
    folder = spaces / "iris"
    space = open_space(folder)
    index = open_index(folder, space)
    q = projection_quality(space, PCA, 10, folder=folder, index=index)
    # An item the map keeps partly: neither 0 % nor 100 %, so a mismatch would show.
    row = int(np.flatnonzero((q.preservation > 0.2) & (q.preservation < 0.8))[0])

    nb = _page("pages/2_Neighbours.py", folder, nb_mode="An item").run()
    nb.selectbox(key="nb_item").select(row).run()
    assert not nb.exception and not nb.error
    honesty = next(m for m in nb.metric if m.label == "Map honesty for this item").value

    qa = _page("pages/5_Quality.py", folder).run()
    assert not qa.exception and not qa.error
    per_point = _colour_of(qa, row)
    assert honesty == f"{per_point:.0%}" == f"{q.preservation[row]:.0%}"


def test_figures_are_read_from_the_stored_map_not_recomputed(
    spaces: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import explorer.metrics as metrics
    from explorer.cli import main

    folder = spaces / "iris"
    space = open_space(folder)
    stored = project_space(space, PCA, folder=folder, index=open_index(folder, space))
    assert stored.quality is not None and 0.9 < stored.quality.trustworthiness <= 1

    def spy(*a: object, **k: object) -> float:
        raise AssertionError("a stored figure was recomputed")

    # Every map-quality figure goes through these two; neither may run again.
    monkeypatch.setattr(metrics, "trustworthiness", spy)
    monkeypatch.setattr(metrics, "continuity", spy)

    at = _page("pages/5_Quality.py", folder).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = next(m for m in at.metric if m.label == "Trustworthiness").value
    assert shown == f"{stored.quality.trustworthiness:.3f}"

    assert main(["project", str(folder), "--method", "pca", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["trustworthiness"] == round(stored.quality.trustworthiness, 4)


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


def test_opening_a_space_without_an_index_writes_nothing(
    spaces: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from explorer import ui_cache
    from explorer.cli import main

    folder = spaces / "iris"
    for name in ("index.json", "index_rows.npy", "index.bin"):
        (folder / name).unlink(missing_ok=True)
    before = _snapshot(folder)

    with pytest.raises(IndexUnavailable, match="reindex"):
        open_index(folder, open_space(folder))
    with pytest.raises(IndexUnavailable):
        ui_cache.space_and_index(folder)
    assert main(["neighbours", str(folder), "--id", "0"]) == 2
    assert "reindex" in capsys.readouterr().err
    at = _page("pages/1_Map.py", folder).run()
    assert not at.exception and any("index" in e.value for e in at.error)
    assert _snapshot(folder) == before  # nothing was written, not even a lock file

    # The explicit action rebuilds it.
    home = _page("pages/home.py", folder).run()
    home.button(key="rebuild_index").click().run()
    assert not home.exception
    assert open_index(folder, open_space(folder)).size == 150
