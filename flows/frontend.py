"""Frontend: load a QONNX file, clean it with qonnx, check it is something we can map.

Every problem found here is a user error with a message that names the file or node, says
what is wrong and what would work (exit code 1 at the CLI).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.general.intquant import resolve_rounding_mode
from qonnx.transformation.general import GiveReadableTensorNames, GiveUniqueNodeNames
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.quant_constant_folding import FoldTransposeIntoQuantInit
from qonnx.util.cleanup import cleanup_model

from flows.errors import BitfabError, ModelFileError, UnsupportedError
from flows.graph import attr
from flows.ops import QUANT_OPS, SUPPORTED_OPS, TRUNC_OPS
from flows.passes.gemm_to_matmul import GemmToMatMul
from flows.passes.infer_shapes import InferShapes
from flows.passes.quantize_input_fixed import FixedPoint, QuantizeInputFixed

log = logging.getLogger(__name__)

# Domains a QONNX quantizer may carry: qonnx's own, FINN's legacy one, and Brevitas' export.
QUANT_DOMAINS = {"qonnx.custom_op.general", "finn.custom_op.general", "onnx.brevitas"}
STANDARD_DOMAINS = {"", "ai.onnx"}
# ONNX opsets the reference executor (onnxruntime via qonnx) runs for our ops: below 9 several
# of them have other signatures (e.g. Gemm needs C), above the installed onnx nothing is known.
MIN_OPSET = 9
MAX_OPSET = onnx.defs.onnx_opset_version()
# Elements per image of any tensor and of any weight: far above what fits the largest board's
# on-chip memory, low enough that the reference executor never allocates gigabytes.
MAX_TENSOR_ELEMS = 1 << 24


def load_model(path: str | Path) -> ModelWrapper:
    """Read an ONNX file, turning every way it can be unreadable into a ModelFileError."""
    p = Path(path)
    if not p.exists():
        raise ModelFileError(
            f"{p}: no such file; give the path of a QONNX .onnx file or a zoo name"
        )
    if not p.is_file():
        raise ModelFileError(f"{p}: not a file; give the path of a QONNX .onnx file")
    data = p.read_bytes()
    if not data:
        raise ModelFileError(f"{p}: the file is empty; export the model again")
    try:
        proto = onnx.load_model_from_string(data)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise ModelFileError(
            f"{p}: not a readable ONNX file ({type(exc).__name__}); it may be truncated or "
            "another format: export it again with brevitas.export.export_qonnx"
        ) from None
    if not proto.graph.node:
        raise ModelFileError(f"{p}: the ONNX graph has no nodes (truncated or not a model)")
    return ModelWrapper(proto)


def _rounding_mode_known(mode: str) -> bool:
    """Whether qonnx's own resolver (what the reference executes) knows ``mode``."""
    try:
        resolve_rounding_mode(mode)
    except ValueError:
        return False
    return True


def _check_proto(model: ModelWrapper, src: str) -> None:
    """What the ONNX file itself must get right before qonnx may touch it."""
    versions = {o.domain: o.version for o in model.model.opset_import}
    std = versions.get("", versions.get("ai.onnx"))
    if std is None or not MIN_OPSET <= std <= MAX_OPSET:
        raise UnsupportedError(
            f"{src}: ONNX opset {std} is not supported (bitfab reads opsets {MIN_OPSET} to "
            f"{MAX_OPSET}); export again, e.g. brevitas.export.export_qonnx(..., opset_version=13)"
        )
    for node in model.graph.node:
        domains = QUANT_DOMAINS if node.op_type in QUANT_OPS | TRUNC_OPS else STANDARD_DOMAINS
        if node.domain not in domains:
            raise UnsupportedError(
                f"{src}: node '{node.name}' ({node.op_type}) is from domain '{node.domain}', "
                f"which bitfab does not know; expected one of {sorted(domains)}"
            )
        names = [a.name for a in node.attribute]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ModelFileError(
                f"{src}: node '{node.name}' has attribute(s) {', '.join(dup)} more than once; "
                "the file is malformed, export it again"
            )
        if node.op_type == "Quant":
            for a in node.attribute:
                mode = a.s.decode(errors="replace").upper() if a.name == "rounding_mode" else None
                if mode is not None and not _rounding_mode_known(mode):
                    raise UnsupportedError(
                        f"{src}: node '{node.name}' has rounding_mode '{mode}', which the QONNX "
                        "reference cannot execute; use one of ROUND, HALF_EVEN, CEIL, FLOOR, UP, "
                        "DOWN, HALF_UP, HALF_DOWN"
                    )


def _static(vi) -> bool:
    """A known shape with every dimension a positive number (a scalar's empty shape too)."""
    t = vi.type.tensor_type
    return t.HasField("shape") and all(
        d.HasField("dim_value") and d.dim_value > 0 for d in t.shape.dim
    )


def _fix_symbolic_dims(model: ModelWrapper, src: str) -> list[str]:
    """Batch 1 for a symbolic input batch; every other symbolic dimension (outputs,
    intermediate tensors) is forgotten, for shape inference to work out from the input.

    Some exporters leave ``N`` or ``batch_size`` on the batch axis or on the graph output; at
    batch 1 and a static input, every other shape follows. Returns what was changed, for the log.
    """
    fixed = []
    inits = {i.name for i in model.graph.initializer}
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        dims = vi.type.tensor_type.shape.dim
        if not dims:
            raise UnsupportedError(
                f"{src}: input '{vi.name}' has a dynamic or missing shape []; export with a "
                "fixed shape (batch 1), e.g. torch.rand(1, C, H, W) as the example input"
            )
        for k, d in enumerate(dims):
            if d.HasField("dim_value") and d.dim_value > 0:
                continue
            if k == 0 and len(dims) > 1:
                fixed.append(f"input '{vi.name}' batch {d.dim_param or '?'} -> 1")
                d.Clear()
                d.dim_value = 1
                continue
            shape = [x.dim_param or x.dim_value for x in dims]
            raise UnsupportedError(
                f"{src}: input '{vi.name}' has a dynamic or missing shape {shape}: only the "
                "batch axis may be symbolic; export with a fixed shape (batch 1), e.g. "
                "torch.rand(1, C, H, W) as the example input"
            )
    for vi in model.graph.output:
        if not _static(vi):
            fixed.append(f"output '{vi.name}' shape inferred")
            vi.type.tensor_type.ClearField("shape")
    keep = [vi for vi in model.graph.value_info if _static(vi)]
    if len(keep) != len(model.graph.value_info):
        fixed.append(f"{len(model.graph.value_info) - len(keep)} intermediate shape(s) inferred")
        del model.graph.value_info[:]
        model.graph.value_info.extend(keep)
    return fixed


def _check_static_io(model: ModelWrapper, src: str) -> None:
    inits = {i.name for i in model.graph.initializer}
    inputs = [vi for vi in model.graph.input if vi.name not in inits]
    if len(inputs) != 1 or len(model.graph.output) != 1:
        raise UnsupportedError(
            f"{src}: the graph has {len(inputs)} inputs and "
            f"{len(model.graph.output)} outputs; bitfab maps single-input single-output nets"
        )
    for vi in inputs:
        if vi.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
            kind = onnx.TensorProto.DataType.Name(vi.type.tensor_type.elem_type)
            raise UnsupportedError(
                f"{src}: input '{vi.name}' is {kind}; bitfab expects a FLOAT input, as "
                "Brevitas exports it (the input quantizer makes it integer)"
            )


def _check_inferred_shapes(model: ModelWrapper, src: str) -> None:
    for vi in model.graph.output:
        if not _static(vi):
            raise UnsupportedError(
                f"{src}: the shape of output '{vi.name}' could not be inferred from the input "
                "at batch 1; export with a fixed shape (batch 1)"
            )


def _check_sizes(model: ModelWrapper, src: str) -> None:
    """Tensor sizes within reason, and matrix products whose shapes agree.

    qonnx's shape inference does not stop at a declared input shape that disagrees with the
    weights (the quantizers in between hide it from onnx), so the products are checked here.
    """
    for vi in list(model.graph.input) + list(model.graph.value_info) + list(model.graph.output):
        shape = model.get_tensor_shape(vi.name)
        if shape and int(np.prod(shape)) > MAX_TENSOR_ELEMS:
            raise UnsupportedError(
                f"{src}: tensor '{vi.name}' has shape {list(shape)} ({int(np.prod(shape))} "
                f"elements), more than bitfab handles ({MAX_TENSOR_ELEMS}); no supported board "
                "could hold it"
            )
    for init in model.graph.initializer:
        n = int(np.prod(init.dims)) if init.dims else 1
        if n > MAX_TENSOR_ELEMS:
            raise UnsupportedError(
                f"{src}: initializer '{init.name}' has {n} elements, more than bitfab handles "
                f"({MAX_TENSOR_ELEMS}); no supported board could hold it"
            )
    for node in model.graph.node:  # quantizers are elementwise: what goes in comes out
        if node.op_type in QUANT_OPS:
            a, y = model.get_tensor_shape(node.input[0]), model.get_tensor_shape(node.output[0])
            if a and y and list(a) != list(y):
                raise UnsupportedError(
                    f"{src}: node '{node.name}' quantizes a {list(a)} tensor, but the layer "
                    f"after it takes {list(y)}; the shapes do not agree (was the input shape "
                    "declared wrongly?)"
                )
    for node in model.get_nodes_by_op_type("MatMul"):
        a, w = (model.get_tensor_shape(t) for t in node.input[:2])
        if a and w and len(w) == 2 and a[-1] != w[0]:
            raise UnsupportedError(
                f"{src}: node '{node.name}' multiplies a {list(a)} tensor by a {list(w)} weight; "
                "the shapes do not agree (was the input shape declared wrongly?)"
            )
    for node in model.get_nodes_by_op_type("Conv"):
        a, w = (model.get_tensor_shape(t) for t in node.input[:2])
        group = attr(node, "group", 1)
        if a and w and len(a) == 4 and len(w) == 4 and a[1] != w[1] * group:
            raise UnsupportedError(
                f"{src}: node '{node.name}' convolves a {list(a)} tensor with a {list(w)} "
                f"weight (group={group}): {a[1]} input channels, but the weight expects "
                f"{w[1] * group}"
            )


def _check_ops(model: ModelWrapper, src: str) -> None:
    for node in model.graph.node:
        if node.op_type not in SUPPORTED_OPS:
            raise UnsupportedError(
                f"{src}: node '{node.name}' is a {node.op_type}, which bitfab cannot map; "
                f"supported ops: {', '.join(sorted(SUPPORTED_OPS))}"
            )


def _check_quantized(model: ModelWrapper, src: str) -> None:
    matmuls = model.get_nodes_by_op_type("MatMul") + model.get_nodes_by_op_type("Conv")
    if not matmuls:
        raise UnsupportedError(f"{src}: the graph has no MatMul/Gemm layer to map to hardware")
    for mm in matmuls:
        prod = model.find_producer(mm.input[1])
        if prod is None or prod.op_type not in QUANT_OPS:
            raise UnsupportedError(
                f"{src}: node '{mm.name}' multiplies by float (unquantized) weights; bitfab "
                "maps quantized networks: train with Brevitas QuantLinear/QuantConv2d or put a "
                "QONNX Quant node on every weight"
            )
    for node in model.graph.node:
        if node.op_type in QUANT_OPS:
            scale = model.get_initializer(node.input[1])
            if scale is not None and (not np.all(np.isfinite(scale)) or np.any(scale == 0)):
                raise UnsupportedError(
                    f"{src}: node '{node.name}' has a zero, NaN or infinite scale; a quantizer "
                    "needs finite non-zero scales (check the training run or the exporter)"
                )
        for name in node.input:
            init = model.get_initializer(name)
            if init is not None and init.dtype.kind == "f" and not np.all(np.isfinite(init)):
                raise UnsupportedError(
                    f"{src}: node '{node.name}' input '{name}' holds NaN or infinite values"
                )


def import_model(path: str | Path, input_fixed: FixedPoint | None = None) -> ModelWrapper:
    """Load, clean and validate a QONNX model: the reference that verification compares against.

    Cleanup is qonnx's own (shape inference, constant folding that keeps quantizers, unique
    readable names); Gemm becomes MatMul so every later pass sees one matrix op. Symbolic
    dimensions are resolved at batch 1. ``input_fixed`` puts a fixed-point quantizer on a
    float input (``--input-fixed``); it becomes part of the reference.
    """
    src = str(path)
    model = load_model(path)
    _check_proto(model, src)
    for what in _fix_symbolic_dims(model, src):
        log.info("%s: symbolic dimension resolved: %s", src, what)
    _check_static_io(model, src)
    if input_fixed is not None:
        model = model.transform(QuantizeInputFixed(input_fixed), cleanup=False)
    try:
        model = cleanup_model(model)
        model = model.transform(GemmToMatMul())
        model = model.transform(FoldTransposeIntoQuantInit())
        model = model.transform(InferShapes())
        model = model.transform(GiveUniqueNodeNames())
        model = model.transform(GiveReadableTensorNames())
        model = model.transform(InferDataTypes())
    except BitfabError:
        raise
    except Exception as exc:  # qonnx raises many kinds on malformed graphs
        raise ModelFileError(
            f"{src}: qonnx could not clean the graph ({type(exc).__name__}: {exc}); check that "
            "it is a valid QONNX export"
        ) from None
    _check_inferred_shapes(model, src)
    _check_ops(model, src)
    _check_sizes(model, src)
    _check_quantized(model, src)
    return model
