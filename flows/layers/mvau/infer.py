"""InferMVAU: an integer MatMul (+ the MultiThreshold after it) becomes an MVAU."""

from __future__ import annotations

import json

import numpy as np
from onnx import NodeProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flows.graph import replace_nodes
from flows.layers.common import DOMAIN
from flows.layers.inference import InferLayer, integer_input, pixels, ref_tensor


class InferMVAU(InferLayer):
    """``MatMul(int, int W) [-> MultiThreshold]`` becomes one MVAU.

    Requires: AbsorbIntoThresholds and RemoveScaleRoundTrips applied.
    Ensures: the MatMul (and its MultiThreshold) are replaced by an MVAU computing exactly
    the same integers; a MatMul without thresholds keeps the provenance of its accumulator.
    """

    def rewrite(self, model: ModelWrapper, node: NodeProto) -> bool:
        if node.op_type != "MatMul" or model.get_initializer(node.input[1]) is None:
            return False
        wdt = model.get_tensor_datatype(node.input[1])
        if not wdt.is_integer():
            return False
        w = model.get_initializer(node.input[1])
        idt = integer_input(model, node.input[0], node.name)
        mw, mh = w.shape
        attrs = dict(
            MW=int(mw),
            MH=int(mh),
            SIMD=1,
            PE=1,
            idt=idt.name,
            wdt=wdt.name,
            acc_dt=model.get_tensor_datatype(node.output[0]).name,
            pixels=pixels(model.get_tensor_shape(node.input[0])),
        )
        inputs = [node.input[0], node.input[1]]
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
        new = helper.make_node("MVAU", inputs, [out], domain=DOMAIN, name=node.name, **attrs)
        replace_nodes(model, removed, [new])
        return True


def activation_attrs(mt: NodeProto) -> dict:
    """The output attributes a MultiThreshold gives the layer that absorbs it."""
    inst = getCustomOp(mt)
    return {
        "odt": inst.get_nodeattr("out_dtype"),
        "out_bias": int(inst.get_nodeattr("out_bias")),
        "out_step": int(inst.get_nodeattr("out_scale")),
        "ref_tensor": ref_tensor(mt),
    }


def _accumulator_provenance(model: ModelWrapper, acc: str) -> dict:
    """A layer without thresholds reproduces a scaled reference tensor (see verify)."""
    refs = json.loads(model.get_metadata_prop("bitfab.acc_ref") or "{}")
    if acc not in refs:
        return {}
    return {"ref_tensor": refs[acc]["ref"], "ref_scale": refs[acc]["scale"]}
