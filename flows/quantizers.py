"""Reading QONNX quantizer nodes (Quant, BipolarQuant, and Trunc as an activation's) into typed
descriptions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.general.intquant import int_quant, max_int, min_int
from qonnx.custom_op.registry import getCustomOp

from flows.datatypes import BIPOLAR, quant_dtype
from flows.errors import UnsupportedError
from flows.ops import QUANT_OPS, TRUNC_OPS


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


def is_activation_quantizer(node) -> bool:
    """A node whose output is a quantized activation: a quantizer, or a Trunc (what Brevitas
    puts after an average pool), which re-quantizes at its output scale and bit width."""
    return node is not None and node.op_type in QUANT_OPS | TRUNC_OPS


def read_quantizer(model: ModelWrapper, node) -> Quantizer:
    """Describe a Quant/BipolarQuant node (or a Trunc, as its output) whose parameters are
    constants."""
    if node.op_type in TRUNC_OPS:
        return read_trunc(model, node)
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


def read_trunc(model: ModelWrapper, node) -> Quantizer:
    """The output of a QONNX Trunc (v2: x, scale, zeropt, in_bits, out_scale, out_bits) as a
    quantizer: integers of ``out_bits`` (signed, narrow as its attributes say) times
    ``out_scale``. Only a zero zero point is read (the output zero point is then 0 too)."""
    version = {o.domain: o.version for o in model.model.opset_import}.get(node.domain, 1)
    if len(node.input) != 6 or version < 2:
        raise UnsupportedError(
            f"node '{node.name}': a Trunc of opset {version} with {len(node.input)} inputs (QONNX "
            "Trunc v1) is not supported; export again with a current Brevitas (Trunc v2: opset "
            "2, 6 inputs)"
        )
    consts = [model.get_initializer(t) for t in node.input[1:]]
    if any(c is None for c in consts):
        raise UnsupportedError(
            f"node '{node.name}': the Trunc's scales, zero point and bit widths must be "
            "constants (export in eval mode)"
        )
    _, zeropt, _, out_scale, out_bits = (np.asarray(c, np.float32) for c in consts)
    bits_f = float(out_bits.ravel()[0])
    if out_bits.size != 1 or bits_f != int(bits_f) or bits_f < 1:
        raise UnsupportedError(
            f"node '{node.name}': output bit width {out_bits.tolist()} is not a whole number"
        )
    if np.any(zeropt != 0):
        raise UnsupportedError(
            f"node '{node.name}': a Trunc with a non-zero zero point is not supported; "
            "quantize symmetrically (zero_point=0)"
        )
    inst = getCustomOp(node)
    return Quantizer(
        node.name,
        out_scale,
        np.zeros((), np.float32),
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
