"""Random and extreme values in everything a browser can send: the view parser (the
address bar), the Map and Clusters forms' parameters, and tour files. Each gives a
clear message (InputError) or a request whose cost is within the operator's limits;
never another exception."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.cluster.clusterings import MAX_CLUSTERS, ClusterParams
from explorer.core.errors import InputError
from explorer.core.limits import limits
from explorer.core.space import make_space
from explorer.core.validate import MAX_FIELD_CHARS
from explorer.maps.projections import ProjectionParams, check_cost
from explorer.maps.umap import scaled_epochs
from explorer.share.views import tour_from_json, view_from_query

FIELDS = [
    "method",
    "dims",
    "n_neighbors",
    "min_dist",
    "init",
    "n_epochs",
    "parallel",
    "perplexity",
    "seed",
    "x_from",
    "x_to",
    "y_from",
    "y_to",
    "orthogonal",
]
EXTREME = st.sampled_from(
    ["", "0", "-1", "1e308", "nan", "inf", "-inf", "2000000000", "9" * 400, "true", "x" * 600]
)
ANY_TEXT = st.one_of(EXTREME, st.text(max_size=60), st.integers().map(str))
SPACE = make_space(
    pd.DataFrame({"id": [f"w{i}" for i in range(500)]}),
    np.random.default_rng(0).normal(size=(500, 8)),
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


def _bounded(p: ProjectionParams) -> None:
    """A map that passed the checks has bounded settings and a cost within the limits."""
    assert p.n_neighbors <= 200 and (p.n_epochs is None or p.n_epochs <= 5000)
    assert all(len(getattr(p, f)) <= MAX_FIELD_CHARS for f in ("x_from", "x_to", "y_from"))
    try:
        check_cost(SPACE, p)
    except InputError:
        return
    if p.method == "umap":
        epochs = p.n_epochs or scaled_epochs(SPACE.n)
        assert SPACE.n * epochs <= limits().max_umap_point_epochs


@SETTINGS
@given(st.dictionaries(st.sampled_from([*FIELDS, "space", "page", "sel", "colour"]), ANY_TEXT))
def test_the_address_bar(query: dict[str, str]) -> None:
    query = {"space": "iris", **query}
    try:
        view = view_from_query(query)
    except InputError as exc:
        assert str(exc)  # a message, never a bare error
        return
    p = view.params()
    p.validate()
    _bounded(p)


NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=20),
)


@SETTINGS
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "method": st.sampled_from(["umap", "pca", "tsne", "axis", "given", "x"]),
            "dims": NUMBERS,
            "n_neighbors": NUMBERS,
            "min_dist": NUMBERS,
            "n_epochs": NUMBERS,
            "perplexity": NUMBERS,
            "seed": NUMBERS,
            "x_from": st.one_of(st.text(max_size=30), EXTREME, st.just("man, " * 5000)),
            "x_to": st.one_of(st.text(max_size=30), EXTREME),
            "parallel": NUMBERS,
        },
    )
)
def test_the_map_form(values: dict[str, Any]) -> None:
    try:
        p = ProjectionParams(**values)
        p.validate()
    except InputError as exc:
        assert str(exc)
        return
    _bounded(p)


@SETTINGS
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "algorithm": st.sampled_from(["auto", "kmeans", "hdbscan", "agglomerative", "x"]),
            "features": st.sampled_from([None, "full", "pca50", "umap5", "map", "?"]),
            "n_clusters": NUMBERS,
            "min_cluster_size": NUMBERS,
            "min_samples": NUMBERS,
            "seed": NUMBERS,
            "n_terms": NUMBERS,
        },
    )
)
def test_the_clusters_form(values: dict[str, Any]) -> None:
    try:
        p = ClusterParams(**values)
        p.validate()
    except InputError as exc:
        assert str(exc)
        return
    assert 1 <= p.n_clusters <= MAX_CLUSTERS and p.min_cluster_size <= 100_000


VIEWS = st.lists(
    st.dictionaries(
        st.sampled_from(["space", "page", "projection", "colour", "selection", "title"]),
        st.one_of(
            ANY_TEXT,
            st.lists(ANY_TEXT, max_size=5),
            st.dictionaries(st.sampled_from(FIELDS), ANY_TEXT, max_size=4),
        ),
    ),
    max_size=4,
)


def _tour_file(title: str, views: list[dict[str, Any]]) -> bytes:
    return json.dumps({"format": 1, "tour": {"title": title, "views": views}}).encode()


@SETTINGS
@given(
    st.one_of(
        st.binary(max_size=200),
        st.builds(
            lambda title, views: json.dumps(
                {"format": 1, "tour": {"title": title, "views": views}}
            ).encode(),
            ANY_TEXT,
            VIEWS,
        ),
    )
)
def test_tour_files(data: bytes) -> None:
    try:
        tour = tour_from_json(data)
    except InputError as exc:
        assert str(exc)
        return
    assert 1 <= len(tour.views) <= 100 and len(tour.title) <= MAX_FIELD_CHARS
    for view in tour.views:
        _bounded(view.params())


def test_a_huge_tour_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="larger than"):
        tour_from_json(b"[" * (2 << 20))
