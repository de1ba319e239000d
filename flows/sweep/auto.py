"""``--auto``: folding targets spread between the slowest and the fastest folding.

Each board's design is lowered once (the build's steps up to the dataflow partition, which
cost seconds), and the folding's range read from it: the slowest is every layer at its
fewest lanes, the fastest the slowest layer at its most lanes or the DMA edge, whichever is
slower (flows/fold.py). Between them the targets are spaced evenly in log FPS and rounded
down to three significant digits, so the same model, board and clock give the same targets.
"""

from __future__ import annotations

import math
from pathlib import Path

from boards.registry import get_board
from flows.config import BuildConfig
from flows.sweep.grid import AutoTargets


def _floor3(x: float) -> float:
    """``x`` rounded down to three significant digits. Down, because a folding meets any
    target at or below its speed: the slowest end rounded up would lose the slowest folding."""
    digits = 2 - math.floor(math.log10(x))
    return math.floor(x * 10**digits * (1 + 1e-12)) / 10**digits


def fps_range(source: Path, board: str, clock_mhz: float, work: Path) -> tuple[float, float]:
    """(slowest, fastest) estimated FPS any folding of ``source`` reaches on ``board``."""
    from qonnx.core.modelwrapper import ModelWrapper

    from flows.build import edge_floor, run_build
    from flows.fold import fastest_cycles, slowest_cycles

    cfg = BuildConfig(model=str(source), board=board, out=work, to_step="partition")
    df = ModelWrapper(str(run_build(cfg) / "dataflow.onnx"))
    floor = edge_floor(df, get_board(board))
    slowest, fastest = slowest_cycles(df), max(floor, fastest_cycles(df))
    hz = clock_mhz * 1e6
    return hz / max(slowest, fastest), hz / fastest


def spread(lo: float, hi: float, k: int) -> tuple[float, ...]:
    """``k`` FPS targets from ``lo`` to ``hi``, evenly in log, three significant digits down,
    ascending, without repeats (fewer than ``k`` when the range is narrow)."""
    if hi <= lo * 1.0001:
        return (_floor3(hi),)
    step = (math.log(hi) - math.log(lo)) / (k - 1)
    vals = [_floor3(math.exp(math.log(lo) + i * step)) for i in range(k)]
    return tuple(sorted(set(vals)))


def auto_targets(
    source: Path, boards: tuple[str, ...], clocks: tuple[float, ...], k: int, work: Path
) -> AutoTargets:
    """The targets of every board and clock (one lowering per board)."""
    out = {}
    for b in boards:
        lo_hi_at_1mhz = fps_range(source, b, 1.0, work / b)
        for c in clocks:
            out[(b, c)] = spread(lo_hi_at_1mhz[0] * c, lo_hi_at_1mhz[1] * c, k)
    return out
