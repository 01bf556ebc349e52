"""Tests for explorer.cluster: recovery of known groups, work spaces, labels, edge cases."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

import explorer.cluster.algorithms as cm
from explorer.cluster.clusterings import ClusterParams, cluster, cluster_space
from explorer.core.errors import InputError
from explorer.core.space import make_space
from explorer.core.store import read_manifest, save_space
from explorer.opened.handle import OpenedSpace, open_space


def blobs(sizes, dim, seed=0, spread=0.05, scale=1.0):
    """Well-separated Gaussian blobs around random unit directions: (x, truth)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(sizes), dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = np.concatenate(
        [
            c * scale + rng.normal(scale=spread, size=(s, dim))
            for c, s in zip(centres, sizes, strict=True)
        ]
    )
    truth = np.repeat(np.arange(len(sizes)), sizes)
    return x.astype(np.float32), truth


def check_labels(res, n):
    assert res.labels.shape == (n,)
    assert res.labels.dtype == np.int64
    assert res.labels.min() >= -1
    found = sorted(set(res.labels[res.labels >= 0].tolist()))
    assert found == list(range(len(res.clusters)))
    for info in res.clusters:
        assert info.size == int((res.labels == info.cluster).sum())
        assert all(res.labels[e] == info.cluster for e in info.exemplars)


# --- parameters --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"algorithm": "dbscan"}, "algorithm"),
        ({"features": "pca10"}, "features"),
        ({"n_clusters": 0}, "n_clusters"),
        ({"n_clusters": 2.5}, "n_clusters"),
        ({"linkage": "median"}, "linkage"),
        ({"min_cluster_size": 1}, "min_cluster_size"),
        ({"min_samples": 0}, "min_samples"),
        ({"seed": -1}, "seed"),
        ({"n_terms": 0}, "n_terms"),
        ({"n_exemplars": 0}, "n_exemplars"),
    ],
)
def test_validate_names_the_bad_setting(changes, words):
    with pytest.raises(InputError, match=words):
        ClusterParams(**changes).validate()
    x, _ = blobs([5, 5], 4)
    with pytest.raises(InputError, match=words):
        cluster(x, ClusterParams(**changes))


# --- recovery of known groups --------------------------------------------------------


def test_kmeans_recovers_blobs_numbered_by_size():
    x, truth = blobs([60, 40, 20], 20)
    res = cluster(x, ClusterParams(algorithm="kmeans", n_clusters=3), metric="l2")
    check_labels(res, 120)
    assert adjusted_rand_score(truth, res.labels) >= 0.9
    assert [c.size for c in res.clusters] == [60, 40, 20]
    assert res.labels[0] == 0 and res.labels[-1] == 2  # cluster 0 is the largest
    assert res.ran_on == "KMeans on the 20-d vectors"
    assert res.params["features"] == "full"


@pytest.mark.parametrize("linkage", ["ward", "average"])
def test_agglomerative_recovers_blobs(linkage):
    x, truth = blobs([30, 30, 30, 30], 16, seed=1)
    res = cluster(x, ClusterParams(algorithm="agglomerative", n_clusters=4, linkage=linkage))
    check_labels(res, 120)
    assert adjusted_rand_score(truth, res.labels) >= 0.9
    assert f"Agglomerative ({linkage} linkage)" in res.ran_on


def test_hdbscan_finds_the_clusters_and_marks_outliers():
    x, truth = blobs([50, 50, 50], 2, seed=2, spread=0.05, scale=5.0)
    outliers = np.array([[40.0, 40.0], [-40.0, 40.0], [40.0, -40.0]], dtype=np.float32)
    x = np.concatenate([x, outliers])
    res = cluster(x, ClusterParams(algorithm="hdbscan", min_cluster_size=10), metric="l2")
    check_labels(res, 153)
    assert len(res.clusters) == 3
    assert (res.labels[-3:] == -1).all()
    assert adjusted_rand_score(truth, res.labels[:150]) >= 0.9
    assert res.params["features"] == "full"  # 2-D input: nothing for UMAP to reduce


def test_pca50_is_the_default_above_50_dimensions():
    x, truth = blobs([40, 40, 40], 120, seed=3, spread=0.02)
    res = cluster(x, ClusterParams(algorithm="kmeans", n_clusters=3))
    assert res.params["features"] == "pca50"
    assert res.ran_on == "KMeans on a 50-d PCA of the 120-d vectors"
    assert adjusted_rand_score(truth, res.labels) >= 0.9
    small = cluster(x[:, :50], ClusterParams(algorithm="kmeans", n_clusters=3))
    assert small.params["features"] == "full"


def test_hdbscan_defaults_to_a_5d_umap():
    x, truth = blobs([100, 100, 100], 20, seed=4, spread=0.05)
    res = cluster(x, ClusterParams(algorithm="hdbscan", min_cluster_size=15))
    assert res.params["features"] == "umap5"
    assert res.ran_on == "HDBSCAN on a 5-d UMAP of the 20-d vectors"
    assert len(res.clusters) == 3
    assert adjusted_rand_score(truth, res.labels) >= 0.9


def test_map_space_uses_the_given_coordinates():
    x, _ = blobs([30, 30], 8, seed=5)
    coords, truth = blobs([30, 30], 2, seed=6, scale=5.0)
    with pytest.raises(InputError, match="map's coordinates"):
        cluster(x, ClusterParams(algorithm="kmeans", features="map", n_clusters=2))
    with pytest.raises(InputError, match=r"\(60, 2\)"):
        cluster(x, ClusterParams(algorithm="kmeans", features="map"), map_coords=coords[:10])
    coords[0] = np.nan  # not drawn on the map → not clustered
    res = cluster(
        x, ClusterParams(algorithm="kmeans", features="map", n_clusters=2), map_coords=coords
    )
    assert res.ran_on == "KMeans on the 2-D map coordinates"
    assert res.labels[0] == -1
    assert adjusted_rand_score(truth[1:], res.labels[1:]) >= 0.9
    assert any("not on the map" in n for n in res.notes)


def test_large_inputs_switch_to_scalable_variants(monkeypatch):
    monkeypatch.setattr(cm, "MINIBATCH_ABOVE", 100)
    monkeypatch.setattr(cm, "AGGLO_MAX", 200)
    monkeypatch.setattr(cm, "AGGLO_SAMPLE", 100)
    x, truth = blobs([150, 150, 100], 10, seed=7)
    km = cluster(x, ClusterParams(algorithm="kmeans", n_clusters=3))
    assert km.ran_on.startswith("MiniBatchKMeans")
    assert adjusted_rand_score(truth, km.labels) >= 0.9
    ag = cluster(x, ClusterParams(algorithm="agglomerative", n_clusters=3))
    check_labels(ag, 400)
    assert adjusted_rand_score(truth, ag.labels) >= 0.9
    assert any("sample of 100" in n for n in ag.notes)


# --- labels and exemplars --------------------------------------------------------------

WEATHER = ["rain", "storm", "flood", "thunder", "forecast", "drizzle", "humid", "cloudy"]
FOOTBALL = ["goal", "striker", "referee", "penalty", "midfield", "league", "keeper", "match"]


def topic_corpus(n_per=25, seed=8):
    rng = np.random.default_rng(seed)
    texts, truth = [], []
    for topic, words in enumerate([WEATHER, FOOTBALL]):
        for _ in range(n_per):
            picked = rng.choice(words, size=4, replace=False)
            texts.append(f"The {picked[0]} and the {picked[1]} were {picked[2]} {picked[3]}.")
            truth.append(topic)
    truth = np.array(truth)
    x = rng.normal(scale=0.1, size=(len(texts), 12))
    x[:, 0] += truth == 0
    x[:, 1] += truth == 1
    return texts, x.astype(np.float32), truth


def test_ctfidf_terms_come_from_each_cluster_topic():
    texts, x, truth = topic_corpus()
    res = cluster(x, ClusterParams(algorithm="kmeans", n_clusters=2, n_terms=4), texts=texts)
    assert adjusted_rand_score(truth, res.labels) == 1.0
    for info in res.clusters:
        topic = WEATHER if truth[res.labels == info.cluster][0] == 0 else FOOTBALL
        assert len(info.terms) == 4
        assert set(info.terms) <= set(topic)
        assert info.label == f"{info.cluster}: " + " · ".join(info.terms[:3])


def test_exemplars_are_members_with_the_medoid_first():
    texts, x, truth = topic_corpus()
    res = cluster(x, ClusterParams(algorithm="kmeans", n_clusters=2, n_exemplars=5), texts=texts)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    for info in res.clusters:
        members = np.flatnonzero(res.labels == info.cluster)
        assert len(info.exemplars) == 5
        assert set(info.exemplars) <= set(members.tolist())
        sims = unit[members] @ unit[members].mean(0)
        assert info.exemplars[0] == members[np.argmax(sims)]
        ex_sims = unit[info.exemplars] @ unit[members].mean(0)
        assert np.all(np.diff(ex_sims) <= 1e-6)  # closest first


def test_l2_exemplars_are_closest_to_the_mean():
    x, _ = blobs([20, 20], 6, seed=9, spread=0.3, scale=3.0)
    res = cluster(x, ClusterParams(algorithm="kmeans", n_clusters=2, n_exemplars=3), metric="l2")
    for info in res.clusters:
        members = np.flatnonzero(res.labels == info.cluster)
        d = np.linalg.norm(x[members] - x[members].mean(0), axis=1)
        assert info.exemplars == members[np.argsort(d)[:3]].tolist()
        assert info.terms == [] and info.label == str(info.cluster)  # no texts


def test_single_word_texts_label_clusters_by_central_content_words():
    words = WEATHER + FOOTBALL + ["the", "of", "a", "1"]
    truth = np.array([0] * 8 + [1] * 8 + [0, 0, 1, 1])
    rng = np.random.default_rng(10)
    x = rng.normal(scale=0.1, size=(len(words), 8))
    x[:, 0] += truth == 0
    x[:, 1] += truth == 1
    # The function words sit at the clusters' centres: they must still not name them.
    x[16:] = np.where(truth[16:, None] == 0, [1.0] + [0.0] * 7, [0.0, 1.0] + [0.0] * 6)
    res = cluster(
        x, ClusterParams(algorithm="kmeans", n_clusters=2, n_terms=3, n_exemplars=4), texts=words
    )
    for info in res.clusters:
        members = set(np.flatnonzero(res.labels == info.cluster).tolist())
        content = [words[e] for e in info.exemplars if words[e] in WEATHER + FOOTBALL]
        assert words[info.exemplars[0]] in {"the", "of", "a", "1"}  # a function word is central
        assert info.terms[0] == content[0]  # the most central content word leads
        assert len(info.terms) == 3 and all(w in WEATHER + FOOTBALL for w in info.terms)
        assert all(words.index(w) in members for w in info.terms)
        assert info.label == f"{info.cluster}: {' · '.join(info.terms)}"
    # Only stop words, numbers and single letters: c-TF-IDF has no vocabulary.
    junk = ["the an", "of a", "12 34", "a b"] * 3
    res = cluster(x[:12], ClusterParams(algorithm="kmeans", n_clusters=2), texts=junk)
    assert all(info.terms for info in res.clusters)
    assert all(info.terms[0] == junk[info.exemplars[0]] for info in res.clusters)


# --- degenerate inputs -------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["kmeans", "agglomerative", "hdbscan"])
def test_all_identical_points_form_one_cluster(algorithm):
    x = np.tile(np.array([[1.0, 2.0, 3.0, 4.0]], dtype=np.float32), (30, 1))
    res = cluster(x, ClusterParams(algorithm=algorithm, min_cluster_size=5))
    check_labels(res, 30)
    assert (res.labels == 0).all()
    assert any("identical" in n or "1 distinct" in n for n in res.notes)


@pytest.mark.parametrize("algorithm", ["kmeans", "agglomerative"])
def test_fewer_points_than_clusters(algorithm):
    x = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32)
    res = cluster(x, ClusterParams(algorithm=algorithm, n_clusters=8), texts=["a b", "c d"])
    check_labels(res, 2)
    assert len(res.clusters) == 2
    assert any("2 cluster(s) instead of 8" in n for n in res.notes)
    one = cluster(x[:1], ClusterParams(algorithm=algorithm))
    check_labels(one, 1)
    assert one.labels.tolist() == [0]


def test_duplicates_clamp_n_clusters_to_distinct_points():
    x = np.repeat(np.eye(4, dtype=np.float32)[:3], 10, axis=0)
    res = cluster(x, ClusterParams(algorithm="kmeans", n_clusters=5))
    check_labels(res, 30)
    assert len(res.clusters) == 3
    assert any("Only 3 distinct" in n for n in res.notes)


def test_min_cluster_size_above_n_gives_all_noise_with_advice():
    x, _ = blobs([10, 10], 4, seed=11)
    res = cluster(x, ClusterParams(algorithm="hdbscan", min_cluster_size=50))
    check_labels(res, 20)
    assert (res.labels == -1).all() and res.clusters == []
    assert any("Lower min_cluster_size to at most 20" in n for n in res.notes)
    tiny = cluster(x[:2], ClusterParams(algorithm="hdbscan", features="umap5", min_cluster_size=2))
    check_labels(tiny, 2)  # n = 2: too few for UMAP, falls back with a note
    assert any("UMAP" in n for n in tiny.notes)


def test_one_blob_still_gives_the_requested_clusters():
    x, _ = blobs([80], 10, seed=12, spread=0.3)
    res = cluster(x, ClusterParams(algorithm="kmeans", n_clusters=4))
    check_labels(res, 80)
    assert len(res.clusters) == 4
    hd = cluster(x, ClusterParams(algorithm="hdbscan", features="full", min_cluster_size=60))
    check_labels(hd, 80)
    if not hd.clusters:
        assert any("Lower min_cluster_size" in n for n in hd.notes)


def test_zero_vectors_are_not_clustered_under_cosine():
    x, _ = blobs([15, 15], 6, seed=13)
    x[3] = 0
    res = cluster(x, ClusterParams(algorithm="kmeans", n_clusters=2))
    check_labels(res, 30)
    assert res.labels[3] == -1 and (np.delete(res.labels, 3) >= 0).all()
    assert any("zero vector" in n for n in res.notes)


# --- cluster_space and its cache ------------------------------------------------------------


def make_saved_space(tmp_path, **kw):
    texts, x, truth = topic_corpus(n_per=20)
    x[5] = 0  # no direction under cosine
    items = pd.DataFrame({"id": [f"d{i}" for i in range(len(texts))], "text": texts})
    space = make_space(items, x, **kw)
    return space, save_space(space, tmp_path / "s"), truth


def test_cluster_space_caches_in_the_folder(tmp_path, monkeypatch):
    space, folder, truth = make_saved_space(tmp_path)
    calls = []
    real = cm.run_kmeans

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(cm, "run_kmeans", spy)
    params = ClusterParams(algorithm="kmeans", n_clusters=2)
    first = cluster_space(open_space(folder), params)
    assert len(calls) == 1
    steps = read_manifest(folder)["steps"]
    assert len(steps) == 1 and next(iter(steps)).startswith("clustering-")
    assert first.labels[5] == -1
    assert any("zero vector" in n for n in first.notes)
    keep = np.arange(40) != 5
    assert adjusted_rand_score(truth[keep], first.labels[keep]) == 1.0

    second = cluster_space(open_space(folder), params)
    assert len(calls) == 1  # loaded, not recomputed
    assert len(read_manifest(folder)["steps"]) == 1
    np.testing.assert_array_equal(first.labels, second.labels)
    assert second.clusters == first.clusters
    assert second.ran_on == first.ran_on and second.notes == first.notes
    stored = json.loads(next((folder / "steps").glob("clustering-*.json")).read_text())
    assert stored["clusters"][0]["terms"] == first.clusters[0].terms

    cluster_space(open_space(folder), ClusterParams(algorithm="kmeans", n_clusters=3))
    assert len(calls) == 2 and len(read_manifest(folder)["steps"]) == 2


def test_cluster_space_uses_map_rows_and_space_rows(tmp_path):
    texts, x, _ = topic_corpus(n_per=20)
    items = pd.DataFrame({"id": [f"d{i}" for i in range(40)], "text": texts})
    # Rows interleaved so that the first 30 hold both topics.
    order = np.r_[0:15, 20:35, 15:20, 35:40]
    space = make_space(items.iloc[order], x[order], map_rows=30)
    res = cluster_space(space, ClusterParams(algorithm="kmeans", n_clusters=2))
    check_labels(res, 30)
    for info in res.clusters:
        assert all(0 <= e < 30 for e in info.exemplars)
        assert info.terms


def test_cluster_space_on_the_map_keys_the_coordinates(tmp_path):
    space, folder, _ = make_saved_space(tmp_path)
    with pytest.raises(InputError, match="map's coordinates"):
        cluster_space(open_space(folder), ClusterParams(algorithm="kmeans", features="map"))
    coords = np.random.default_rng(0).normal(size=(40, 2)).astype(np.float32)
    a = cluster_space(
        open_space(folder),
        ClusterParams(algorithm="kmeans", features="map", n_clusters=2),
        map_coords=coords,
    )
    assert a.ran_on.endswith("the 2-D map coordinates") and a.labels[5] == -1
    cluster_space(
        open_space(folder),
        ClusterParams(algorithm="kmeans", features="map", n_clusters=2),
        map_coords=coords + 1,
    )
    assert len(read_manifest(folder)["steps"]) == 2  # other coordinates, other step


def test_cluster_space_hdbscan_reuses_the_index(tmp_path):
    from explorer.index.hnsw import build_index

    x, truth = blobs([100, 100, 100], 20, seed=14)
    space = make_space(pd.DataFrame({"id": [str(i) for i in range(300)]}), x)
    index = build_index(space.vectors, space.metric, rows=np.flatnonzero(space.indexable))
    steps = []
    res = cluster_space(
        OpenedSpace.of(space, index),
        ClusterParams(algorithm="hdbscan", min_cluster_size=15),
        progress=lambda f, m: steps.append(m),
    )
    assert res.ran_on == "HDBSCAN on a 5-d UMAP of the 20-d vectors"
    assert adjusted_rand_score(truth, res.labels) >= 0.9
    assert any("neighbours" in m for m in steps)
    assert all(info.label == str(info.cluster) for info in res.clusters)  # no text column


@pytest.mark.parametrize("name", ["iris", "wine", "digits"])
def test_the_default_clustering_matches_the_categories_better(name: str) -> None:
    """The default (HDBSCAN on a 5-d UMAP) was chosen by ARI with the labelled samples'
    real categories; the former default, KMeans with 8 clusters, agrees less."""
    from explorer.cluster.agreement import cluster_agreement
    from explorer.ingest.samples import load_sample

    _, data = load_sample(name)
    space = make_space(data.items, data.vectors, metric=data.metric)
    truth = space.items[space.category_columns[0]].astype(str).to_numpy()
    new = cluster_space(space, ClusterParams())
    old = cluster_space(space, ClusterParams(algorithm="kmeans", n_clusters=8))
    ari_new = cluster_agreement(new.labels, truth)["ari"]
    ari_old = cluster_agreement(old.labels, truth)["ari"]
    assert ari_new > ari_old + 0.1, (ari_new, ari_old)


def test_automatic_kmeans_makes_no_more_clusters_than_a_map_has_colours() -> None:
    """When "auto" falls back to KMeans on a large space, every cluster gets a colour of
    its own on the map (none is folded into the grey "other")."""
    from explorer.cluster.clusterings import AUTO_MAX_CLUSTERS
    from explorer.render.colours import MAX_CATEGORIES

    assert AUTO_MAX_CLUSTERS <= MAX_CATEGORIES
    rng = np.random.default_rng(3)
    x = rng.normal(size=(12_000, 8)).astype(np.float32)  # no dense groups: KMeans
    res = cluster(x, ClusterParams(features="full"), metric="l2")
    assert "KMeans" in res.ran_on
    assert len(res.clusters) == AUTO_MAX_CLUSTERS  # √(12,000/20) ≈ 24, capped
