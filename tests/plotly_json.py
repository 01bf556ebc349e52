"""Reading plotly figure JSON in tests: arrays come as lists or base64 typed arrays."""

from __future__ import annotations

import base64

import numpy as np


def typed(v: object) -> np.ndarray:
    """A plotly array from figure JSON: a list, or a base64 typed array."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v)
