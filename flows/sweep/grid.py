"""The grid of a sweep: the points (board, clock, folding target) and the options they share.

A point is named for what it builds (``pynq-z2-100mhz-fps1e+06``), so the same arguments give
the same names, the same order and the same build directories under ``DIR/points/``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from boards.registry import get_board
from flows.errors import InputError


@dataclass(frozen=True)
class Point:
    """One build of the sweep. ``target_fps`` None: the fastest folding that fits the board
    (what ``bitfab build`` does without ``--target-fps``)."""

    board: str
    clock_mhz: float
    target_fps: float | None

    @property
    def id(self) -> str:
        t = self.target_fps
        target = "fit" if t is None else f"fps{int(t)}" if t == int(t) else f"fps{t:g}"
        return f"{self.board}-{self.clock_mhz:g}mhz-{target}"

    def to_json(self) -> dict:
        return {"id": self.id, **asdict(self)}


@dataclass(frozen=True)
class SweepSpec:
    """What every point shares, and the grid's axes. ``targets`` empty with ``auto`` False
    means one point per board and clock at the fastest folding that fits."""

    model: str
    boards: tuple[str, ...]
    clocks_mhz: tuple[float, ...]
    targets: tuple[float, ...] = ()
    auto: int = 0  # --auto: this many targets between the slowest and the fastest folding
    rtlsim: int = 0  # images to simulate per point (0: no rtlsim)
    synth: bool = False
    verify: int = 0  # C-sim verification inputs per build
    size_fifos: bool = False
    seed: int = 0
    budget: float = 0.85
    bitstream: bool = False  # also the vendor flow, as a task that needs the "vivado" resource
    extra: dict = field(default_factory=dict)  # options passed through to every build

    def validate(self) -> None:
        """Exit-1 errors for a grid that is empty or contradicts itself."""
        if not self.boards:
            raise InputError("--boards: no board given; e.g. --boards pynq-z2,zcu104")
        if not self.clocks_mhz:
            raise InputError("--clock-mhz: no clock given; e.g. --clock-mhz 100")
        if self.targets and self.auto:
            raise InputError(
                "--target-fps and --auto both choose the folding targets: pass one of them"
            )
        for name, axis in (("boards", self.boards), ("clock-mhz", self.clocks_mhz)):
            dup = sorted({str(v) for v in axis if axis.count(v) > 1})
            if dup:
                raise InputError(f"--{name}: {', '.join(dup)} given more than once")
        dup = sorted({t for t in self.targets if self.targets.count(t) > 1})
        if dup:
            raise InputError(f"--target-fps: {', '.join(f'{t:g}' for t in dup)} given twice")
        bad = [t for t in self.targets if not t > 0]
        if bad:
            raise InputError(f"--target-fps: {bad[0]:g} is not a positive frame rate")
        if self.auto < 0 or self.auto == 1:
            raise InputError(
                f"--auto {self.auto}: the search needs at least 2 points (its two ends)"
            )
        if self.size_fifos and not self.rtlsim:
            raise InputError("--size-fifos sizes the FIFOs by rtlsim: give --rtlsim N as well")
        for b in self.boards:
            board = get_board(b)  # BoardError (exit 1) naming the boards there are
            for c in self.clocks_mhz:
                board.check_clock(c)  # BoardError: the clock is outside the board's range

    def to_json(self) -> dict:
        return asdict(self)


AutoTargets = dict[tuple[str, float], tuple[float, ...]]


def expand(spec: SweepSpec, auto_targets: AutoTargets | None = None) -> list[Point]:
    """The points in their fixed order: boards, then clocks, then targets as given (ascending
    for ``--auto``). ``auto_targets`` holds ``--auto``'s targets per board and clock
    (:func:`flows.sweep.auto.auto_targets`)."""
    points = []
    for b in spec.boards:
        for c in spec.clocks_mhz:
            if spec.auto:
                targets = (auto_targets or {})[(b, c)]
            else:
                targets = spec.targets or (None,)
            points.extend(Point(b, c, t) for t in targets)
    if not points:
        raise InputError("the sweep's grid is empty: no point to build")
    return points
