"""Insert stream width converters where one layer's output word differs from the next's input."""

from __future__ import annotations

from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation
from qonnx.transformation.infer_shapes import InferShapes

from flows.layers.common import DOMAIN
from flows.layers.registry import KINDS, stream_elems


class InsertDWC(Transformation):
    """Requires: a folded dataflow model (one chain of dataflow nodes).
    Ensures: each producer's elements per output word equal its consumer's per input word."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        nodes = list(model.graph.node)
        real = [n for n in nodes if n.op_type in KINDS]  # stream reshapes are pass-through
        for a, b in zip(real, real[1:]):
            if (
                a.op_type not in KINDS
                or b.op_type not in KINDS
                or "StreamingDWC" in (a.op_type, b.op_type)
            ):
                continue
            out_e, in_e = stream_elems(a)[1], stream_elems(b)[0]
            if out_e == in_e:
                continue
            t = b.input[0]
            shape = model.get_tensor_shape(t)
            dt = model.get_tensor_datatype(t)
            new_t = model.make_new_valueinfo_name()
            pixels = 1
            for d in shape[1:-1]:
                pixels *= d
            node = helper.make_node(
                "StreamingDWC",
                [t],
                [new_t],
                domain=DOMAIN,
                name=f"DWC_{a.name}",
                in_elems=out_e,
                out_elems=in_e,
                dtype=dt.name,
                total=int(shape[-1]),
                reps=int(pixels),
            )
            b.input[0] = new_t
            model.graph.node.insert(nodes.index(b), node)
            model.set_tensor_shape(new_t, shape)
            model.set_tensor_datatype(new_t, dt)
            return model.transform(InferShapes()), True
        return model, False
