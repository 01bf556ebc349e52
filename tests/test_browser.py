"""End to end in a real headless Chromium (Debian's), driving `streamlit run app.py`.

Screenshots of each view land in test-output/ (ignored by git).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import load
from bench.load import launch, start_server, stop_server

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "test-output"

pytestmark = pytest.mark.browser
SPACES: dict[str, Path] = {}  # the server's spaces folder

if not Path(CHROMIUM).exists():
    if os.environ.get("EXPLORER_REQUIRE_BROWSER"):
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium (see .ci/run).")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def server(app_spaces: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # A copy, so uploads made here do not change the spaces other tests use.
    spaces = tmp_path_factory.mktemp("browser") / "spaces"
    shutil.copytree(app_spaces, spaces)
    SPACES["root"] = spaces
    url, proc = start_server(spaces, "iris", tmp_path_factory.mktemp("log") / "streamlit.log")
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture()
def page(browser, server):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(90_000)
    yield pg
    ctx.close()


def shot(pg, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def wait_idle(pg) -> None:  # type: ignore[no-untyped-def]
    """Wait until Streamlit has finished the current run."""
    load.wait_idle(pg, timeout=180_000)


def no_traceback(pg) -> None:  # type: ignore[no-untyped-def]
    body = pg.inner_text("body")
    assert "Traceback" not in body and "StreamlitAPIException" not in body


def plot_points(pg) -> int:  # type: ignore[no-untyped-def]
    return int(
        pg.evaluate("""() => {
        const gd = document.querySelector('.js-plotly-plot');
        return gd ? gd._fullData.reduce((s, t) => s + (t.x ? t.x.length : 0), 0) : 0; }""")
    )


def test_demo_space_loads_and_map_is_drawn(page, server) -> None:  # type: ignore[no-untyped-def]
    page.goto(server)
    page.get_by_text("Embedding Explorer").first.wait_for()
    wait_idle(page)
    page.get_by_text("Open: Iris flowers").wait_for()
    shot(page, "home")
    page.goto(f"{server}/Map")
    page.locator(".js-plotly-plot").first.wait_for()
    wait_idle(page)
    assert plot_points(page) == 150
    # WebGL traces really drew on a canvas.
    assert page.locator(".js-plotly-plot canvas").count() >= 1
    no_traceback(page)
    shot(page, "map")


def test_box_selection_fills_the_table(page, server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/Map")
    plot = page.locator(".js-plotly-plot").first
    plot.wait_for()
    wait_idle(page)
    page.locator(".modebar-btn[data-val='select']").first.click()  # box select
    box = page.evaluate("""() => {
        const gd = document.querySelector('.js-plotly-plot');
        const r = gd.querySelector('.nsewdrag').getBoundingClientRect();
        return {x: r.x, y: r.y, w: r.width, h: r.height};}""")
    x0, y0 = box["x"] + box["w"] * 0.05, box["y"] + box["h"] * 0.05
    x1, y1 = box["x"] + box["w"] * 0.5, box["y"] + box["h"] * 0.95
    # The ids plotly itself places inside that rectangle.
    expected = set(
        page.evaluate(
            """([x0, y0, x1, y1]) => {
        const gd = document.querySelector('.js-plotly-plot');
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        const r = gd.querySelector('.nsewdrag').getBoundingClientRect();
        const out = [];
        gd._fullData.forEach(t => t.x.forEach((x, i) => {
            const px = r.x + xa.l2p(x), py = r.y + ya.l2p(t.y[i]);
            if (px >= x0 && px <= x1 && py >= y0 && py <= y1) out.push(t.text[i]);
        }));
        return out; }""",
            [x0, y0, x1, y1],
        )
    )
    assert 3 < len(expected) < 150
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=8)
    page.mouse.move(x1, y1, steps=8)
    page.mouse.up()
    page.get_by_text(f"Selection: {len(expected)} items").wait_for()
    wait_idle(page)
    shot(page, "map-selection")
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download selection (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text())))
    assert {r["id"] for r in rows} == expected


def test_analogy_probe_shows_its_answer(page, server) -> None:  # type: ignore[no-untyped-def]
    page.goto(server)
    wait_idle(page)
    page.get_by_test_id("stSidebar").get_by_role("combobox").first.click()
    page.get_by_role("option", name="words").click()
    wait_idle(page)
    # Navigate inside the app: a fresh page load would start a new session.
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Analogies").click()
    wait_idle(page)
    page.get_by_role("button", name="king − man + woman").click()
    page.get_by_text("→ queen").wait_for()
    wait_idle(page)
    no_traceback(page)
    shot(page, "analogies")


def test_upload_csv_builds_and_maps(page, server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    sentences = [
        "The cat sleeps on the sofa",
        "A dog chases the ball in the park",
        "Kittens play with yarn",
        "Puppies love long walks",
        "Stocks fell sharply on Monday",
        "The central bank raised interest rates",
        "Investors fear a recession",
        "Bond yields climbed again",
        "Heavy rain floods the valley",
        "A storm brings strong winds to the coast",
        "Snow closes mountain roads",
        "Sunny skies return for the weekend",
    ]
    path = tmp_path / "notes.csv"
    path.write_text(
        "id,body,topic\n"
        + "\n".join(
            f"n{i},{s},{['pets', 'money', 'weather'][i // 4]}" for i, s in enumerate(sentences)
        )
    )
    uploads = Path(tempfile.gettempdir())
    before = set(uploads.glob("explorer-upload-*"))
    page.goto(server)
    wait_idle(page)
    page.get_by_role("tab", name="Upload data").click()
    wait_idle(page)  # the tab's own rerun ends before the upload starts another
    page.locator("input[type=file]").first.set_input_files(str(path))
    page.get_by_text("Preview of notes.csv").wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Build space").click()
    page.get_by_text("Open: notes").wait_for(timeout=240_000)
    wait_idle(page)
    shot(page, "upload-built")
    # The upload went to a private temporary folder, not the spaces folder, and is gone.
    root = SPACES["root"]
    assert not (root / ".uploads").exists()
    assert set(uploads.glob("explorer-upload-*")) <= before
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Map").click()
    page.locator(".js-plotly-plot").first.wait_for()
    wait_idle(page)
    assert plot_points(page) == 12
    # Drawn before its quality, which a worker measures and the page then shows.
    page.get_by_text("How faithful this map is (k = 10)").wait_for(timeout=60_000)
    no_traceback(page)
    # The same name again: the build waits for another name or a confirmed replace.
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Home").click()
    wait_idle(page)
    page.get_by_role("tab", name="Upload data").click()
    wait_idle(page)  # the tab's own rerun ends before the upload starts another
    page.locator("input[type=file]").first.set_input_files(str(path))
    page.get_by_text("A space named 'notes' already exists.").wait_for()
    build = page.get_by_role("button", name="Build space")
    assert build.is_disabled()
    page.get_by_text("Replace the existing space 'notes'").click()
    wait_idle(page)
    expect(build).to_be_enabled(timeout=60_000)  # after the checkbox's rerun
    shot(page, "upload-clash")


def test_bad_upload_shows_a_friendly_error(page, server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "empty.csv"
    path.write_text("id,body\n")
    page.goto(server)
    wait_idle(page)
    page.get_by_role("tab", name="Upload data").click()
    wait_idle(page)  # the tab's own rerun ends before the upload starts another
    page.locator("input[type=file]").first.set_input_files(str(path))
    alert = page.get_by_test_id("stAlert").filter(has_text="rows").first
    alert.wait_for(state="attached")
    wait_idle(page)
    if not alert.is_visible():
        # On a loaded machine the tab's rerun can land after the upload's: the error is
        # then in the Upload tab, which the user opens again (it is not lost).
        page.get_by_role("tab", name="Upload data").click()
        wait_idle(page)
    alert.wait_for()
    no_traceback(page)
    shot(page, "bad-upload")


def test_renaming_a_cluster_shows_on_the_map_and_in_an_svg_export(  # type: ignore[no-untyped-def]
    page, server, tmp_path: Path
) -> None:
    import subprocess
    import sys

    page.goto(f"{server}/Clusters")
    wait_idle(page)
    page.get_by_label("New name").fill("Two species")
    page.get_by_label("New name").press("Enter")  # submits the form, as Save name does
    wait_idle(page)
    no_traceback(page)
    page.goto(f"{server}/Map?space=iris&colour=cluster")
    page.locator(".js-plotly-plot").first.wait_for()
    wait_idle(page)
    # Written on the map where the cluster lies, and in the legend.
    page.locator(".js-plotly-plot .annotation-text", has_text="Two species").first.wait_for()
    page.locator(".js-plotly-plot .legendtext", has_text="0: Two species").first.wait_for()
    shot(page, "map-renamed")
    # The same name in a picture exported from the same space.
    svg = tmp_path / "map.svg"
    cmd = [sys.executable, "-m", "explorer", "export", str(SPACES["root"] / "iris")]
    cmd += ["--format", "svg", "--out", str(svg), "--colour", "cluster", "--names", "each"]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    assert "Two species" in svg.read_text()
