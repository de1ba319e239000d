"""The one table of dataflow layer kinds: each row names a kind's roles.

Everything that differs by kind (ONNX node and spec, inference pass, cost model, backend
code generators) is reached through a row, so fold, codegen, report and the build never
branch on ``op_type``. Adding a kind is adding its package and one ``register(...)`` call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import ModuleType

from onnx import NodeProto
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation

from flows.errors import LayerError
from flows.layers.add import cost as add_cost
from flows.layers.add import hls as add_hls
from flows.layers.add import rtl as add_rtl
from flows.layers.add.infer import InferAdd
from flows.layers.add.node import StreamAdd
from flows.layers.avgpool import cost as avgpool_cost
from flows.layers.avgpool import hls as avgpool_hls
from flows.layers.avgpool import rtl as avgpool_rtl
from flows.layers.avgpool.infer import InferAvgPool
from flows.layers.avgpool.node import StreamingAvgPool
from flows.layers.base import DataflowOp, DataflowSpec
from flows.layers.common import DOMAIN
from flows.layers.dwc import cost as dwc_cost
from flows.layers.dwc import hls as dwc_hls
from flows.layers.dwc import rtl as dwc_rtl
from flows.layers.dwc.node import StreamingDWC
from flows.layers.fork import cost as fork_cost
from flows.layers.fork import hls as fork_hls
from flows.layers.fork import rtl as fork_rtl
from flows.layers.fork.insert import InsertFork
from flows.layers.fork.node import StreamFork
from flows.layers.inference import InferLayer
from flows.layers.label_select import cost as label_select_cost
from flows.layers.label_select import hls as label_select_hls
from flows.layers.label_select import rtl as label_select_rtl
from flows.layers.label_select.infer import InferLabelSelect
from flows.layers.label_select.node import LabelSelect
from flows.layers.maxpool import cost as maxpool_cost
from flows.layers.maxpool import hls as maxpool_hls
from flows.layers.maxpool import rtl as maxpool_rtl
from flows.layers.maxpool.infer import InferMaxPool
from flows.layers.maxpool.node import StreamingMaxPool
from flows.layers.mvau import cost as mvau_cost
from flows.layers.mvau import hls as mvau_hls
from flows.layers.mvau import rtl as mvau_rtl
from flows.layers.mvau.choose_requant import ChooseRequantization
from flows.layers.mvau.infer import InferMVAU
from flows.layers.mvau.node import MVAU
from flows.layers.reshape.infer import InferStreamReshape
from flows.layers.reshape.node import StreamReshape
from flows.layers.sliding_window import cost as sliding_window_cost
from flows.layers.sliding_window import hls as sliding_window_hls
from flows.layers.sliding_window import rtl as sliding_window_rtl
from flows.layers.sliding_window.infer import InferSlidingWindow
from flows.layers.sliding_window.node import SlidingWindow
from flows.layers.thresholding import cost as thresholding_cost
from flows.layers.thresholding import hls as thresholding_hls
from flows.layers.thresholding import rtl as thresholding_rtl
from flows.layers.thresholding.infer import InferThresholding
from flows.layers.thresholding.node import Thresholding
from flows.layers.vvau import cost as vvau_cost
from flows.layers.vvau import hls as vvau_hls
from flows.layers.vvau import rtl as vvau_rtl
from flows.layers.vvau.choose_requant import ChooseVvauRequantization
from flows.layers.vvau.infer import InferVVAU
from flows.layers.vvau.node import VVAU


@dataclass(frozen=True)
class LayerKind:
    """One registry row.

    ``cost`` is a module with ``cycles(spec)`` and ``resources(spec)``; ``backends`` maps a
    backend name ("hls", "rtl") to the kind's module for it. A row without backends is a
    pass-through (a stream reshape): it moves no data, so the stream flows through it
    unchanged.
    """

    node: type[DataflowOp]
    infer: type[InferLayer] | None = None
    cost: ModuleType | None = None
    backends: Mapping[str, ModuleType] = field(default_factory=dict)
    # Transformations run after inference (e.g. the MVAU's requantization choice)
    passes: tuple[type[Transformation], ...] = ()

    @property
    def op_type(self) -> str:
        return self.node.__name__

    @property
    def hardware(self) -> bool:
        """False for a pass-through kind, which has no kernel in any backend."""
        return bool(self.backends)


KINDS: list[LayerKind] = []
# qonnx resolves the domain flows.layers.custom_ops to this table (see custom_ops.py)
CUSTOM_OPS: dict[str, type[DataflowOp]] = {}


def register(kind: LayerKind) -> LayerKind:
    """Add a kind (built in, or a plug-in's); its op_type must be new."""
    if kind.op_type in CUSTOM_OPS:
        raise LayerError(f"layer kind '{kind.op_type}' is registered twice")
    KINDS.append(kind)
    CUSTOM_OPS[kind.op_type] = kind.node
    return kind


def unregister(kind: LayerKind) -> None:
    """Remove a kind again (tests that register a plug-in clean up after themselves)."""
    KINDS.remove(kind)
    del CUSTOM_OPS[kind.op_type]


for _kind in (
    # before the MVAU: a depthwise conv's MatMul is a (block-diagonal) MatMul to it too
    LayerKind(
        VVAU,
        InferVVAU,
        vvau_cost,
        {"hls": vvau_hls, "rtl": vvau_rtl},
        (ChooseVvauRequantization,),
    ),
    LayerKind(
        MVAU, InferMVAU, mvau_cost, {"hls": mvau_hls, "rtl": mvau_rtl}, (ChooseRequantization,)
    ),
    LayerKind(
        Thresholding,
        InferThresholding,
        thresholding_cost,
        {"hls": thresholding_hls, "rtl": thresholding_rtl},
    ),
    LayerKind(StreamingDWC, None, dwc_cost, {"hls": dwc_hls, "rtl": dwc_rtl}),
    LayerKind(
        SlidingWindow,
        InferSlidingWindow,
        sliding_window_cost,
        {"hls": sliding_window_hls, "rtl": sliding_window_rtl},
    ),
    LayerKind(
        StreamingMaxPool, InferMaxPool, maxpool_cost, {"hls": maxpool_hls, "rtl": maxpool_rtl}
    ),
    LayerKind(
        StreamingAvgPool, InferAvgPool, avgpool_cost, {"hls": avgpool_hls, "rtl": avgpool_rtl}
    ),
    LayerKind(StreamReshape, InferStreamReshape),
    LayerKind(StreamAdd, InferAdd, add_cost, {"hls": add_hls, "rtl": add_rtl}),
    LayerKind(
        LabelSelect,
        InferLabelSelect,
        label_select_cost,
        {"hls": label_select_hls, "rtl": label_select_rtl},
    ),
    # after every kind's inference: a stream two layers read is forked
    LayerKind(StreamFork, None, fork_cost, {"hls": fork_hls, "rtl": fork_rtl}, (InsertFork,)),
):
    register(_kind)


def kind_of(node: NodeProto) -> LayerKind | None:
    """The row of a dataflow node, None for any other node."""
    if node.domain != DOMAIN:
        return None
    return next((k for k in KINDS if k.op_type == node.op_type), None)


def op_of(node: NodeProto) -> DataflowOp:
    """The node's CustomOp instance (its ONNX edge)."""
    return getCustomOp(node)


def layer_spec(node: NodeProto) -> DataflowSpec:
    """The node's typed spec (validated)."""
    s = op_of(node).spec()
    s.validate()
    return s


def hardware_layers(model: ModelWrapper) -> Iterator[tuple[NodeProto, LayerKind]]:
    """The nodes that become kernels, in graph order, with their rows."""
    for node in model.graph.node:
        kind = kind_of(node)
        if kind is not None and kind.hardware:
            yield node, kind
