"""The engine's results as pandas tables for a notebook: hits of a neighbour or analogy
query, and a clustering (:class:`Clusters`, which keeps the engine's ``Clustering``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from explorer.analysis.probes import Hit
from explorer.cluster.clusterings import Clustering
from explorer.core.space import Space

__all__ = ["Clusters", "clusters_of", "hits_frame"]


def hits_frame(hits: Sequence[Hit], score: str) -> pd.DataFrame:
    """One row per hit, best first: ``id``, ``text`` and the score in column `score`;
    the index is the rank (1 = best)."""
    table = pd.DataFrame(
        {
            "id": [h.id for h in hits],
            "text": [h.text for h in hits],
            score: [float(h.score) for h in hits],
        }
    )
    table.index = pd.RangeIndex(1, len(hits) + 1, name="rank")
    return table


@dataclass(frozen=True)
class Clusters:
    """A clustering of a space's map rows, as tables.

    Attributes:
        table: one row per cluster, largest first: ``cluster`` (its number), ``size``,
            ``label``, ``terms`` (a list), ``exemplars`` (ids, the medoid first), and
            ``category`` when the space's words have categories.
        labels: the cluster number of each map row, indexed by item id (-1: noise, or
            not clustered).
        clustering: the engine's ``Clustering``, as the pages and the command line use it.
    """

    table: pd.DataFrame
    labels: pd.Series
    clustering: Clustering

    @property
    def ran_on(self) -> str:
        """What ran on which features, in a sentence."""
        return self.clustering.ran_on

    @property
    def notes(self) -> list[str]:
        """What the clustering noted (fallbacks, items left out)."""
        return list(self.clustering.notes)

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        noise = int((self.labels == -1).sum())
        head = f"Clusters: {len(self)} ({self.ran_on}); {noise:,} unclustered"
        return head + "\n" + self.table.to_string(index=False, max_colwidth=60)

    def _repr_html_(self) -> str:
        html: str = self.table._repr_html_()  # type: ignore[operator]
        return html


def clusters_of(space: Space, clustering: Clustering) -> Clusters:
    """The tables of `clustering`, a clustering of `space`'s map rows."""
    rows = [
        {
            "cluster": c.cluster,
            "size": c.size,
            "label": c.label,
            "terms": list(c.terms),
            "exemplars": [str(space.ids[r]) for r in c.exemplars],
            "category": c.category,
        }
        for c in clustering.clusters
    ]
    columns = ["cluster", "size", "label", "terms", "exemplars", "category"]
    table = pd.DataFrame(rows, columns=columns)
    if table["category"].isna().all():
        table = table.drop(columns="category")
    ids = pd.Index(space.ids[: len(clustering.labels)].astype(str), name="id")
    labels = pd.Series(clustering.labels, index=ids, name="cluster")
    return Clusters(table, labels, clustering)
