"""The formulas written once: unit rows, metric names, PCA, Procrustes."""

from __future__ import annotations

import numpy as np

from explorer.core.linalg import distance_name, pca, procrustes, unit_rows


def test_unit_rows_keep_zero_and_nan_rows_visible() -> None:
    unit, norms = unit_rows([[3.0, 4.0], [0.0, 0.0], [np.nan, 1.0]])
    np.testing.assert_allclose(unit[0], [0.6, 0.8])
    assert norms[1] == 0 and (unit[1] == 0).all()
    assert np.isnan(unit[2]).any()  # a NaN row stays NaN, so a later check can name it


def test_distance_names() -> None:
    assert distance_name("l2") == "euclidean" and distance_name("cosine") == "cosine"
    assert distance_name("ip") == "ip" and distance_name("ip", ip="cosine") == "cosine"


def test_pca_copes_with_degenerate_input() -> None:
    assert (pca(np.ones((4, 5)), 2) == 0).all()
    assert pca(np.eye(3), 2).shape == (3, 2)


def test_procrustes_recovers_a_known_rotation_exactly() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(200, 12))
    rotation, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    r = procrustes(a, a @ rotation)
    np.testing.assert_allclose(r, rotation, atol=1e-10)
    np.testing.assert_allclose(r @ r.T, np.eye(12), atol=1e-10)
