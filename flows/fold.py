"""Folding: choose PE/SIMD per layer.

Either from an editable JSON folding file, or balanced for a target FPS: each layer gets the
least parallelism (PE*SIMD) whose cycles meet the target cycle budget. Without a target the
fastest design whose estimated resources fit the board's budget is chosen. PE always divides
MH and SIMD divides MW, so the folding can be built.
"""

from __future__ import annotations

import json
from pathlib import Path

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flows.errors import FoldingError
from flows.layers.common import divisors
from flows.layers.registry import KINDS, layer_spec

MAX_STREAM_BITS = 1024  # widest stream word we generate
BUDGET_FRACTION = 0.7  # share of the board's LUTs/BRAM a default folding may take


def _options(node):
    """Candidate (simd, pe) pairs, cheapest first."""
    if node.op_type not in KINDS:
        return []
    inst = getCustomOp(node)
    s = inst.spec()
    if node.op_type == "MVAU":
        ib, ob = s.idt.bitwidth(), max(s.odt.bitwidth(), 1)
        cands = [
            (si, pe)
            for si in divisors(s.mw)
            for pe in divisors(s.mh)
            if si * ib <= MAX_STREAM_BITS and pe * ob <= MAX_STREAM_BITS
        ]
        return sorted(cands, key=lambda c: (c[0] * c[1], -c[0]))
    if node.op_type == "Thresholding":
        ob = max(s.odt.bitwidth(), s.idt.bitwidth())
        return [(1, pe) for pe in divisors(s.channels) if pe * ob <= MAX_STREAM_BITS]
    if node.op_type == "SlidingWindow":
        b = s.dtype.bitwidth()
        return [(si, 1) for si in divisors(s.ifm_ch) if si * b <= MAX_STREAM_BITS]
    if node.op_type == "StreamingMaxPool":
        b = s.dtype.bitwidth()
        return [(1, pe) for pe in divisors(s.channels) if pe * b <= MAX_STREAM_BITS]
    return []


def _set(node, simd: int, pe: int) -> None:
    inst = getCustomOp(node)
    if node.op_type in ("MVAU", "SlidingWindow"):
        inst.set_nodeattr("SIMD", int(simd))
    if node.op_type != "SlidingWindow":
        inst.set_nodeattr("PE", int(pe))


def _cycles(node) -> int:
    return KINDS[node.op_type].cost.cycles(layer_spec(node))


def fold_for_cycles(model: ModelWrapper, target_cycles: int) -> None:
    """Least parallelism per layer meeting ``target_cycles`` (or the fastest it can get)."""
    for node in model.graph.node:
        opts = _options(node)
        if not opts:
            continue
        chosen = opts[-1]
        for simd, pe in opts:
            _set(node, simd, pe)
            if _cycles(node) <= target_cycles:
                chosen = (simd, pe)
                break
        _set(node, *chosen)


def total_resources(model: ModelWrapper) -> dict[str, int]:
    tot = {"LUT": 0, "BRAM18": 0, "DSP": 0}
    for node in model.graph.node:
        kind = KINDS.get(node.op_type)
        if kind is None:
            continue
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
    worst = max((_cycles(n) for n in model.graph.node if n.op_type in KINDS), default=1)
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


def folding_config(model: ModelWrapper) -> dict:
    layers = {}
    for node in model.graph.node:
        if node.op_type == "MVAU":
            inst = getCustomOp(node)
            layers[node.name] = {"SIMD": inst.get_nodeattr("SIMD"), "PE": inst.get_nodeattr("PE")}
        elif node.op_type in ("Thresholding", "StreamingMaxPool"):
            layers[node.name] = {"PE": getCustomOp(node).get_nodeattr("PE")}
        elif node.op_type == "SlidingWindow":
            layers[node.name] = {"SIMD": getCustomOp(node).get_nodeattr("SIMD")}
    return {"layers": layers}


def apply_folding_file(model: ModelWrapper, path: str | Path) -> dict:
    """Apply a folding JSON ({"layers": {name: {"SIMD": s, "PE": p}}}), checking every entry."""
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
    foldable = ("MVAU", "Thresholding", "SlidingWindow", "StreamingMaxPool")
    by_name = {n.name: n for n in model.graph.node if n.op_type in foldable}
    for name, entry in layers.items():
        node = by_name.get(name)
        if node is None:
            raise FoldingError(
                f"{p}: no foldable layer named '{name}'; layers: {', '.join(sorted(by_name))}"
            )
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k, 1), int) and entry.get(k, 1) >= 1 for k in ("SIMD", "PE")
        ):
            raise FoldingError(f"{p}: layer '{name}': SIMD and PE must be positive integers")
        inst = getCustomOp(node)
        has_simd = node.op_type in ("MVAU", "SlidingWindow")
        has_pe = node.op_type != "SlidingWindow"
        _set(
            node,
            entry.get("SIMD", inst.get_nodeattr("SIMD") if has_simd else 1),
            entry.get("PE", inst.get_nodeattr("PE") if has_pe else 1),
        )
        try:
            layer_spec(node)
        except Exception as exc:
            raise FoldingError(f"{p}: {exc}") from None
    return folding_config(model)
