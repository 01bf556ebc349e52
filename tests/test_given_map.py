"""Bring your own map: columns x, y (and z) beside the vectors become the map "given"."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from explorer.core.errors import InputError
from explorer.ingest.build import build_from_file
from explorer.maps.projections import ProjectionParams, default_params, project_space

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def given(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    rng = np.random.default_rng(0)
    n = 120
    centres = rng.normal(size=(3, 10)) * 4
    group = np.repeat(np.arange(3), n // 3)
    vecs = centres[group] + rng.normal(size=(n, 10))
    table = pd.DataFrame(vecs, columns=[f"d{i}" for i in range(10)])
    # The user's own 2-D map: the groups' centres plus a little noise.
    table["x"] = group * 10 + rng.normal(size=n)
    table["y"] = rng.normal(size=n)
    table.insert(0, "id", [f"p{i}" for i in range(n)])
    path = tmp_path / "points.csv"
    table.to_csv(path, index=False)
    build_from_file(path, tmp_path / "spaces" / "points")
    return tmp_path / "spaces" / "points", table


def test_x_and_y_columns_become_the_given_map(given: tuple[Path, pd.DataFrame]) -> None:
    from explorer.opened.handle import open_space

    folder, table = given
    space = open_space(folder).space
    assert space.dim == 10  # x and y were kept out of the vectors
    assert any("given map" in n for n in space.notes)
    params = default_params(space)
    assert params.method == "given"
    proj = project_space(open_space(folder), params)
    np.testing.assert_allclose(proj.coords, table[["x", "y"]].to_numpy(), rtol=1e-6)
    # Measured like any other map: the same figure the metric gives directly.
    from explorer.maps.quality import trustworthiness

    want = trustworthiness(np.asarray(space.vectors), proj.coords, k=10, metric="cosine")
    assert proj.quality is not None and proj.quality.trustworthiness == pytest.approx(want)
    assert 0.8 < want < 1  # groups kept apart, their insides shuffled
    with pytest.raises(InputError, match="no given 3-D map"):
        project_space(space, ProjectionParams(method="given", dims=3))


def test_the_map_page_opens_on_the_given_map(
    given: tuple[Path, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, table = given
    monkeypatch.setenv("EXPLORER_SPACES", str(folder.parent))
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "pages/1_Map.py"), default_timeout=300)
    at.session_state["space_folder"] = "points"
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(c.value.startswith("GIVEN map") for c in at.caption)
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert sum(len(t.get("customdata", {}).get("bdata", "")) > 0 for t in fig["data"]) >= 1


def test_a_given_map_in_float32_columns(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd

    from explorer.ingest.build import build_space
    from explorer.maps.projections import ProjectionParams, project_space
    from explorer.opened.handle import open_space

    rng = np.random.default_rng(0)
    items = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(50)],
            "x": rng.normal(size=50).astype(np.float32),
            "y": rng.normal(size=50).astype(np.float32),
        }
    )
    build_space(items, rng.normal(size=(50, 4)).astype(np.float32), tmp_path / "f")
    proj = project_space(open_space(tmp_path / "f"), ProjectionParams(method="given"))
    np.testing.assert_allclose(proj.coords, items[["x", "y"]].to_numpy(), rtol=1e-6)
