"""Cluster names on the map: on the cluster, sized by it, never overlapping."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from explorer.render.labels import place_labels

ROOT = Path(__file__).resolve().parent.parent


def _blobs(sizes: list[int], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-10, 10, size=(len(sizes), 2))
    pairs = zip(centres, sizes, strict=True)
    xy = np.concatenate([c + rng.normal(scale=0.8, size=(n, 2)) for c, n in pairs])
    labels = np.concatenate([np.full(n, i) for i, n in enumerate(sizes)])
    return xy, labels


def test_names_sit_on_their_cluster_and_grow_with_it() -> None:
    xy, labels = _blobs([400, 100, 25])
    placed = place_labels(xy, labels, {0: "big", 1: "middle", 2: "small"})
    assert [p.text for p in placed] == ["big", "middle", "small"]  # largest first
    assert placed[0].font > placed[1].font > placed[2].font
    for p, c in zip(placed, (0, 1, 2), strict=True):
        # Placed on one of its own members (at the default, un-nudged height).
        members = xy[labels == c]
        assert np.isclose(members, [p.x, p.y]).all(1).any()


def test_names_never_overlap_and_noise_is_unnamed() -> None:
    xy, labels = _blobs([50] * 30, seed=3)  # many clusters crowd the map
    labels[:10] = -1
    names = {c: f"cluster number {c} · words" for c in range(30)}
    names[-1] = "noise"
    placed = place_labels(xy, labels, names, width_px=800, height_px=500)
    span = np.ptp(xy, axis=0) / np.array([800, 500])
    boxes = [
        (
            p.x - p.width_px / 2 * span[0],
            p.y - p.height_px / 2 * span[1],
            p.x + p.width_px / 2 * span[0],
            p.y + p.height_px / 2 * span[1],
        )
        for p in placed
    ]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
    assert "noise" not in {p.text for p in placed} and 0 < len(placed) <= 30


def test_the_map_page_names_its_clusters(app_spaces: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("EXPLORER_SPACES", str(app_spaces))
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "pages/1_Map.py"), default_timeout=300)
    folder = str(app_spaces / "words")
    at.session_state["space_folder"] = folder
    at.session_state["map_params"] = {folder: {"method": "pca"}}
    at.session_state["map_level"] = "each cluster"
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    notes = fig["layout"].get("annotations", [])
    assert len(notes) >= 4  # the default clustering's clusters, named where they lie
    assert all("<" not in a["text"] for a in notes)


def test_broad_regions_merge_clusters_and_are_named_afresh(app_spaces: Path) -> None:
    from explorer.cluster.clusterings import ClusterParams, cluster_space
    from explorer.cluster.levels import broad_level
    from explorer.opened.handle import open_space

    space = open_space(app_spaces / "words").space
    cl = cluster_space(space, ClusterParams(algorithm="kmeans", n_clusters=16))
    broad = broad_level(space, cl)
    assert len(broad.groups) == 4  # about √16
    # Every cluster lies wholly inside one group, and the groups cover all clusters.
    for c in range(16):
        assert np.unique(broad.labels[cl.labels == c]).size == 1
    assert sorted(c for cs in broad.members.values() for c in cs) == list(range(16))
    sizes = [g.size for g in broad.groups]
    assert sizes == sorted(sizes, reverse=True) and sum(sizes) == int((cl.labels >= 0).sum())
    assert all(g.terms for g in broad.groups)  # named from their own members' words
