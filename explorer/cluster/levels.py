"""A second, broader level of clusters: the map's zoomed-out names.

A detailed clustering names many small islands; a stakeholder looking at the whole map
wants a handful of regions. The broad level merges the clusters whose centres are
close (Ward linkage on the clusters' mean unit vectors in the original space) into
about √k groups, and names each group afresh from all its members (c-TF-IDF terms for
text, the most central words for word spaces), so a region's name is not just its
largest cluster's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.cluster.clusterings import Clustering
from explorer.cluster.names import ClusterInfo, describe_clusters
from explorer.cluster.renames import named
from explorer.core.linalg import unit_rows
from explorer.core.space import Space
from explorer.ingest.word_categories import categories_of

__all__ = ["BroadLevel", "broad_level"]


@dataclass(frozen=True)
class BroadLevel:
    """The broad level: labels (n_map,) of groups (-1 noise), one ClusterInfo each,
    and which detailed clusters each group holds."""

    labels: np.ndarray
    groups: list[ClusterInfo]
    members: dict[int, list[int]]


def broad_level(space: Space, clustering: Clustering, n_groups: int | None = None) -> BroadLevel:
    """Merge the detailed clusters of `clustering` into about √k broad groups.

    With three clusters or fewer there is nothing to merge: each is its own group.
    """
    from sklearn.cluster import AgglomerativeClustering

    labels = np.asarray(clustering.labels)
    k = len(clustering.clusters)
    n_groups = n_groups or max(2, round(np.sqrt(k)))
    x = np.asarray(space.vectors[: len(labels)], dtype=np.float32)
    if k <= 3 or n_groups >= k:
        merge = np.arange(k)
    else:
        centres = np.stack([unit_rows(x[labels == c])[0].mean(0) for c in range(k)])
        model = AgglomerativeClustering(n_clusters=n_groups, linkage="ward")
        merge = np.asarray(model.fit_predict(centres), dtype=np.int64)
    broad = np.where(labels >= 0, merge[np.maximum(labels, 0)], -1)
    # Groups numbered by size, largest first, like clusters.
    sizes = np.bincount(broad[broad >= 0], minlength=int(merge.max()) + 1)
    order = np.argsort(-sizes, kind="stable")
    renumber = np.empty_like(order)
    renumber[order] = np.arange(order.size)
    broad = np.where(broad >= 0, renumber[np.maximum(broad, 0)], -1)
    texts = [str(t) for t in space.display_text[: len(labels)]] if space.has_text else None
    cats = categories_of(space, np.arange(len(labels)))
    groups = describe_clusters(x, broad, space.metric, texts, 4, 3, cats)
    members = {
        g: sorted(int(c) for c in np.flatnonzero(renumber[merge] == g)) for g in range(len(groups))
    }
    groups = named(groups, clustering.broad_names)
    return BroadLevel(labels=broad, groups=groups, members=members)
