"""Remove the layout round trips conv lowering leaves between integer layers."""

from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation

from flows.graph import (
    TO_NCHW,
    TO_NHWC,
    attr,
    is_graph_output,
    is_transpose,
    only_consumer,
    perm,
    replace_nodes,
    rewire,
)
from flows.ops import RESHAPE_OPS
from flows.passes.infer_shapes import InferShapes


class CancelTransposes(Transformation):
    """``Transpose(to NCHW) -> Transpose(to NHWC)`` (or the reverse) is the identity: remove
    both, and a transpose every reader of which undoes it goes with all of them. A pair that
    ends the graph stays (the host tail runs it): its output is a graph output, which has no
    consumers to rewire.

    Requires: shapes inferred. Ensures: no such adjacent pair inside the graph; outputs
    unchanged.
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        inverse = ((TO_NCHW, TO_NHWC), (TO_NHWC, TO_NCHW))
        for a in model.get_nodes_by_op_type("Transpose"):
            readers = model.find_consumers(a.output[0]) or []
            # every reader undoes it (a residual block's input read by two convs): all go
            if not readers or is_graph_output(model, a.output[0]):
                continue
            if any(
                b.op_type != "Transpose"
                or is_graph_output(model, b.output[0])
                or (perm(a), perm(b)) not in inverse
                for b in readers
            ):
                continue
            for b in readers:
                rewire(model, b.output[0], a.input[0])
                model.graph.node.remove(b)
            model.graph.node.remove(a)
            return model.transform(InferShapes()), True
        return model, False


class MaxPoolToNHWC(Transformation):
    """``Transpose(to NCHW) -> MaxPool`` becomes qonnx's MaxPoolNHWC on the channels-last
    tensor. A following ``Transpose(to NHWC)`` (a conv comes next) is absorbed; otherwise the
    pool is followed by the transpose to NCHW, which AbsorbTransposeIntoFlatten removes when a
    flattened FC layer follows (conv -> pool -> FC).

    Requires: shapes inferred. Ensures: those MaxPools run channels last; outputs unchanged.
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for mp in model.get_nodes_by_op_type("MaxPool"):
            t_in = model.find_producer(mp.input[0])
            if not is_transpose(t_in, TO_NCHW) or only_consumer(model, t_in.output[0]) is not mp:
                continue
            _pool_channels_last(model, t_in, mp)
            return model.transform(InferShapes()), True
        return model, False


def _pool_channels_last(model: ModelWrapper, t_in, mp) -> None:
    """Replace ``t_in -> mp`` (and a transpose back to NHWC after it) by MaxPoolNHWC."""
    k = list(attr(mp, "kernel_shape"))
    pooled = model.make_new_valueinfo_name()
    node = helper.make_node(
        "MaxPoolNHWC",
        [t_in.input[0]],
        [pooled],
        domain="qonnx.custom_op.general",
        name=mp.name,
        kernel_shape=k,
        strides=list(attr(mp, "strides", k)),
        pads=list(attr(mp, "pads", [0, 0, 0, 0])),
        ceil_mode=int(attr(mp, "ceil_mode", 0)),
    )
    dt = model.get_tensor_datatype(t_in.input[0])
    t_out = only_consumer(model, mp.output[0])
    removed = [t_in, mp]
    new = [node]
    if is_transpose(t_out, TO_NHWC):
        node.output[0] = t_out.output[0]  # back to channels last: the pair cancels
        removed.append(t_out)
    else:
        back = helper.make_node(
            "Transpose", [pooled], [mp.output[0]], perm=list(TO_NCHW), name=mp.name + "_nchw"
        )
        new.append(back)
    replace_nodes(model, removed, new)
    for n in new:
        model.set_tensor_datatype(n.output[0], dt)


class AbsorbTransposeIntoFlatten(Transformation):
    """``Transpose(to NCHW) -> Reshape/Flatten to 2-D -> MatMul(int W)`` becomes a flatten of
    the channels-last tensor with W's rows permuted to the NHWC element order.

    Requires: the MatMul's weights are an integer initializer (after AbsorbIntoThresholds).
    Ensures: no transpose before a flatten; outputs unchanged (same products, reordered).
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for t in model.get_nodes_by_op_type("Transpose"):
            if perm(t) != TO_NCHW:
                continue
            fl = only_consumer(model, t.output[0])
            if fl is None or fl.op_type not in RESHAPE_OPS:
                continue
            mm = only_consumer(model, fl.output[0])
            if mm is None or mm.op_type != "MatMul" or model.get_initializer(mm.input[1]) is None:
                continue
            if len(model.get_tensor_shape(fl.output[0])) != 2:
                continue
            n, h, w, c = model.get_tensor_shape(t.input[0])
            weights = model.get_initializer(mm.input[1])
            # row for NCHW flat index (c, y, x) moves to NHWC flat index (y, x, c)
            order = np.arange(c * h * w).reshape(c, h, w).transpose(1, 2, 0).ravel()
            wdt = model.get_tensor_datatype(mm.input[1])
            model.set_initializer(mm.input[1], weights[order])
            model.set_tensor_datatype(mm.input[1], wdt)
            dt = model.get_tensor_datatype(t.input[0])
            fl.input[0] = t.input[0]
            model.graph.node.remove(t)
            model.set_tensor_datatype(fl.output[0], dt)
            return model.transform(InferShapes()), True
        return model, False
