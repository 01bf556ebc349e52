"""In a real Chromium: an image space's map draws its pictures, and the Neighbours page
shows the query's picture."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bench.load import CHROMIUM, launch, start_server, stop_server, wait_idle

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    if os.environ.get("EXPLORER_REQUIRE_BROWSER"):
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium (see .ci/run).")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

WAIT = 180_000


def test_pictures_on_the_map_and_beside_the_neighbours(image_spaces: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    spaces = tmp_path / "spaces"
    shutil.copytree(image_spaces / "shapes", spaces / "shapes", symlinks=True)
    url, proc = start_server(spaces, "shapes", tmp_path / "server.log")
    try:
        with sync_playwright() as p:
            browser = launch(p)
            pg = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            pg.set_default_timeout(WAIT)
            pg.goto(f"{url}/Map")
            pg.locator(".js-plotly-plot").first.wait_for()
            wait_idle(pg, timeout=WAIT)
            pictures = pg.locator(".js-plotly-plot image")
            pictures.first.wait_for(state="attached")
            assert pictures.count() == 60  # every image; the 3 captions have none
            href = pictures.first.get_attribute("href") or ""
            assert href.startswith("data:image/png;base64,")
            box = pictures.first.bounding_box()
            assert box is not None and box["width"] > 2  # drawn, at a visible size

            pg.goto(f"{url}/Neighbours")
            wait_idle(pg, timeout=WAIT)
            pg.get_by_text("Choose an item to see its nearest neighbours").wait_for()
            pg.get_by_test_id("stSelectbox").filter(has_text="Item").click()
            pg.keyboard.type("image-00003")
            pg.keyboard.press("Enter")
            wait_idle(pg, timeout=WAIT)
            shown = pg.get_by_test_id("stImage").locator("img").first
            shown.wait_for()
            pg.wait_for_function(
                "el => el.complete && el.naturalWidth > 0", arg=shown.element_handle()
            )
            assert "Traceback" not in pg.content()
            browser.close()
    finally:
        stop_server(proc)


def test_upload_a_zip_of_images_with_captions_and_embed_them_with_clip(
    tiny_clip_root: Path, image_spaces: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A .zip of 12 pictures and a captions CSV, embedded by a CLIP model folder the
    operator put under EXPLORER_MODELS_ROOT (the tiny random one), then mapped."""
    import zipfile

    import numpy as np
    from PIL import Image
    from playwright.sync_api import expect, sync_playwright

    rng = np.random.default_rng(0)
    rows = ["file,caption,colour"]
    with zipfile.ZipFile(tmp_path / "photos.zip", "w") as zf:
        for i in range(12):
            px = rng.integers(0, 60, size=(24, 24, 3), dtype=np.uint8)
            px[..., i % 3] = 220
            img = tmp_path / f"p{i:02d}.png"
            Image.fromarray(px).save(img)
            zf.write(img, f"photos/p{i:02d}.png")
            colour = ["red", "green", "blue"][i % 3]
            rows.append(f"p{i:02d}.png,a {colour} square,{colour}")
    (tmp_path / "captions.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.setenv("EXPLORER_MODELS_ROOT", str(tiny_clip_root))
    spaces = tmp_path / "spaces"
    shutil.copytree(image_spaces / "shapes", spaces / "shapes", symlinks=True)
    url, proc = start_server(spaces, "shapes", tmp_path / "server.log")
    try:
        with sync_playwright() as p:
            browser = launch(p)
            pg = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            pg.set_default_timeout(WAIT)
            pg.goto(url)
            wait_idle(pg, timeout=WAIT)
            pg.get_by_role("tab", name="Upload data").click()
            wait_idle(pg, timeout=WAIT)
            pg.locator("input[type=file]").first.set_input_files(str(tmp_path / "photos.zip"))
            captions = pg.get_by_test_id("stFileUploader").filter(has_text="Captions")
            captions.wait_for(state="attached")
            wait_idle(pg, timeout=WAIT)
            if not captions.is_visible():
                # On a loaded machine the tab's rerun can land after the upload's: the
                # form is then in the Upload tab, which the user opens again.
                pg.get_by_role("tab", name="Upload data").click()
                wait_idle(pg, timeout=WAIT)
            captions.wait_for()
            captions.locator("input[type=file]").set_input_files(str(tmp_path / "captions.csv"))
            wait_idle(pg, timeout=WAIT)
            pg.get_by_text("A model folder on this server").click()
            wait_idle(pg, timeout=WAIT)
            build = pg.get_by_role("button", name="Build space")
            expect(build).to_be_enabled(timeout=60_000)
            build.click()
            pg.get_by_text("24 items × 16 dimensions").wait_for(timeout=240_000)
            wait_idle(pg, timeout=WAIT)
            pg.get_by_test_id("stSidebarNav").get_by_role("link", name="Map").click()
            pg.locator(".js-plotly-plot").first.wait_for()
            wait_idle(pg, timeout=WAIT)
            pg.locator(".js-plotly-plot image").first.wait_for(state="attached")
            assert pg.locator(".js-plotly-plot image").count() == 12
            assert "Traceback" not in pg.content()
            browser.close()
    finally:
        stop_server(proc)
    # The space holds both modalities; the upload's temporary folder is gone.
    from explorer.opened.handle import open_space

    space = open_space(spaces / "photos").space
    assert sorted(space.items["modality"].value_counts().items()) == [("image", 12), ("text", 12)]
