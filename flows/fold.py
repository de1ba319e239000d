"""Folding: choose PE/SIMD per layer.

Either from an editable JSON folding file, or balanced for a target FPS: each layer gets the
least parallelism whose cycles meet the target cycle budget. Without a target the fastest
design whose estimated resources (width converters, FIFOs and the board's shell included) fit
the budget is chosen. Either way no layer is folded faster than the slowest stage the folding
cannot change (the DMA edge, a layer at its fastest option): the speed would be wasted
hardware. Every option a kind offers (``spec.fold_options``) divides its dimensions, so the
folding can be built.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from qonnx.core.modelwrapper import ModelWrapper

from flows.errors import FoldingError, LayerError
from flows.estimate import Budget, folded_resources
from flows.layers.base import FIFO_ATTRS, MAX_STREAM_BITS, MIN_FIFO_DEPTH
from flows.layers.registry import hardware_layers, layer_spec, op_of

# share of the board a default folding may take, shell included: place and route needs the
# rest (routing congestion and timing closure degrade past ~85% LUT on 7-series)
BUDGET_FRACTION = 0.85
FOLD_KEYS = ("SIMD", "PE")

log = logging.getLogger(__name__)


def _cycles(node, kind) -> int:
    return kind.cost.cycles(layer_spec(node))


@dataclass(frozen=True)
class Option:
    """One folding a layer offers, with what the cost model says of it."""

    folding: dict[str, int]
    cycles: int
    resources: dict[str, int]

    def weight(self, scarcity: dict[str, float]) -> float:
        return sum(scarcity.get(k, 0.0) * v for k, v in self.resources.items())


#: Per foldable layer (by node name), its options fewest lanes first.
OptionTable = dict[str, list[Option]]


def option_table(model: ModelWrapper) -> OptionTable:
    """Every layer's options with their cycles and resources, each estimated once.

    Why: a layer's estimate at an option depends on nothing but that option, and the search
    for the fastest folding that fits asks for it at a dozen targets and three block-RAM
    weights; estimating anew each time was most of MobileNet's fold step. The folding is left
    as it was.
    """
    table = {}
    for node, kind in hardware_layers(model):
        op = op_of(node)
        opts = op.spec().fold_options(MAX_STREAM_BITS)
        if not opts:
            continue
        before = op.folding()
        rows = []
        for option in opts:
            op.set_folding(option)
            spec = layer_spec(node)
            rows.append(Option(dict(option), kind.cost.cycles(spec), kind.cost.resources(spec)))
        op.set_folding(before)
        table[node.name] = rows
    return table


def fold_for_cycles(
    model: ModelWrapper,
    target_cycles: int,
    scarcity: dict[str, float] | None = None,
    table: OptionTable | None = None,
) -> None:
    """Per layer, the cheapest option meeting ``target_cycles`` (or the fastest it can get).

    Cheapest by the layer's calibrated estimate, each resource weighted by ``scarcity`` (one
    over the board's count, so a BRAM18 weighs what it takes of the chip); without weights,
    the fewest lanes. Fewer lanes is not always cheaper: a wider SIMD can shape a weight
    memory into fewer LUTs or block RAMs. ``table`` is :func:`option_table` of ``model``
    when the caller already has it.
    """
    table = option_table(model) if table is None else table
    for node, _ in hardware_layers(model):
        rows = table.get(node.name)
        if not rows:
            continue
        meeting = [
            (float(rank) if scarcity is None else row.weight(scarcity), rank)
            for rank, row in enumerate(rows)
            if row.cycles <= target_cycles
        ]
        op_of(node).set_folding(rows[min(meeting)[1]].folding if meeting else rows[-1].folding)


def _option_cycles(model: ModelWrapper, table: OptionTable | None = None) -> list[list[int]]:
    """Per hardware layer, its cycles an image at each option (its current cycles when it
    has none)."""
    table = option_table(model) if table is None else table
    out = []
    for node, kind in hardware_layers(model):
        rows = table.get(node.name)
        out.append([r.cycles for r in rows] if rows else [_cycles(node, kind)])
    return out


def fastest_cycles(model: ModelWrapper, table: OptionTable | None = None) -> int:
    """The slowest layer at its fastest option: no folding makes the design faster."""
    return max((min(c) for c in _option_cycles(model, table)), default=1)


def slowest_cycles(model: ModelWrapper, table: OptionTable | None = None) -> int:
    """The slowest layer at its fewest lanes: the least parallel folding there is."""
    return max((max(c) for c in _option_cycles(model, table)), default=1)


def _candidate_cycles(model: ModelWrapper, floor: int, table: OptionTable) -> list[int]:
    """Every cycle count some layer reaches with some option, at least ``floor``: the
    targets at which the folding changes."""
    seen = {floor}.union(*_option_cycles(model, table))
    return sorted(c for c in seen if c >= floor)


def fold(
    model: ModelWrapper,
    clock_mhz: float,
    target_fps: float | None,
    budget: Budget,
    floor_cycles: int = 1,
    dma_bits: int = 64,
) -> dict:
    """Fold for ``target_fps``, or the fastest that fits ``budget``.

    ``floor_cycles`` is the slowest stage outside the folding (the DMA edge's cycles per
    image); no target below it, or below the slowest layer's fastest option, is tried.
    ``dma_bits`` is the edge's beat width, which sets the edge adapters' share of the estimate.
    """
    table = option_table(model)
    floor = max(floor_cycles, fastest_cycles(model, table))
    if target_fps is not None:
        if target_fps <= 0:
            raise FoldingError(f"--target-fps must be positive, got {target_fps}")
        fold_for_cycles(model, max(floor, int(clock_mhz * 1e6 / target_fps)), table=table)
        return folding_config(model)
    # Fastest that fits: the least target cycle count whose folding fits. Resources fall as
    # the target rises, so a bisection over the targets at which the folding changes finds
    # it in a dozen estimates.
    targets = _candidate_cycles(model, floor, table)
    fit = _Fitter(model, budget, dma_bits, table)
    fit.budget = _reachable(fit, targets[-1])
    lo, hi = 0, len(targets) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if fit(targets[mid]):
            hi = mid
        else:
            lo = mid + 1
    fit(targets[lo])
    return folding_config(model)


def _reachable(fit: _Fitter, slowest: int) -> Budget:
    """The budget without the resources that even the least parallel folding exceeds.

    Such a design does not fit whatever the folding (mobilenet-v1-w4a4's weights need 1,377
    BRAM18 at its slowest, a ZCU104 has 624): holding it to the slowest folding for that would
    throw away the LUTs it does have (2 FPS in 17% of the ZCU104's LUTs). The folding is then
    the fastest within the other resources, and the report says it does not fit.
    """
    if fit(slowest):
        return fit.budget
    over = fit.budget.over(folded_resources(fit.model, fit.dma_bits))
    log.warning(
        "no folding fits the board's %s: folding for the fastest within the other resources",
        ", ".join(over),
    )
    return dataclasses.replace(fit.budget, waived=frozenset(over))


# How much a block RAM counts against a LUT in a layer's choice, relative to their shares of
# the board (1: a BRAM18 weighs 1/280 of a Pynq-Z2 like a LUT 1/53,200). Each layer chooses
# alone, so at 1 a weight ROM stays in LUTs wherever that is a little cheaper by share, and
# the LUTs run out with most block RAM unused (cnv-w1a1: 49,170 LUT and 87 BRAM18 at 9,408
# cycles). Cheaper block RAM moves ROMs there until it is the scarcer one.
BRAM_WEIGHTS = (1.0, 0.25, 0.05)


@dataclass
class _Fitter:
    """Folds ``model`` for a target with the first BRAM weight whose folding fits ``budget``
    (the model keeps it); if none fits, the model keeps the last and the call is False."""

    model: ModelWrapper
    budget: Budget
    dma_bits: int
    table: OptionTable

    def __call__(self, target: int) -> bool:
        for w in BRAM_WEIGHTS:
            board = self.budget.board
            scarcity = {k: (w if k == "BRAM18" else 1.0) / v for k, v in board.items() if v}
            fold_for_cycles(self.model, target, scarcity, self.table)
            if self.budget.fits(folded_resources(self.model, self.dma_bits)):
                return True
        return False


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
