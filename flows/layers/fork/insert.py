"""InsertFork: a stream read by two layers gets a StreamFork in front of them."""

from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation

from flows.errors import UnsupportedError
from flows.layers.common import DOMAIN
from flows.layers.inference import pixels


def _is_layer(node) -> bool:
    return node.domain == DOMAIN


class InsertFork(Transformation):
    """A stream is point to point; a tensor that two dataflow layers read (a residual block's
    input: its skip path and its main path) is fed to them by a StreamFork.

    Requires: dataflow layers inferred (channels last).
    Ensures: every tensor read by dataflow layers has one reader; three or more readers get a
    chain of forks. Outputs are unchanged (a fork copies).
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for t in _tensors(model):
            readers = [n for n in model.find_consumers(t) or [] if _is_layer(n)]
            if len(readers) < 2:
                continue
            if len(readers) != len(model.find_consumers(t)):
                other = next(n for n in model.find_consumers(t) if not _is_layer(n))
                raise UnsupportedError(
                    f"tensor '{t}' is read by dataflow layers and by node '{other.name}' "
                    f"({other.op_type}), which stays on the host; bitfab needs every reader "
                    "of a stream inside the accelerator"
                )
            _fork(model, t, readers[:2])
            return model, True
        return model, False


def _tensors(model: ModelWrapper) -> list[str]:
    ts = [model.graph.input[0].name]
    ts += [o for n in model.graph.node if _is_layer(n) for o in n.output]
    return ts


def _fork(model: ModelWrapper, t: str, readers: list) -> None:
    shape = model.get_tensor_shape(t)
    dt = model.get_tensor_datatype(t)
    outs = [model.make_new_valueinfo_name() for _ in range(2)]
    producer = model.find_producer(t)
    name = f"Fork_{producer.name if producer is not None else 'input'}"
    names = {n.name for n in model.graph.node}
    k = 0
    while name in names:
        k += 1
        name = f"Fork_{producer.name if producer is not None else 'input'}_{k}"
    node = helper.make_node(
        "StreamFork",
        [t],
        outs,
        domain=DOMAIN,
        name=name,
        C=int(shape[-1]),
        pixels=pixels(shape),
        PE=1,
        dtype=dt.name,
    )
    for reader, out in zip(readers, outs):
        for i, inp in enumerate(reader.input):
            if inp == t:
                reader.input[i] = out
                break
    # insert right after the producer, so the graph stays topologically sorted
    idx = 0 if producer is None else list(model.graph.node).index(producer) + 1
    model.graph.node.insert(idx, node)
    for out in outs:
        model.set_tensor_shape(out, list(np.asarray(shape).tolist()))
        model.set_tensor_datatype(out, dt)
