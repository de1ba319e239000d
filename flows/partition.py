"""Split the lowered model into host head, dataflow design and host tail."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.util.basic import qonnx_make_model

from boards.driver.host_graph import HOST_OPS, HostGraph, HostOp
from flows.errors import UnsupportedError
from flows.layers.common import DOMAIN


@dataclass
class Partition:
    head: HostGraph
    dataflow: ModelWrapper
    tail: HostGraph


def is_dataflow(node) -> bool:
    return node.domain == DOMAIN


def _host_graph(model: ModelWrapper, nodes: list, inp: str, out: str, src: str) -> HostGraph:
    ops, consts = [], {}
    for n in nodes:
        if n.op_type not in HOST_OPS:
            raise UnsupportedError(
                f"{src}: node '{n.name}' ({n.op_type}) would have to run on the host, which "
                f"runs only {', '.join(sorted(HOST_OPS))}"
            )
        attrs = {}
        if n.op_type in ("Reshape", "Flatten"):
            attrs["shape"] = [int(d) for d in model.get_tensor_shape(n.output[0])]
            inputs = [n.input[0]]
        else:
            inputs = list(n.input)
            for a in n.attribute:
                v = helper.get_attribute_value(a)
                attrs[a.name] = v.decode() if isinstance(v, bytes) else v
            if n.op_type in ("Quant", "BipolarQuant"):
                attrs = {k: v for k, v in attrs.items()}
                inst = getCustomOp(n)
                if n.op_type == "Quant":
                    attrs = {
                        "signed": int(inst.get_nodeattr("signed")),
                        "narrow": int(inst.get_nodeattr("narrow")),
                        "rounding_mode": str(inst.get_nodeattr("rounding_mode")),
                    }
        for i in inputs:
            init = model.get_initializer(i)
            if init is not None:
                consts[i] = np.asarray(init)
        ops.append(HostOp(n.op_type, inputs, list(n.output), attrs))
    return HostGraph(inp, out, ops, consts)


def split(model: ModelWrapper, src: str) -> Partition:
    """The dataflow nodes must be contiguous in graph order and form one connected subgraph
    with a single input and a single output stream; before it is the head, after it the tail.
    Raises naming the node or tensors that break this."""
    nodes = list(model.graph.node)
    df_idx = [i for i, n in enumerate(nodes) if is_dataflow(n)]
    if not df_idx:
        raise UnsupportedError(f"{src}: no layer could be mapped to the dataflow design")
    first, last = df_idx[0], df_idx[-1]
    for i in range(first, last + 1):
        if not is_dataflow(nodes[i]):
            raise UnsupportedError(
                f"{src}: node '{nodes[i].name}' ({nodes[i].op_type}) sits between dataflow "
                "layers but cannot be mapped to hardware; bitfab needs the quantized layers "
                "to form one chain"
            )
    df_nodes = nodes[first : last + 1]
    df_in, df_out = _single_edge(model, df_nodes, src)
    head = _host_graph(model, nodes[:first], model.graph.input[0].name, df_in, src)
    tail = _host_graph(model, nodes[last + 1 :], df_out, model.graph.output[0].name, src)
    return Partition(head, dataflow_model(model, df_nodes, df_in, df_out), tail)


def _single_edge(model: ModelWrapper, df_nodes: list, src: str) -> tuple[str, str]:
    """The one tensor entering the dataflow nodes and the one leaving them."""
    produced = {t for n in df_nodes for t in n.output}
    consumed = {t for n in df_nodes for t in n.input}
    ins = [
        t
        for n in df_nodes
        for t in n.input
        if t not in produced and model.get_initializer(t) is None
    ]
    graph_outs = {o.name for o in model.graph.output}
    outs = [
        t
        for n in df_nodes
        for t in n.output
        if t in graph_outs or t not in consumed or _read_outside(model, t, df_nodes)
    ]
    ins, outs = list(dict.fromkeys(ins)), list(dict.fromkeys(outs))
    if len(ins) != 1 or len(outs) != 1:
        names = ", ".join(f"'{n.name}'" for n in df_nodes)
        raise UnsupportedError(
            f"{src}: the dataflow layers ({names}) take {len(ins)} input and give "
            f"{len(outs)} output streams ({', '.join(ins + outs)}); bitfab needs one of each"
        )
    return ins[0], outs[0]


def _read_outside(model: ModelWrapper, tensor: str, df_nodes: list) -> bool:
    inside = {n.name for n in df_nodes}
    return any(c.name not in inside for c in model.find_consumers(tensor))


def dataflow_model(model: ModelWrapper, nodes: list, df_in: str, df_out: str) -> ModelWrapper:
    """A standalone ONNX model of the dataflow chain, datatypes annotated."""
    names = {i for n in nodes for i in n.input} | {o for n in nodes for o in n.output}
    inits = [t for t in model.graph.initializer if t.name in names]
    vis = [v for v in model.graph.value_info if v.name in names and v.name not in (df_in, df_out)]
    g = helper.make_graph(
        nodes,
        "dataflow",
        [helper.make_tensor_value_info(df_in, TensorProto.FLOAT, model.get_tensor_shape(df_in))],
        [helper.make_tensor_value_info(df_out, TensorProto.FLOAT, model.get_tensor_shape(df_out))],
        initializer=inits,
        value_info=vis,
    )
    m = ModelWrapper(qonnx_make_model(g, opset_imports=model.model.opset_import))
    for name in sorted(names):  # sorted: set order varies between processes
        m.set_tensor_datatype(name, model.get_tensor_datatype(name))
    return m
