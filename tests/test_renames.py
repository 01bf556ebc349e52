"""Names people give clusters and broad regions: stored, read back everywhere, reset."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer.cluster.clusterings import ClusterParams, cluster_space, clustering_key
from explorer.cluster.levels import broad_level
from explorer.cluster.renames import MAX_NAME_CHARS, load_names, rename, reset_names
from explorer.core.errors import InputError
from explorer.ingest.build import build_from_file
from explorer.maps.projections import ProjectionParams
from explorer.opened.handle import open_space
from explorer.render.export_files import write_export
from explorer.render.map_style import MapView, map_style

KMEANS = ClusterParams(algorithm="kmeans", n_clusters=8)
PCA = ProjectionParams(method="pca")


@pytest.fixture()
def words(glove_small_file: Path, tmp_path: Path) -> Path:
    """A space of its own: names are written into it."""
    out = tmp_path / "words"
    build_from_file(glove_small_file, out, read_kwargs={"fmt": "glove"})
    return out


def test_a_given_name_is_read_back_by_every_picture(words: Path, tmp_path: Path) -> None:
    opened = open_space(words)
    before = cluster_space(opened, KMEANS)
    key = clustering_key(opened.space, KMEANS)
    rename(opened, key, "cluster", 2, "  Sports <b>teams</b> ", len(before.clusters))
    rename(opened, key, "broad", 0, "Everything else", 3)

    # A fresh process's view: reopened from disk.
    again = open_space(words)
    after = cluster_space(again, KMEANS)
    assert after.clusters[2].name == "Sports <b>teams</b>"
    assert after.clusters[2].label == "2: Sports <b>teams</b>"
    assert after.clusters[2].short_name == "Sports <b>teams</b>"
    assert [c.label for i, c in enumerate(after.clusters) if i != 2] == [
        c.label for i, c in enumerate(before.clusters) if i != 2
    ]
    np.testing.assert_array_equal(after.labels, before.labels)  # only the names changed
    assert broad_level(again.space, after).groups[0].short_name == "Everything else"

    # The map: its legend and the names written on it.
    coords = np.asarray(again.space.vectors[: again.space.n_map, :2])
    each = map_style(again.space, coords, after, MapView("cluster", True, "each cluster"))
    assert each.colour is not None and "2: Sports <b>teams</b>" in set(each.colour)
    assert "Sports <b>teams</b>" in [lab.text for lab in each.labels]
    broad = map_style(again.space, coords, after, MapView("cluster", True, "broad regions"))
    assert "Everything else" in [lab.text for lab in broad.labels]

    # Exports: the table's cluster_label, and the SVG (escaped there).
    csv = tmp_path / "map.csv"
    write_export(again, csv, "csv", PCA, KMEANS, MapView("cluster", True, "each cluster"))
    table = pd.read_csv(io.BytesIO(csv.read_bytes()))
    named = table.loc[table["cluster"] == 2, "cluster_label"]
    assert len(named) == after.clusters[2].size and set(named) == {"2: Sports <b>teams</b>"}
    svg = tmp_path / "map.svg"
    write_export(again, svg, "svg", PCA, KMEANS, MapView("cluster", True, "each cluster"))
    text = svg.read_text()
    assert "Sports &lt;b&gt;teams&lt;/b&gt;" in text and "<b>" not in text


def test_reset_and_empty_names_bring_the_automatic_ones_back(words: Path) -> None:
    opened = open_space(words)
    auto = cluster_space(opened, KMEANS)
    key = clustering_key(opened.space, KMEANS)
    n = len(auto.clusters)
    rename(opened, key, "cluster", 0, "Mine", n)
    rename(opened, key, "cluster", 1, "Also mine", n)
    rename(opened, key, "cluster", 0, "   ", n)  # an empty name takes it away
    assert load_names(opened, key).clusters == {1: "Also mine"}
    assert cluster_space(opened, KMEANS).clusters[0].label == auto.clusters[0].label
    reset_names(opened, key)
    assert [c.label for c in cluster_space(open_space(words), KMEANS).clusters] == [
        c.label for c in auto.clusters
    ]
    # Another clustering of the same space keeps its own names.
    other = ClusterParams(algorithm="kmeans", n_clusters=5)
    rename(opened, clustering_key(opened.space, other), "cluster", 0, "Five", 5)
    assert cluster_space(opened, KMEANS).clusters[0].name is None
    assert cluster_space(opened, other).clusters[0].name == "Five"


def test_bad_renames_are_refused_with_a_reason(words: Path) -> None:
    opened = open_space(words)
    key = clustering_key(opened.space, KMEANS)
    with pytest.raises(InputError, match="no cluster '8'"):
        rename(opened, key, "cluster", 8, "x", 8)
    with pytest.raises(InputError, match="no broad region '-1'"):
        rename(opened, key, "broad", -1, "x", 3)
    with pytest.raises(InputError, match=f"at most {MAX_NAME_CHARS}"):
        rename(opened, key, "cluster", 0, "x" * (MAX_NAME_CHARS + 1), 8)
    with pytest.raises(InputError, match="must be text"):
        rename(opened, key, "cluster", 0, ["x"], 8)
    with pytest.raises(InputError, match="Unknown level"):
        rename(opened, key, "region", 0, "x", 8)  # type: ignore[arg-type]
    assert load_names(opened, key).clusters == {}
