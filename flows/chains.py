"""Finding the elementwise op chains that thresholds absorb.

After an integer MatMul (or an integer graph input) comes a chain of per-channel monotone
ops (affine Mul/Add/Sub/Div with constants, BatchNormalization, Relu) ended by an activation
quantizer. The whole chain is one monotone step function per channel, which is what lets
bitfab replace it by thresholds computed by evaluating it (see flows/thresholds.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from qonnx.core.modelwrapper import ModelWrapper

from flows.graph import TO_NCHW, is_transpose
from flows.ops import CHAIN_OPS, ORDERED_AFFINE_OPS
from flows.quantizers import is_quantizer


@dataclass
class Chain:
    """Nodes from a tensor to (and including) the quantizer ending it, if any."""

    start: str
    nodes: list
    quantizer: object | None  # the ending Quant/BipolarQuant node, or None

    @property
    def end_tensor(self) -> str:
        if self.quantizer is not None:
            return self.quantizer.output[0]
        return self.nodes[-1].output[0] if self.nodes else self.start


def _is_chain_op(model: ModelWrapper, node, tensor: str, first: bool) -> bool:
    if first and node.op_type == "Transpose":
        return is_transpose(node, TO_NCHW)  # a lowered conv going back to NCHW
    if node.op_type not in CHAIN_OPS:
        return False
    others = [i for i in node.input if i and i != tensor]
    if node.op_type in ORDERED_AFFINE_OPS and node.input[0] != tensor:
        return False  # c - x and c / x flip or break monotonicity: leave them on the host
    return all(model.get_initializer(i) is not None for i in others)


def follow_chain(model: ModelWrapper, tensor: str) -> Chain:
    """Walk single consumers from ``tensor`` through chain ops up to an activation quantizer."""
    nodes = []
    cur = tensor
    while True:
        consumers = model.find_consumers(cur)
        if len(consumers) != 1:
            return Chain(tensor, nodes, None)
        node = consumers[0]
        if is_quantizer(node) and node.input[0] == cur:
            return Chain(tensor, nodes, node)
        if not _is_chain_op(model, node, cur, first=not nodes):
            return Chain(tensor, nodes, None)
        nodes.append(node)
        cur = node.output[0]
