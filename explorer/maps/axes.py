"""Semantic axes: a map whose x (and y) is a direction the user names.

A direction runs from one pole to another. A pole is one or more terms: items of the
space (``man``), or free text embedded with the space's model (``a sad story``).
Its vector is the mean of the terms' unit vectors, so a group of words
(``bad, awful, terrible``) is a centroid. Each item's coordinate is the cosine-style
projection of its unit vector on the normalised direction; with a second axis, y may
be made orthogonal to x (Gram–Schmidt), so the two read independently. Without one,
y is the first principal component of what x leaves unexplained.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.core.errors import InputError
from explorer.core.linalg import pca, unit_rows
from explorer.core.space import Space

__all__ = ["Axis", "axis_coords", "axis_titles", "parse_terms", "pole_vector", "poles"]


def axis_titles(x_from: str, x_to: str, y_from: str, y_to: str) -> tuple[str, str]:
    """Titles of a semantic-axis map's axes, e.g. ("man → woman", "poor → rich"); a map
    without a y axis shows the main remaining spread upward."""
    y = f"{y_from} → {y_to}" if y_from else "main remaining spread"
    return f"{x_from} → {x_to}", y


def parse_terms(text: str) -> list[str]:
    """Terms of a pole, separated by commas (so a term may hold spaces)."""
    return [t.strip() for t in str(text).split(",") if t.strip()]


def pole_vector(space: Space, terms: list[str]) -> tuple[np.ndarray, list[str]]:
    """(d,) mean unit vector of `terms`, and how each term was found.

    An item of the space is used as it is; other text is embedded with the space's
    model (a space without a model can only use its items).
    """
    from explorer.ingest.query import text_vector  # embedding is only needed for free text

    if not terms:
        raise InputError("A pole needs at least one term, e.g. 'man' or 'bad, awful'.")
    vecs, how = [], []
    for term in terms:
        row = space.lookup(term)
        if row is not None:
            vecs.append(np.asarray(space.vectors[row], dtype=np.float32))
            how.append(f"'{term}' (an item)")
        else:
            vec, _ = text_vector(space, term)
            vecs.append(np.asarray(vec, dtype=np.float32))
            how.append(f"'{term}' (embedded)")
    unit, norms = unit_rows(np.stack(vecs))
    if (norms == 0).any():
        raise InputError("A pole term has an all-zero vector: it has no direction.")
    return unit.mean(0), how


@dataclass(frozen=True)
class Axis:
    """One axis: from-pole terms → to-pole terms (the to-pole is the positive end)."""

    start: list[str]
    end: list[str]

    @property
    def name(self) -> str:
        return f"{', '.join(self.start)} → {', '.join(self.end)}"

    def direction(self, space: Space) -> np.ndarray:
        """(d,) unit vector from the start pole's centroid to the end pole's."""
        a, _ = pole_vector(space, self.start)
        b, _ = pole_vector(space, self.end)
        d = b - a
        size = float(np.linalg.norm(d))
        if size < 1e-6:
            raise InputError(f"The poles of {self.name} are the same point: no direction.")
        return (d / size).astype(np.float32)


def axis_coords(
    vectors: np.ndarray,
    dx: np.ndarray,
    dy: np.ndarray | None = None,
    *,
    orthogonal: bool = True,
    seed: int = 0,
) -> tuple[np.ndarray, list[str]]:
    """(n, 2) float32 coordinates of unit rows of `vectors` on the axes, and notes.

    x = u · dx. With `dy`: y = u · dy, after removing dy's part along dx when
    `orthogonal`. Without: y is the first principal component of the rows once
    their x part is removed (the main spread the x axis does not explain).
    """
    unit, _ = unit_rows(vectors)
    x = unit @ dx
    notes = []
    if dy is None:
        rest = unit - np.outer(x, dx)
        y = pca(rest, 1, seed)[:, 0]
        notes.append("y is the main spread left once the x axis is removed (its first PC).")
    else:
        if orthogonal:
            dy = dy - float(dy @ dx) * dx
            size = float(np.linalg.norm(dy))
            if size < 1e-6:
                raise InputError("The y axis runs along the x axis: choose other y poles.")
            dy = dy / size
            notes.append("y was made orthogonal to x, so the two axes read independently.")
        else:
            cos = float(dy @ dx)
            notes.append(f"y is not orthogonal to x (their cosine is {cos:.2f}).")
        y = unit @ dy
    return np.column_stack([x, y]).astype(np.float32), notes


def poles(coords: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Rows nearest each end of the x axis: (lowest x first, highest x first).

    Rows with NaN coordinates are left out.
    """
    x = np.asarray(coords)[:, 0]
    ok = np.flatnonzero(np.isfinite(x))
    order = ok[np.argsort(x[ok], kind="stable")]
    return order[:k], order[::-1][:k]
