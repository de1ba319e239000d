"""Lower a quantized average pool (AveragePool + its Trunc or Quant) to an integer window sum
and thresholds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from onnx import NodeProto, TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.base import Transformation
from qonnx.util.basic import qonnx_make_model

from flows.chains import follow_chain
from flows.datatypes import BIPOLAR, integer_type_holding
from flows.errors import UnsupportedError
from flows.graph import TO_NCHW, TO_NHWC, attr, replace_nodes
from flows.layers.avgpool.spec import MAX_SUM_BITS, sum_dtype
from flows.ops import AVG_POOL_OPS, CHAIN_OPS
from flows.passes.absorb_into_thresholds import MAX_ACT_BITS
from flows.passes.infer_shapes import InferShapes
from flows.quantizers import Quantizer, is_activation_quantizer, is_quantizer, read_quantizer

U = 2.0**-24  # float32's unit roundoff
MAX_SUMS = 1 << 20  # window sums evaluated one by one; wider ranges are refused


@dataclass(frozen=True)
class _Pool:
    """An average pool over quantized integers: ``x = s_x * q``, q of ``idt``."""

    node: NodeProto
    x: str  # the float ``s_x * q`` (before the Relu, if one is between it and the pool)
    s_x: float
    idt: DataType  # the pool's input integers (after the Relu)
    channels: int
    ifm: tuple[int, int]
    k: tuple[int, int]
    stride: tuple[int, int]
    relu: NodeProto | None = None  # a Relu after the quantizer (Quant -> Relu -> pool)
    src_dt: DataType | None = None  # with a Relu: the integers before it


class LowerAveragePool(Transformation):
    """``s_x*q -> AveragePool -> chain -> Trunc|Quant`` (Brevitas' TruncAvgPool2d exports
    AveragePool + Trunc) becomes ``Div(s_x) -> Transpose(to NHWC) -> QuantAvgPool2d (the
    exact integer window sum S) -> MultiThreshold -> Transpose(to NCHW) -> Mul(s_out)``.

    The thresholds are found by evaluation: the reference computes the average in float32
    (sum/(k*k)) and then its own chain and quantizer. With a power-of-two s_x the window's
    additions are exact, so the float32 average is a function of the window sum S: the
    graph's own pool op gives it for every S (ties of the quantizer after it, e.g. at
    multiples of a 3x3 window, fall exactly as in the reference). Otherwise the float32
    average lies within a bound of S*s_x/(k*k). The graph's chain and quantizer nodes are run
    on both ends of that interval, and, as they are monotone, they give one output level for
    S exactly when both ends agree. If the ends disagree for some S, the output depends on
    how float32 rounded that window's values, not on S alone, and the pool is refused.

    A Relu between the quantizer and the pool (``Quant -> Relu``, the activation order some
    exporters write) moves into the integer domain (``Div(s_x) -> Relu``), where
    AbsorbReluIntoThresholds folds it into the layer before; the pool sums its non-negative
    integers.

    Requires: AbsorbIntoThresholds applied (the pool's input is a quantizer output or the
    ``Mul(s)`` of an integer tensor that an integer layer's thresholds left, or a Relu of
    one).
    Ensures: no AveragePool/GlobalAveragePool followed by a quantizer remains; outputs equal.
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in model.graph.node:
            if node.op_type not in AVG_POOL_OPS:
                continue
            chain = follow_chain(model, node.output[0])
            end = chain.quantizer
            if end is None:  # follow_chain stops at a Trunc: take it as the chain's end
                last = chain.nodes[-1].output[0] if chain.nodes else node.output[0]
                cons = model.find_consumers(last)
                if len(cons) == 1 and is_activation_quantizer(cons[0]):
                    end = cons[0]
            if end is None:
                continue  # no quantizer after it: stays for the host
            pool = _read_pool(model, node)
            _check_chain(node, chain.nodes)
            q = read_quantizer(model, end)
            thresholds, out_bias = _pool_thresholds(model, pool, chain.nodes, end, q)
            _rewrite(model, pool, [*chain.nodes, end], q, thresholds, out_bias)
            return model.transform(InferShapes()), True
        return model, False


def _read_pool(model: ModelWrapper, node: NodeProto) -> _Pool:
    """The pool's geometry and its input's integers (checked: refuses what it cannot map).
    A ReduceMean over both spatial axes is a global pool."""
    where = f"node '{node.name}'"
    shape = model.get_tensor_shape(node.input[0])
    if shape is None or len(shape) != 4:
        raise UnsupportedError(f"{where}: an average pool over a {shape} tensor; expected NCHW")
    _, c, h, w = (int(v) for v in shape)
    if node.op_type == "GlobalAveragePool":
        k, stride = (h, w), (1, 1)
    elif node.op_type == "ReduceMean":
        axes = attr(node, "axes", None)
        if axes is None and len(node.input) > 1:
            axes = model.get_initializer(node.input[1])
        axes = None if axes is None else sorted(int(a) % 4 for a in np.ravel(axes))
        if axes != [2, 3] or not attr(node, "keepdims", 1):
            raise UnsupportedError(
                f"{where}: a ReduceMean over axes {axes} (keepdims="
                f"{attr(node, 'keepdims', 1)}); bitfab maps a mean over both spatial axes of an "
                "NCHW tensor with keepdims=1 (a global average pool)"
            )
        k, stride = (h, w), (1, 1)
    else:
        k = tuple(attr(node, "kernel_shape"))
        stride = tuple(attr(node, "strides", [1, 1]))
        if any(attr(node, "pads", [0, 0, 0, 0])) or attr(node, "ceil_mode", 0):
            raise UnsupportedError(
                f"{where}: AveragePool with padding or ceil_mode is not supported; supported: "
                "no padding, floor mode, any kernel and stride"
            )
        if attr(node, "auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
            raise UnsupportedError(f"{where}: AveragePool with auto_pad is not supported")
    if k[0] != k[1] or stride[0] != stride[1]:
        raise UnsupportedError(
            f"{where}: a {k[0]}x{k[1]} average pool at stride {stride[0]}x{stride[1]}; bitfab "
            "maps square windows and strides (a global pool needs a square image)"
        )
    x, relu = node.input[0], None
    prod = model.find_producer(x)
    if prod is not None and prod.op_type == "Relu":
        x, relu = prod.input[0], prod
    s_x, src = _integer_source(model, node, x)
    idt = src
    if relu is not None:  # relu(s_x * q) = s_x * max(q, 0) with s_x > 0
        idt = integer_type_holding(max(int(src.min()), 0), max(int(src.max()), 0))
    return _Pool(node, x, s_x, idt, c, (h, w), k, stride, relu, src)


def _integer_source(model: ModelWrapper, node: NodeProto, x: str) -> tuple[float, DataType]:
    """``(s_x, idt)`` of ``x = s_x * q`` (the pool's input or the Relu's before it): a
    quantizer's output, or the scaling of an integer tensor that the layer before left (its
    thresholds' ``Mul(s)``)."""
    prod = model.find_producer(x)
    scale, idt = None, None
    if is_quantizer(prod):
        q = read_quantizer(model, prod)
        if q.scale.size == 1 and np.all(q.zeropt == 0):
            scale, idt = q.scale, q.dtype
    elif prod is not None and prod.op_type == "Mul":
        scale = model.get_initializer(prod.input[1])
        idt = model.get_tensor_datatype(prod.input[0])
    if scale is None or np.asarray(scale).size != 1 or not idt.is_integer() or idt == BIPOLAR:
        raise UnsupportedError(
            f"node '{node.name}': the average pool's input is not a quantized activation with "
            "a per-tensor scale and zero point 0 (INTn/UINTn); put a QuantIdentity/QuantReLU "
            "with a per-tensor scale before the pool"
        )
    s_x = float(np.asarray(scale, np.float32).ravel()[0])
    if not s_x > 0:
        raise UnsupportedError(f"node '{node.name}': the pool's input scale {s_x} is not positive")
    return s_x, idt


def _check_chain(pool: NodeProto, nodes: list[NodeProto]) -> None:
    """The chain after the pool is elementwise (follow_chain's affine/Relu ops with constant
    operands); a transpose there would move the channel axis the thresholds index."""
    for n in nodes:
        if n.op_type not in CHAIN_OPS:
            raise UnsupportedError(
                f"node '{pool.name}': the op '{n.name}' ({n.op_type}) between the average pool "
                "and its quantizer is not an elementwise affine op with a constant"
            )


def _sums_exact(pool: _Pool) -> bool:
    """Whether the reference adds a window's values without rounding: each value ``q*s_x``
    and every partial sum are integers times a power-of-two ``s_x`` below 2^24, so the
    float32 average depends on the window sum S alone (whatever the order of the additions),
    and only the pool's final division (or multiplication by 1/K) rounds."""
    kk = pool.k[0] * pool.k[1]
    qabs = max(abs(int(pool.idt.min())), abs(int(pool.idt.max())))
    return bool(np.frexp(pool.s_x)[0] == 0.5) and kk * qabs < 1 << 24


def _pool_averages(model: ModelWrapper, pool: _Pool, sums: np.ndarray) -> np.ndarray:
    """The reference's own float32 average for each window sum: the graph's pool node, run
    as the reference runs it, on windows of integers ``q`` times ``s_x`` summing to S (two
    different windows a sum; with exact sums they agree, checked). ``[2, len(sums)]``."""
    kh, kw = pool.k
    if pool.node.op_type == "AveragePool":  # one window an image
        node = helper.make_node(
            "AveragePool",
            ["x"],
            ["y"],
            kernel_shape=[kh, kw],
            strides=[kh, kw],
            count_include_pad=attr(pool.node, "count_include_pad", 0),
        )
    else:
        node = _copy(pool.node)
        node.input[0], node.output[0] = "x", "y"
    inits = []
    for i in node.input[1:]:  # ReduceMean's axes as an input (opset 18)
        arr = model.get_initializer(i)
        inits.append(helper.make_tensor(i, TensorProto.INT64, arr.shape, arr.ravel()))
    n, kk = len(sums), kh * kw
    graph = helper.make_graph(
        [node],
        "avgpool_average",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, (n, 1, kh, kw))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, (n, 1, 1, 1))],
        initializer=inits,
    )
    m = ModelWrapper(qonnx_make_model(graph, opset_imports=model.model.opset_import))
    lo_q, hi_q = int(pool.idt.min()), int(pool.idt.max())
    rest = sums - kk * lo_q  # what the window holds above its least value, 0..kk*(hi-lo)
    span = hi_q - lo_q
    filled = np.clip(rest[:, None] - span * np.arange(kk)[None, :], 0, span)  # front first
    even = rest[:, None] // kk + (np.arange(kk)[None, :] < rest[:, None] % kk)  # spread
    out = []
    for q in (filled, even):
        x = ((q + lo_q) * np.float32(pool.s_x)).astype(np.float32).reshape(n, 1, kh, kw)
        out.append(execute_onnx(m, {"x": x})["y"].reshape(n))
    return np.stack(out)


def _error_bound(pool: _Pool) -> float:
    """A bound on |float32 average - S*s_x/K| over every input whose window sum is S (sums
    not exact): the rounding of the inputs, the K-1 additions in any order and the division
    (first order, doubled)."""
    kk = pool.k[0] * pool.k[1]
    qabs = max(abs(int(pool.idt.min())), abs(int(pool.idt.max())))
    return 2.0 * (kk + 2) * U * qabs * pool.s_x


def _pool_thresholds(
    model: ModelWrapper, pool: _Pool, chain: list[NodeProto], end: NodeProto, q: Quantizer
) -> tuple[np.ndarray, int]:
    """Thresholds ``[C or 1, L-1]`` on the window sum and the output's least level."""
    where = f"node '{pool.node.name}'"
    if q.bipolar or np.any(q.zeropt != 0):
        raise UnsupportedError(
            f"node '{end.name}': the quantizer after average pool '{pool.node.name}' must be "
            "an integer quantizer with zero point 0"
        )
    if q.bits > MAX_ACT_BITS:
        raise UnsupportedError(
            f"node '{end.name}': a {q.bits}-bit output after an average pool needs "
            f"{len(q.levels()) - 1} thresholds per channel; at most {MAX_ACT_BITS} bits"
        )
    kk = pool.k[0] * pool.k[1]
    odt = sum_dtype(pool.idt, kk)
    if odt.bitwidth() > MAX_SUM_BITS or kk * (int(pool.idt.max()) - int(pool.idt.min())) >= (
        MAX_SUMS
    ):
        raise UnsupportedError(
            f"{where}: window sums of {kk} {pool.idt.name} values need {odt.name}; at most "
            f"{MAX_SUM_BITS} bits and {MAX_SUMS} distinct sums: use a smaller window or "
            "narrower activations"
        )
    sums = np.arange(kk * int(pool.idt.min()), kk * int(pool.idt.max()) + 1, dtype=np.int64)
    if _sums_exact(pool):  # the average is a function of S: take the reference's own
        avg = _pool_averages(model, pool, sums)
        lo, hi = avg.min(axis=0), avg.max(axis=0)
    else:
        mid = sums.astype(np.float64) * pool.s_x / kk
        err = _error_bound(pool)
        lo = _float32_toward(mid - err, -np.inf)
        hi = _float32_toward(mid + err, np.inf)
    run = _ChainRunner(model, chain, end, len(sums), pool.channels)
    level_lo, level_hi = run.levels(lo, q), run.levels(hi, q)
    bad = np.argwhere(level_lo != level_hi)
    if bad.size:
        s = int(sums[bad[0][0]])
        raise UnsupportedError(
            f"{where}: the truncation after this average pool cannot be expressed exactly on "
            f"the integer window sum: at sum {s} the reference's float32 average lies on a "
            f"rounding step of '{end.name}', so its output depends on the float32 rounding of "
            "each window's values; use Brevitas' TruncAvgPool2d (a Trunc at scale s_x/(k*k)) "
            "or a power-of-two input scale and window"
        )
    levels = level_lo  # [S, C], output integers
    if np.any(np.diff(levels, axis=0) < 0):
        ch = int(np.argwhere(np.diff(levels, axis=0) < 0)[0][1])
        raise UnsupportedError(
            f"{where}: the output after the average pool decreases with the window sum "
            f"(channel {ch}); only increasing chains (positive scales) are supported"
        )
    targets = q.levels()[1:]  # thresholds for reaching each level above the least
    t = np.empty((pool.channels, len(targets)), np.int64)
    for c in range(pool.channels):
        idx = np.searchsorted(levels[:, c], targets, side="left")
        t[c] = np.where(idx < len(sums), sums[np.minimum(idx, len(sums) - 1)], sums[-1] + 1)
    if np.all(t == t[:1]):
        t = t[:1]
    return t, int(q.qmin)


def _float32_toward(v: np.ndarray, direction: float) -> np.ndarray:
    """``v`` as float32, rounded toward ``direction`` (the interval's outward end)."""
    f = v.astype(np.float32)
    off = f.astype(np.float64) < v if direction > 0 else f.astype(np.float64) > v
    return np.where(off, np.nextafter(f, np.float32(direction)), f).astype(np.float32)


class _ChainRunner:
    """The graph's chain and quantizer after the pool, run on ``[N, C, 1, 1]`` averages."""

    def __init__(self, model: ModelWrapper, chain: list[NodeProto], end: NodeProto, n: int, c: int):
        inits, seen = [], set()
        for node in [*chain, end]:
            for i in node.input:
                arr = model.get_initializer(i)
                if arr is not None and i not in seen:
                    seen.add(i)
                    dtype = helper.np_dtype_to_tensor_dtype(arr.dtype)
                    inits.append(helper.make_tensor(i, dtype, arr.shape, arr.ravel()))
        self.inp = chain[0].input[0] if chain else end.input[0]
        self.out = end.output[0]
        self.c = c
        graph = helper.make_graph(
            [_copy(node) for node in [*chain, end]],
            "avgpool_chain",
            [helper.make_tensor_value_info(self.inp, TensorProto.FLOAT, (n, c, 1, 1))],
            [helper.make_tensor_value_info(self.out, TensorProto.FLOAT, (n, c, 1, 1))],
            initializer=inits,
        )
        onnx_model = qonnx_make_model(graph, opset_imports=model.model.opset_import)
        self.model = ModelWrapper(onnx_model).transform(InferShapes())

    def levels(self, avg: np.ndarray, q: Quantizer) -> np.ndarray:
        """Output integers ``[N, C]`` for one float32 average per sum (the same on every
        channel)."""
        x = np.broadcast_to(avg[:, None, None, None], (len(avg), self.c, 1, 1))
        x = np.ascontiguousarray(x, np.float32)
        y = execute_onnx(self.model, {self.inp: x})[self.out].reshape(len(avg), self.c)
        scale = np.broadcast_to(q.scale.astype(np.float64).ravel(), (self.c,))
        return np.rint(y.astype(np.float64) / scale[None, :]).astype(np.int64)


def _copy(node: NodeProto) -> NodeProto:
    n = NodeProto()
    n.CopyFrom(node)
    return n


def _rewrite(
    model: ModelWrapper,
    pool: _Pool,
    old: list[NodeProto],
    q: Quantizer,
    thresholds: np.ndarray,
    out_bias: int,
) -> None:
    """Replace the pool, its chain and quantizer by the integer window sum and thresholds."""
    name = pool.node.name
    kk = pool.k[0] * pool.k[1]
    odt = sum_dtype(pool.idt, kk)
    out = old[-1].output[0]
    t = [model.make_new_valueinfo_name() for _ in range(8)]
    x_int, x_nhwc, sums, t_name, y_int, y_nchw, s_x, x_relu = t
    model.set_initializer(s_x, np.asarray(pool.s_x, np.float32))
    model.set_initializer(t_name, thresholds.astype(np.float64))
    s_out = model.make_new_valueinfo_name()
    scale_y = q.scale.astype(np.float32)
    if scale_y.size > 1:
        scale_y = scale_y.reshape(1, -1, 1, 1)
    model.set_initializer(s_out, scale_y)
    # QuantAvgPool2d gives round(average * k*k) >> (accumulator bits - obits): with obits
    # the accumulator's width, no shift, the exact window sum
    acc_bits = int((2 ** pool.idt.bitwidth() - 1) * kk).bit_length()
    relu = []
    if pool.relu is not None:  # the Relu moves into the integer domain, before the transpose
        relu = [helper.make_node("Relu", [x_int], [x_relu], name=name + "_relu")]
    pooled = x_relu if relu else x_int
    new = [
        helper.make_node("Div", [pool.x, s_x], [x_int], name=name + "_to_int"),
        *relu,
        helper.make_node("Transpose", [pooled], [x_nhwc], perm=list(TO_NHWC), name=name + "_nhwc"),
        helper.make_node(
            "QuantAvgPool2d",
            [x_nhwc],
            [sums],
            domain="qonnx.custom_op.general",
            name=name,
            kernel=pool.k[0],
            stride=pool.stride[0],
            ibits=pool.idt.bitwidth(),
            obits=acc_bits,
            signed=int(pool.idt.signed()),
            data_layout="NHWC",
        ),
        helper.make_node(
            "MultiThreshold",
            [sums, t_name],
            [y_int],
            domain="qonnx.custom_op.general",
            name=name + "_thresholds",
            out_dtype=q.dtype.name,
            out_scale=1.0,
            out_bias=float(out_bias),
            ref_tensor=out,
            data_layout="NHWC",
        ),
        helper.make_node("Transpose", [y_int], [y_nchw], perm=list(TO_NCHW), name=name + "_nchw"),
        helper.make_node("Mul", [y_nchw, s_out], [out], name=name + "_to_float"),
    ]
    gone = [pool.node, *old]
    if pool.relu is not None and len(model.find_consumers(pool.relu.output[0])) == 1:
        gone.insert(0, pool.relu)  # read by the pool alone
    replace_nodes(model, gone, new)
    n, c, h, w = model.get_tensor_shape(pool.x)
    model.set_tensor_shape(x_int, [n, c, h, w])
    model.set_tensor_shape(x_nhwc, [n, h, w, c])
    if relu:
        model.set_tensor_shape(x_relu, [n, c, h, w])
        model.set_tensor_datatype(x_relu, pool.idt)
    for tensor, dt in ((x_int, pool.src_dt or pool.idt), (x_nhwc, pool.idt), (sums, odt)):
        model.set_tensor_datatype(tensor, dt)
    model.set_tensor_datatype(y_int, q.dtype)
    model.set_tensor_datatype(y_nchw, q.dtype)
