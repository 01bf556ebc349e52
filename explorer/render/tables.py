"""Tables to take away: the items with their map coordinates and clusters, as CSV
(formula-safe) or Parquet.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd

from explorer.cluster.clusterings import Clustering
from explorer.core.errors import InputError
from explorer.core.safe_text import to_csv_bytes
from explorer.core.space import Space
from explorer.maps.projections import Projection

__all__ = ["check_length", "export_table", "selected_rows", "table_csv", "table_parquet"]


def selected_rows(space: Space, rows: Sequence[int] | np.ndarray | None) -> np.ndarray:
    """Row numbers to export, checked: every item by default."""
    if rows is None:
        return np.arange(space.n, dtype=np.int64)
    sel = np.asarray(rows, dtype=np.int64).reshape(-1)
    bad = sel[(sel < 0) | (sel >= space.n)]
    if bad.size:
        raise InputError(
            f"Rows {bad[:8].tolist()} are not in this space (it has {space.n:,} rows); "
            "select items from the map or the list again."
        )
    return sel


def _free(name: str, taken: set[str]) -> str:
    """`name`, or `name_map`, `name_map2`, ... when a metadata column already has it."""
    out, k = name, 1
    while out in taken:
        out = f"{name}_map" if k == 1 else f"{name}_map{k}"
        k += 1
    taken.add(out)
    return out


def check_length(what: str, length: int, space: Space) -> None:
    if length != space.n_map:
        raise InputError(
            f"The {what} has {length:,} points but this space maps {space.n_map:,} items; "
            f"make the {what} again."
        )


def export_table(
    space: Space,
    proj: Projection | None = None,
    clustering: Clustering | None = None,
    rows: Sequence[int] | np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per item: id, text, metadata, then x, y[, z], cluster, cluster_label.

    Args:
        proj: a map of the space (coords (n_map, 2|3)); adds x, y[, z] (NaN where
            an item is not drawn, e.g. a zero vector, or lies past the map rows).
        clustering: a clustering of the map rows; adds ``cluster`` (Int64: -1 noise,
            missing past the map rows) and ``cluster_label`` ("noise" for -1).
        rows: row numbers of the space to export (a selection), default every item.

    A metadata column already named x, cluster, ... keeps its name; the added one
    becomes ``x_map``, ``cluster_map``, ...
    """
    sel = selected_rows(space, rows)
    table = space.items.iloc[sel].reset_index(drop=True).copy()
    taken = {str(c) for c in table.columns}
    on_map = sel < space.n_map
    if proj is not None:
        check_length("map", len(proj.coords), space)
        dims = int(proj.coords.shape[1])
        xyz = np.full((sel.size, dims), np.nan, dtype=np.float32)
        xyz[on_map] = proj.coords[sel[on_map]]
        for j, axis in enumerate("xyz"[:dims]):
            table[_free(axis, taken)] = xyz[:, j]
    if clustering is not None:
        check_length("clustering", len(clustering.labels), space)
        labels = pd.array(np.full(sel.size, -1, dtype=np.int64), dtype="Int64")
        labels[on_map] = clustering.labels[sel[on_map]]
        labels[~on_map] = pd.NA
        names = {c.cluster: c.label for c in clustering.clusters}
        text = [None if v is pd.NA else names.get(int(v), "noise") for v in labels]
        table[_free("cluster", taken)] = labels
        table[_free("cluster_label", taken)] = pd.Series(text, dtype="string")
    return table


def table_csv(table: pd.DataFrame) -> bytes:
    """UTF-8 CSV in which no cell can run as a spreadsheet formula (``safe_text``)."""
    return to_csv_bytes(table)


def table_parquet(table: pd.DataFrame) -> bytes:
    """Parquet bytes (pyarrow) that read back with the same columns and dtypes."""
    buf = io.BytesIO()
    table.to_parquet(buf, index=False, engine="pyarrow")
    return buf.getvalue()
