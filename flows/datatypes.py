"""Integer datatype helpers on top of qonnx's DataType.

Inside the compiler datatypes are qonnx ``DataType`` objects; strings appear only at the ONNX
attribute and JSON edges (``dt.name`` / ``DataType[name]``).
"""

from __future__ import annotations

import numpy as np
from qonnx.core.datatype import DataType

BIPOLAR = DataType["BIPOLAR"]


def signed_type_holding(lo: int, hi: int):
    """The narrowest signed INTn holding [lo, hi] (accumulators are kept signed in hardware)."""
    bits = 2
    while not (-(1 << (bits - 1)) <= lo and hi <= (1 << (bits - 1)) - 1):
        bits += 1
    return DataType[f"INT{bits}"]


def integer_type_holding(lo: int, hi: int):
    """The narrowest UINTn (when lo >= 0) or INTn holding [lo, hi]: an exact sum's type."""
    if lo >= 0:
        return DataType[f"UINT{max(1, int(hi).bit_length())}"]
    return signed_type_holding(lo, hi)


def quant_dtype(bits: int, signed: bool, narrow: bool):
    """The integer datatype a QONNX Quant node with these attributes produces."""
    if bits == 1 and signed:
        return BIPOLAR
    if signed:
        return DataType[f"INT{bits}"]
    return DataType[f"UINT{bits}"]


def accumulator_bounds(w: np.ndarray, xlo: int, xhi: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact per-channel bounds of ``x @ w`` for x in [xlo, xhi]^MW (w is [MW, MH] int)."""
    w = np.asarray(w, np.int64)
    a, b = w * xlo, w * xhi
    return np.minimum(a, b).sum(axis=0), np.maximum(a, b).sum(axis=0)
