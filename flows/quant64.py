"""Quantizers that keep float64: qonnx's own cast their outputs to float32, which would
defeat verification's float64 re-evaluation of the reference. Domain ``flows.quant64``."""

from __future__ import annotations

import numpy as np
from qonnx.custom_op.general.bipolar_quant import BipolarQuant as _BipolarQuant
from qonnx.custom_op.general.bipolar_quant import binary_quant
from qonnx.custom_op.general.intquant import IntQuant, int_quant


class Quant(IntQuant):
    def execute_node(self, context, graph):
        n = self.onnx_node
        g = self.get_nodeattr
        context[n.output[0]] = np.asarray(
            int_quant(
                context[n.input[0]],
                context[n.input[1]],
                context[n.input[2]],
                context[n.input[3]],
                g("signed"),
                g("narrow"),
                g("rounding_mode"),
            ),
            dtype=np.float64,
        )


class BipolarQuant(_BipolarQuant):
    def execute_node(self, context, graph):
        n = self.onnx_node
        context[n.output[0]] = np.asarray(
            binary_quant(context[n.input[0]], context[n.input[1]]), dtype=np.float64
        )


__all__ = ["BipolarQuant", "Quant"]
