"""Put the input quantizer of an integer-input graph on the accelerator as thresholds."""

from __future__ import annotations

import logging

import numpy as np
from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation
from qonnx.transformation.infer_shapes import InferShapes

from flows.chains import follow_chain
from flows.quantizers import read_quantizer
from flows.thresholds import ChainEvaluator, compute_thresholds

log = logging.getLogger(__name__)
LAYOUT_OPS = ("Reshape", "Flatten")
MAX_INPUT_LEVELS = 1 << 16  # wider integer inputs stay on the host


class InputQuantToThresholds(Transformation):
    """``int input -> [Reshape] -> affine/Relu chain -> Quant`` becomes
    ``int input -> [Reshape] -> MultiThreshold -> Mul(s)`` (FINN's standalone Thresholding).

    Applies only when the graph input carries an integer QONNX datatype (e.g. UINT8 pixels):
    then the preprocessing and input quantizer are a monotone step function of each input
    integer, and its thresholds are found by evaluating the graph's own nodes. Decreasing
    channels or per-element constants leave the head on the host.

    Requires: AbsorbIntoThresholds applied (the quantizer's consumers are integer layers).
    Ensures: the first quantizer of an integer-input graph is a MultiThreshold; outputs equal.
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        inp = model.graph.input[0].name
        idt = model.get_tensor_datatype(inp)
        if not idt.is_integer() or int(idt.max()) - int(idt.min()) >= MAX_INPUT_LEVELS:
            return model, False
        t = inp
        layout = []
        while True:
            cons = model.find_consumers(t)
            if len(cons) != 1 or cons[0].op_type not in LAYOUT_OPS:
                break
            layout.append(cons[0])
            t = cons[0].output[0]
        chain = follow_chain(model, t)
        if chain.quantizer is None or chain.quantizer.op_type == "MultiThreshold":
            return model, False
        shape = model.get_tensor_shape(t)
        nchw = len(shape) == 4  # an image input: channels on axis 1, thresholds channels last
        channels = int(shape[1] if nchw else shape[-1])
        for n in chain.nodes:
            for i in n.input[1:]:
                c = model.get_initializer(i)
                per_channel = c is not None and c.size == channels
                if nchw and per_channel and c.size > 1:
                    per_channel = c.ndim >= 3 and c.shape[-2:] == (1, 1)
                if c is not None and c.size != 1 and not per_channel:
                    log.info("input head stays on the host: '%s' has per-element constants", n.name)
                    return model, False
        q = read_quantizer(model, chain.quantizer)
        if np.any(q.zeropt != 0):
            return model, False
        n_thres = len(q.levels()) - 1
        ev = ChainEvaluator(
            model,
            chain.nodes,
            chain.quantizer,
            q,
            t,
            channels,
            n_thres,
            np.ones(channels),
            layout_shape=(channels, 1, 1) if nchw else None,
        )
        lo = np.full(channels, int(idt.min()), np.int64)
        hi = np.full(channels, int(idt.max()), np.int64)
        res = compute_thresholds(ev, lo, hi, f"node '{chain.quantizer.name}'")
        if np.any(res.negate):
            log.info("input head stays on the host: the input quantizer decreases")
            return model, False
        thr = res.thresholds
        if np.all(thr == thr[:1]):
            thr = thr[:1]  # one shared row: the hardware stores it once
        t_name = model.make_new_valueinfo_name()
        model.set_initializer(t_name, thr.astype(np.float64))
        y_int = model.make_new_valueinfo_name()
        s_name = model.make_new_valueinfo_name()
        model.set_initializer(s_name, q.scale.astype(np.float32))
        out = chain.quantizer.output[0]
        graph = model.graph
        idx = list(graph.node).index(chain.nodes[0] if chain.nodes else chain.quantizer)
        mt_in, mt_out, new = t, y_int, []
        if nchw:  # the host transposes the integer image; the thresholds run channels last
            mt_in, mt_out = model.make_new_valueinfo_name(), model.make_new_valueinfo_name()
            new.append(helper.make_node("Transpose", [t], [mt_in], perm=[0, 2, 3, 1]))
        new.append(
            helper.make_node(
                "MultiThreshold",
                [mt_in, t_name],
                [mt_out],
                domain="qonnx.custom_op.general",
                name=chain.quantizer.name + "_thresholds",
                out_dtype=q.dtype.name,
                out_scale=float(res.out_step),
                out_bias=float(res.out_bias),
                ref_tensor=out,
                data_layout="NHWC" if nchw else "",
            )
        )
        if nchw:
            new.append(helper.make_node("Transpose", [mt_out], [y_int], perm=[0, 3, 1, 2]))
        new.append(
            helper.make_node("Mul", [y_int, s_name], [out], name=chain.quantizer.name + "_scale")
        )
        for n in [*chain.nodes, chain.quantizer]:
            graph.node.remove(n)
        for i, n in enumerate(new):
            graph.node.insert(idx + i, n)
        model.set_tensor_datatype(y_int, q.dtype)
        if nchw:
            model.set_tensor_datatype(mt_in, idt)
            model.set_tensor_datatype(mt_out, q.dtype)
        for n in layout:
            model.set_tensor_datatype(n.output[0], idt)
        return model.transform(InferShapes()), True
