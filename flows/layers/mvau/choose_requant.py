"""Choose per MVAU how its thresholds are built in hardware: comparators or a shift."""

from __future__ import annotations

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation

from flows.datatypes import accumulator_bounds
from flows.layers.mvau.node import MVAU
from flows.layers.mvau.requant import shift_encoding


class ChooseRequantization(Transformation):
    """Mark MAC-mode MVAUs whose exact thresholds are those of a power-of-two requantization
    (``requant="shift"``, with the shift and rounding); every other thresholded layer keeps
    ``requant="thresholds"``. The thresholds stay in the graph: they remain the oracle, and
    C-simulation of the shift hardware is checked against them.

    Requires: InferMVAU applied.
    Ensures: every MVAU with n_thres >= 2 and integer operands has a requant choice; outputs
    unchanged (the reference still evaluates thresholds).
    """

    # the kind whose layers it marks (the VVAU's subclass sets its own: same rule, same fields)
    OP_TYPE = MVAU.__name__

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in model.get_nodes_by_op_type(self.OP_TYPE):
            inst = getCustomOp(node)
            s = inst.spec()
            if s.xnor or s.n_thres < 2 or s.out_step != 1 or s.requant == "shift":
                continue
            w = model.get_initializer(node.input[1])
            t = model.get_initializer(node.input[2])
            lo, hi = accumulator_bounds(w, int(s.idt.min()), int(s.idt.max()))
            enc = shift_encoding(t, lo, hi, s.out_bias)
            if enc is not None:
                inst.set_nodeattr("requant", "shift")
                inst.set_nodeattr("shift", int(enc.shift))
                inst.set_nodeattr("rne", int(enc.rne))
        return model, False
