"""Semantic axes: x (and y) run along directions the user names."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer.core.errors import InputError
from explorer.core.space import make_space
from explorer.maps.axes import Axis, axis_coords, parse_terms, poles
from explorer.maps.projections import ProjectionParams, project_space
from explorer.opened.handle import open_space


@pytest.fixture(scope="module")
def words(app_spaces: Path):  # type: ignore[no-untyped-def]
    return open_space(app_spaces / "words").space  # the 5,000 most frequent GloVe words


def test_man_to_woman_puts_woman_at_the_positive_end(words) -> None:  # type: ignore[no-untyped-def]
    p = ProjectionParams(method="axis", x_from="man", x_to="woman")
    proj = project_space(words, p)
    x = proj.coords[:, 0]
    assert x[words.row_of["woman"]] > 0 > x[words.row_of["man"]]
    # Feminine words lie towards the woman end, masculine ones towards man.
    assert x[words.row_of["she"]] > x[words.row_of["he"]]
    assert x[words.row_of["queen"]] > x[words.row_of["king"]]
    low, high = poles(proj.coords, 30)
    assert "woman" in {str(words.ids[r]) for r in high}
    assert x[low].max() < x[high].min()  # the poles are the two ends
    assert proj.quality is not None  # measured and stored like any other map


def test_groups_are_centroids_and_y_is_orthogonal(words) -> None:  # type: ignore[no-untyped-def]
    p = ProjectionParams(
        method="axis",
        x_from="bad, poor, worst",
        x_to="good, great, excellent",
        y_from="cold",
        y_to="hot",
    )
    proj = project_space(words, p)
    good, bad = words.row_of["happy"], words.row_of["worse"]
    assert proj.coords[good, 0] > proj.coords[bad, 0]
    assert any("orthogonal" in n for n in proj.notes)
    dx = Axis(parse_terms(p.x_from), parse_terms(p.x_to)).direction(words)
    dy = Axis(["cold"], ["hot"]).direction(words)
    xy, _ = axis_coords(np.asarray(words.vectors[:50]), dx, dy)
    ortho = dy - (dy @ dx) * dx
    np.testing.assert_allclose(
        xy[:, 1], np.asarray(words.vectors[:50]) @ (ortho / np.linalg.norm(ortho)), atol=1e-5
    )


def test_axis_errors_are_named(words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="both ends of x"):
        ProjectionParams(method="axis", x_from="man").validate()
    with pytest.raises(InputError, match="both ends of y"):
        ProjectionParams(method="axis", x_from="a", x_to="b", y_from="c").validate()
    with pytest.raises(InputError, match="2-D"):
        ProjectionParams(method="axis", x_from="a", x_to="b", dims=3).validate()
    with pytest.raises(InputError, match="no model"):
        project_space(words, ProjectionParams(method="axis", x_from="man", x_to="zzqxv blorp"))
    same = ProjectionParams(method="axis", x_from="man", x_to="man")
    with pytest.raises(InputError, match="same point"):
        project_space(words, same)


def test_free_text_poles_are_embedded_with_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 4))
    space = make_space(pd.DataFrame({"id": [f"i{i}" for i in range(20)]}), x, model="fake")
    import explorer.ingest.query as query

    def fake(space, text):  # type: ignore[no-untyped-def]
        return (
            np.array([1, 0, 0, 0], np.float32)
            if text == "a happy tale"
            else np.array([-1, 0, 0, 0], np.float32)
        ), "embedded"

    monkeypatch.setattr(query, "text_vector", fake)
    proj = project_space(
        space, ProjectionParams(method="axis", x_from="a sad tale", x_to="a happy tale")
    )
    unit = np.asarray(space.vectors)
    np.testing.assert_allclose(proj.coords[:, 0], unit[:, 0], atol=1e-6)


def test_cli_axis_lists_the_poles(words, app_spaces: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from explorer.cli.main import main

    assert (
        main(
            [
                "project",
                str(app_spaces / "words"),
                "--method",
                "axis",
                "--x-from",
                "man",
                "--x-to",
                "woman",
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["method"] == "axis" and len(data["poles"]["end"]) == 10


def test_map_page_draws_labelled_axes_and_lists_the_poles(
    app_spaces: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import asdict

    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parent.parent
    monkeypatch.setenv("EXPLORER_SPACES", str(app_spaces))
    monkeypatch.chdir(root)
    at = AppTest.from_file(str(root / "pages/1_Map.py"), default_timeout=300)
    folder = str(app_spaces / "words")
    at.session_state["space_folder"] = folder
    params = ProjectionParams(method="axis", x_from="man", x_to="woman", y_from="poor", y_to="rich")
    at.session_state["map_params"] = {folder: asdict(params)}
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Nearest the end (right)" in c.value for c in at.caption)
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert fig["layout"]["xaxis"]["title"]["text"] == "man → woman"
    assert fig["layout"]["yaxis"]["title"]["text"] == "poor → rich"
