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
    f"at least {MIN_FIFO_DEPTH}; the design's output FIFO is {MIN_FIFO_DEPTH}; a join's input "
    "FIFO also holds the pixels its other paths keep back (the sum of their layers' bursts), "
    "so a residual block's skip path cannot stall the fork"
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
                burst = op.spec().input_burst()
                inputs = op.stream_inputs()
                # only a join's inputs can be skewed; walking a chain's paths back is wasted
                held = [_held_pixels(model, t) for t in inputs] if len(inputs) > 1 else [0]
                depths = [
                    fifo_depth_for(burst + (max(held) - h) * _words_per_pixel(model, node, t))
                    for t, h in zip(inputs, held)
                ]
                op.set_nodeattr("inFIFODepths", depths)
        last = stream_producer(model, model.graph.output[0].name)
        if last is not None and not op_of(last).get_nodeattr("outFIFODepths"):
            op_of(last).set_nodeattr("outFIFODepths", [MIN_FIFO_DEPTH] * len(last.output))
        return model, False


def _words_per_pixel(model: ModelWrapper, node, tensor: str) -> int:
    """Stream words of one pixel of ``tensor`` as ``node`` reads it."""
    shape = model.get_tensor_shape(tensor)
    elems = op_of(node).spec().stream_elems()[0]
    return max(1, int(shape[-1]) // elems)


def _held_pixels(model: ModelWrapper, tensor: str) -> int:
    """Pixels the layers on the way to ``tensor`` keep back, back to the fork it comes from
    (or the design's input): each holds its input burst, counted in pixels of its input."""
    held = 0
    node = stream_producer(model, tensor)
    while node is not None and len(node.output) == 1:
        op = op_of(node)
        t = op.stream_inputs()[0]
        if len(op.stream_inputs()) != 1:
            break  # another join: the paths before it are balanced by its own FIFOs
        held += -(-op.spec().input_burst() // _words_per_pixel(model, node, t)) + 1
        node = stream_producer(model, t)
    return held
