"""Stream fork numpy reference: both outputs are the input."""

from __future__ import annotations

import numpy as np


def fork(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.array(x, copy=True), np.array(x, copy=True)
