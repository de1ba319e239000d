"""Bit-exact verification: QONNX reference vs dataflow model vs C-simulation.

Inputs are drawn from the input's annotated integer datatype, else uniformly over the float
range the input quantizer covers (mapped back through the affine preprocessing), a little
beyond it so clipping is exercised too. Integers are compared exactly. When the float32
reference disagrees with the hardware, the sample is re-run with its MatMul/Conv
accumulations in float64 (everything else stays the graph's float32): if that agrees with
every hardware integer the case is reference rounding (counted, exit 0), otherwise a mismatch.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.change_batchsize import ChangeBatchSize

from boards.driver.accelerator import Accelerator
from boards.driver.host_graph import TRANSCENDENTAL
from flows.dyadic import scaled_sum
from flows.errors import UnsupportedError
from flows.graph import TO_NHWC, attr, replace_nodes
from flows.ops import ACCUMULATING_OPS, LAYOUT_OPS, SCALE_COMMUTING_OPS
from flows.passes.infer_shapes import InferShapes
from flows.progress import SILENT, Progress, Task
from flows.quantizers import is_quantizer, read_quantizer

log = logging.getLogger(__name__)
CHUNK = 100
MARGIN = 0.1


def model_metadata(model: ModelWrapper, key: str) -> str | None:
    """A ``metadata_props`` value: the model's (where an export writes it, models/export.py),
    else the graph's (where qonnx's ``set_metadata_prop`` puts it)."""
    for p in model.model.metadata_props:
        if p.key == key:
            return p.value
    return model.get_metadata_prop(key)


def input_range(ref: ModelWrapper) -> tuple[float, float]:
    """Float range to draw inputs from: metadata, else the first quantizer's range mapped
    back through scalar affine preprocessing."""
    meta = model_metadata(ref, "bitfab.input_range")
    if meta:
        lo, hi = (float(v) for v in meta.split(","))
        return lo, hi
    a, b = 1.0, 0.0  # x_at_quantizer = a * x + b
    t = ref.graph.input[0].name
    while True:
        cons = ref.find_consumers(t)
        if len(cons) != 1:
            break
        n = cons[0]
        c = ref.get_initializer(n.input[1]) if len(n.input) > 1 else None
        if is_quantizer(n):
            q = read_quantizer(ref, n)
            s = float(np.asarray(q.scale).ravel()[0])
            lo_q, hi_q = s * q.qmin, s * q.qmax
            x0, x1 = sorted(((lo_q - b) / a, (hi_q - b) / a))
            return x0, x1
        if n.op_type in LAYOUT_OPS:
            pass
        elif c is not None and c.size == 1 and n.input[0] == t:
            v = float(c.ravel()[0])
            if n.op_type == "Mul":
                a, b = a * v, b * v
            elif n.op_type == "Div":
                a, b = a / v, b / v
            elif n.op_type == "Add":
                b = b + v
            elif n.op_type == "Sub":
                b = b - v
            else:
                break
        else:
            break
        t = n.output[0]
    return -1.0, 1.0


def draw_inputs(ref: ModelWrapper, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    iname = ref.graph.input[0].name
    shape = [n, *ref.get_tensor_shape(iname)[1:]]
    dt = ref.get_tensor_datatype(iname)
    if dt.is_integer():
        if dt.name == "BIPOLAR":
            return rng.choice(np.array([-1.0, 1.0], np.float32), size=shape)
        return rng.integers(int(dt.min()), int(dt.max()) + 1, size=shape).astype(np.float32)
    lo, hi = input_range(ref)
    w = hi - lo
    return rng.uniform(lo - MARGIN * w, hi + MARGIN * w, size=shape).astype(np.float32)


def _batched(ref: ModelWrapper, n: int) -> ModelWrapper:
    return ref.transform(ChangeBatchSize(n)).transform(InferShapes())


def _rebatch(model: ModelWrapper, n: int) -> ModelWrapper:
    """Batch ``n`` by editing the leading dimension of every tensor (the dataflow layers'
    shapes come from their attributes, so shape inference from scratch cannot be used)."""
    m = ModelWrapper(model.model.__deepcopy__())
    for vi in list(m.graph.input) + list(m.graph.output) + list(m.graph.value_info):
        dims = vi.type.tensor_type.shape.dim
        if dims and dims[0].dim_value == 1:
            dims[0].dim_value = n
    return m


def run_dataflow(df: ModelWrapper, ints: np.ndarray) -> tuple[np.ndarray, dict]:
    """The dataflow graph's own reference (each layer's numpy oracle) on design integers.

    Returns the design output as int64 and the full execution context (per-layer tensors).
    """
    ctx = execute_onnx(
        _rebatch(df, len(ints)),
        {df.graph.input[0].name: ints.astype(np.float32)},
        return_full_exec_context=True,
    )
    return np.rint(ctx[df.graph.output[0].name]).astype(np.int64), ctx


def run_reference(
    ref: ModelWrapper, x: np.ndarray, full: bool = False, task: Task | None = None
) -> dict:
    """execute_onnx on batches; returns output (and all tensors when ``full``). ``task``
    advances by each batch's images."""
    iname = ref.graph.input[0].name
    out = {}
    cache = {}
    for i in range(0, len(x), CHUNK):
        xb = x[i : i + CHUNK]
        m = cache.get(len(xb))
        if m is None:
            m = cache[len(xb)] = _batched(ref, len(xb))
        ctx = execute_onnx(m, {iname: xb}, return_full_exec_context=full)
        for k, v in ctx.items():
            v = np.asarray(v)
            if v.ndim and v.shape[0] == len(xb) and m.get_initializer(k) is None:
                out.setdefault(k, []).append(v)
        if task is not None:
            task.advance(len(xb))
    return {k: np.concatenate(v) for k, v in out.items()}


WIDE = "__f64"  # suffix of the float64 accumulator tensors with_exact_accumulation adds


def with_exact_accumulation(ref: ModelWrapper) -> ModelWrapper:
    """The same graph with every MatMul/Conv accumulated in float64 and rounded once to
    float32 (``flows.exact_ops.ExactAccumulate``; the float64 sum is kept as ``<out>__f64``).

    This is the reference the hardware implements: its accumulators are exact integers, and
    everything else (host head, the affine/BN chain absorbed into thresholds, host tail) is
    the graph's own float32 ops. Widening the whole graph to float64 instead would also move
    the float32 preprocessing and BN chains, which the hardware reproduces exactly in float32,
    onto the other side of a rounding boundary now and then. Operands that come from a
    quantizer are taken as the exact multiples ``q * scale`` the hardware's integers stand for
    (the float32 ``Quant`` output rounds ``q * scale`` when the scale is not a power of two,
    which can move an exactly-zero accumulator off its threshold).
    """
    m = ModelWrapper(ref.model.__deepcopy__())
    g = m.graph
    nodes = [n for n in g.node if n.op_type in ACCUMULATING_OPS or _residual_add(m, n)]
    for node in nodes:
        inputs = list(node.input) + [""] * (3 - len(node.input))
        inputs += [_operand_scale(m, node.input[0]), _operand_scale(m, node.input[1])]
        attrs = {"kind": node.op_type}
        for name in ("strides", "pads", "dilations", "group"):
            if attr(node, name) is not None:
                attrs[name] = attr(node, name)
        if node.op_type == "Conv" and "pads" not in attrs:
            attrs["pads"] = _conv_pads(m, node)
        new = helper.make_node(
            "ExactAccumulate",
            inputs,
            [node.output[0], node.output[0] + WIDE],
            domain="flows.exact_ops",
            name=node.name,
            **attrs,
        )
        shape = m.get_tensor_shape(node.output[0])
        g.value_info.append(
            helper.make_tensor_value_info(node.output[0] + WIDE, TensorProto.DOUBLE, shape)
        )
        replace_nodes(m, [node], [new])
    return m


def _residual_add(model: ModelWrapper, node) -> bool:
    """An Add of two quantizers' outputs (a residual join) of scales the hardware can add
    exactly (one scale, or two with integer multipliers, ``flows.dyadic``): the hardware adds
    their integers exactly, where the float32 reference rounds each product and the sum."""
    if node.op_type != "Add" or len(node.input) != 2:
        return False
    scales = [_operand_scale(model, t) for t in node.input]
    if not all(scales):
        return False
    a, b = (model.get_initializer(t) for t in scales)
    try:
        scaled_sum(a, b, f"node '{node.name}'")
    except UnsupportedError:
        return False  # the compiler refuses this add: nothing to re-check
    return True


def _operand_scale(model: ModelWrapper, tensor: str) -> str:
    """Name of the constant scale of the quantizer behind ``tensor`` (through layout ops,
    MaxPool and Relu, which keep values multiples of it), or "" if there is none."""
    node = model.find_producer(tensor)
    while node is not None and node.op_type in SCALE_COMMUTING_OPS:
        node = model.find_producer(node.input[0])
    if is_quantizer(node) and model.get_initializer(node.input[1]) is not None:
        return node.input[1]
    return ""


def _conv_pads(model: ModelWrapper, node) -> list[int]:
    """Explicit pads of a Conv without a ``pads`` attribute (auto_pad or none)."""
    auto = attr(node, "auto_pad", "NOTSET")
    if auto in ("NOTSET", "VALID"):
        return [0, 0, 0, 0]
    if len(model.get_tensor_shape(node.input[0])) == 3:  # 1-D: the 2-D one of height 1
        _, _, w = model.get_tensor_shape(node.input[0])
        h, k = 1, [1, *model.get_tensor_shape(node.input[1])[2:]]
        s = [1, *attr(node, "strides", [1])]
        return _auto_pads(auto, (h, w), k, s)[1::2]
    _, _, h, w = model.get_tensor_shape(node.input[0])
    k = model.get_tensor_shape(node.input[1])[2:]
    s = list(attr(node, "strides", [1, 1]))
    return _auto_pads(auto, (h, w), k, s)


def _auto_pads(auto: str, hw, k, s) -> list[int]:
    """ONNX's SAME_UPPER/SAME_LOWER pads [top, left, bottom, right] of a 2-D window."""
    h, w = hw
    pads = []
    for size, kk, ss in zip((h, w), k, s):
        total = max((-(-size // ss) - 1) * ss + kk - size, 0)
        pads.append(
            (total // 2, total - total // 2)
            if auto == "SAME_UPPER"
            else (total - total // 2, total // 2)
        )
    return [pads[0][0], pads[1][0], pads[0][1], pads[1][1]]


def _compare_point(acc: Accelerator) -> str | None:
    """Tail tensor compared instead of the output when the tail has a transcendental op."""
    for op in acc.tail.ops:
        if op.op_type in TRANSCENDENTAL:
            return op.inputs[0]
    return None


def verify_build(
    build_dir: Path,
    n: int,
    seed: int = 0,
    inputs: np.ndarray | None = None,
    acc: Accelerator | None = None,
    progress: Progress = SILENT,
) -> dict:
    """Run the three executions on the same inputs and compare them exactly; the design runs
    on ``acc``'s backend (the C-simulation unless given: rtlsim passes its own). ``progress``
    counts the images through each execution."""
    d = Path(build_dir)
    ref = ModelWrapper(str(d / "reference.onnx"))
    df = ModelWrapper(str(d / "dataflow.onnx"))
    acc = acc or Accelerator.from_build(d, backend="csim")
    design = acc.backend.name
    x = inputs.astype(np.float32) if inputs is not None else draw_inputs(ref, n, seed)
    n = len(x)
    oname = ref.graph.output[0].name
    point = _compare_point(acc)
    with progress.task("verify reference", n, "images") as t:
        ref_ctx = run_reference(ref, x, full=point is not None, task=t)
    ref_out = ref_ctx[point] if point else ref_ctx[oname]

    ints = acc.run_head(x)
    df_out = []
    with progress.task("verify dataflow", n, "images") as t:
        for i in range(0, n, CHUNK):  # each image on its own: batches give the same integers
            df_out.append(run_dataflow(df, ints[i : i + CHUNK])[0])
            t.advance(len(df_out[-1]))
    df_out = np.concatenate(df_out)
    with progress.task(f"verify {design}", n, "images") as t:
        hw_ints = acc.run_design(ints)  # one run: rtlsim measures the whole batch
        t.update(n)
    df_out = df_out.reshape(hw_ints.shape)
    tail_env = acc.tail.run(hw_ints.astype(np.float32))
    hw_out = tail_env[point] if point else tail_env[acc.tail.output]

    bad_csim = np.flatnonzero(np.any((hw_ints != df_out).reshape(n, -1), axis=1))
    bad_ref = np.flatnonzero(~_rows_equal(ref_out, hw_out))
    rounding, mismatch = [], []
    if len(bad_ref):
        ref_exact = with_exact_accumulation(ref)
        iname = ref.graph.input[0].name
        with progress.task("verify re-check", len(bad_ref), "images") as t:
            for k, i in enumerate(bad_ref):
                t.update(k, what=f"image {i}")
                xi = x[i : i + 1]
                single = execute_onnx(ref, {iname: xi}, return_full_exec_context=point is not None)
                r1 = single[point] if point else single[oname]
                if _rows_equal(r1, hw_out[i : i + 1]).all():
                    rounding.append(int(i))  # batched float32 summation order differed
                    continue
                exact = execute_onnx(ref_exact, {iname: xi}, return_full_exec_context=True)
                if _first_bad_layer(ref, df, exact, xi, acc) is None:
                    rounding.append(int(i))  # exact accumulation agrees with every hw integer
                else:
                    mismatch.append(int(i))
            t.update(len(bad_ref), what="")
    result = {
        "n": int(n),
        "compared": f"values entering {point} (transcendental tail op)" if point else "outputs",
        f"{design}_vs_dataflow_mismatches": len(bad_csim),
        "reference_mismatches": len(mismatch),
        "reference_rounding": len(rounding),
        "status": "pass" if not mismatch and not len(bad_csim) else "mismatch",
    }
    if mismatch or len(bad_csim):
        i = int(mismatch[0] if mismatch else bad_csim[0])
        xi = x[i : i + 1]
        ctx = execute_onnx(ref, {ref.graph.input[0].name: xi}, return_full_exec_context=True)
        layer = _first_bad_layer(ref, df, ctx, xi, acc) or "(all layers agree; host tail differs)"
        result["first_mismatch"] = {"sample": i, "layer": layer}
        if len(bad_csim):  # the design's own output differs: which element first
            diff = (hw_ints != df_out).reshape(n, -1)[int(bad_csim[0])]
            result["first_mismatch"]["output_index"] = int(np.argmax(diff))
    return result


def _rows_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a).reshape(len(a), -1)
    b = np.asarray(b).reshape(len(b), -1)
    return np.all((a == b) | (np.isnan(a) & np.isnan(b)), axis=1)


def _first_bad_layer(
    ref: ModelWrapper, df: ModelWrapper, ctx: dict, x: np.ndarray, acc
) -> str | None:
    """The first dataflow layer whose integers differ from the reference's (``ctx``: a full
    execution context of the reference, or of ``with_exact_accumulation`` of it), or None if
    all agree."""
    dctx = execute_onnx(
        df,
        {df.graph.input[0].name: acc.run_head(x).astype(np.float32)},
        return_full_exec_context=True,
    )
    for node in df.graph.node:
        rt = attr(node, "ref_tensor", "")
        if not rt or rt not in ctx:
            continue
        ref_scale = attr(node, "ref_scale")
        if ref_scale is not None:
            scale = np.asarray(list(ref_scale), np.float64)
        else:
            prod = ref.find_producer(rt)
            while prod is not None and prod.op_type == "Relu":  # Relu after the quantizer
                prod = ref.find_producer(prod.input[0])
            scale = np.asarray(read_quantizer(ref, prod).scale, np.float64)
        got = np.rint(dctx[node.output[0]]).astype(np.int64)
        val = ctx.get(rt + WIDE, ctx[rt])  # an accumulation before its rounding to float32
        want = np.rint(np.asarray(val, np.float64) / scale).astype(np.int64)
        if want.ndim == 4 and got.ndim == 4:  # reference NCHW, dataflow channels last
            want = want.transpose(TO_NHWC)
        elif want.ndim == 3 and got.ndim == 4:  # a 1-D net's NCL, run as N1LC
            want = want.transpose(0, 2, 1)
        if not np.array_equal(want.reshape(got.shape), got):
            return node.name
    return None
