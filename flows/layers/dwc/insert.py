"""InsertDWC: a width converter on every edge whose two ends group elements differently."""

from __future__ import annotations

from onnx import NodeProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation

from flows.layers.common import DOMAIN
from flows.layers.dwc.node import StreamingDWC
from flows.layers.registry import kind_of, layer_spec
from flows.passes.infer_shapes import InferShapes


def stream_producer(model: ModelWrapper, tensor: str) -> NodeProto | None:
    """The hardware layer whose words arrive on ``tensor``, looking through pass-through
    nodes (stream reshapes); None at the design's input or outside the design."""
    node = model.find_producer(tensor)
    while node is not None:
        kind = kind_of(node)
        if kind is None:
            return None
        if kind.hardware:
            return node
        node = model.find_producer(node.input[0])
    return None


class InsertDWC(Transformation):
    """Requires: a folded dataflow model.
    Ensures: on every edge, the producer's elements per output word equal the consumer's
    elements per input word (a StreamingDWC regroups them where they differ)."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        # One sweep inserts every converter (each sets its own tensor's shape) and shapes are
        # inferred once: a converter never changes what another edge's ends are, and one
        # inference per converter cost the fold step a minute on MobileNet (folding tries the
        # converters of a dozen candidate foldings).
        inserted = False
        for consumer in list(model.graph.node):
            kind = kind_of(consumer)
            if kind is None or not kind.hardware:
                continue
            for port, tensor in enumerate(consumer.input):
                if model.get_initializer(tensor) is not None:
                    continue
                producer = stream_producer(model, tensor)
                if producer is None:
                    continue
                out_e = layer_spec(producer).stream_elems()[1]
                in_e = layer_spec(consumer).stream_elems()[0]
                if out_e != in_e:
                    _insert(model, producer, consumer, port, out_e, in_e)
                    inserted = True
        return (model.transform(InferShapes()) if inserted else model), False


def _insert(model, producer, consumer, port: int, out_e: int, in_e: int) -> None:
    """Put a converter between ``producer``'s words and ``consumer``'s input ``port``."""
    tensor = consumer.input[port]
    shape = model.get_tensor_shape(tensor)
    dtype = model.get_tensor_datatype(tensor)
    new_t = model.make_new_valueinfo_name()
    pixels = 1
    for d in shape[1:-1]:
        pixels *= d
    name = f"DWC_{producer.name}"
    if len(producer.output) > 1:  # a fork: one converter per layer it feeds
        name += f"_{consumer.name}"
    node = helper.make_node(
        StreamingDWC.__name__,
        [tensor],
        [new_t],
        domain=DOMAIN,
        name=name,
        in_elems=out_e,
        out_elems=in_e,
        dtype=dtype.name,
        total=int(shape[-1]),
        reps=int(pixels),
    )
    consumer.input[port] = new_t
    model.graph.node.insert(list(model.graph.node).index(consumer), node)
    model.set_tensor_shape(new_t, shape)
    model.set_tensor_datatype(new_t, dtype)
