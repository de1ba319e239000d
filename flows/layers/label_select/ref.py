"""Label select numpy reference: the first index of the maximum, as ONNX TopK(k=1) and
ArgMax (select_last_index=0) break ties."""

from __future__ import annotations

import numpy as np


def label_select(x: np.ndarray, keepdims: bool = True) -> np.ndarray:
    """Per image (axis 0) the index of its largest value over all its elements in order."""
    x = np.asarray(x)
    idx = np.argmax(x.reshape(len(x), -1), axis=1)  # the first maximum wins
    return idx[:, None] if keepdims else idx
