"""Pages on an image space: pictures on the map and in neighbour lists (AppTest)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.core.store import read_manifest

ROOT = Path(__file__).resolve().parent.parent


def _page(path: str, root: Path, monkeypatch: pytest.MonkeyPatch, **state: object) -> AppTest:
    monkeypatch.setenv("EXPLORER_SPACES", str(root))
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / path), default_timeout=300)
    at.session_state["space_folder"] = "shapes"
    at.session_state["map_params"] = {
        str(root / "shapes"): {
            "method": "pca",
            "dims": 2,
            "n_neighbors": 15,
            "min_dist": 0.1,
            "init": "spectral",
            "n_epochs": None,
            "perplexity": 30.0,
            "seed": 42,
        }
    }
    for k, v in state.items():
        at.session_state[k] = v
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]


def test_the_map_draws_pictures_where_the_images_lie(
    image_spaces: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    at = _page("pages/1_Map.py", image_spaces, monkeypatch).run()
    _ok(at)
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    pics = fig["layout"]["images"]
    assert len(pics) == 60  # every image, no caption
    assert all(p["source"].startswith("data:image/png;base64,") for p in pics)
    assert {p["xref"] for p in pics} == {"x"}  # in data units: they grow as one zooms in
    # Colour by modality is offered (images and captions).
    assert "modality" in at.selectbox(key="map_colour").options
    at.toggle(key="map_pictures").set_value(False).run()
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert not fig["layout"].get("images")


def test_neighbours_list_images_as_pictures(
    image_spaces: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _page("pages/2_Neighbours.py", image_spaces, monkeypatch).run()
    _ok(at)
    at.selectbox(key="nb_item").set_value(0).run()
    _ok(at)
    table = next(d.value for d in at.dataframe if "picture" in d.value.columns)
    assert table["picture"].str.startswith("data:image/png;base64,").sum() >= 9
    # Same-place pictures are nearest (pixels as vectors): rows 3, 6, … look alike.
    assert table["id"].head(5).isin([f"image-{i:05d}" for i in range(0, 60, 3)]).all()
    assert len(at.get("image")) == 1  # the query's own picture
    # Images only by default in an image–text space; texts when asked.
    assert set(table["modality"]) == {"image"}
    at.radio(key="nb_modality").set_value("texts").run()
    _ok(at)
    table = next(d.value for d in at.dataframe if "picture" in d.value.columns)
    assert list(table["modality"]) == ["text"] * 3  # k = 10, but there are 3 captions
    assert table["picture"].isna().all()


def test_the_train_page_trains_the_teaching_clip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXPLORER_SPACES", str(tmp_path / "spaces"))
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "pages/10_Train.py"), default_timeout=300).run()
    _ok(at)
    assert [t.label for t in at.tabs] == ["Word2Vec", "SimCLR (images)", "CLIP (images + text)"]
    at.text_input(key="cl_name").input("clip-small")
    at.number_input(key="cl_limit").set_value(500)
    at.number_input(key="cl_epochs").set_value(3)
    at.button(key="cl_train").click().run()
    _ok(at)
    assert at.session_state["space_folder"] == "clip-small"
    # The saved space keeps its training: three epochs whose loss fell. One batch an
    # epoch at this size; measured with seeds 0-5: a fall of 0.39-0.52 over the three,
    # and within ±0.04 when the optimiser takes no step (the batches differ, that is all).
    record = read_manifest(tmp_path / "spaces" / "clip-small")["training"]
    assert record["trainer"] == "clip" and record["params"]["epochs"] == 3
    losses = [e["loss"] for e in record["epochs"]]
    assert len(losses) == 3 and all(np.isfinite(losses))
    assert losses[-1] < losses[0] - 0.2, losses
    # The page shows the figures stored with the space (2,000 held-out test images).
    s = record["scores"]
    assert (s["n_images"], s["n_classes"], s["chance"]) == (2000, 10, 0.1)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Zero-shot accuracy"] == f"{s['zeroshot_accuracy']:.1%}"
    assert (shown["Chance"], shown["Majority class"]) == ("10.0%", f"{s['majority']:.1%}")
    assert any("teaching-size" in i.value.lower() for i in at.info)
    recall = next(d.value for d in at.dataframe if "direction" in d.value.columns)
    assert list(recall["direction"]) == ["text → image", "image → text"]
    rows = recall.set_index("direction").to_dict("index")
    assert rows["text → image"] == pytest.approx(s["recall_t2i"])
    assert rows["image → text"] == pytest.approx(s["recall_i2t"])
    # An upload without its captions is refused with a message, and nothing is built.
    at.radio(key="cl_source").set_value("Upload a .zip of images").run()
    at.text_input(key="cl_name").input("clip-upload")
    at.button(key="cl_train").click().run()
    assert any("Upload a .zip" in e.value for e in at.error)
    assert not (tmp_path / "spaces" / "clip-upload").exists()
