"""Folding: choose PE/SIMD per layer.

Either from an editable JSON folding file, or balanced for a target FPS: each layer gets the
least parallelism whose cycles meet the target cycle budget. Without a target the fastest
design whose estimated resources fit the board's budget is chosen. Every option a kind offers
(``spec.fold_options``) divides its dimensions, so the folding can be built.
"""

from __future__ import annotations

import json
from pathlib import Path

from qonnx.core.modelwrapper import ModelWrapper

from flows.errors import FoldingError, LayerError
from flows.layers.base import FIFO_ATTRS, MAX_STREAM_BITS, MIN_FIFO_DEPTH
from flows.layers.registry import hardware_layers, layer_spec, op_of

BUDGET_FRACTION = 0.7  # share of the board's LUTs/BRAM a default folding may take
FOLD_KEYS = ("SIMD", "PE")


def _cycles(node, kind) -> int:
    return kind.cost.cycles(layer_spec(node))


def fold_for_cycles(model: ModelWrapper, target_cycles: int) -> None:
    """Least parallelism per layer meeting ``target_cycles`` (or the fastest it can get)."""
    for node, kind in hardware_layers(model):
        op = op_of(node)
        opts = op.spec().fold_options(MAX_STREAM_BITS)
        if not opts:
            continue
        chosen = opts[-1]
        for option in opts:
            op.set_folding(option)
            if _cycles(node, kind) <= target_cycles:
                chosen = option
                break
        op.set_folding(chosen)


def total_resources(model: ModelWrapper) -> dict[str, int]:
    tot = {"LUT": 0, "BRAM18": 0, "DSP": 0}
    for node, kind in hardware_layers(model):
        for k, v in kind.cost.resources(layer_spec(node)).items():
            tot[k] += v
    return tot


def fold(model: ModelWrapper, clock_mhz: float, target_fps: float | None, budget: dict) -> dict:
    """Fold for ``target_fps``, or the fastest that fits ``budget`` (LUT/BRAM18/DSP counts)."""
    if target_fps is not None:
        if target_fps <= 0:
            raise FoldingError(f"--target-fps must be positive, got {target_fps}")
        fold_for_cycles(model, max(1, int(clock_mhz * 1e6 / target_fps)))
        return folding_config(model)
    # Fastest that fits: try cycle budgets from fully parallel upwards (powers of two).
    worst = max((_cycles(n, k) for n, k in hardware_layers(model)), default=1)
    target = 1
    while True:
        fold_for_cycles(model, target)
        res = total_resources(model)
        if all(res[k] <= BUDGET_FRACTION * budget.get(k, float("inf")) for k in res):
            break
        if target >= worst:
            break
        target *= 2
    return folding_config(model)


def _foldable(model: ModelWrapper) -> dict[str, object]:
    """Layers with at least one folding axis, by node name."""
    return {n.name: n for n, _ in hardware_layers(model) if op_of(n).spec().FOLD}


def folding_config(model: ModelWrapper) -> dict:
    """folding.json: per hardware layer its folding (SIMD/PE) and its FIFO depths."""
    layers = {}
    for node, _ in hardware_layers(model):
        op = op_of(node)
        entry = {**op.folding(), **op.fifo_depths()}
        if entry:
            layers[node.name] = entry
    return {"layers": layers}


def read_folding_file(path: str | Path) -> dict[str, dict]:
    """The ``layers`` table of a folding JSON, each entry checked for its shape."""
    p = Path(path)
    try:
        cfg = json.loads(p.read_text())
    except FileNotFoundError:
        raise FoldingError(f"{p}: folding file not found") from None
    except json.JSONDecodeError as exc:
        raise FoldingError(f"{p}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    layers = cfg.get("layers") if isinstance(cfg, dict) else None
    if not isinstance(layers, dict):
        raise FoldingError(f'{p}: expected {{"layers": {{"<node>": {{"SIMD": n, "PE": n}}}}}}')
    for name, entry in layers.items():
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k, 1), int) and entry.get(k, 1) >= 1 for k in FOLD_KEYS
        ):
            raise FoldingError(f"{p}: layer '{name}': SIMD and PE must be positive integers")
        for key in FIFO_ATTRS:
            depths = entry.get(key, [MIN_FIFO_DEPTH])
            if not isinstance(depths, list) or not all(
                isinstance(d, int) and d >= MIN_FIFO_DEPTH for d in depths
            ):
                raise FoldingError(
                    f"{p}: layer '{name}': {key} must be a list of integers >= {MIN_FIFO_DEPTH}"
                )
    return layers


def apply_folding(model: ModelWrapper, layers: dict[str, dict], path: str | Path) -> None:
    """Set SIMD/PE from a folding file's entries (before width converters are inserted)."""
    by_name = _foldable(model)
    for name, entry in layers.items():
        if not any(k in entry for k in FOLD_KEYS):
            continue  # FIFO depths only: applied once the width converters exist
        node = by_name.get(name)
        if node is None:
            raise FoldingError(
                f"{path}: no foldable layer named '{name}'; layers: {', '.join(sorted(by_name))}"
            )
        op_of(node).set_folding(entry)
        try:
            layer_spec(node)
        except LayerError as exc:
            raise FoldingError(f"{path}: {exc}") from None


def apply_fifo_depths(model: ModelWrapper, layers: dict[str, dict], path: str | Path) -> None:
    """Set the FIFO depths a folding file gives (after width converters are inserted)."""
    by_name = {n.name: n for n, _ in hardware_layers(model)}
    for name, entry in layers.items():
        keys = [k for k in FIFO_ATTRS if k in entry]
        if not keys:
            continue
        node = by_name.get(name)
        if node is None:
            raise FoldingError(
                f"{path}: no layer named '{name}' in the folded design (width converters "
                "follow the folding: drop the entries of ones it no longer has); layers: "
                f"{', '.join(sorted(by_name))}"
            )
        op = op_of(node)
        for key in keys:
            want = len(op.stream_inputs()) if key == "inFIFODepths" else len(node.output)
            if len(entry[key]) != want:
                raise FoldingError(
                    f"{path}: layer '{name}': {key} needs {want} depth(s), got {entry[key]}"
                )
            op.set_nodeattr(key, [int(d) for d in entry[key]])
