from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from explorer.core.errors import InputError
from explorer.core.space import make_space
from explorer.core.validate import check_query


def _items(n: int) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"w{i}" for i in range(n)], "text": [f"t{i}" for i in range(n)]})


def test_cosine_rows_are_unit_and_read_only() -> None:
    x = np.arange(12, dtype=np.float64).reshape(4, 3) + 1
    s = make_space(_items(4), x)
    assert s.vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(s.vectors, axis=1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError):
        s.vectors[0, 0] = 5.0


def test_nan_and_inf_rows_are_named() -> None:
    x = np.ones((5, 3))
    x[1, 0] = np.nan
    x[3, 2] = np.inf
    with pytest.raises(InputError) as err:
        make_space(_items(5), x)
    msg = str(err.value)
    assert "'w1'" in msg and "'w3'" in msg and "'w0'" not in msg and "2 row(s)" in msg


def test_zero_vectors_flagged_and_left_out_of_index() -> None:
    x = np.ones((4, 3))
    x[2] = 0
    s = make_space(_items(4), x)
    assert s.indexable.tolist() == [True, True, False, True]
    assert any("zero vector" in n and "'w2'" in n for n in s.notes)
    # Under l2 a zero vector is an ordinary point.
    assert make_space(_items(4), x, metric="l2").indexable.all()


def test_duplicate_ids_rejected_or_deduplicated() -> None:
    items = pd.DataFrame({"id": ["a", "b", "a", "c", "b"]})
    x = np.eye(5, 3) + 0.1
    with pytest.raises(InputError, match="'a', 'b'"):
        make_space(items, x)
    s = make_space(items, x, duplicates="first")
    assert s.ids.tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(s.vectors[2], x[3] / np.linalg.norm(x[3]), rtol=1e-6)
    assert any("repeated id" in n for n in s.notes)


def test_empty_input_means_no_rows() -> None:
    with pytest.raises(InputError, match="No rows"):
        make_space(_items(0), np.zeros((0, 3)))


def test_row_count_mismatch_names_both_counts() -> None:
    with pytest.raises(InputError, match="3 rows but there are 4 vectors"):
        make_space(_items(3), np.ones((4, 2)))


def test_ragged_vectors_rejected() -> None:
    with pytest.raises(InputError, match="one dimension"):
        make_space(_items(2), [[1.0, 2.0], [1.0]])


def test_query_of_wrong_dimension_names_both() -> None:
    with pytest.raises(InputError, match="dimension 5.*dimension 3"):
        check_query(np.ones(5), 3)


def test_fingerprint_follows_content() -> None:
    x = np.random.default_rng(0).normal(size=(10, 4))
    a, b = make_space(_items(10), x), make_space(_items(10), x.copy())
    assert a.fingerprint == b.fingerprint
    x2 = x.copy()
    x2[0, 0] += 1
    assert make_space(_items(10), x2).fingerprint != a.fingerprint
    assert make_space(_items(10), x, metric="l2").fingerprint != a.fingerprint


def test_lookup_and_rows() -> None:
    items = pd.DataFrame({"id": ["Paris", "paris", "rome"]})
    s = make_space(items, np.eye(3))
    assert s.lookup("Paris") == 0 and s.lookup("PARIS") == 0 and s.lookup("Rome") == 2
    assert s.lookup("berlin") is None
    assert s.rows(["rome", "paris"]).tolist() == [2, 1]
    with pytest.raises(InputError, match="'berlin'"):
        s.rows(["berlin"])


def test_unknown_metric() -> None:
    with pytest.raises(InputError, match="Unknown metric"):
        make_space(_items(2), np.eye(2), metric="manhattan")  # type: ignore[arg-type]


def test_category_columns_leave_out_free_text_ids_and_measurements() -> None:
    n = 400
    rng = np.random.default_rng(0)
    items = pd.DataFrame(
        {
            "id": [f"i{i}" for i in range(n)],
            "text": [f"a sentence number {i}" for i in range(n)],
            "topic": rng.choice(["a", "b", "c"], n),
            "digit": rng.integers(0, 10, n),
            "score": rng.normal(size=n),  # a measurement: many distinct numbers
            "title": [f"title {i}" for i in range(n)],  # free text: every value new
        }
    )
    space = make_space(items, rng.normal(size=(n, 8)))
    assert space.category_columns == ["topic", "digit"]
    assert space.metadata_columns == ["topic", "digit", "score", "title"]
