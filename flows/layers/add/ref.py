"""Stream add numpy reference."""

from __future__ import annotations

import numpy as np


def add(a: np.ndarray, b: np.ndarray, a_mul: int = 1, b_mul: int = 1) -> np.ndarray:
    """``a_mul*a + b_mul*b`` in exact integers (int64)."""
    return a_mul * np.asarray(a, np.int64) + b_mul * np.asarray(b, np.int64)
