"""The ONNX domain ``flows.layers.custom_ops``: qonnx finds our dataflow layers here, so
``execute_onnx`` runs a dataflow graph through each layer's numpy reference."""

from flows.layers.dwc.node import StreamingDWC
from flows.layers.maxpool.node import StreamingMaxPool
from flows.layers.mvau.node import MVAU
from flows.layers.reshape.node import StreamReshape
from flows.layers.sliding_window.node import SlidingWindow
from flows.layers.thresholding.node import Thresholding

__all__ = [
    "MVAU",
    "SlidingWindow",
    "StreamingDWC",
    "StreamingMaxPool",
    "StreamReshape",
    "Thresholding",
]
