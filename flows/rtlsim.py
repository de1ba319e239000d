"""``bitfab rtlsim``: simulate a build's RTL, verify it bit-exactly, measure it, size its FIFOs.

The steps, each leaving the build directory valid if interrupted:
1. (``size_fifos``) size every FIFO by simulation, then rebuild the design from its fold step
   with those depths in a copy of the build directory, swapped in only when complete, so
   folding.json, the dataflow model, the HLS top (``#pragma HLS STREAM depth``) and the RTL top
   all carry them;
2. compile the RTL top with Verilator (cached in rtl/obj by content) and record it in
   rtl/model.json for the driver's rtlsim backend;
3. run the inputs through the driver's packing and beats, compare with the QONNX reference and
   the dataflow model exactly (flows.verify), and write report.json's ``rtlsim`` section.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from boards.driver.rtlsim import SimDeadlock
from flows.build import check_finished, run_build
from flows.config import BuildConfig
from flows.errors import VerificationError
from flows.progress import SILENT, Progress, Task
from flows.report import add_section
from flows.sim.fifo_sizing import Sizing, folding_with_depths, size_fifos
from flows.sim.rtlsim import (
    compile_top,
    deadlock_message,
    draw,
    load_rtl,
    make_accelerator,
    record_model,
    sim_section,
)


def _config(manifest: dict, build_dir: Path, folding: Path) -> BuildConfig:
    cfg = dict(manifest["config"])
    for key in ("out", "checkpoint", "folding"):
        if cfg.get(key) is not None:
            cfg[key] = Path(cfg[key])
    cfg.update(out=build_dir, folding=folding, from_step="fold", to_step=None)
    return BuildConfig(**cfg)


def rebuild_with_depths(
    build_dir: Path, manifest: dict, sizing: Sizing, design, progress: Progress = SILENT
) -> None:
    """Rebuild from the fold step with the sized depths, in a copy swapped in when done."""
    d = Path(build_dir)
    work = d.with_name(d.name + ".sizing")
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(d, work, symlinks=True)
    folding = json.loads((d / "folding.json").read_text())
    folding = folding_with_depths(folding, design, sizing.depths)
    fpath = work / "folding.sized.json"
    fpath.write_text(json.dumps(folding, indent=2) + "\n")
    run_build(_config(manifest, work, fpath.resolve()), progress)
    fpath.unlink()
    old = d.with_name(d.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    os.replace(d, old)
    os.replace(work, d)
    shutil.rmtree(old, ignore_errors=True)


def run_rtlsim(
    build_dir: Path,
    n: int,
    seed: int = 0,
    inputs: np.ndarray | None = None,
    fifo_sizing: bool = False,
    progress: Progress = SILENT,
) -> dict:
    """Simulate, verify and measure; returns (and writes) the report's ``rtlsim`` section.
    Raises VerificationError (exit 3) on a mismatch or a deadlock, after writing the section.
    ``progress`` shows the phases and the simulation's output beats."""
    d = Path(build_dir)

    def note(msg: str) -> None:
        progress.note("rtlsim", msg)

    manifest = check_finished(d)
    design = load_rtl(d)
    clock = float(manifest["config"]["clock_mhz"])
    x = draw(d, n, seed, inputs)
    sizing = None
    if fifo_sizing:
        with progress.task("rtlsim compile", what="Verilator, deep FIFOs"):
            binary = compile_top(design, n=len(x))
        record_model(design, binary)
        with progress.task("rtlsim fifo sizing", unit="beats out") as t:
            acc = make_accelerator(d, _beats(t))
            sizing = size_fifos(acc, design, acc.run_head(x), note)
        note(f"rebuilding with the sized FIFO depths (loss {sizing.loss:.2%})")
        rebuild_with_depths(d, manifest, sizing, design, progress)
        design = load_rtl(d)
    with progress.task("rtlsim compile", what="Verilator"):
        record_model(design, compile_top(design, n=len(x)))
    from flows.verify import verify_build

    try:
        with progress.task("rtlsim", unit="beats out") as t:
            acc = make_accelerator(d, _beats(t))
            v = verify_build(d, len(x), inputs=x, acc=acc, progress=progress)
    except SimDeadlock as exc:
        section = sim_section(design, exc.run, "deadlock", clock, len(x))
        section["deadlock"] = deadlock_message(design, exc)
        add_section(d, "rtlsim", section)
        raise VerificationError(f"{d}: rtlsim {section['deadlock']}") from None
    status = "pass" if v["status"] == "pass" else "mismatch"
    section = sim_section(design, acc.backend.last_run, status, clock, len(x))
    section["verification"] = v
    if sizing is not None:
        section["fifo_sizing"] = sizing.to_json()
    add_section(d, "rtlsim", section)
    if status != "pass":
        bad = v["first_mismatch"]
        where = f", output element {bad['output_index']}" if "output_index" in bad else ""
        raise VerificationError(
            f"{d}: rtlsim mismatch at image {bad['sample']}{where}; first layer that differs: "
            f"{bad['layer']}"
        )
    return section


def _beats(task: Task):
    """The simulation's progress callback (cycle, output beats, all beats) onto ``task``."""
    return lambda cycle, got, total: task.update(got, total=total, what=f"cycle {cycle:,}")


def summary_line(s: dict) -> str:
    return (
        f"rtlsim: {s['n']} images, {s['status']}; {s['cycles_per_image']:.0f} cycles an image "
        f"= {s['fps']:.0f} FPS at {s['clock_mhz']:g} MHz (simulated), latency "
        f"{s['latency_cycles']} cycles = {s['latency_us']:.1f} us"
    )
