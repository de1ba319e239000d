"""The MVAU's numpy reference: the integer oracle every other execution is compared to."""

from __future__ import annotations

import numpy as np


def mvau(
    x: np.ndarray, w: np.ndarray, thresholds: np.ndarray | None, out_bias: int, out_step: int
) -> np.ndarray:
    """``x [..., MW]`` integers times ``w [MW, MH]``; thresholds ``[MH, n]`` or None.

    Exact int64 arithmetic; the popcount form of XNOR layers is a hardware detail (the
    same dot product), so the oracle never needs it.
    """
    acc = np.asarray(x, np.int64) @ np.asarray(w, np.int64)
    if thresholds is None:
        return acc
    t = np.asarray(thresholds, np.int64)
    count = (acc[..., None] >= t).sum(axis=-1)
    return out_bias + out_step * count
