"""InferVVAU: a lowered depthwise conv (window -> MatMul with a block-diagonal weight matrix,
+ the MultiThreshold after it) becomes a VVAU."""

from __future__ import annotations

import numpy as np
from onnx import NodeProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flows.graph import replace_nodes
from flows.layers.common import DOMAIN
from flows.layers.inference import InferLayer, integer_input, pixels
from flows.layers.mvau.infer import _accumulator_provenance, activation_attrs


def depthwise_weights(model: ModelWrapper, node: NodeProto) -> tuple[np.ndarray, list] | None:
    """``(w [K, C], [K_H, K_W])`` when ``node`` is a MatMul computing a depthwise conv: its
    input is a window of K = K_H*K_W positions of C channels (SlidingWindow or Im2Col, element
    order (ky, kx, c)) and its [K*C, C] integer weights are zero wherever the input channel is
    not the output channel (qonnx's lowering of group = C). Else None."""
    if node.op_type != "MatMul":
        return None
    w = model.get_initializer(node.input[1])
    if w is None or w.ndim != 2 or not model.get_tensor_datatype(node.input[1]).is_integer():
        return None
    window = model.find_producer(node.input[0])
    if window is None or window.op_type not in ("SlidingWindow", "Im2Col"):
        return None
    inst = getCustomOp(window)
    if window.op_type == "SlidingWindow":
        s = inst.spec()
        c, kernel = s.ifm_ch, [s.k_h, s.k_w]
    else:
        c = model.get_tensor_shape(window.input[0])[-1]
        kernel = list(inst.get_nodeattr("kernel_size"))
    kk = kernel[0] * kernel[1]
    if c < 2 or w.shape != (kk * c, c):  # one channel: the MVAU computes the same
        return None
    w3 = np.asarray(w).reshape(kk, c, c)
    diag = w3[:, np.arange(c), np.arange(c)]
    if np.count_nonzero(w3) != np.count_nonzero(diag):
        return None  # a dense conv
    return diag.astype(np.int64), kernel


class InferVVAU(InferLayer):
    """``MatMul(window, block-diagonal int W) [-> MultiThreshold]`` becomes one VVAU.

    Requires: LowerConvToMatMul (depthwise convs as Im2Col + MatMul), AbsorbIntoThresholds and
    RemoveScaleRoundTrips applied; runs before InferMVAU, which would take the MatMul whole.
    Ensures: the MatMul (and its MultiThreshold) are replaced by a VVAU with the [K, C]
    diagonal of the weights, computing exactly the same integers.
    """

    def rewrite(self, model: ModelWrapper, node: NodeProto) -> bool:
        found = depthwise_weights(model, node)
        if found is None:
            return False
        w, kernel = found
        idt = integer_input(model, node.input[0], node.name)
        kk, c = w.shape
        w_name = model.make_new_valueinfo_name()
        model.set_initializer(w_name, w.astype(np.float32))
        model.set_tensor_datatype(w_name, model.get_tensor_datatype(node.input[1]))
        attrs = dict(
            Channels=int(c),
            Kernel=[int(k) for k in kernel],
            SIMD=1,
            PE=1,
            idt=idt.name,
            wdt=model.get_tensor_datatype(node.input[1]).name,
            acc_dt=model.get_tensor_datatype(node.output[0]).name,
            pixels=pixels(model.get_tensor_shape(node.input[0])),
        )
        inputs = [node.input[0], w_name]
        consumers = model.find_consumers(node.output[0])
        mt = consumers[0] if len(consumers) == 1 else None
        if mt is not None and mt.op_type == "MultiThreshold":
            t = model.get_initializer(mt.input[1])
            attrs.update(activation_attrs(mt), n_thres=int(t.shape[1]))
            t_name = model.make_new_valueinfo_name()
            model.set_initializer(t_name, np.asarray(t, np.int64))
            inputs.append(t_name)
            out, removed = mt.output[0], [node, mt]
        else:
            attrs.update(odt=attrs["acc_dt"], n_thres=0)
            attrs.update(_accumulator_provenance(model, node.output[0]))
            out, removed = node.output[0], [node]
        new = helper.make_node("VVAU", inputs, [out], domain=DOMAIN, name=node.name, **attrs)
        replace_nodes(model, removed, [new])
        return True
