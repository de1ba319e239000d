"""One point of a sweep, as it runs inside a Ray task: build in a scratch directory of the node
it lands on, then rtlsim and synthesis when asked, then pack the directory for the driver.

Every failure a user can cause (and any other exception: a bug in one point must not stop a
campaign) is recorded with its message and exit code; what the build left is still packed, so
the failing point can be looked at (its manifest says it failed, so it never passes for a
finished build).
"""

from __future__ import annotations

import platform
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from flows.sweep.grid import Point
from flows.sweep.pack import pack


@dataclass(frozen=True)
class PointJob:
    """What a worker needs besides the model's bytes (those go into Ray's object store once
    and reach every task from there, so no node needs the driver's files). ``options`` are
    :func:`flows.api.build`'s keyword arguments besides the point's."""

    point: Point
    model: str  # the model as the user named it (zoo name or path): what the build reports
    options: dict
    rtlsim: int = 0
    size_fifos: bool = False
    synth: bool = False


@dataclass(frozen=True)
class PointOutcome:
    """What comes back: the summary for sweep.json and the packed build directory."""

    summary: dict
    packed: bytes | None = field(repr=False)


def run_point(job: PointJob, model_bytes: bytes) -> PointOutcome:
    """Build ``model_bytes`` (a QONNX file), simulate and synthesize one point; never raises
    for a failing point."""
    t0 = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix=f"bitfab-sweep-{job.point.id}-"))
    out = scratch / job.point.id
    phase = Phase()
    try:
        src = scratch / "source.onnx"
        src.write_bytes(model_bytes)
        error = _run(job, src, out, phase)
        phase.name = "collect"
        summary = summarize(out) if (out / "report.json").is_file() else {}
        packed = pack(out) if out.is_dir() else None
    except Exception as exc:  # a bug in the toolchain: recorded, the sweep goes on
        error = _error(exc, phase.name, traceback.format_exc(limit=8))
        summary, packed = {}, None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    summary.update(
        job.point.to_json(),
        status="failed" if error else "done",
        error=error,
        wall_seconds=round(time.perf_counter() - t0, 1),
        node=platform.node(),
        ray_node=ray_node_id(),
    )
    return PointOutcome(summary, packed)


def ray_node_id() -> str | None:
    """The Ray node this runs on (several can share a host name), None outside Ray."""
    try:
        import ray

        return ray.get_runtime_context().get_node_id() if ray.is_initialized() else None
    except Exception:  # no Ray, or no runtime context: the field is informative only
        return None


@dataclass
class Phase:
    """Which command of a point is running: what a failure's ``phase`` says, whether the
    command raised a user error (returned by :func:`_run`) or a toolchain bug (raised)."""

    name: str = "build"


def _run(job: PointJob, src: Path, out: Path, phase: Phase) -> dict | None:
    """The point's commands in order; the first user error ends it (returned, not raised)."""
    from flows import api

    p = job.point
    try:
        phase.name = "build"
        b = api.build(
            job.model,
            source=src,
            board=p.board,
            out=out,
            clock_mhz=p.clock_mhz,
            target_fps=p.target_fps,
            **job.options,
        )
        if job.rtlsim:
            phase.name = "rtlsim"
            b.rtlsim(job.rtlsim, size_fifos=job.size_fifos)
        if job.synth:
            phase.name = "synth"
            b.synth(jobs=1)  # the task holds one CPU
    except api.USER_ERRORS as exc:
        return _error(exc, phase.name)
    return None


def _error(exc: BaseException, phase: str, trace: str | None = None) -> dict:
    e = {"phase": phase, "message": str(exc), "exit_code": getattr(exc, "exit_code", 1)}
    if trace is not None:  # not a user error: keep where it came from
        e |= {"exit_code": 1, "type": type(exc).__name__, "traceback": trace}
    return e


def summarize(build_dir: Path) -> dict:
    """A point's figures from its report.json: folding summary, estimate, verification,
    rtlsim and synthesis (None where that command did not run)."""
    from flows.api import Report

    r = Report.load(build_dir)
    t = r.totals
    lanes = [(lay.pe or 1) * (lay.simd or 1) for lay in r.layers]
    slowest = max(r.layers, key=lambda lay: lay.cycles) if r.layers else None
    out = {
        "model": r.model,
        "folding": {
            "layers": len(r.layers),
            "lanes": sum(lanes),
            "max_pe": max((lay.pe or 1 for lay in r.layers), default=1),
            "max_simd": max((lay.simd or 1 for lay in r.layers), default=1),
            "bottleneck": slowest.name if slowest else None,
            "bottleneck_cycles": t.bottleneck_cycles,
        },
        "estimated": {
            "fps": t.estimated_fps,
            "cycles_per_image": t.bottleneck_cycles,
            "latency_us_upper_bound": t.estimated_latency_us_upper_bound,
            "resources": _res(t.resources),
            "resources_with_shell": _res(t.resources_with_shell),
            "fits": t.fits_board,
        },
        "verification": None,
        "rtlsim": None,
        "synth": None,
    }
    if r.verification is not None:
        out["verification"] = {"n": r.verification.n, "status": r.verification.status}
    if r.rtlsim is not None:
        s = r.rtlsim
        out["rtlsim"] = {
            "n": s.n,
            "status": s.status,
            "fps": s.fps,
            "cycles_per_image": s.cycles_per_image,
            "latency_cycles": s.latency_cycles,
            "latency_us": s.latency_us,
            "fifos_sized": "fifo_sizing" in s.raw,
        }
    if r.synth is not None and r.synth.fits is not None:
        out["synth"] = {
            "resources": {k: v.used for k, v in r.synth.fits.items()},
            "fits": r.synth.fits_board,
            "label": r.synth.label,
        }
    measured = out["synth"]
    out["fits"] = measured["fits"] if measured else t.fits_board
    out["fits_by"] = "synth" if measured else "estimate"
    return out


def _res(r) -> dict:
    return {"LUT": r.lut, "BRAM18": r.bram18, "DSP": r.dsp}
