"""Remove the layout round trips conv lowering leaves between integer layers."""

from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation
from qonnx.transformation.infer_shapes import InferShapes

TO_NCHW = (0, 3, 1, 2)
TO_NHWC = (0, 2, 3, 1)


def _perm(node) -> tuple[int, ...]:
    return tuple(next((a.ints for a in node.attribute if a.name == "perm"), ()))


def _only_consumer(model: ModelWrapper, tensor: str):
    c = model.find_consumers(tensor)
    return c[0] if len(c) == 1 else None


def _rewire(model: ModelWrapper, old: str, new: str) -> None:
    for n in model.find_consumers(old):
        for i, name in enumerate(n.input):
            if name == old:
                n.input[i] = new
    for o in model.graph.output:
        if o.name == old:
            raise ValueError("cannot rewire a graph output")


class CancelTransposes(Transformation):
    """``Transpose(to NCHW) -> Transpose(to NHWC)`` is the identity: remove both.

    Requires: shapes inferred. Ensures: no such adjacent pair; outputs unchanged.
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for a in model.get_nodes_by_op_type("Transpose"):
            b = _only_consumer(model, a.output[0])
            if b is None or b.op_type != "Transpose":
                continue
            pa, pb = _perm(a), _perm(b)
            if (pa, pb) not in ((TO_NCHW, TO_NHWC), (TO_NHWC, TO_NCHW)):
                continue
            _rewire(model, b.output[0], a.input[0])
            model.graph.node.remove(a)
            model.graph.node.remove(b)
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
            if t_in is None or t_in.op_type != "Transpose" or _perm(t_in) != TO_NCHW:
                continue
            if _only_consumer(model, t_in.output[0]) is not mp:
                continue
            attrs = {a.name: helper.get_attribute_value(a) for a in mp.attribute}
            k = list(attrs["kernel_shape"])
            pooled = model.make_new_valueinfo_name()
            node = helper.make_node(
                "MaxPoolNHWC",
                [t_in.input[0]],
                [pooled],
                domain="qonnx.custom_op.general",
                name=mp.name,
                kernel_shape=k,
                strides=list(attrs.get("strides", k)),
                pads=list(attrs.get("pads", [0, 0, 0, 0])),
                ceil_mode=int(attrs.get("ceil_mode", 0)),
            )
            dt = model.get_tensor_datatype(t_in.input[0])
            idx = list(model.graph.node).index(t_in)
            t_out = _only_consumer(model, mp.output[0])
            removed = [t_in, mp]
            new = [node]
            if t_out is not None and t_out.op_type == "Transpose" and _perm(t_out) == TO_NHWC:
                node.output[0] = t_out.output[0]  # back to channels last: the pair cancels
                removed.append(t_out)
            else:
                new.append(
                    helper.make_node(
                        "Transpose",
                        [pooled],
                        [mp.output[0]],
                        perm=list(TO_NCHW),
                        name=mp.name + "_nchw",
                    )
                )
            for n in removed:
                model.graph.node.remove(n)
            for i, n in enumerate(new):
                model.graph.node.insert(idx + i, n)
            for n in new:
                model.set_tensor_datatype(n.output[0], dt)
            return model.transform(InferShapes()), True
        return model, False


class AbsorbTransposeIntoFlatten(Transformation):
    """``Transpose(to NCHW) -> Reshape/Flatten to 2-D -> MatMul(int W)`` becomes a flatten of
    the channels-last tensor with W's rows permuted to the NHWC element order.

    Requires: the MatMul's weights are an integer initializer (after AbsorbIntoThresholds).
    Ensures: no transpose before a flatten; outputs unchanged (same products, reordered).
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for t in model.get_nodes_by_op_type("Transpose"):
            if _perm(t) != TO_NCHW:
                continue
            fl = _only_consumer(model, t.output[0])
            if fl is None or fl.op_type not in ("Reshape", "Flatten"):
                continue
            mm = _only_consumer(model, fl.output[0])
            if mm is None or mm.op_type != "MatMul" or model.get_initializer(mm.input[1]) is None:
                continue
            n, h, w, c = model.get_tensor_shape(t.input[0])
            if len(model.get_tensor_shape(fl.output[0])) != 2:
                continue
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
