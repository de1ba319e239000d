"""bitfab from Python: build, verify, simulate, synthesize, evaluate and run, with typed results.

The same library calls the ``bitfab`` command runs, for notebooks and scripts::

    from flows import api as bitfab

    b = bitfab.build("tfc-w1a1", board="pynq-z2", out="build/tfc", verify=20)
    b.report.totals.estimated_fps          # 7692307.69 (cycle model at the build clock)
    [layer.name for layer in b.report.layers]
    b.verify(100).passed                   # True: bit-exact against the QONNX reference
    b.rtlsim(n=20).cycles_per_image        # measured by Verilator
    b.synth().total.lut                    # Yosys synth_xilinx cell counts
    acc = b.accelerator("csim")            # boards.driver.accelerator.Accelerator
    y = acc.execute(x)

A Brevitas module is built directly: it is exported to ``<out>/<name>.onnx`` with Brevitas'
``export_qonnx`` at the example ``input_shape`` (batch 1), and that file is what the build
directory's manifest names::

    b = bitfab.build(net, input_shape=(1, 1, 8, 8), name="tiny", verify=20)

Every function is silent unless given ``progress=True`` (the command line's display on
stderr) or a :class:`flows.progress.Progress`. Results are frozen dataclasses read from the
build directory's report.json (``raw`` keeps the whole JSON section); a :class:`Build` reads
the file again at each ``.report``, so it shows what later commands added.

Errors: everything a user can cause raises one of :data:`USER_ERRORS`, with the message the
command line prints and an ``exit_code`` attribute (the command's exit code):
:class:`flows.errors.InputError` and its subclasses ``ModelFileError``, ``UnsupportedError``,
``LayerError``, ``FoldingError`` (1: the model, an option or a build directory; the message
names the file or node and the fix), :class:`flows.errors.ToolMissingError` and
:class:`flows.errors.ToolError` (2: Vivado, Vitis HLS, Verilator, Yosys, g++ missing or
failing), :class:`flows.errors.VerificationError` (3: two executions differ, or rtlsim
deadlocked), and from the packages that cannot import ``flows``: ``models.errors.ModelError``
(unknown zoo model, checkpoint, data set files), ``boards.errors.BoardError`` (unknown board,
clock) and ``boards.driver.errors.DriverError`` (a deploy folder or an input array the driver
cannot take). Catch them all with ``except bitfab.USER_ERRORS as exc``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from boards.driver.accelerator import Accelerator
from boards.driver.errors import DriverError
from boards.errors import BoardError
from flows.config import BuildConfig, LabelSelectMode
from flows.errors import (
    BitfabError,
    FoldingError,
    InputError,
    LayerError,
    ModelFileError,
    SynthError,
    ToolError,
    ToolMissingError,
    UnsupportedError,
    VerificationError,
)
from flows.progress import SILENT, Progress, for_stream
from models.errors import ModelError

__all__ = [
    "USER_ERRORS",
    "BitfabError",
    "BoardError",
    "Build",
    "Cells",
    "DriverError",
    "EvalResult",
    "Fit",
    "FoldingError",
    "InputError",
    "Layer",
    "LayerActivity",
    "LayerError",
    "Mismatch",
    "ModelError",
    "ModelFileError",
    "Report",
    "Resources",
    "RtlsimResult",
    "RunResult",
    "SynthError",
    "SynthLayer",
    "SynthResult",
    "Throughput",
    "ToolError",
    "ToolMissingError",
    "Totals",
    "UnsupportedError",
    "Verification",
    "VerificationError",
    "accelerator",
    "bitstream",
    "build",
    "eval",
    "evaluate",
    "export",
    "open_build",
    "rtlsim",
    "run",
    "synth",
    "verify",
]

#: Every exception a user can cause; each has ``exit_code`` (1 bad input, 2 a tool, 3 verify).
USER_ERRORS: tuple[type[Exception], ...] = (BitfabError, ModelError, BoardError, DriverError)

ProgressArg = bool | Progress


@contextlib.contextmanager
def _progress(progress: ProgressArg) -> Iterator[Progress]:
    """``True``: the command line's display on stderr; ``False``: none; else the given one."""
    if isinstance(progress, Progress):
        yield progress
    elif progress:
        with for_stream(sys.stderr) as p:
            yield p
    else:
        yield SILENT


# --- typed results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Resources:
    """LUT, BRAM18 and DSP counts (estimates in the report, unless a section says measured)."""

    lut: int
    bram18: int
    dsp: int

    @classmethod
    def from_json(cls, d: dict) -> Resources:
        return cls(int(d.get("LUT", 0)), int(d.get("BRAM18", 0)), int(d.get("DSP", 0)))


def _ints(v) -> tuple[int, ...]:
    return tuple(int(x) for x in v)


@dataclass(frozen=True)
class Layer:
    """One hardware layer of the dataflow design: what every kind has, its folding (``pe``,
    ``simd`` where the kind folds that way) and in ``details`` what its kind reports (e.g. an
    MVAU's ``MW``, ``MH``, ``acc_dtype``, ``mac``, ``requant``)."""

    name: str
    kind: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    in_dtype: str
    out_dtype: str
    cycles: int
    resources: Resources
    pe: int | None
    simd: int | None
    details: dict = field(repr=False)

    @classmethod
    def from_json(cls, d: dict) -> Layer:
        common = ("name", "kind", "in_shape", "out_shape", "in_dtype", "out_dtype", "cycles")
        return cls(
            name=d["name"],
            kind=d["kind"],
            in_shape=_ints(d["in_shape"]),
            out_shape=_ints(d["out_shape"]),
            in_dtype=d["in_dtype"],
            out_dtype=d["out_dtype"],
            cycles=int(d["cycles"]),
            resources=Resources.from_json(d["resources"]),
            pe=d.get("PE"),
            simd=d.get("SIMD"),
            details={k: v for k, v in d.items() if k not in (*common, "resources")},
        )


@dataclass(frozen=True)
class Totals:
    """The design's estimated throughput, latency bound and resources against the board."""

    estimated_fps: float
    bottleneck_cycles: int
    latency_cycles_upper_bound: int
    estimated_latency_us_upper_bound: float
    resources: Resources
    resources_with_shell: Resources
    board_budget: Resources
    fits_board: bool

    @classmethod
    def from_json(cls, d: dict) -> Totals:
        return cls(
            estimated_fps=float(d["estimated_fps"]),
            bottleneck_cycles=int(d["bottleneck_cycles"]),
            latency_cycles_upper_bound=int(d["latency_cycles_upper_bound"]),
            estimated_latency_us_upper_bound=float(d["estimated_latency_us_upper_bound"]),
            resources=Resources.from_json(d["resources"]),
            resources_with_shell=Resources.from_json(d["resources_with_shell"]),
            board_budget=Resources.from_json(d["board_budget"]),
            fits_board=bool(d["fits_board"]),
        )


@dataclass(frozen=True)
class Mismatch:
    """The first input on which two executions differ and the first layer that differs."""

    sample: int
    layer: str
    output_index: int | None = None


@dataclass(frozen=True)
class Verification:
    """A bit-exact comparison of the QONNX reference, the dataflow model and the design
    (``design``: "csim", or "rtlsim" inside an rtlsim result). ``reference_rounding`` counts
    inputs where the float32 reference rounds differently from the exact integers the
    hardware computes (not a failure; see DESIGN.md's verification contract)."""

    n: int
    status: str  # "pass" or "mismatch"
    compared: str
    design: str
    design_vs_dataflow_mismatches: int
    reference_mismatches: int
    reference_rounding: int
    first_mismatch: Mismatch | None
    raw: dict = field(repr=False)

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @classmethod
    def from_json(cls, d: dict) -> Verification:
        key = next(k for k in d if k.endswith("_vs_dataflow_mismatches"))
        fm = d.get("first_mismatch")
        return cls(
            n=int(d["n"]),
            status=d["status"],
            compared=d["compared"],
            design=key.removesuffix("_vs_dataflow_mismatches"),
            design_vs_dataflow_mismatches=int(d[key]),
            reference_mismatches=int(d["reference_mismatches"]),
            reference_rounding=int(d["reference_rounding"]),
            first_mismatch=Mismatch(fm["sample"], fm["layer"], fm.get("output_index"))
            if fm
            else None,
            raw=d,
        )


@dataclass(frozen=True)
class LayerActivity:
    """One layer in the RTL simulation: shares of the cycles busy, starved (input empty) and
    back-pressured (output full), and its busy cycles an image against the cycle model."""

    name: str
    busy: float
    starved: float
    back_pressured: float
    busy_cycles_per_image: float
    estimated_cycles: int

    @classmethod
    def from_json(cls, d: dict) -> LayerActivity:
        return cls(
            d["name"],
            float(d["busy"]),
            float(d["starved"]),
            float(d["back_pressured"]),
            float(d["busy_cycles_per_image"]),
            int(d["estimated_cycles"]),
        )


@dataclass(frozen=True)
class RtlsimResult:
    """The report's ``rtlsim`` section: measured by Verilator in simulated cycles at the build
    clock. ``deadlock`` holds the message when the design stalled (status "deadlock")."""

    n: int
    status: str  # "pass", "mismatch" or "deadlock"
    clock_mhz: float
    cycles_per_image: float
    estimated_cycles_per_image: int
    measured_vs_estimate: float
    latency_cycles: int
    latency_us: float
    fps: float
    fifo_depths: dict[str, int]
    fifo_max_occupancy: dict[str, int]
    layers: tuple[LayerActivity, ...]
    verification: Verification | None
    deadlock: str | None
    raw: dict = field(repr=False)

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @classmethod
    def from_json(cls, d: dict) -> RtlsimResult:
        v = d.get("verification")
        return cls(
            n=int(d["n"]),
            status=d["status"],
            clock_mhz=float(d["clock_mhz"]),
            cycles_per_image=float(d["cycles_per_image"]),
            estimated_cycles_per_image=int(d["estimated_cycles_per_image"]),
            measured_vs_estimate=float(d["measured_vs_estimate"]),
            latency_cycles=int(d["latency_cycles"]),
            latency_us=float(d["latency_us"]),
            fps=float(d["fps"]),
            fifo_depths=dict(d["fifo_depths"]),
            fifo_max_occupancy=dict(d["fifo_max_occupancy"]),
            layers=tuple(LayerActivity.from_json(r) for r in d["layers"]),
            verification=Verification.from_json(v) if v else None,
            deadlock=d.get("deadlock"),
            raw=d,
        )


@dataclass(frozen=True)
class Cells:
    """Yosys ``synth_xilinx`` post-synthesis cell counts (not Vivado, not place-and-route)."""

    lut: int
    ff: int
    lutram: int
    srl: int
    bram18: int
    dsp: int
    carry: int

    @classmethod
    def from_json(cls, d: dict) -> Cells:
        names = ("LUT", "FF", "LUTRAM", "SRL", "BRAM18", "DSP", "CARRY")
        return cls(*(int(d[k]) for k in names))


@dataclass(frozen=True)
class SynthLayer:
    """One layer synthesized out of context (``cached``: Yosys's result was reused)."""

    name: str
    kind: str
    module: str
    cells: Cells
    seconds: float
    cached: bool


@dataclass(frozen=True)
class Fit:
    """One resource of the synthesized design against the board (``shell``: the PS side)."""

    used: int
    shell: int
    available: int
    percent: float
    fits: bool


@dataclass(frozen=True)
class SynthResult:
    """The report's ``synth`` section. ``total``, ``glue`` and ``fits`` are None for a run of
    one layer (``synth(..., layer=NAME)``), which leaves report.json alone."""

    family: str
    board: str
    label: str
    layers: tuple[SynthLayer, ...]  # in the design's order
    glue: Cells | None
    total: Cells | None
    fits: dict[str, Fit] | None
    seconds: float
    raw: dict = field(repr=False)

    @property
    def fits_board(self) -> bool | None:
        return None if self.fits is None else all(f.fits for f in self.fits.values())

    @classmethod
    def from_json(cls, d: dict, order: list[str] | None = None) -> SynthResult:
        """``order``: layer names in the design's order (report.json keeps them sorted)."""
        rank = {name: i for i, name in enumerate(order or [])}
        names = sorted(d["layers"], key=lambda name: rank.get(name, len(rank)))
        layers = tuple(
            SynthLayer(
                name, r["kind"], r["module"], Cells.from_json(r), float(r["seconds"]), r["cached"]
            )
            for name, r in ((name, d["layers"][name]) for name in names)
        )
        fits = d.get("fits")
        return cls(
            family=d["family"],
            board=d["board"],
            label=d["label"],
            layers=layers,
            glue=Cells.from_json(d["glue"]) if "glue" in d else None,
            total=Cells.from_json(d["total"]) if "total" in d else None,
            fits={k: Fit(**v) for k, v in fits.items()} if fits is not None else None,
            seconds=float(d["seconds"]),
            raw=d,
        )


@dataclass(frozen=True)
class EvalResult:
    """Accuracy of the QONNX reference and of the C-simulation on a labelled test split; the
    outputs were compared exactly (``identical_outputs`` of ``n``)."""

    dataset: str
    n: int
    weights: str
    reference_accuracy: float
    csim_accuracy: float
    reference_correct: int
    csim_correct: int
    identical_outputs: int
    reference_rounding: int

    @classmethod
    def from_json(cls, d: dict) -> EvalResult:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Throughput:
    """:meth:`Accelerator.throughput_test` figures: ``measured`` is "wall" (csim, pynq) or
    "simulated cycles" (rtlsim, at the build clock); ``raw`` has the stage times and
    latency percentiles."""

    backend: str
    measured: str
    batch: int
    fps: float
    raw: dict = field(repr=False)

    @classmethod
    def from_json(cls, d: dict) -> Throughput:
        return cls(d["backend"], d["measured"], int(d["batch"]), float(d["fps"]), d)


@dataclass(frozen=True)
class RunResult:
    """What :func:`run` returns: the outputs, how many are bit-identical to the QONNX
    reference's, and the backend's throughput test."""

    outputs: np.ndarray = field(repr=False)
    images: int
    bit_identical: int
    throughput: Throughput


@dataclass(frozen=True)
class Report:
    """report.json, typed. ``verification``, ``rtlsim`` and ``synth`` are None until a build
    with ``verify``, :func:`rtlsim` or :func:`synth` wrote them; ``raw`` is the whole file
    (folding, FIFOs, DMA edge, host head and tail ops, estimate notes)."""

    model: str
    board: str
    clock_mhz: float
    layers: tuple[Layer, ...]
    totals: Totals
    verification: Verification | None
    rtlsim: RtlsimResult | None
    synth: SynthResult | None
    raw: dict = field(repr=False)

    @classmethod
    def from_json(cls, d: dict) -> Report:
        v, r, s = d.get("verification"), d.get("rtlsim"), d.get("synth")
        return cls(
            model=d["model"],
            board=d["board"],
            clock_mhz=float(d["clock_mhz"]),
            layers=tuple(Layer.from_json(x) for x in d["layers"]),
            totals=Totals.from_json(d["totals"]),
            verification=Verification.from_json(v) if v else None,
            rtlsim=RtlsimResult.from_json(r) if r else None,
            synth=SynthResult.from_json(s, [x["name"] for x in d["layers"]]) if s else None,
            raw=d,
        )

    @classmethod
    def load(cls, build_dir: str | os.PathLike) -> Report:
        """The report of a build directory (an InputError if it has none)."""
        path = Path(build_dir) / "report.json"
        if not path.exists():
            raise InputError(f"{build_dir}: no report.json; run `bitfab build` to the end")
        return cls.from_json(json.loads(path.read_text()))


# --- the build directory ----------------------------------------------------------------------


@dataclass(frozen=True)
class Build:
    """A build directory (DESIGN.md: ``build/<model>-<board>/``). Its methods are the module's
    functions applied to it: ``b.verify(100)`` is ``verify(b, 100)``."""

    dir: Path

    @property
    def manifest(self) -> dict:
        """manifest.json: config, tool versions, input hashes, status of every step."""
        return json.loads((self.dir / "manifest.json").read_text())

    @property
    def status(self) -> str:
        """ "done", "stopped after STEP", "failed" or "interrupted"."""
        return self.manifest["status"]

    @property
    def report(self) -> Report:
        """report.json as it is now (read at each access)."""
        return Report.load(self.dir)

    @property
    def deploy_dir(self) -> Path:
        """The folder to copy to the board (driver, accel.json, bitfile once made)."""
        return self.dir / "deploy"

    def verify(self, n: int = 100, **kw) -> Verification:
        return verify(self, n, **kw)

    def rtlsim(self, n: int = 20, **kw) -> RtlsimResult:
        return rtlsim(self, n, **kw)

    def synth(self, **kw) -> SynthResult:
        return synth(self, **kw)

    def accelerator(self, backend: str = "csim", batch: int = 256) -> Accelerator:
        return accelerator(self, backend, batch)

    def run(self, x: np.ndarray | None = None, **kw) -> RunResult:
        return run(self, x, **kw)

    def eval(self, data: str, **kw) -> EvalResult:
        return evaluate(self, data, **kw)

    def bitstream(self, **kw) -> Path:
        return bitstream(self, **kw)


BuildLike = Build | str | os.PathLike


def open_build(build_dir: BuildLike) -> Build:
    """A finished build directory as a :class:`Build` (an InputError naming what is wrong if
    it is unfinished, failed, from another bitfab version or not a build directory)."""
    from flows.build import check_finished

    d = build_dir.dir if isinstance(build_dir, Build) else Path(build_dir)
    check_finished(d)
    return Build(d)


# --- the commands -----------------------------------------------------------------------------


def export(
    module,
    input_shape: tuple[int, ...],
    path: str | os.PathLike,
    input_range: tuple[float, float] | None = None,
) -> Path:
    """Export a Brevitas ``module`` to a QONNX file at ``path`` (Brevitas' ``export_qonnx`` at
    an example input of ``input_shape``, batch 1, in eval mode); return the path.

    ``input_range`` (lo, hi) is the float range the input is meant to cover, which
    :func:`verify` then draws its inputs from (default: the range of the first quantizer).

    >>> bitfab.export(net, (1, 1, 8, 8), "tiny.onnx")  # doctest: +SKIP
    """
    from models.export import META_INPUT_RANGE, export_module

    if len(input_shape) < 2 or input_shape[0] != 1:
        raise InputError(
            f"input_shape {tuple(input_shape)}: give the example input's whole shape with "
            "batch 1, e.g. (1, 1, 28, 28) for one MNIST image"
        )
    meta = {META_INPUT_RANGE: f"{input_range[0]:g},{input_range[1]:g}"} if input_range else {}
    return export_module(module, tuple(input_shape), path, meta=meta)


def _model_source(model, out: Path, name: str, input_shape, input_range) -> str:
    """The ``model`` argument of :func:`build` as the path or zoo name BuildConfig takes; a
    module or an in-memory ONNX model is written to ``out/<name>.onnx`` first."""
    from flows.build import claim_output_dir

    if isinstance(model, str | os.PathLike):
        return os.fspath(model)
    path = out / f"{name}.onnx"
    proto = getattr(model, "model", model)  # a qonnx ModelWrapper holds its proto in .model
    if type(proto).__name__ == "ModelProto":
        claim_output_dir(out)
        import onnx

        onnx.save(proto, str(path))
        return str(path)
    from torch import nn

    if not isinstance(model, nn.Module):
        raise InputError(
            f"build() takes a zoo name, a .onnx path, an ONNX/qonnx model or a Brevitas "
            f"torch.nn.Module, not {type(model).__name__}"
        )
    if input_shape is None:
        raise InputError(
            f"{type(model).__name__}: a torch module needs input_shape=, the example input's "
            "shape with batch 1, e.g. (1, 1, 28, 28)"
        )
    claim_output_dir(out)
    export(model, input_shape, path, input_range)
    return str(path)


def _default_name(model) -> str:
    if isinstance(model, str | os.PathLike):
        p = Path(model)
        return p.stem if p.suffix == ".onnx" else os.fspath(model)
    return type(model).__name__.lower()


def build(
    model: Any,
    *,
    board: str = "pynq-z2",
    out: str | os.PathLike | None = None,
    verify: int = 0,
    input_shape: tuple[int, ...] | None = None,
    input_range: tuple[float, float] | None = None,
    name: str | None = None,
    clock_mhz: float = 100.0,
    target_fps: float | None = None,
    budget: float = 0.85,
    folding: str | os.PathLike | None = None,
    checkpoint: str | os.PathLike | None = None,
    pretrained: bool = False,
    input_fixed: str | None = None,
    label_select: str = "host",
    seed: int = 0,
    source: str | os.PathLike | None = None,
    from_step: str | None = None,
    to_step: str | None = None,
    check: bool = True,
    progress: ProgressArg = False,
) -> Build:
    """Build ``model`` into a dataflow design for ``board``; ``bitfab build`` in Python.

    ``model``: a zoo name ("tfc-w1a1", see ``bitfab models``), a .onnx path (QONNX, e.g. from
    Brevitas' ``export_qonnx``), a qonnx ``ModelWrapper`` / ``onnx.ModelProto``, or a Brevitas
    ``torch.nn.Module`` with ``input_shape`` (batch 1; exported by :func:`export`). An
    in-memory model is written to ``<out>/<name>.onnx``; ``name`` defaults to the file's stem
    or the module's class name in lower case, ``out`` to ``build/<name>-<board>``.
    ``verify=N`` checks the design bit-exactly on N inputs (:func:`verify`); a mismatch raises
    :class:`VerificationError` unless ``check=False``. ``source``: the QONNX file to build
    when ``model`` (a zoo name or a path) was exported or read elsewhere, e.g. by a sweep's
    driver; ``model`` then only names the design. The other options are the command's.

    >>> b = bitfab.build("tfc-w1a1", out="build/tfc", verify=20)  # doctest: +SKIP
    >>> b.report.verification.passed, b.report.totals.fits_board  # doctest: +SKIP
    (True, True)
    """
    from flows.build import run_build

    name = name or _default_name(model)
    out = Path(out) if out is not None else Path("build") / f"{name}-{board}"
    cfg = BuildConfig(
        model=_model_source(model, out, name, input_shape, input_range),
        board=board,
        out=out,
        clock_mhz=clock_mhz,
        target_fps=target_fps,
        budget=budget,
        checkpoint=Path(checkpoint) if checkpoint is not None else None,
        pretrained=pretrained,
        folding=Path(folding) if folding is not None else None,
        verify_n=verify,
        from_step=from_step,
        to_step=to_step,
        seed=seed,
        input_fixed=input_fixed,
        label_select=LabelSelectMode(label_select),
        source=Path(source) if source is not None else None,
    )
    with _progress(progress) as p:
        b = Build(run_build(cfg, p))
    if check and b.status == "done":
        v = b.report.verification
        if v is not None and not v.passed:
            raise VerificationError(f"{b.dir}: verification failed: {v.first_mismatch}")
    return b


def verify(
    build_dir: BuildLike,
    n: int = 100,
    *,
    inputs: np.ndarray | None = None,
    seed: int = 0,
    check: bool = True,
    progress: ProgressArg = False,
) -> Verification:
    """Check the build bit-exactly: QONNX reference, dataflow model and C-simulation on ``n``
    drawn inputs (or ``inputs``, float32 shaped like the model's input); the result replaces
    report.json's ``verification``. A mismatch raises :class:`VerificationError` naming the
    first layer that differs, unless ``check=False``.

    >>> bitfab.verify("build/tfc", 100).passed  # doctest: +SKIP
    True
    """
    from flows.report import add_section
    from flows.verify import verify_build

    b = open_build(build_dir)
    with _progress(progress) as p:
        v = verify_build(b.dir, n, seed=seed, inputs=inputs, progress=p)
    add_section(b.dir, "verification", v)
    result = Verification.from_json(v)
    if check and not result.passed:
        m = result.first_mismatch
        raise VerificationError(
            f"{b.dir}: mismatch at sample {m.sample}, first layer that differs: {m.layer}"
        )
    return result


def rtlsim(
    build_dir: BuildLike,
    n: int = 20,
    *,
    inputs: np.ndarray | None = None,
    seed: int = 0,
    size_fifos: bool = False,
    progress: ProgressArg = False,
) -> RtlsimResult:
    """Cycle-accurate RTL simulation with Verilator (``bitfab rtlsim``): a bit-exact check,
    cycles an image, latency, FIFO occupancy, per-layer activity; written to report.json.
    A mismatch or a deadlock raises :class:`VerificationError` after the section is written
    (``open_build(dir).report.rtlsim`` then holds it). ``size_fifos`` sizes every FIFO by
    simulation and rebuilds with those depths.

    >>> r = bitfab.rtlsim("build/tfc", n=20)  # doctest: +SKIP
    >>> r.cycles_per_image, r.estimated_cycles_per_image  # doctest: +SKIP
    (13.0, 13)
    """
    from flows.rtlsim import run_rtlsim

    b = open_build(build_dir)
    with _progress(progress) as p:
        s = run_rtlsim(b.dir, n, seed, inputs, size_fifos, p)
    return RtlsimResult.from_json(s)


def synth(
    build_dir: BuildLike,
    *,
    jobs: int | None = None,
    layer: str | None = None,
    progress: ProgressArg = False,
) -> SynthResult:
    """Yosys ``synth_xilinx`` of the build's RTL, each layer out of context, ``jobs`` at a time
    (default: the CPUs), and the top's glue (``bitfab synth``); written to report.json unless
    ``layer`` names the one layer to synthesize. A Yosys failure raises :class:`SynthError`.

    >>> s = bitfab.synth("build/tfc")  # doctest: +SKIP
    >>> s.total.lut, s.fits_board  # doctest: +SKIP
    (18154, True)
    """
    from flows.synth.run import run_synth

    b = open_build(build_dir)
    with _progress(progress) as p:
        s = run_synth(b.dir, jobs, layer, p)
    return SynthResult.from_json(s, [x.name for x in b.report.layers])


def accelerator(build_dir: BuildLike, backend: str = "csim", batch: int = 256) -> Accelerator:
    """The host driver on the build: ``backend`` "csim" (the compiled C-simulation), "rtlsim"
    (Verilator; compiled here if needed, optimized for batches of about ``batch`` images) or
    "pynq" (on a board, after :func:`bitstream`).
    ``acc.execute(x)`` takes float32 shaped like the model's input, any batch.

    >>> acc = bitfab.accelerator("build/tfc", "csim")  # doctest: +SKIP
    >>> acc.execute(x).shape  # doctest: +SKIP
    (8, 10)
    """
    b = open_build(build_dir)
    if backend == "rtlsim":  # the driver runs the compiled model: make sure it exists
        from flows.sim.rtlsim import compile_top, load_rtl, record_model

        design = load_rtl(b.dir)
        record_model(design, compile_top(design, n=batch))
    return Accelerator.from_build(b.dir, backend=backend)


def run(
    build_dir: BuildLike,
    x: np.ndarray | None = None,
    *,
    backend: str = "csim",
    batch: int = 256,
    progress: ProgressArg = False,
) -> RunResult:
    """``bitfab run``: the model on ``x`` (default: ``batch`` inputs drawn as verify draws
    them) through the host driver's ``backend``, the outputs compared with the QONNX
    reference's, and the backend's throughput test.

    >>> r = bitfab.run("build/tfc", batch=64)  # doctest: +SKIP
    >>> r.bit_identical, r.throughput.measured  # doctest: +SKIP
    (64, 'wall')
    """
    from qonnx.core.modelwrapper import ModelWrapper

    from flows.verify import draw_inputs, run_reference

    b = open_build(build_dir)
    ref = ModelWrapper(str(b.dir / "reference.onnx"))
    x = draw_inputs(ref, batch, seed=0) if x is None else np.asarray(x)
    with _progress(progress) as p:
        with p.task(
            f"run {backend} driver",
            what="compiling the RTL model (Verilator)" if backend == "rtlsim" else "",
        ):
            acc = accelerator(b, backend, batch=len(x))
        with p.task(f"run {backend}", len(x), "images") as t:
            y = acc.execute(x)
            t.update(len(x))
        with p.task("run reference", len(x), "images") as t:
            r = run_reference(ref, x.astype(np.float32), task=t)[ref.graph.output[0].name]
        with p.task(f"run throughput test ({backend})"):
            tp = acc.throughput_test(batch=len(x))
    same = np.all(y.reshape(len(y), -1) == r.reshape(len(r), -1), axis=1)
    return RunResult(y, len(y), int(np.sum(same)), Throughput.from_json(tp))


def evaluate(
    build_dir: BuildLike,
    data: str,
    *,
    n: int | None = None,
    seed: int = 0,
    progress: ProgressArg = False,
) -> EvalResult:
    """Accuracy of the QONNX reference and of the C-sim on the test split of the build's data
    set (``bitfab eval``): ``data`` is "digits" or a directory with the MNIST or CIFAR-10
    files. Outputs that differ other than by reference rounding raise VerificationError.

    >>> bitfab.eval("build/tiny", "digits").csim_accuracy  # doctest: +SKIP
    0.9472
    """
    from flows.evaluate import evaluate_build

    b = open_build(build_dir)
    with _progress(progress) as p:
        r = evaluate_build(b.dir, data, n, seed, p)
    return EvalResult.from_json(r)


eval = evaluate  # the command's name (shadows the builtin only as this module's attribute)


def bitstream(build_dir: BuildLike, *, backend: str = "hls", cosim: int = 0) -> Path:
    """The vendor-tool steps (``bitfab bitstream``): renders the Vitis HLS and Vivado projects,
    runs them when the tools are on PATH and returns deploy/bitfab.bit. Without them it
    raises :class:`ToolMissingError` (exit code 2) saying what is ready and the one command
    that finishes the job on a machine with Vivado.
    """
    from flows.bitstream import run_bitstream

    return run_bitstream(open_build(build_dir).dir, backend, cosim=cosim)
