"""Classes of ONNX op types, each written once, with the reason passes may treat them alike.

A pass that needs a class of ops takes it from here. Where a pass needs a narrower or a wider
set than a general one, that set is named here as well, with the reason it differs.
"""

from __future__ import annotations

# QONNX's quantizers: the only source of integer tensors in an imported model.
QUANT_OPS = frozenset({"Quant", "BipolarQuant"})
# QONNX's truncation (Brevitas' TruncAvgPool2d): re-quantizes a quantized tensor, so its output
# is a quantized activation too (integers times its output scale).
TRUNC_OPS = frozenset({"Trunc"})
# Average pools: an integer window sum, then a division that the quantizer after it truncates
# (a ReduceMean over both spatial axes is a global one: Brevitas' TruncAdaptiveAvgPool2d).
AVG_POOL_OPS = frozenset({"AveragePool", "GlobalAveragePool", "ReduceMean"})
# Dot products of a quantized input with quantized weights: what becomes an MVAU.
ACCUMULATING_OPS = frozenset({"MatMul", "Conv"})

# ---- ops between layers: what integers may pass through ------------------------------------
# Reshape to a new shape, element order unchanged.
RESHAPE_OPS = frozenset({"Reshape", "Flatten"})
# Value-preserving: move values without changing any (Im2Col's padding adds zeros).
LAYOUT_OPS = RESHAPE_OPS | {"Identity", "Transpose", "Im2Col"}
# Select the largest value of each window.
POOL_OPS = frozenset({"MaxPool", "MaxPoolNHWC"})
# Label selects: the index of the largest value (a network's classifier tail).
SELECT_OPS = frozenset({"TopK", "ArgMax"})
# Commute with a positive scale only: max(s*a, s*b) = s*max(a, b) needs s > 0.
MONOTONE_OPS = POOL_OPS | {"Relu"}
# Every output is one of the inputs or zero: f(x / s) = f(x) / s for s > 0, so an input's
# Div(s) can move in front of them, and their outputs stay multiples of a quantizer's scale.
SCALE_COMMUTING_OPS = LAYOUT_OPS | MONOTONE_OPS
# The output carries the input's datatype. Not Relu: it would narrow a signed type, and the
# Relu that AbsorbReluIntoThresholds absorbs is the one whose narrowing is propagated.
DTYPE_PRESERVING_OPS = LAYOUT_OPS | POOL_OPS
# What may stand between an integer graph input and its input thresholds (kept on the host):
# a Transpose would move the channel axis the thresholds index, and an Identity is evaluated
# with the chain instead.
HEAD_LAYOUT_OPS = RESHAPE_OPS

# ---- the chain after an accumulator that thresholds absorb ----------------------------------
# Elementwise affine ops with a constant operand.
AFFINE_OPS = frozenset({"Mul", "Add", "Sub", "Div"})
# Affine ops whose constant must be the second operand: c - x and c / x flip or break
# monotonicity.
ORDERED_AFFINE_OPS = frozenset({"Sub", "Div"})
# Per-channel monotone: a chain of them ending in a quantizer is a step function per channel.
CHAIN_OPS = AFFINE_OPS | {"BatchNormalization", "Relu", "Identity"}

# Ops the compiler can place: in the dataflow design, absorbed into thresholds, or on the host.
SUPPORTED_OPS = (
    QUANT_OPS
    | ACCUMULATING_OPS
    | CHAIN_OPS
    | SELECT_OPS
    | {"Gemm", "Reshape", "Flatten", "Transpose", "MaxPool", "Softmax"}
    | TRUNC_OPS
    | AVG_POOL_OPS
)
