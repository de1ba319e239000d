"""Small graph utilities the passes share: attributes, layouts, replacing and rewiring nodes.

Every helper that changes the graph checks first and changes it after, so a pass that fails
leaves the graph as it found it.
"""

from __future__ import annotations

from collections.abc import Sequence

from onnx import NodeProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.util.basic import get_by_name

from flows.errors import UnsupportedError

# Transpose permutations between the graph's NCHW and the dataflow design's channels last.
TO_NCHW = (0, 3, 1, 2)
TO_NHWC = (0, 2, 3, 1)


def attr(node: NodeProto, name: str, default=None):
    """The value of attribute ``name`` of ``node`` (strings decoded), or ``default``."""
    a = get_by_name(node.attribute, name)
    if a is None:
        return default
    value = helper.get_attribute_value(a)
    return value.decode() if isinstance(value, bytes) else value


def perm(node: NodeProto) -> tuple[int, ...]:
    """The ``perm`` of a Transpose node (empty when it has none)."""
    return tuple(attr(node, "perm", ()))


def is_transpose(node: NodeProto | None, permutation: tuple[int, ...]) -> bool:
    """Whether ``node`` is a Transpose by ``permutation`` (e.g. ``TO_NCHW``)."""
    return node is not None and node.op_type == "Transpose" and perm(node) == permutation


def only_consumer(model: ModelWrapper, tensor: str) -> NodeProto | None:
    """The node reading ``tensor`` if exactly one does, else None."""
    consumers = model.find_consumers(tensor)
    return consumers[0] if len(consumers) == 1 else None


def is_graph_output(model: ModelWrapper, tensor: str) -> bool:
    return any(o.name == tensor for o in model.graph.output)


def replace_nodes(model: ModelWrapper, old: Sequence[NodeProto], new: Sequence[NodeProto]) -> None:
    """Remove ``old`` and insert ``new``, in order, at the index ``old[0]`` had.

    The index is taken before anything is removed (as the passes always have), so the node
    order of every build stays what it was; the sort after each transformation puts the graph
    back in topological order.
    """
    nodes = model.graph.node
    idx = list(nodes).index(old[0])
    for n in old:
        nodes.remove(n)
    for i, n in enumerate(new):
        nodes.insert(idx + i, n)


def rewire(model: ModelWrapper, old: str, new: str) -> None:
    """Make every node that reads tensor ``old`` read ``new`` instead.

    A graph output cannot be rewired this way (its producer would disappear with it); that is
    checked before any node is changed.
    """
    if is_graph_output(model, old):
        producer = model.find_producer(old)
        where = f"node '{producer.name}'" if producer is not None else f"tensor '{old}'"
        raise UnsupportedError(
            f"{where}: its output '{old}' is a graph output and cannot be rewired to '{new}'"
        )
    for n in model.find_consumers(old):
        for i, name in enumerate(n.input):
            if name == old:
                n.input[i] = new
