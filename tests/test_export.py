"""Exports: the table (CSV, Parquet), the map (HTML, PNG), the Projector bundle, the CLI
command and the Export page."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer.analysis.probes import neighbours
from explorer.cluster.clusterings import ClusterParams, cluster_space
from explorer.core.errors import InputError
from explorer.index.hnsw import open_index
from explorer.ingest.build import build_from_file, build_space
from explorer.maps.projections import ProjectionParams, project_space
from explorer.opened.handle import open_space
from explorer.render import export, projector, raster, tables
from explorer.render.colours import PALETTE
from explorer.render.map_style import MapView
from tests.plotly_json import typed

ROOT = Path(__file__).resolve().parent.parent
PCA = ProjectionParams(method="pca")
N, MAP_ROWS = 240, 200
TAB_ROW, FORMULA_ROW = 10, 14


def _items(n: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Four topics of 16-d vectors; texts with a tab and a newline, and a formula."""
    rng = np.random.default_rng(7)
    topic = rng.integers(0, 4, n)
    vectors = rng.normal(size=(4, 16))[topic] * 3 + rng.normal(size=(n, 16))
    texts = [f"note {i} about topic {t}" for i, t in enumerate(topic)]
    texts[TAB_ROW] = "first\tsecond\nthird\r\nfourth"
    texts[FORMULA_ROW] = '=HYPERLINK("http://x","y")'
    items = pd.DataFrame(
        {
            "id": [f"item-{i:03d}" for i in range(n)],
            "text": texts,
            "topic": [f"topic {t}" for t in topic],
            "score": rng.normal(size=n),
            "x": np.arange(n),  # clashes with the map's x
        }
    )
    return items, vectors.astype(np.float32)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A spaces folder with ``demo``: 240 items, the first 200 on the map."""
    root = tmp_path_factory.mktemp("export_spaces")
    items, vectors = _items(N)
    build_space(items, vectors, root / "demo", map_rows=MAP_ROWS, source={"title": "Demo"})
    return root


def _parts(folder: Path) -> tuple:  # type: ignore[type-arg]
    space = open_space(folder).space
    index = open_index(folder, space)
    proj = project_space(open_space(folder), PCA)
    clusters = cluster_space(open_space(folder), ClusterParams(n_clusters=4))
    return space, index, proj, clusters


def _same_neighbours(a: Path, b: Path, rows: list[int]) -> None:
    sa, sb = open_space(a).space, open_space(b).space
    ia, ib = open_index(a, sa), open_index(b, sb)
    assert sb.ids.tolist() == sa.ids.tolist()
    for r in rows:
        want = [h.id for h in neighbours(sa, ia, row=r, k=10)]
        assert [h.id for h in neighbours(sb, ib, row=r, k=10)] == want


# ---------------------------------------------------------------------------- projector


def test_projector_bundle_builds_back_to_the_same_ids_and_neighbours(
    built: Path, tmp_path: Path
) -> None:
    space = open_space(built / "demo").space
    written = projector.write_projector(space, tmp_path / "bundle")
    assert sorted(p.name for p in written) == sorted(projector.PROJECTOR_FILES)
    config = json.loads((tmp_path / "bundle" / "projector_config.json").read_text())
    emb = config["embeddings"][0]
    assert emb["tensorShape"] == [N, 16] and emb["tensorName"] == "Demo"
    assert (emb["tensorPath"], emb["metadataPath"]) == ("vectors.tsv", "metadata.tsv")
    vectors = (tmp_path / "bundle" / "vectors.tsv").read_text().splitlines()
    assert len(vectors) == N and all(len(v.split("\t")) == 16 for v in vectors)  # no header

    build_from_file(tmp_path / "bundle" / "projector_config.json", tmp_path / "back")
    _same_neighbours(built / "demo", tmp_path / "back", [0, 3, TAB_ROW, 57, 150, N - 1])
    back = open_space(tmp_path / "back").space
    assert back.items.columns.tolist() == ["id", "text", "topic", "score", "x"]
    assert back.items["topic"].tolist() == space.items["topic"].tolist()
    np.testing.assert_allclose(back.items["score"], space.items["score"], rtol=1e-12)


def test_metadata_with_tabs_and_newlines_survives(built: Path, tmp_path: Path) -> None:
    space = open_space(built / "demo").space
    projector.write_projector(space, tmp_path / "bundle")
    lines = (tmp_path / "bundle" / "metadata.tsv").read_text(encoding="utf-8").split("\n")
    assert lines[0] == "id\ttext\ttopic\tscore\tx"  # a header: more than one column
    assert lines[-1] == "" and len(lines) == N + 2  # one line per item, then the end
    assert {ln.count("\t") for ln in lines[1:-1]} == {4}
    build_from_file(tmp_path / "bundle" / "projector_config.json", tmp_path / "back")
    back = open_space(tmp_path / "back").space
    assert back.items["text"][TAB_ROW] == "first second third fourth"
    assert back.items["id"][TAB_ROW + 1] == space.items["id"][TAB_ROW + 1]
    # A formula is neutralised as in a CSV download: it reads back as text.
    assert back.items["text"][FORMULA_ROW] == "'" + space.items["text"][FORMULA_ROW]


def test_projector_zip_and_an_l2_space_of_ids_only(tmp_path: Path) -> None:
    items, vectors = _items(60)
    build_space(items[["id"]], vectors, tmp_path / "ids", metric="l2")
    space = open_space(tmp_path / "ids").space
    with zipfile.ZipFile(io.BytesIO(projector.projector_zip(space))) as zf:
        assert sorted(zf.namelist()) == sorted(projector.PROJECTOR_FILES)
        zf.extractall(tmp_path / "unzipped")
    meta = (tmp_path / "unzipped" / "metadata.tsv").read_text().splitlines()
    # One column would have no header by the projector's rule and the ids would be lost.
    assert meta[0] == "id\tlabel" and meta[1] == "item-000\titem-000"
    cfg = tmp_path / "unzipped" / "projector_config.json"
    build_from_file(cfg, tmp_path / "back", metric="l2")
    _same_neighbours(tmp_path / "ids", tmp_path / "back", [0, 9, 33, 59])


def test_projector_export_refuses_to_overwrite(built: Path, tmp_path: Path) -> None:
    space = open_space(built / "demo").space
    projector.write_projector(space, tmp_path, rows=np.arange(5))
    before = (tmp_path / "vectors.tsv").read_bytes()
    with pytest.raises(InputError, match="overwrite"):
        projector.write_projector(space, tmp_path)
    assert (tmp_path / "vectors.tsv").read_bytes() == before
    projector.write_projector(space, tmp_path, overwrite=True)
    assert len((tmp_path / "vectors.tsv").read_text().splitlines()) == N


# ---------------------------------------------------------------------------- the table


def test_table_columns_and_csv_neutralises_formulas(built: Path) -> None:
    space, _, proj, clusters = _parts(built / "demo")
    table = tables.export_table(space, proj, clusters)
    assert table.columns.tolist() == [
        *["id", "text", "topic", "score", "x"],
        *["x_map", "y", "cluster", "cluster_label"],
    ]
    assert len(table) == N
    np.testing.assert_array_equal(table["x_map"][:MAP_ROWS], proj.coords[:, 0])
    assert table["x_map"][MAP_ROWS:].isna().all() and table["cluster"][MAP_ROWS:].isna().all()
    labels = {c.cluster: c.label for c in clusters.clusters}
    assert table["cluster_label"][0] == labels[int(clusters.labels[0])]

    rows = list(csv.reader(io.StringIO(tables.table_csv(table).decode("utf-8"))))
    assert rows[0] == table.columns.tolist()
    assert rows[1 + FORMULA_ROW][1] == "'" + space.items["text"][FORMULA_ROW]
    assert rows[1 + TAB_ROW][1] == space.items["text"][TAB_ROW]  # quoted, kept whole
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)


def test_parquet_round_trips_columns_and_dtypes(built: Path) -> None:
    space, _, proj, clusters = _parts(built / "demo")
    picked = [5, 2, MAP_ROWS + 3]
    table = tables.export_table(space, proj, clusters, rows=picked)
    assert table["id"].tolist() == [space.ids[r] for r in picked]
    back = pd.read_parquet(io.BytesIO(tables.table_parquet(table)))
    pd.testing.assert_frame_equal(back, table)
    assert str(back["cluster"].dtype) == "Int64" and back["y"].dtype == np.float32
    with pytest.raises(InputError, match="not in this space"):
        tables.export_table(space, rows=[N])


# ---------------------------------------------------------------------------- the map


def test_html_is_standalone_with_the_data_and_plotly_inline(tmp_path: Path) -> None:
    items, vectors = _items(80)
    items.loc[3, "text"] = "</script><script>alert('x')</script>"
    build_space(items, vectors, tmp_path / "h")
    space, _, proj, clusters = _parts(tmp_path / "h")
    each = MapView(colour_by="cluster", level="each cluster")
    fig = export.export_figure(space, proj, clustering=clusters, view=each, title="Map")
    # As on the Map page: a map coloured by cluster names its clusters on the map.
    named = [a.text for a in fig.layout.annotations]
    assert len(named) == len(clusters.clusters)
    page = export.map_html(fig, "Demo <map>").decode("utf-8")
    assert all(json.dumps(n)[1:-1] in page for n in named)
    assert page.lower().startswith(("<!doctype html>", "<html>")) and page.endswith("</html>")
    assert "<title>Demo &lt;map&gt;</title>" in page
    assert "note 0 about topic" in page  # the hover labels: the data is in the file
    assert len(page) > 3_000_000 and "Plotly.newPlot" in page  # plotly.js itself, inline
    assert re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE) is None
    assert "</script><script>alert" not in page


def test_png_is_a_valid_picture_of_the_map(built: Path) -> None:
    from PIL import Image

    space, _, proj, clusters = _parts(built / "demo")
    fig = export.export_figure(
        space, proj, clustering=clusters, view=MapView("topic"), title="Demo"
    )
    data = raster.map_png(fig, width=1200, height=800)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == 1200  # IHDR width, height
    assert int.from_bytes(data[20:24], "big") == 800
    img = Image.open(io.BytesIO(data))
    img.load()
    assert img.size == (1200, 800)
    colours = {c for _, c in img.convert("RGB").getcolors(1_000_000) or []}
    # The four topics are drawn in the map's first four colours (and named in the legend).
    want = {tuple(int(h[i : i + 2], 16) for i in (1, 3, 5)) for h in PALETTE[:4]}
    assert want <= colours

    fig3 = export.export_figure(
        space, project_space(space, ProjectionParams(method="pca", dims=3)), view=MapView("score")
    )
    assert Image.open(io.BytesIO(raster.map_png(fig3))).size == (1600, 1000)


def test_svg_is_a_scalable_picture_with_real_escaped_text(built: Path) -> None:
    import xml.etree.ElementTree as ET

    from explorer.render.svg import map_svg

    space, _, proj, clusters = _parts(built / "demo")
    fig = export.export_figure(
        space, proj, clustering=clusters, view=MapView("topic"), title="A <b>"
    )
    fig.add_annotation(x=0.0, y=0.0, text="rain &amp; storm", showarrow=False)
    data = map_svg(fig)
    root = ET.fromstring(data)  # well-formed XML
    ns = "{http://www.w3.org/2000/svg}"
    drawn = int(np.isfinite(proj.coords).all(1).sum())
    assert len(root.findall(f"{ns}circle")) == drawn
    texts = [t.text for t in root.findall(f"{ns}text")]
    assert "A <b>" in texts and "rain & storm" in texts  # escaped in the file, exact when read
    assert b"<b>" not in data


# ---------------------------------------------------------------------------- the CLI


def _figure_in_html(page: str) -> tuple[list[dict], dict]:
    """The traces and layout that the page hands to Plotly.newPlot (after its div id)."""
    at = page.rindex("Plotly.newPlot(") + len("Plotly.newPlot(")
    decoder, parts = json.JSONDecoder(), []
    for _ in range(3):  # the div's id, the traces, the layout
        at = len(page) - len(page[at:].lstrip(" \n\t,"))
        value, at = decoder.raw_decode(page, at)
        parts.append(value)
    return parts[1], parts[2]


def test_cli_json_says_what_was_written_and_never_overwrites(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from explorer.cli.main import main

    folder = str(built / "demo")
    out = tmp_path / "table.csv"
    args = ["export", folder, "--format", "csv", "--out", str(out), "--method", "pca"]
    assert main([*args, "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["format"] == "csv" and said["rows"] == N
    assert said["files"] == [{"path": str(out), "bytes": out.stat().st_size}]
    assert said["bytes"] == out.stat().st_size
    first = out.read_bytes()
    assert first.startswith(b"id,text,topic,score,x,x_map,y,cluster,cluster_label\r\n")

    assert main([*args, "--json", "--map-only"]) == 2  # the file is there
    assert "overwrite" in capsys.readouterr().err and out.read_bytes() == first
    assert main([*args, "--map-only", "--overwrite", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == MAP_ROWS

    bundle = tmp_path / "bundle"
    assert main(["export", folder, "--format", "projector", "--out", str(bundle), "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert sorted(Path(f["path"]).name for f in said["files"]) == sorted(projector.PROJECTOR_FILES)
    cfg = str(bundle / "projector_config.json")
    assert main(["build", cfg, "--out", str(tmp_path / "back"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == N
    _same_neighbours(built / "demo", tmp_path / "back", [1, 77, 199])

    for fmt in ("html", "png", "parquet"):
        target = tmp_path / f"map.{fmt}"
        assert main(["export", folder, "--format", fmt, "--out", str(target), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["bytes"] == target.stat().st_size
    # Each file opened and read back against the map (UMAP, the CLI's default, stored by
    # the first export) and the default clustering, read from the space.
    opened = open_space(built / "demo")
    space = opened.space
    proj = project_space(opened, ProjectionParams(method="umap"))
    clusters = cluster_space(opened, ClusterParams(), map_coords=proj.coords)
    # HTML: the figure in the page holds every map row once, where the map put it, in
    # one trace per topic (the Map page's default colour), under the space's title.
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    assert page.count("<title>Demo · UMAP map</title>") == 1
    assert re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE) is None
    traces, layout = _figure_in_html(page)
    assert layout["title"]["text"] == "Demo · UMAP map"
    topic = space.items["topic"].to_numpy()
    assert [t["name"] for t in traces] == sorted(set(topic[:MAP_ROWS]))
    rows = np.concatenate([typed(t["customdata"]).astype(int) for t in traces])
    assert sorted(rows.tolist()) == list(range(MAP_ROWS))
    xy = np.concatenate([np.c_[typed(t["x"]), typed(t["y"])] for t in traces])
    np.testing.assert_allclose(xy, proj.coords[rows], rtol=1e-6)
    for t in traces:
        assert set(topic[typed(t["customdata"]).astype(int)]) == {t["name"]}
    # PNG: the default size, and the map drawn in it: each topic's colour covers about
    # 50 dots' worth of pixels (measured 2,200-2,450; its legend key alone is 110), among
    # many shades (not a blank picture).
    from PIL import Image

    img = Image.open(tmp_path / "map.png")
    img.load()
    assert img.format == "PNG" and img.size == (1600, 1000)
    counts = {c: n for n, c in img.convert("RGB").getcolors(1_000_000) or []}
    assert len(counts) > 50
    for h in PALETTE[:4]:
        assert counts.get(tuple(int(h[i : i + 2], 16) for i in (1, 3, 5)), 0) >= 1000, h
    drawn = 1600 * 1000 - max(counts.values())  # all but the background's colour
    assert drawn > 5_000  # 200 dots of 8 px (measured 10,578 with the legend and title)
    # Parquet: the table itself, every row and column (the map's rows have their
    # coordinates and cluster, the rest none).
    back = pd.read_parquet(tmp_path / "map.parquet")
    pd.testing.assert_frame_equal(back, tables.export_table(space, proj, clusters))
    assert back["id"].tolist() == space.ids.tolist() and len(back) == N
    pd.testing.assert_frame_equal(
        back[["id", "text", "topic", "score", "x"]], space.items, check_dtype=False
    )
    np.testing.assert_array_equal(back[["x_map", "y"]][:MAP_ROWS], proj.coords)
    assert back[["x_map", "y", "cluster"]][MAP_ROWS:].isna().all().all()
    assert back["cluster"][:MAP_ROWS].tolist() == clusters.labels.tolist()


def test_cli_exports_an_axis_map_with_the_flags_of_project(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every map the Map page shows can be exported: an axis map is that map, with its
    axes' titles, never another map in its place."""
    import xml.etree.ElementTree as ET

    from explorer.cli.main import main

    folder = str(built / "demo")
    axis = ["--method", "axis", "--x-from", "item-000", "item-001", "--x-to", "item-002"]
    table, picture = tmp_path / "axis.csv", tmp_path / "axis.svg"
    assert main(["export", folder, "--format", "csv", "--out", str(table), *axis]) == 0
    assert main(["export", folder, "--format", "svg", "--out", str(picture), *axis]) == 0
    capsys.readouterr()
    params = ProjectionParams(method="axis", x_from="item-000, item-001", x_to="item-002")
    proj = project_space(open_space(built / "demo"), params)
    assert proj.method == "axis"
    back = pd.read_csv(table)
    np.testing.assert_allclose(back[["x_map", "y"]][:MAP_ROWS], proj.coords, rtol=1e-5)
    texts = [t.text for t in ET.fromstring(picture.read_bytes()).iter() if t.text]
    assert "item-000, item-001 → item-002" in texts and "main remaining spread" in texts
    assert "Demo · AXIS map" in texts
    # An axis map needs its terms: a clear message, no file.
    missing = tmp_path / "none.csv"
    assert main(["export", folder, "--format", "csv", "--out", str(missing), "--method", "axis"])
    assert "needs terms at both ends of x" in capsys.readouterr().err
    assert not missing.exists()


# ---------------------------------------------------------------------------- the page


def test_export_page_offers_every_download(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.testing.v1 import AppTest

    # Keep each button's callable, to make its file as a click would (after the run).
    made = {}
    add_deferred = MediaFileManager.add_deferred

    def keep(self, data, mime, coords, file_name=None, **kw):  # type: ignore[no-untyped-def]
        made[file_name] = data
        return add_deferred(self, data, mime, coords, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", keep)
    monkeypatch.setenv("EXPLORER_SPACES", str(built))
    monkeypatch.setenv("EXPLORER_DEFAULT_SPACE", "demo")
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "pages" / "8_Export.py"), default_timeout=300)
    at.session_state["space_folder"] = str(built / "demo")
    at.session_state["map_params"] = {str(built / "demo"): asdict(PCA)}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == [
        "Table (CSV)",
        "Table (Parquet)",
        "Map (HTML)",
        "Map (PNG)",
        "Map (SVG)",
        "Projector bundle (zip)",
    ]
    # Nothing was built yet: every file is made on click (a deferred callable).
    assert all(b.proto.deferred_file_id for b in at.get("download_button"))
    assert at.radio(key="export_scope").value == "all"

    assert made["demo.csv"]().startswith(b"id,text,topic,score,x,x_map,y,cluster,cluster_label")
    # The files, opened: the table with the PCA map's coordinates, the page's figure of
    # the 200 map rows where that map put them, a picture of it.
    opened = open_space(built / "demo")
    space = opened.space
    coords = project_space(opened, PCA).coords
    table = pd.read_parquet(io.BytesIO(made["demo.parquet"]()))
    assert table["id"].tolist() == space.ids.tolist()
    np.testing.assert_allclose(table[["x_map", "y"]][:MAP_ROWS], coords, atol=1e-5)
    traces, _ = _figure_in_html(made["demo-map.html"]().decode("utf-8"))
    rows = np.concatenate([typed(t["customdata"]).astype(int) for t in traces])
    assert sorted(rows.tolist()) == list(range(MAP_ROWS))
    xy = np.concatenate([np.c_[typed(t["x"]), typed(t["y"])] for t in traces])
    np.testing.assert_allclose(xy, coords[rows], atol=1e-5)
    png = Image.open(io.BytesIO(made["demo-map.png"]()))
    assert png.format == "PNG" and png.size == (1600, 1000)
    assert len(png.convert("RGB").getcolors(1_000_000) or []) > 50
    with zipfile.ZipFile(io.BytesIO(made["demo-projector.zip"]())) as zf:
        assert sorted(zf.namelist()) == sorted(projector.PROJECTOR_FILES)

    # Only the map's items: the table and the bundle follow.
    at.radio(key="export_scope").set_value("map").run()
    assert not at.exception and not at.error
    assert len(pd.read_parquet(io.BytesIO(made["demo.parquet"]()))) == MAP_ROWS
    with zipfile.ZipFile(io.BytesIO(made["demo-projector.zip"]())) as zf:
        assert len(zf.read("vectors.tsv").splitlines()) == MAP_ROWS


def test_numeric_looking_ids_survive_a_projector_round_trip(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    from explorer.ingest.build import build_from_file, build_space
    from explorer.render.projector import write_projector

    items = pd.DataFrame({"id": ["007", "010", "3"], "text": ["a", "b", "c"]})
    space, _, _ = build_space(items, np.random.default_rng(0).normal(size=(3, 8)), tmp_path / "s")
    write_projector(space, tmp_path / "bundle")
    again, _, _ = build_from_file(tmp_path / "bundle" / "projector_config.json", tmp_path / "t")
    assert list(again.ids) == ["007", "010", "3"]
