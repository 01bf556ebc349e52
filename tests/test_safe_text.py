"""User text is inert: escaped for markdown and plotly, defused for CSV (explorer.core.safe_text).

Unit tests of the three escapes, then every data page under AppTest on a hostile space:
no link, HTML or directive can form from an item, a column name or a cluster label, and
the CSV a download button gives cannot run a formula. The browser sees the same in
tests/test_browser_inert.py.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from explorer.core.safe_text import FORMULA_START, csv_safe, md, plot_text, to_csv_bytes

ROOT = Path(__file__).resolve().parent.parent
EVIL = "https://evil.example"
LINK = f"[Session expired – log in]({EVIL})"
HTML = f'<a href="{EVIL}">x</a>'
FORMULA = f'=HYPERLINK("{EVIL}")'
BOLD_COLUMN = "**bold**"
HTML_CATEGORY = f'<a href="{EVIL}">cat</a>'
# One token each (no space), so the space is word-like and its cluster labels are these
# texts themselves (explorer.cluster.names); every one would be markup unescaped.
TOKENS = [
    f"[Session-expired]({EVIL})",
    FORMULA,
    "**evil**",
    ":red[evil]:material/warning:",
    "$evil$",
    f"<{EVIL}>",
    "www.evil.example",
    "bob@evil.example",
]
WJ = "\u2060"


def hostile_items(n: int = 40) -> tuple[pd.DataFrame, np.ndarray]:
    """Items and topic-grouped vectors (four topics) whose every string is an attack."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 16))
    vectors = (centres[np.arange(n) * 4 // n] + 0.1 * rng.normal(size=(n, 16))).astype(np.float32)
    # Rows 0 and 1 are the phishing link and the HTML link in full (two of the 10 % of
    # items with spaces); the rest are single tokens.
    texts = [LINK if i % 20 == 0 else HTML if i % 20 == 1 else TOKENS[i % 8] for i in range(n)]
    ids = [
        f"[id{i}]({EVIL})" if i % 10 == 0 else f"<b>id{i}</b>" if i % 10 == 1 else f"id{i}"
        for i in range(n)
    ]
    cats = [HTML_CATEGORY, f"[c]({EVIL})", ":blue[plain]", "=1+1"]
    items = pd.DataFrame(
        {"id": ids, "text": texts, BOLD_COLUMN: [cats[i * 4 // n] for i in range(n)]}
    )
    return items, vectors


def build_hostile_space(out: Path) -> Path:
    from explorer.ingest.build import build_space

    items, vectors = hostile_items()
    build_space(items, vectors, out)
    return out


# --- Unit: markdown -------------------------------------------------------------------


def test_md_escapes_links_html_directives_and_latex() -> None:
    assert md(LINK) == rf"\[Session expired – log in\](https\:{WJ}//evil.example)"
    assert md(HTML) == rf'\<a href="https\:{WJ}//evil.example"\>x\</a\>'
    assert md(":red[x] :material/warning: $x$ `c` *e* _u_ ~s~ a|b &amp;") == (
        rf"\:{WJ}red\[x\] \:{WJ}material/warning\: \$x\$ \`c\` \*e\* \_u\_ \~s\~ a\|b \&amp;"
    )
    # The text-level patterns (bare URLs, www., e-mail, shortcodes) get a word joiner.
    assert md("www.evil.example bob@evil.example :smile:") == (
        rf"www{WJ}.evil.example bob@{WJ}evil.example \:{WJ}smile\:"
    )


def test_md_cannot_start_a_block_and_keeps_harmless_punctuation() -> None:
    assert md("# h\n- item\r\n> quote") == r"\# h - item \> quote"
    assert [md(s) for s in ("- a", "+ a", "  1. a", "2) a", "===")] == [
        r"\- a",
        r"\+ a",
        r"  1\. a",
        r"2\) a",
        r"\===",
    ]
    assert md("(king - man + woman), 3.5 / 2 = 1.75?") == "(king - man + woman), 3.5 / 2 = 1.75?"
    assert md("a\\") == "a\\\\"  # a trailing backslash cannot escape what follows


def test_md_renders_as_the_characters_it_holds() -> None:
    """CommonMark (markdown-it) renders md(s) as s itself: no element, no lost character."""
    markdown_it = pytest.importorskip("markdown_it")
    parser = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])
    for s in [LINK, HTML, FORMULA, *TOKENS, "# h", "- x", "1. x", "> q", "a | b\n--|--\nc | d"]:
        out = parser.render(f"**Neighbours of {md(s)}**")
        inner = out.removeprefix("<p><strong>").removesuffix("</strong></p>\n")
        assert "<" not in inner, (s, out)  # no <a>, <img>, <em>, <code>, <h1>, <li>…
        assert html.unescape(inner).replace(WJ, "") == "Neighbours of " + " ".join(s.split())


def test_streamlit_gets_the_escaped_source(monkeypatch: pytest.MonkeyPatch) -> None:
    """st.markdown(md(payload)) carries the escaped source (the browser test renders it)."""
    monkeypatch.chdir(ROOT)
    at = AppTest.from_string(
        "import streamlit as st\n"
        "from explorer.core.safe_text import md\n"
        f"st.markdown(md({LINK!r}))\n"
        f"st.caption(md({HTML!r}))\n"
    ).run()
    assert not at.exception
    assert at.markdown[0].value == md(LINK) and not unsafe_markdown(at.markdown[0].value)
    assert at.caption[0].value == md(HTML) and not unsafe_markdown(at.caption[0].value)
    # The checker does see the attack in what md() did not escape.
    assert unsafe_markdown(LINK) and unsafe_markdown(HTML)


# --- Unit: plotly and CSV -------------------------------------------------------------


def test_plot_text_makes_tags_and_entities_literal() -> None:
    s = "<a href='x'>y</a> & <b>50%</b> %{customdata} &lt;"
    out = plot_text(s)
    assert "<" not in out and ">" not in out and "%{" not in out
    assert html.unescape(out) == s  # plotly.js decodes entities: shown as typed
    assert plot_text("plain text, 'quoted' \"too\"") == "plain text, 'quoted' \"too\""


def test_csv_safe_prefixes_formula_strings_only() -> None:
    df = pd.DataFrame(
        {
            "text": ["=1+1", "+x", "-x", "@x", "\tx", "\rx", "ok", None],
            "n": [-5, 1, 2, 3, 4, 5, 6, 7],
            "f": [-1.5] * 8,
            "=col": pd.Categorical(["=a", "b"] * 4),
            "s": pd.Series(["-s", "t"] * 4, dtype="string"),
        }
    )
    out = csv_safe(df)
    assert out["text"].tolist()[:7] == ["'=1+1", "'+x", "'-x", "'@x", "'\tx", "'\rx", "ok"]
    assert pd.isna(out["text"].iloc[7])
    assert out["n"].tolist() == df["n"].tolist() and out["n"].dtype == df["n"].dtype
    assert out["f"].tolist() == [-1.5] * 8
    assert out["'=col"].tolist()[:2] == ["'=a", "b"] and out["s"].tolist()[:2] == ["'-s", "t"]
    assert list(out.columns) == ["text", "n", "f", "'=col", "s"]
    assert df["text"].iloc[0] == "=1+1" and "=col" in df.columns  # the input is unchanged
    rows = list(csv.reader(io.StringIO(to_csv_bytes(df).decode("utf-8"), newline="")))
    assert rows[0] == ["text", "n", "f", "'=col", "s"]
    assert rows[1][:4] == ["'=1+1", "-5", "-1.5", "'=a"]
    assert [r[0] for r in rows[1:8]] == ["'=1+1", "'+x", "'-x", "'@x", "'\tx", "'\rx", "ok"]


def test_a_carriage_return_inside_a_cell_cannot_start_a_row() -> None:
    data = to_csv_bytes(pd.DataFrame({"text": ["hello\r=1+1", "ok"], "n": [1, 2]}))
    assert data.split(b"\r\n")[1] == b'"hello\r=1+1",1'  # quoted: one cell
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows == [["text", "n"], ["hello\r=1+1", "1"], ["ok", "2"]]


# --- Pages on a hostile space ---------------------------------------------------------


def unsafe_markdown(src: str) -> list[str]:
    """What in markdown source `src` would become a link, HTML, a directive or LaTeX."""
    found = []
    if EVIL in src or "www.evil" in src or "@evil" in src:
        found.append("a URL that GFM turns into a link")
    for what, pattern in [
        ("link", r"(?<!\\)\]\("),
        ("HTML or autolink", r"(?<!\\)<[a-zA-Z/]"),
        ("directive or icon", r"(?<!\\):[a-z]"),
        ("LaTeX", r"(?<!\\)\$"),
    ]:
        if re.search(pattern, src.replace(":material/info:", "")):  # the pages' own icon
            found.append(what)
    return found


def text_sources(at: AppTest) -> list[str]:
    """Every markdown string on the page: bodies, labels, tooltips, placeholders."""
    out: list[str] = []
    for root in (at.main, at.sidebar):
        for node in root:
            proto = getattr(node, "proto", None)
            fields = getattr(getattr(proto, "DESCRIPTOR", None), "fields_by_name", {})
            for name in ("body", "label", "help", "placeholder"):
                value = getattr(proto, name) if name in fields else None
                if isinstance(value, str) and value:
                    out.append(value)
    return out


def assert_inert(at: AppTest) -> list[str]:
    assert not at.exception, [e.value for e in at.exception]
    sources = text_sources(at)
    bad = {s: unsafe_markdown(s) for s in sources if unsafe_markdown(s)}
    assert not bad, bad
    return sources


def figure(at: AppTest, index: int = 0) -> dict[str, Any]:
    return dict(json.loads(at.get("plotly_chart")[index].proto.spec))


def plot_strings(spec: dict[str, Any]) -> Iterator[str]:
    """Every string plotly.js would render as HTML: hover texts, names, titles."""
    for t in spec["data"]:
        yield from (s for s in t.get("text", []) if isinstance(s, str))
        yield t.get("name", "")
        yield re.sub(r"</?extra>", "", t.get("hovertemplate", ""))
        yield t.get("marker", {}).get("colorbar", {}).get("title", {}).get("text", "")
    yield spec["layout"].get("legend", {}).get("title", {}).get("text", "")
    yield spec["layout"].get("title", {}).get("text", "")


class Downloads:
    """The bytes each download button of the last AppTest run would give."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.managers: list[tuple[MediaFileManager, MemoryMediaFileStorage]] = []
        outer = self

        class Manager(MediaFileManager):
            def __init__(self, storage: MemoryMediaFileStorage) -> None:
                super().__init__(storage)
                outer.managers.append((self, storage))

        monkeypatch.setattr("streamlit.testing.v1.app_test.MediaFileManager", Manager)

    def __call__(self, at: AppTest) -> dict[str, bytes]:
        manager, storage = self.managers[-1]
        out = {}
        for button in at.get("download_button"):
            p = button.proto
            url = manager.execute_deferred(p.deferred_file_id) if p.deferred_file_id else p.url
            out[p.label] = storage.get_file(url.rsplit("/", 1)[-1]).content
        return out


def assert_csv_inert(data: bytes) -> None:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    cells = [c for row in rows for c in row]
    assert any(c.startswith(f"'{FORMULA}") for c in cells), "the formula item is missing"
    for c in cells:
        if c.startswith(FORMULA_START):
            float(c)  # only a number may start with - or + (a string would fail here)


@pytest.fixture(scope="module")
def hostile_spaces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile_spaces")
    build_hostile_space(root / "hostile")
    return root


@pytest.fixture()
def env(hostile_spaces: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EXPLORER_SPACES", str(hostile_spaces))
    monkeypatch.setenv("EXPLORER_DEFAULT_SPACE", "hostile")
    monkeypatch.chdir(ROOT)
    return hostile_spaces


def page(path: str, spaces: Path, **state: object) -> AppTest:
    at = AppTest.from_file(str(ROOT / path), default_timeout=300)
    folder = spaces / "hostile"
    at.session_state["space_folder"] = str(folder)
    pca = {
        "method": "pca",
        "dims": 2,
        "n_neighbors": 15,
        "min_dist": 0.1,
        "init": "spectral",
        "n_epochs": None,
        "perplexity": 30.0,
        "seed": 42,
    }
    # A fast PCA map, keyed by the folder as the pages name it (as given, or resolved).
    at.session_state["map_params"] = {str(folder): pca, str(folder.resolve()): pca}
    # Four KMeans clusters of the 40 hostile items, so their (hostile) names show.
    from dataclasses import asdict

    from explorer.cluster.clusterings import ClusterParams

    kmeans = asdict(ClusterParams(algorithm="kmeans", n_clusters=4))
    at.session_state["cluster_params"] = {str(folder): kmeans}
    for k, v in state.items():
        at.session_state[k] = v
    return at


def select(at: AppTest, rows: list[int]) -> None:
    points = [{"customdata": [r]} for r in rows]
    at.session_state["map_chart"] = {
        "selection": {"points": points, "point_indices": rows, "box": [], "lasso": []}
    }


def test_map_page_is_inert(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    downloads = Downloads(monkeypatch)
    at = page("pages/1_Map.py", env).run()
    assert at.selectbox(key="map_colour").value == BOLD_COLUMN  # the hostile category column
    select(at, [0])  # a click on the phishing item
    at.run()
    sources = assert_inert(at)
    assert f"**Neighbours of {md(LINK)}**" in sources  # shown, as text
    spec = figure(at)
    assert not [s for s in plot_strings(spec) if "<" in s]
    assert any(plot_text(HTML) in t["text"] for t in spec["data"])
    assert plot_text(HTML_CATEGORY) in [t["name"] for t in spec["data"]]
    assert spec["layout"]["legend"]["title"]["text"] == BOLD_COLUMN  # plotly: no markdown
    assert_csv_inert(downloads(at)["Download all map coordinates (CSV)"])

    at.text_input(key="map_search").input("<a href").run()  # the user's own text too
    assert_inert(at)
    assert any("\\<a href" in s for s in at.caption.values)
    assert plot_text("contains “<a href”") in [t["name"] for t in figure(at)["data"]]

    select(at, list(range(40)))  # a lasso over everything: the selection's CSV
    at.run()
    assert_inert(at)
    assert_csv_inert(downloads(at)["Download selection (CSV)"])


def test_neighbours_page_is_inert(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    downloads = Downloads(monkeypatch)
    # Map honesty at k=30 (the Quality page's k) lists items the map tore away.
    at = page("pages/2_Neighbours.py", env, q_k=30).run()
    at.selectbox(key="nb_item").select(0).run()
    sources = assert_inert(at)
    assert f"Nearest to {md(LINK)}" in sources
    assert any(s.startswith("Close in the space but far on the map: ") for s in sources)
    assert_csv_inert(downloads(at)["Download (CSV)"])


def test_clusters_page_is_inert(env: Path) -> None:
    at = page("pages/4_Clusters.py", env).run()
    for cluster in range(4):
        at.selectbox(key="cluster_pick").select(cluster).run()
        sources = assert_inert(at)
        # The label is made of the cluster's (hostile) texts: shown, escaped.
        title = next(s for s in sources if s.endswith("members") and s.startswith("**"))
        assert "evil" in title
        assert "<" not in "".join(plot_strings(figure(at)))


def test_analogies_and_quality_pages_are_inert(env: Path) -> None:
    a, b, c = f"[id0]({EVIL})", "<b>id1</b>", "id2"
    at = page("pages/3_Analogies.py", env, an_a=a, an_b=b, an_c=c).run()
    sources = assert_inert(at)
    assert md(f"({a} - {b} + {c})") in sources
    assert any(s.startswith("### → **") for s in sources)
    assert "<" not in "".join(plot_strings(figure(at)))

    at = page("pages/5_Quality.py", env).run()
    sources = assert_inert(at)
    assert any(s.startswith("Worst-placed items: ") and "evil" in s for s in sources)
