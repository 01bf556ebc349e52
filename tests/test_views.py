"""Shareable views and tours: plain data, validated on the way in, stored with the space."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.core.errors import InputError
from explorer.opened.handle import open_space
from explorer.share.views import (
    Tour,
    View,
    list_tours,
    load_tour,
    make_view,
    save_tour,
    tour_from_json,
    tour_to_json,
    view_from_query,
    view_to_query,
)

ROOT = Path(__file__).resolve().parent.parent
VIEW = View(
    space="iris",
    page="map",
    projection={"method": "pca", "seed": 7},
    colour="species",
    search="iris-00",
    selection=("iris-001", "iris-002"),
    probe={"item": "iris-003"},
    title="Setosa apart",
    caption="The setosa flowers form their own island.",
)


def test_a_view_survives_the_address_bar() -> None:
    query = view_to_query(VIEW)
    assert query["method"] == "pca" and "n_neighbors" not in query  # defaults left out
    assert all(isinstance(v, str) for v in query.values())
    assert view_from_query(query) == VIEW
    assert view_from_query({k: [v] for k, v in query.items()}) == VIEW  # repeated keys


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"space": "../etc", "page": "map"}, "cannot name a space"),
        ({"space": "iris", "page": "admin"}, "Unknown page"),
        ({"space": "iris", "method": "magic"}, "Unknown projection"),
        ({"space": "iris", "seed": "x"}, "seed"),
        ({"space": "iris", "title": "x" * 600}, "longer than 500"),
        ({"space": "iris", "selection": ",".join(["a"] * 3000)}, "at most 2,000"),
    ],
)
def test_a_bad_view_is_named(query: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        view_from_query(query)


def test_tours_round_trip_and_bad_ones_are_named() -> None:
    tour = Tour("Demo", (VIEW, View(space="words", page="analogies", probe={"a": "king"})))
    assert tour_from_json(tour_to_json(tour)) == tour
    for data, message in [
        (b"not json", "not JSON"),
        (b'{"views": []}', "holds"),
        (json.dumps({"tour": {"title": "t", "views": []}}).encode(), "1 to 100 views"),
        (
            json.dumps(
                {"tour": {"views": [{"space": "iris"}, {"space": "iris", "page": "x"}]}}
            ).encode(),
            "View 2 of the tour: Unknown page",
        ),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON|larger"),
    ]:
        with pytest.raises(InputError, match=message):
            tour_from_json(data)


def test_tours_are_stored_with_the_space(app_spaces: Path, tmp_path: Path) -> None:
    folder = tmp_path / "iris"
    shutil.copytree(app_spaces / "iris", folder)
    tour = Tour("Iris in three views", (VIEW, make_view({"space": "iris", "page": "quality"})))
    opened = open_space(folder)
    name = save_tour(opened, tour)
    assert name == "iris-in-three-views" and list_tours(opened) == [name]
    assert load_tour(opened, name) == tour
    (folder / "tours" / f"{name}.json").write_text(tour_to_json(Tour("x", (VIEW,))).decode())
    with pytest.raises(InputError, match="changed outside the app"):
        load_tour(opened, name)  # changed behind the app's back


def test_a_view_in_the_address_is_applied(
    app_spaces: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXPLORER_SPACES", str(app_spaces))
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "pages/1_Map.py"), default_timeout=300)
    for key, value in view_to_query(VIEW).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["space_folder"] == "iris"
    assert at.session_state["map_params"][str(app_spaces / "iris")]["method"] == "pca"
    assert at.selectbox(key="map_colour").value == "species"
    assert at.text_input(key="map_search").value == "iris-00"
    assert any("Setosa apart" in i.value for i in at.info)  # the view's title and caption
