"""Replace integer MatMul (+ MultiThreshold) and lone MultiThreshold by dataflow layers."""

from __future__ import annotations

import json

import numpy as np
from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation
from qonnx.transformation.infer_shapes import InferShapes

from flows.datatypes import BIPOLAR
from flows.errors import UnsupportedError
from flows.layers.common import DOMAIN


def _int_dt(model: ModelWrapper, tensor: str, where: str):
    d = model.get_tensor_datatype(tensor)
    if not d.is_integer():
        raise UnsupportedError(
            f"node '{where}': input '{tensor}' is {d.name}, not an integer tensor; the layer "
            "before it was not integerized"
        )
    return d


def _ref_tensor(node) -> str:
    """The reference tensor a thresholded layer reproduces (provenance for verification)."""
    return next((a.s.decode() for a in node.attribute if a.name == "ref_tensor"), "")


def _pixels(shape) -> int:
    return int(np.prod(shape[1:-1])) if len(shape) > 2 else 1


def _replace(model: ModelWrapper, old, new) -> ModelWrapper:
    idx = list(model.graph.node).index(old)
    model.graph.node.remove(old)
    model.graph.node.insert(idx, new)
    return model.transform(InferShapes())


class InferDataflowLayers(Transformation):
    """``MatMul(int, int W) [-> MultiThreshold]`` becomes MVAU; a MultiThreshold on an
    integer tensor not after a MatMul becomes Thresholding.

    Requires: AbsorbIntoThresholds and RemoveScaleRoundTrips applied.
    Ensures: integer MatMul and MultiThreshold nodes are gone, replaced by nodes of domain
    ``flows.layers.custom_ops``; outputs are unchanged (the layers' numpy references compute
    exactly what the replaced nodes computed on integers).
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        graph = model.graph
        for node in list(graph.node):
            if node.op_type == "MatMul" and model.get_initializer(node.input[1]) is not None:
                w = model.get_initializer(node.input[1])
                wdt = model.get_tensor_datatype(node.input[1])
                if not wdt.is_integer():
                    continue
                idt = _int_dt(model, node.input[0], node.name)
                mw, mh = w.shape
                consumers = model.find_consumers(node.output[0])
                mt = consumers[0] if len(consumers) == 1 else None
                attrs = dict(
                    MW=int(mw),
                    MH=int(mh),
                    SIMD=1,
                    PE=1,
                    idt=idt.name,
                    wdt=wdt.name,
                    acc_dt=model.get_tensor_datatype(node.output[0]).name,
                    pixels=_pixels(model.get_tensor_shape(node.input[0])),
                )
                inputs = [node.input[0], node.input[1]]
                if mt is not None and mt.op_type == "MultiThreshold":
                    inst = getCustomOp(mt)
                    t = model.get_initializer(mt.input[1])
                    attrs.update(
                        odt=inst.get_nodeattr("out_dtype"),
                        n_thres=int(t.shape[1]),
                        out_bias=int(inst.get_nodeattr("out_bias")),
                        out_step=int(inst.get_nodeattr("out_scale")),
                        ref_tensor=_ref_tensor(mt),
                    )
                    t_name = model.make_new_valueinfo_name()
                    model.set_initializer(t_name, np.asarray(t, np.int64))
                    inputs.append(t_name)
                    out = mt.output[0]
                    removed = [node, mt]
                else:
                    attrs.update(odt=attrs["acc_dt"], n_thres=0)
                    refs = json.loads(model.get_metadata_prop("bitfab.acc_ref") or "{}")
                    if node.output[0] in refs:
                        attrs.update(
                            ref_tensor=refs[node.output[0]]["ref"],
                            ref_scale=refs[node.output[0]]["scale"],
                        )
                    out = node.output[0]
                    removed = [node]
                idx = list(graph.node).index(node)
                new = helper.make_node(
                    "MVAU", inputs, [out], domain=DOMAIN, name=node.name, **attrs
                )
                for n in removed:
                    graph.node.remove(n)
                graph.node.insert(idx, new)
                return model.transform(InferShapes()), True
            if node.op_type == "Im2Col" and model.get_tensor_datatype(node.input[0]).is_integer():
                inst = getCustomOp(node)
                _, h, w, c = model.get_tensor_shape(node.input[0])
                pt, pl, pb, pr = inst.get_nodeattr("pad_amount")
                if any((pt, pl, pb, pr)) and model.get_tensor_datatype(node.input[0]) == BIPOLAR:
                    raise UnsupportedError(
                        f"node '{node.name}': zero padding of a bipolar (1-bit) activation: the "
                        "reference pads with 0, which a bipolar stream (+1/-1) cannot carry; "
                        "use pads=0 or a signed activation of 2+ bits before padded convs"
                    )
                new = helper.make_node(
                    "SlidingWindow",
                    [node.input[0]],
                    [node.output[0]],
                    domain=DOMAIN,
                    name=node.name,
                    IFMChannels=int(c),
                    IFMDim=[int(h), int(w)],
                    ConvKernelDim=list(inst.get_nodeattr("kernel_size")),
                    Stride=list(inst.get_nodeattr("stride")),
                    Pads=[pt, pl, pb, pr],
                    SIMD=1,
                    dtype=model.get_tensor_datatype(node.input[0]).name,
                )
                return _replace(model, node, new), True
            if (
                node.op_type == "MaxPoolNHWC"
                and model.get_tensor_datatype(node.input[0]).is_integer()
            ):
                inst = getCustomOp(node)
                if any(inst.get_nodeattr("pads")) or inst.get_nodeattr("ceil_mode"):
                    raise UnsupportedError(
                        f"node '{node.name}': MaxPool with padding or ceil_mode is not "
                        "supported; supported: no padding, floor mode, any kernel and stride"
                    )
                _, h, w, c = model.get_tensor_shape(node.input[0])
                new = helper.make_node(
                    "StreamingMaxPool",
                    [node.input[0]],
                    [node.output[0]],
                    domain=DOMAIN,
                    name=node.name,
                    NumChannels=int(c),
                    IFMDim=[int(h), int(w)],
                    PoolDim=list(inst.get_nodeattr("kernel_shape")),
                    Stride=list(inst.get_nodeattr("strides")),
                    PE=1,
                    dtype=model.get_tensor_datatype(node.input[0]).name,
                )
                return _replace(model, node, new), True
            if node.op_type in ("Reshape", "Flatten"):
                prod = model.find_producer(node.input[0])
                if prod is not None and prod.domain == DOMAIN:
                    out_shape = model.get_tensor_shape(node.output[0])
                    new = helper.make_node(
                        "StreamReshape",
                        [node.input[0]],
                        [node.output[0]],
                        domain=DOMAIN,
                        name=node.name,
                        out_shape=[int(d) for d in out_shape[1:]],
                        dtype=model.get_tensor_datatype(node.input[0]).name,
                    )
                    return _replace(model, node, new), True
            if node.op_type == "MultiThreshold":
                prod = model.find_producer(node.input[0])
                if prod is not None and prod.op_type == "MatMul":
                    continue
                idt = _int_dt(model, node.input[0], node.name)
                inst = getCustomOp(node)
                t = model.get_initializer(node.input[1])
                shape = model.get_tensor_shape(node.input[0])
                odt = inst.get_nodeattr("out_dtype")
                t_name = model.make_new_valueinfo_name()
                model.set_initializer(t_name, np.asarray(t, np.int64))
                new = helper.make_node(
                    "Thresholding",
                    [node.input[0], t_name],
                    [node.output[0]],
                    domain=DOMAIN,
                    name=node.name,
                    C=int(shape[-1]),
                    PE=1,
                    idt=idt.name,
                    odt=odt,
                    n_thres=int(t.shape[1]),
                    out_bias=int(inst.get_nodeattr("out_bias")),
                    out_step=int(inst.get_nodeattr("out_scale")),
                    shared=int(t.shape[0] == 1),
                    pixels=_pixels(shape),
                    ref_tensor=_ref_tensor(node),
                )
                idx = list(graph.node).index(node)
                graph.node.remove(node)
                graph.node.insert(idx, new)
                return model.transform(InferShapes()), True
        return model, False


__all__ = ["BIPOLAR", "InferDataflowLayers"]
