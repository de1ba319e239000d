"""Reading QONNX quantizer nodes (Quant, BipolarQuant) into typed descriptions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.general.intquant import int_quant, max_int, min_int
from qonnx.custom_op.registry import getCustomOp

from flows.datatypes import BIPOLAR, quant_dtype
from flows.errors import UnsupportedError
from flows.ops import QUANT_OPS


@dataclass(frozen=True)
class Quantizer:
    """What a quantizer produces: ``value = scale * (q - zeropt)`` with q in [qmin, qmax]."""

    node_name: str
    scale: np.ndarray  # float32, broadcastable to the output
    zeropt: np.ndarray
    bits: int
    signed: bool
    narrow: bool
    rounding_mode: str

    @property
    def dtype(self):
        return quant_dtype(self.bits, self.signed, self.narrow)

    @property
    def bipolar(self) -> bool:
        return self.dtype == BIPOLAR

    @property
    def qmin(self) -> int:
        return -1 if self.bipolar else int(min_int(self.signed, self.narrow, self.bits))

    @property
    def qmax(self) -> int:
        return 1 if self.bipolar else int(max_int(self.signed, self.narrow, self.bits))

    def levels(self) -> np.ndarray:
        """The integer values ``q - zeropt`` the quantizer can output, ascending."""
        if self.bipolar:
            return np.array([-1, 1], dtype=np.int64)
        return np.arange(self.qmin, self.qmax + 1, dtype=np.int64)


def is_quantizer(node) -> bool:
    return node is not None and node.op_type in QUANT_OPS


def read_quantizer(model: ModelWrapper, node) -> Quantizer:
    """Describe a Quant/BipolarQuant node whose parameters are constants."""
    scale = model.get_initializer(node.input[1])
    if scale is None:
        raise UnsupportedError(
            f"node '{node.name}': the quantizer scale is computed at run time; bitfab needs "
            "constant scales (export in eval mode)"
        )
    scale = np.asarray(scale, dtype=np.float32)
    if node.op_type == "BipolarQuant":
        return Quantizer(node.name, scale, np.zeros((), np.float32), 1, True, False, "ROUND")
    zeropt = model.get_initializer(node.input[2])
    bits = model.get_initializer(node.input[3])
    if zeropt is None or bits is None:
        raise UnsupportedError(f"node '{node.name}': zero point and bit width must be constants")
    bits_f = float(np.asarray(bits).ravel()[0])
    if np.asarray(bits).size != 1 or bits_f != int(bits_f) or bits_f < 1:
        raise UnsupportedError(
            f"node '{node.name}': bit width {np.asarray(bits).tolist()} is not a whole number "
            "of bits; bitfab maps integer quantizers"
        )
    inst = getCustomOp(node)
    return Quantizer(
        node.name,
        scale,
        np.asarray(zeropt, dtype=np.float32),
        int(bits_f),
        bool(inst.get_nodeattr("signed")),
        bool(inst.get_nodeattr("narrow")),
        str(inst.get_nodeattr("rounding_mode")),
    )


def quantized_weight_integers(model: ModelWrapper, node, q: Quantizer) -> np.ndarray:
    """The integer values ``q - zeropt`` a weight quantizer produces from its constant input."""
    w = model.get_initializer(node.input[0])
    if w is None:
        raise UnsupportedError(f"node '{node.name}': the weight quantizer's input is not constant")
    w = np.asarray(w, dtype=np.float32)
    if q.bipolar:
        ints = np.where(w >= 0.0, 1, -1)
    else:
        bits = np.asarray(q.bits, dtype=np.float32)  # qonnx expects array-valued bit widths
        deq = int_quant(w, q.scale, q.zeropt, bits, q.signed, q.narrow, q.rounding_mode)
        ints = np.rint(deq.astype(np.float64) / q.scale.astype(np.float64))
    return np.broadcast_to(ints, w.shape).astype(np.int64)
