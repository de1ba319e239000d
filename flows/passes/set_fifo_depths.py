"""SetFifoDepths: a depth for every FIFO of the design, from each kernel's input burst."""

from __future__ import annotations

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation

from flows.layers.base import MIN_FIFO_DEPTH, fifo_depth_for
from flows.layers.dwc.insert import stream_producer
from flows.layers.registry import hardware_layers, op_of

# How the depths were chosen, for the report and folding.json readers
DEPTH_RULE = (
    "each layer's input FIFO holds its input burst (spec.input_burst: one input row for a "
    "sliding window, one input vector for an MVAU with NF > 1), rounded up to a power of two, "
    f"at least {MIN_FIFO_DEPTH}; the design's output FIFO is {MIN_FIFO_DEPTH}"
)


class SetFifoDepths(Transformation):
    """Until cycle-accurate sizing exists, size FIFOs from each kernel's burst behaviour.

    Requires: a folded model with its width converters (stream words are final).
    Ensures: every hardware layer has ``inFIFODepths`` (one per stream input) and the layer
    writing the design's output has ``outFIFODepths``; depths already set are kept, so an
    edited folding.json is honoured.
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node, _ in hardware_layers(model):
            op = op_of(node)
            if not op.get_nodeattr("inFIFODepths"):
                depth = fifo_depth_for(op.spec().input_burst())
                op.set_nodeattr("inFIFODepths", [depth] * len(op.stream_inputs()))
        last = stream_producer(model, model.graph.output[0].name)
        if last is not None and not op_of(last).get_nodeattr("outFIFODepths"):
            op_of(last).set_nodeattr("outFIFODepths", [MIN_FIFO_DEPTH] * len(last.output))
        return model, False
