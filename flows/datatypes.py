"""Integer datatype helpers on top of qonnx's DataType.

Inside the compiler datatypes are qonnx ``DataType`` objects; strings appear only at the ONNX
attribute and JSON edges (``dt.name`` / ``DataType[name]``).
"""

from __future__ import annotations

from qonnx.core.datatype import DataType

BIPOLAR = DataType["BIPOLAR"]


def int_bounds(dt) -> tuple[int, int]:
    """Smallest and largest value of an integer datatype (BIPOLAR is -1..+1)."""
    return int(dt.min()), int(dt.max())


def storage_bits(dt) -> int:
    """Bits one value of ``dt`` takes in a stream (BIPOLAR takes one bit: 1 = +1)."""
    return int(dt.bitwidth())


def is_bipolar(dt) -> bool:
    return dt == BIPOLAR


def smallest_int_type(lo: int, hi: int):
    """The narrowest INTn/UINTn holding every integer in [lo, hi].

    Used for accumulators and for thresholds, whose range must include ``acc_max + 1``
    (a threshold that is never reached).
    """
    if lo >= 0:
        bits = max(1, int(hi).bit_length())
        return DataType[f"UINT{bits}"]
    bits = 1
    while not (-(1 << (bits - 1)) <= lo and hi <= (1 << (bits - 1)) - 1):
        bits += 1
    return DataType[f"INT{max(bits, 2)}"]


def signed_type_holding(lo: int, hi: int):
    """The narrowest signed INTn holding [lo, hi] (accumulators are kept signed in hardware)."""
    bits = 2
    while not (-(1 << (bits - 1)) <= lo and hi <= (1 << (bits - 1)) - 1):
        bits += 1
    return DataType[f"INT{bits}"]


def quant_dtype(bits: int, signed: bool, narrow: bool):
    """The integer datatype a QONNX Quant node with these attributes produces."""
    if bits == 1 and signed:
        return BIPOLAR
    if signed:
        return DataType[f"INT{bits}"]
    return DataType[f"UINT{bits}"]
