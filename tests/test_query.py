from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from explorer.core.errors import InputError
from explorer.core.space import make_space
from explorer.ingest.query import substring_rows, text_vector
from explorer.maps.quality import map_neighbours


def _space():  # type: ignore[no-untyped-def]
    items = pd.DataFrame(
        {
            "id": ["a1", "b2", "c3", "d4"],
            "text": ["Storm hits coast", "Calm sea", "storm warning", "sunny"],
        }
    )
    return make_space(items, np.eye(4) + 0.1)


def test_substring_rows_case_insensitive_on_text_and_id() -> None:
    s = _space()
    assert substring_rows(s, "STORM").tolist() == [0, 2]
    assert substring_rows(s, "b2").tolist() == [1]
    assert substring_rows(s, "storm", rows=1).tolist() == [0]
    assert substring_rows(s, "  ").tolist() == []


def test_text_vector_without_a_model_looks_up_items() -> None:
    s = _space()
    vec, how = text_vector(s, "c3")
    np.testing.assert_array_equal(vec, s.vectors[2])
    assert "c3" in how
    with pytest.raises(InputError, match="no model"):
        text_vector(s, "rain")
    with pytest.raises(InputError, match="Type some text"):
        text_vector(s, " ")


def test_map_neighbours() -> None:
    coords = np.array([[0, 0], [1, 0], [0, 2], [5, 5], [np.nan, np.nan]], dtype=np.float32)
    assert map_neighbours(coords, 2, rows=np.array([0])).tolist() == [[1, 2]]
    # NaN rows are never neighbours (k is clamped to the drawn points but one), and get none.
    assert map_neighbours(coords, 10, rows=np.array([0, 4])).tolist() == [[1, 2, 3], [-1] * 3]
    # Every drawn point by default; a point at the same place as another is still not
    # its own neighbour, and ties go to the lower row.
    twins = np.array([[0, 0], [0, 0], [1, 0], [-1, 0]], dtype=np.float32)
    assert map_neighbours(twins, 2).tolist() == [[1, 2], [0, 2], [0, 1], [0, 1]]
