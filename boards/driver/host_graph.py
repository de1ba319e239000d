"""Host head and tail: the small float parts of the model that run on the CPU.

They are kept from the model as a list of ONNX-like ops and run here with numpy in the
graph's order and the graph's float32 dtype. For Mul/Add/Sub/Div/Quant/TopK that is exactly
what the reference executor computes, so the final outputs are bit-identical. Transcendental
ops (Softmax) are the exception; verification compares the values entering them.

numpy only: this file ships to the board.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

TRANSCENDENTAL = ("Softmax",)


def _round(x: np.ndarray, mode: str) -> np.ndarray:
    mode = mode.upper()
    if mode in ("ROUND", "HALF_EVEN"):
        return np.round(x)
    if mode == "CEIL":
        return np.ceil(x)
    if mode == "FLOOR":
        return np.floor(x)
    if mode == "UP":
        return np.sign(x) * np.ceil(np.abs(x))
    if mode == "DOWN":
        return np.fix(x)
    if mode == "HALF_UP":
        return np.sign(x) * np.floor(np.abs(x) + 0.5)
    if mode == "HALF_DOWN":
        return np.sign(x) * np.ceil(np.abs(x) - 0.5)
    raise ValueError(f"unknown rounding mode {mode}")


def quant(x, scale, zeropt, bits, signed, narrow, rounding_mode):
    """QONNX Quant, same float32 op order as qonnx's int_quant."""
    y = x / scale
    y = y + zeropt
    if bits == 1 and signed:
        y = np.where(y >= 0.0, np.float32(1), np.float32(-1)).astype(x.dtype)
    else:
        if signed:
            lo = -(2 ** (bits - 1)) + (1 if narrow else 0)
            hi = 2 ** (bits - 1) - 1
        else:
            lo = 0
            hi = 2**bits - 1 - (1 if narrow else 0)
        y = np.where(y > hi, np.asarray(hi, y.dtype), y)
        y = np.where(y < lo, np.asarray(lo, y.dtype), y)
        y = _round(y, rounding_mode)
    y = y - zeropt
    return (y * scale).astype(x.dtype)


@dataclass
class HostOp:
    op_type: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict = field(default_factory=dict)


@dataclass
class HostGraph:
    """A straight-line float program: named tensors, constants, ops."""

    input: str
    output: str
    ops: list[HostOp]
    consts: dict[str, np.ndarray]

    def run(self, x: np.ndarray, batch_shape_fix: bool = True, stop_before=None) -> dict:
        """Execute; returns every tensor (so verification can look inside)."""
        env: dict[str, np.ndarray] = dict(self.consts)
        env[self.input] = x
        for op in self.ops:
            if stop_before is not None and op.op_type in stop_before:
                break
            run_op = OPS.get(op.op_type)
            if run_op is None:
                raise ValueError(f"host op {op.op_type} is not supported by the driver")
            results = run_op(op, [env[i] for i in op.inputs if i])
            env.update(zip(op.outputs, results))  # an unused optional output is left out
        return env

    def to_json(self) -> dict:
        return {
            "input": self.input,
            "output": self.output,
            "ops": [
                {"op_type": o.op_type, "inputs": o.inputs, "outputs": o.outputs, "attrs": o.attrs}
                for o in self.ops
            ],
        }

    @classmethod
    def from_json(cls, d: dict, consts: dict[str, np.ndarray]) -> HostGraph:
        ops = [HostOp(o["op_type"], o["inputs"], o["outputs"], o["attrs"]) for o in d["ops"]]
        return cls(d["input"], d["output"], ops, consts)


# One function per host op: ``(op, inputs) -> outputs``, in the graph's float32.
HostFn = Callable[[HostOp, list[np.ndarray]], tuple[np.ndarray, ...]]


def _mul(op: HostOp, a: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    return (a[0] * a[1],)


def _add(op: HostOp, a: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    return (a[0] + a[1],)


def _sub(op: HostOp, a: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    return (a[0] - a[1],)


def _div(op: HostOp, a: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    return (a[0] / a[1],)


def _relu(op: HostOp, a: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    return (np.maximum(a[0], np.asarray(0, a[0].dtype)),)


def _identity(op: HostOp, a: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    return (a[0],)


def _reshape(op: HostOp, a: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Reshape and Flatten: to the graph's shape, keeping this run's batch size."""
    return (a[0].reshape((a[0].shape[0], *op.attrs["shape"][1:])),)


def _transpose(op: HostOp, a: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    return (np.transpose(a[0], op.attrs["perm"]),)


def _quant(op: HostOp, a: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    bits = int(np.asarray(a[3]).ravel()[0])
    at = op.attrs
    rounding = at.get("rounding_mode", "ROUND")
    return (quant(a[0], a[1], a[2], bits, bool(at["signed"]), bool(at["narrow"]), rounding),)


def _bipolar_quant(op: HostOp, a: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    x = a[0]
    return ((np.where(x >= 0.0, 1.0, -1.0).astype(x.dtype) * a[1]).astype(x.dtype),)


def _softmax(op: HostOp, a: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    axis = op.attrs.get("axis", -1)
    z = a[0] - a[0].max(axis=axis, keepdims=True)
    e = np.exp(z)
    return ((e / e.sum(axis=axis, keepdims=True)).astype(a[0].dtype),)


def _argmax(op: HostOp, a: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    axis = op.attrs.get("axis", 0)
    r = np.argmax(a[0], axis=axis)
    return (np.expand_dims(r, axis) if op.attrs.get("keepdims", 1) else r,)


# ONNX TensorProto element types a Cast may name, as numpy dtypes (numpy only: no onnx here)
CAST_TYPES = {1: np.float32, 6: np.int32, 7: np.int64, 11: np.float64}


def _cast(op: HostOp, a: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Cast: the graph's int64 label index from the accelerator's (float-held) integer."""
    return (a[0].astype(CAST_TYPES[int(op.attrs["to"])]),)


def _topk(op: HostOp, a: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Values and indices of the k largest (or smallest), ties in index order."""
    k = int(np.asarray(a[1]).ravel()[0])
    axis = op.attrs.get("axis", -1)
    key = -a[0] if op.attrs.get("largest", 1) else a[0]
    idx = np.argsort(key, axis=axis, kind="stable")
    idx = np.take(idx, np.arange(k), axis=axis)
    return np.take_along_axis(a[0], idx, axis=axis), idx.astype(np.int64)


# The ops the host runs; the compiler keeps on the host only what this table names.
OPS: dict[str, HostFn] = {
    "Mul": _mul,
    "Add": _add,
    "Sub": _sub,
    "Div": _div,
    "Relu": _relu,
    "Identity": _identity,
    "Reshape": _reshape,
    "Flatten": _reshape,
    "Transpose": _transpose,
    "Quant": _quant,
    "BipolarQuant": _bipolar_quant,
    "Softmax": _softmax,
    "ArgMax": _argmax,
    "TopK": _topk,
    "Cast": _cast,
}
HOST_OPS = frozenset(OPS)
