"""One table from dataflow op type to the layer's spec/cost/hls roles."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from qonnx.custom_op.registry import getCustomOp

from flows.layers.dwc import cost as dwc_cost
from flows.layers.dwc import hls as dwc_hls
from flows.layers.maxpool import cost as mp_cost
from flows.layers.maxpool import hls as mp_hls
from flows.layers.mvau import cost as mvau_cost
from flows.layers.mvau import hls as mvau_hls
from flows.layers.sliding_window import cost as swg_cost
from flows.layers.sliding_window import hls as swg_hls
from flows.layers.thresholding import cost as thr_cost
from flows.layers.thresholding import hls as thr_hls


@dataclass(frozen=True)
class LayerKind:
    op_type: str
    cost: ModuleType
    hls: ModuleType
    template: str  # codegen template of the layer's parameter header


KINDS = {
    "MVAU": LayerKind("MVAU", mvau_cost, mvau_hls, "mvau_params.h.j2"),
    "Thresholding": LayerKind("Thresholding", thr_cost, thr_hls, "thresholding_params.h.j2"),
    "StreamingDWC": LayerKind("StreamingDWC", dwc_cost, dwc_hls, "dwc_params.h.j2"),
    "SlidingWindow": LayerKind("SlidingWindow", swg_cost, swg_hls, "sliding_window_params.h.j2"),
    "StreamingMaxPool": LayerKind("StreamingMaxPool", mp_cost, mp_hls, "maxpool_params.h.j2"),
}


def layer_spec(node):
    """The node's typed spec (validated)."""
    s = getCustomOp(node).spec()
    s.validate()
    return s


def stream_elems(node) -> tuple[int, int]:
    """(elements per input word, elements per output word) of a dataflow node."""
    s = getCustomOp(node).spec()
    if node.op_type == "MVAU":
        return s.simd, s.pe
    if node.op_type in ("Thresholding", "StreamingMaxPool"):
        return s.pe, s.pe
    if node.op_type == "SlidingWindow":
        return s.simd, s.simd
    return s.in_elems, s.out_elems
