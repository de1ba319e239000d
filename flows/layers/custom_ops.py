"""The ONNX domain ``flows.layers.custom_ops``: qonnx finds our dataflow layers here (its
legacy ``custom_op`` table), so ``execute_onnx`` runs a dataflow graph through each layer's
numpy reference. The table is the registry's: a registered plug-in kind is found too."""

from flows.layers.registry import CUSTOM_OPS

custom_op = CUSTOM_OPS
