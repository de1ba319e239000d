"""Host head and tail: the small float parts of the model that run on the CPU.

They are kept from the model as a list of ONNX-like ops and run here with numpy in the
graph's order and the graph's float32 dtype. For Mul/Add/Sub/Div/Quant/TopK that is exactly
what the reference executor computes, so the final outputs are bit-identical. Transcendental
ops (Softmax) are the exception; verification compares the values entering them.

numpy only: this file ships to the board.
"""

from __future__ import annotations

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
            args = [env[i] for i in op.inputs if i]
            env[op.outputs[0]] = _exec(op, args, env, op.outputs)
            if op.op_type == "TopK" and len(op.outputs) > 1:
                env[op.outputs[1]] = env.pop("__topk_indices")
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


def _exec(op: HostOp, a: list[np.ndarray], env: dict, outputs) -> np.ndarray:
    t = op.op_type
    at = op.attrs
    if t == "Mul":
        return a[0] * a[1]
    if t == "Add":
        return a[0] + a[1]
    if t == "Sub":
        return a[0] - a[1]
    if t == "Div":
        return a[0] / a[1]
    if t == "Relu":
        return np.maximum(a[0], np.asarray(0, a[0].dtype))
    if t == "Identity":
        return a[0]
    if t in ("Reshape", "Flatten"):
        n = a[0].shape[0]
        return a[0].reshape((n, *at["shape"][1:]))
    if t == "Transpose":
        return np.transpose(a[0], at["perm"])
    if t == "Quant":
        return quant(
            a[0],
            a[1],
            a[2],
            int(np.asarray(a[3]).ravel()[0]),
            bool(at["signed"]),
            bool(at["narrow"]),
            at.get("rounding_mode", "ROUND"),
        )
    if t == "BipolarQuant":
        return (np.where(a[0] >= 0.0, 1.0, -1.0).astype(a[0].dtype) * a[1]).astype(a[0].dtype)
    if t == "Softmax":
        axis = at.get("axis", -1)
        z = a[0] - a[0].max(axis=axis, keepdims=True)
        e = np.exp(z)
        return (e / e.sum(axis=axis, keepdims=True)).astype(a[0].dtype)
    if t == "ArgMax":
        axis = at.get("axis", 0)
        r = np.argmax(a[0], axis=axis)
        return np.expand_dims(r, axis) if at.get("keepdims", 1) else r
    if t == "TopK":
        k = int(np.asarray(a[1]).ravel()[0])
        axis = at.get("axis", -1)
        largest = at.get("largest", 1)
        key = -a[0] if largest else a[0]
        idx = np.argsort(key, axis=axis, kind="stable")
        idx = np.take(idx, np.arange(k), axis=axis)
        env["__topk_indices"] = idx.astype(np.int64)
        return np.take_along_axis(a[0], idx, axis=axis)
    raise ValueError(f"host op {t} is not supported by the driver")
