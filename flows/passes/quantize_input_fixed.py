"""Give a float graph input a signed fixed-point type, as hls4ml does with ap_fixed<W,I>."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from onnx import helper, numpy_helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation

from flows.errors import UnsupportedError
from flows.quantizers import is_quantizer

QONNX_DOMAIN = "qonnx.custom_op.general"


@dataclass(frozen=True)
class FixedPoint:
    """Signed fixed point of ``width`` bits, ``integer`` of them left of the binary point
    (sign included), as ap_fixed<width, integer>."""

    width: int
    integer: int

    @classmethod
    def parse(cls, text: str) -> FixedPoint:
        try:
            w, i = (int(v) for v in text.split(","))
        except ValueError:
            raise UnsupportedError(
                f"--input-fixed '{text}': give W,I (total bits, integer bits), e.g. 16,6 "
                "for hls4ml's default ap_fixed<16,6>"
            ) from None
        fp = cls(w, i)
        fp.validate()
        return fp

    def validate(self) -> None:
        if not 2 <= self.width <= 24 or not -self.width < self.integer <= self.width:
            raise UnsupportedError(
                f"--input-fixed {self.width},{self.integer}: W must be 2..24 bits and I in "
                f"({-self.width}, W]; e.g. 16,6"
            )

    @property
    def scale(self) -> float:
        return 2.0 ** (self.integer - self.width)

    def __str__(self) -> str:
        return f"ap_fixed<{self.width},{self.integer}>"


class QuantizeInputFixed(Transformation):
    """Insert ``Quant(scale 2^(I-W), W bits, signed, FLOOR)`` after the float graph input.

    The quantizer is part of the reference graph, so verification feeds the reference and the
    hardware the same fixed-point input. FLOOR with saturation is ap_fixed's AP_TRN rounding
    with AP_SAT overflow (hls4ml's default wraps instead; saturation is what a trained net
    expects of an out-of-range input).
    """

    def __init__(self, fmt: FixedPoint):
        super().__init__()
        self.fmt = fmt

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        inp = model.graph.input[0].name
        consumers = model.find_consumers(inp) or []
        quantized = [n.name for n in consumers if is_quantizer(n)]
        if quantized:
            raise UnsupportedError(
                f"--input-fixed: the input '{inp}' is already quantized by node "
                f"'{quantized[0]}'; the option is for float inputs, leave it out"
            )
        q_out = model.make_new_valueinfo_name()
        consts = {"scale": self.fmt.scale, "zeropt": 0.0, "bitwidth": float(self.fmt.width)}
        names = []
        for role, v in consts.items():
            name = f"input_fixed_{role}"
            model.graph.initializer.append(numpy_helper.from_array(np.float32(v), name))
            names.append(name)
        for n in consumers:
            for k, t in enumerate(n.input):
                if t == inp:
                    n.input[k] = q_out
        node = helper.make_node(
            "Quant",
            [inp, *names],
            [q_out],
            name="InputFixed",
            domain=QONNX_DOMAIN,
            signed=1,
            narrow=0,
            rounding_mode="FLOOR",
        )
        model.graph.node.insert(0, node)
        return model, False
