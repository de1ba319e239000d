"""StreamCopy's reference: the identity."""

import numpy as np


def copy(x: np.ndarray) -> np.ndarray:
    return np.array(x, copy=True)
