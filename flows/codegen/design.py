"""The backend-neutral design: layer instances joined by streams, one stream per tensor.

Built from the folded dataflow model alone (specs, initializers, datatypes), so every backend
renders the same graph with the same folding and the same stream words. A layer may have any
number of input and output streams; a stream has exactly one writer and one reader (a fork
layer duplicates a stream), and every stream carries a FIFO depth.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper

from boards.driver.accelerator import StreamSpec
from flows.datatypes import BIPOLAR
from flows.errors import LayerError
from flows.layers.base import MIN_FIFO_DEPTH, DataflowSpec
from flows.layers.registry import LayerKind, kind_of, layer_spec, op_of

# Vitis HLS' default hls::stream depth: a stream whose layers set no depth gets it
DEFAULT_FIFO_DEPTH = MIN_FIFO_DEPTH


@dataclass(frozen=True)
class Stream:
    """The words of one tensor: ``elems`` fields of ``bits`` bits each."""

    tensor: str
    bits: int
    elems: int
    depth: int = DEFAULT_FIFO_DEPTH

    @property
    def width(self) -> int:
        return self.bits * self.elems


@dataclass(frozen=True)
class LayerInstance:
    """One kernel: its row, validated spec, initializers by role, and its streams' tensors."""

    name: str
    kind: LayerKind
    spec: DataflowSpec
    params: dict[str, np.ndarray]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    # FIFO depth of each input stream, and of each output stream the layer sets (else None)
    in_depths: tuple[int, ...] = ()
    out_depths: tuple[int, ...] = ()


@dataclass(frozen=True)
class Design:
    """Layers in graph (topological) order, streams by tensor, the DMA edge on both sides."""

    layers: tuple[LayerInstance, ...]
    streams: dict[str, Stream]
    input_tensor: str
    output_tensor: str
    input: StreamSpec
    output: StreamSpec
    producers: dict[str, LayerInstance] = field(default_factory=dict)

    def internal_streams(self) -> list[Stream]:
        """Streams between two layers (not the design's input or output), in writer order."""
        ends = (self.input_tensor, self.output_tensor)
        return [self.streams[t] for layer in self.layers for t in layer.outputs if t not in ends]


def build_design(df: ModelWrapper) -> Design:
    """The design of a folded dataflow model (pass-through nodes become stream aliases)."""
    alias: dict[str, str] = {}
    layers: list[LayerInstance] = []
    for node in df.graph.node:
        kind = kind_of(node)
        if kind is None:
            raise LayerError(f"node '{node.name}' ({node.op_type}) is not a dataflow layer")
        op = op_of(node)
        ins = tuple(alias.get(t, t) for t in op.stream_inputs())
        if not kind.hardware:  # a stream reshape: its output is its input's stream
            alias[node.output[0]] = ins[0]
            continue
        depths = op.fifo_depths()
        layers.append(
            LayerInstance(
                node.name,
                kind,
                layer_spec(node),
                op.params(df),
                ins,
                tuple(node.output),
                tuple(depths.get("inFIFODepths", ())),
                tuple(depths.get("outFIFODepths", ())),
            )
        )
    in_t = df.graph.input[0].name
    out_t = alias.get(df.graph.output[0].name, df.graph.output[0].name)
    _check_one_reader(layers, in_t)
    streams = _streams(df, layers, in_t)
    producers = {t: layer for layer in layers for t in layer.outputs}
    if out_t not in producers:
        raise LayerError(f"the design's output '{out_t}' is not written by any layer")
    return Design(
        tuple(layers),
        streams,
        in_t,
        out_t,
        _edge(df, streams[in_t], df.graph.input[0].name),
        _edge(df, streams[out_t], df.graph.output[0].name),
        producers,
    )


def _streams(df: ModelWrapper, layers: list[LayerInstance], in_t: str) -> dict[str, Stream]:
    """Every tensor's stream, its word size checked at both ends."""
    streams: dict[str, Stream] = {}
    for layer in layers:
        out_elems = layer.spec.stream_elems()[1]
        for k, t in enumerate(layer.outputs):
            depth = layer.out_depths[k] if k < len(layer.out_depths) else DEFAULT_FIFO_DEPTH
            streams[t] = Stream(t, df.get_tensor_datatype(t).bitwidth(), out_elems, depth)
    for layer in layers:
        in_elems = layer.spec.stream_elems()[0]
        for port, t in enumerate(layer.inputs):
            if t == in_t and t not in streams:
                streams[t] = Stream(t, df.get_tensor_datatype(t).bitwidth(), in_elems)
            if streams[t].elems != in_elems:
                raise LayerError(
                    f"layer '{layer.name}' reads {in_elems} elements a word from '{t}', "
                    f"which carries {streams[t].elems}; run InsertDWC after folding"
                )
            if port < len(layer.in_depths):  # the reader's depth sizes the FIFO
                streams[t] = dataclasses.replace(streams[t], depth=layer.in_depths[port])
    return streams


def _check_one_reader(layers: list[LayerInstance], in_t: str) -> None:
    readers: dict[str, list[str]] = {}
    for layer in layers:
        for t in layer.inputs:
            readers.setdefault(t, []).append(layer.name)
    for t, names in readers.items():
        if len(names) > 1:
            raise LayerError(
                f"stream '{t}' feeds {len(names)} layers ({', '.join(names)}); a stream has "
                "one reader: duplicate it with a fork layer"
            )
    if in_t not in readers:
        raise LayerError(f"the design's input '{in_t}' is read by no layer")


def _edge(df: ModelWrapper, stream: Stream, tensor: str) -> StreamSpec:
    """The DMA edge of one side, as the host driver packs it."""
    dt = df.get_tensor_datatype(tensor)
    n = int(np.prod(df.get_tensor_shape(tensor)))
    return StreamSpec(
        bits=stream.bits,
        elems=stream.elems,
        words=n // stream.elems,
        signed=dt.signed() and dt != BIPOLAR,
        bipolar=dt == BIPOLAR,
        shape=[int(s) for s in df.get_tensor_shape(tensor)],
    )
