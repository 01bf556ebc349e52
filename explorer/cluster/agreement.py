"""How good a clustering is: agreement with known labels (ARI, NMI) and the
silhouette in the original space.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    adjusted_rand_score,
    normalized_mutual_info_score,
    silhouette_score,
)

from explorer.core.errors import InputError
from explorer.core.linalg import distance_name
from explorer.core.validate import check_matrix
from explorer.maps.quality import subsample

__all__ = ["cluster_agreement", "silhouette"]


def cluster_agreement(labels_pred: Sequence[Any], labels_true: Sequence[Any]) -> dict[str, Any]:
    """Agreement of clusters with known classes.

    Returns:
        ``{"ari": adjusted Rand index, "nmi": normalised mutual information,
        "table": pd.crosstab (rows: true labels, columns: predicted)}``.
        Both scores ignore how labels are named; 1.0 is identical partitions.
    """
    pred = pd.Series(np.asarray(labels_pred, dtype=object), name="predicted")
    true = pd.Series(np.asarray(labels_true, dtype=object), name="true")
    if len(pred) != len(true):
        raise InputError(
            f"There are {len(pred)} cluster labels but {len(true)} reference labels; "
            "they must match one to one."
        )
    if len(pred) == 0:
        raise InputError("No labels to compare.")
    p, t = pred.astype(str).to_numpy(), true.astype(str).to_numpy()
    return {
        "ari": float(adjusted_rand_score(t, p)),
        "nmi": float(normalized_mutual_info_score(t, p)),
        "table": pd.crosstab(true, pred),
    }


def silhouette(
    vectors: np.ndarray,
    labels: Sequence[Any] | np.ndarray,
    metric: str = "cosine",
    sample: int | None = 5000,
    seed: int = 0,
) -> float | None:
    """Mean silhouette (-1..1) of a clustering, ignoring noise points (label -1).

    Above ``sample`` points (after dropping noise) a random subsample is scored.
    ``metric``: cosine, l2 or any sklearn distance (``ip`` is not a distance and is
    scored as cosine). Returns None when fewer than 2 clusters remain, or as many
    clusters as points (the silhouette is undefined then).
    """
    x = check_matrix(vectors)
    lab = np.asarray(labels)
    if lab.shape != (x.shape[0],):
        raise InputError(
            f"There are {lab.size} labels for {x.shape[0]} vectors; they must match one to one."
        )
    keep = lab.astype(str) != "-1"
    x, lab = x[keep], lab[keep]
    sub = subsample(x.shape[0], sample, seed)
    if sub is not None:
        x, lab = x[sub], lab[sub]
    n_labels = np.unique(lab.astype(str)).size
    if n_labels < 2 or n_labels >= x.shape[0]:
        return None
    name = distance_name(metric, ip="cosine")
    return float(silhouette_score(x, lab.astype(str), metric=name))
