"""Running a sweep: the points as Ray tasks, results into DIR/sweep.json as they come.

The model is exported (a zoo name) or read (a file) once, here, and travels to every task as
bytes. Each task builds in its own node's scratch directory and sends the build directory back
packed (flows/sweep/pack.py says why); it is unpacked into ``DIR/points/<id>/`` in one rename.
So a point in DIR is either finished, as its task left it, or absent.

sweep.json is rewritten (atomically) after every point: ``status`` is "running" until the end,
then "done", or "interrupted" when SIGTERM or Ctrl-C stopped it. Then the tasks still running
are cancelled (their worker processes killed), their points are marked "not run" and sweep.json
and sweep.html are written with what did finish, before the command exits 128+signal.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from flows.config import BuildConfig
from flows.errors import BitfabError, Interrupted
from flows.progress import SILENT, Progress
from flows.sweep.cluster import (
    LOCAL,
    VIVADO_RESOURCE,
    connect,
    import_ray,
    preflight,
    require_vivado,
)
from flows.sweep.grid import Point, SweepSpec, expand
from flows.sweep.pack import unpack
from flows.sweep.point import PointJob, PointOutcome, run_point

log = logging.getLogger(__name__)

SWEEP_JSON = "sweep.json"
SWEEP_HTML = "sweep.html"
MARKER = ".bitfab-sweep"
FORMAT = 1
POINTS = "points"


def claim_sweep_dir(out: Path) -> None:
    """Create ``out`` or reuse a sweep directory (its old points are removed); refuse
    anything else, as a build refuses a directory that is not a build's."""
    from flows.build import claim_output_dir

    claim_output_dir(out, MARKER, "sweep")
    for old in (POINTS, SWEEP_JSON, SWEEP_HTML):
        p = out / old
        shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)


def _source(spec: SweepSpec, out: Path, progress: Progress) -> tuple[str, bytes, dict]:
    """The model every point builds: (name, bytes, what sweep.json says of it)."""
    from flows.build import resolve_source

    cfg = BuildConfig(
        model=spec.model,
        seed=spec.seed,
        checkpoint=Path(spec.extra["checkpoint"]) if spec.extra.get("checkpoint") else None,
        pretrained=bool(spec.extra.get("pretrained")),
    )
    src_dir = out / "source"
    src_dir.mkdir(exist_ok=True)
    path, name, pretrained = resolve_source(cfg, src_dir, progress)
    data = Path(path).read_bytes()
    kept = src_dir / f"{name}.onnx"
    if Path(path).resolve() != kept.resolve():
        kept.write_bytes(data)
        if Path(path).parent == src_dir:
            Path(path).unlink()
    return (
        name,
        data,
        {"file": str(kept.relative_to(out))} | ({"pretrained": pretrained} if pretrained else {}),
    )


def _build_options(spec: SweepSpec) -> dict:
    passed = {k: v for k, v in spec.extra.items() if k not in ("checkpoint", "pretrained")}
    return {"verify": spec.verify, "budget": spec.budget, "seed": spec.seed} | passed


def write_json(out: Path, doc: dict) -> None:
    tmp = out / f".{SWEEP_JSON}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    tmp.replace(out / SWEEP_JSON)


def _render(out: Path, doc: dict) -> None:
    from flows.sweep.page import render_sweep_html

    tmp = out / f".{SWEEP_HTML}.{os.getpid()}.tmp"
    tmp.write_text(render_sweep_html(doc))
    tmp.replace(out / SWEEP_HTML)


def run_sweep(
    spec: SweepSpec,
    out: Path,
    address: str = LOCAL,
    jobs: int | None = None,
    progress: Progress = SILENT,
) -> dict:
    """Run every point of ``spec`` on Ray; returns sweep.json's content (also written)."""
    spec.validate()
    preflight(address)
    out = Path(out)
    claim_sweep_dir(out)
    name, data, source = _source(spec, out, progress)
    auto = None
    if spec.auto:
        from flows.sweep.auto import auto_targets

        with progress.task("sweep --auto", what="lowering the model to find the folding range"):
            with tempfile.TemporaryDirectory(prefix="bitfab-auto-") as work:
                src = Path(work) / f"{name}.onnx"
                src.write_bytes(data)
                auto = auto_targets(src, spec.boards, spec.clocks_mhz, spec.auto, Path(work))
    points = expand(spec, auto)
    doc = {
        "format": FORMAT,
        "model": name,
        "source": source,
        "spec": spec.to_json(),
        "address": address,
        "created": datetime.datetime.now(datetime.UTC).isoformat(),
        "status": "running",
        "points": [p.to_json() | {"status": "pending"} for p in points],
    }
    write_json(out, doc)
    options = _build_options(spec)
    jobs_of = [
        PointJob(p, spec.model, options, spec.rtlsim, spec.size_fifos, spec.synth) for p in points
    ]
    t0 = time.perf_counter()
    try:
        with connect(address, jobs) as conn:
            doc["ray"] = asdict(conn)
            if spec.bitstream:
                require_vivado(conn)
            _schedule(jobs_of, ray_put(data), spec, out, doc, progress)
    except (Interrupted, BitfabError) as exc:
        # interrupted, or stopped before any point could run (no node with Vivado)
        why = "the sweep was interrupted" if isinstance(exc, Interrupted) else str(exc)
        for entry in doc["points"]:
            if entry["status"] == "pending":
                entry.update(status="not run", error={"message": why})
        doc["status"] = "interrupted" if isinstance(exc, Interrupted) else "failed"
        raise
    else:
        doc["status"] = "done"
    finally:
        doc["wall_seconds"] = round(time.perf_counter() - t0, 1)
        write_json(out, doc)
        _render(out, doc)
    return doc


def ray_put(data: bytes):
    """``data`` in Ray's object store: one copy, whatever the number of tasks reading it."""
    return import_ray().put(data)


def _schedule(
    jobs: list[PointJob], model, spec: SweepSpec, out: Path, doc: dict, progress: Progress
) -> None:
    """Submit the points (``model``: the QONNX file's bytes in the object store), collect
    them as they finish (bitstreams chained after their builds), and cancel what is left if
    interrupted."""
    ray = import_ray()
    build_task = ray.remote(num_cpus=1, max_retries=0)(run_point)
    pending: dict = {}
    for i, job in enumerate(jobs):
        pending[build_task.remote(job, model)] = ("build", i)
    failed = 0
    try:
        with progress.task("sweep", len(jobs), "points") as t, _signals_as_flag() as stop:
            done = 0
            while pending:
                if stop:
                    raise Interrupted(stop[0])
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
                for ref in ready:
                    what, i = pending.pop(ref)
                    outcome, died = _outcome(ray, ref, what)
                    if died and stop:
                        continue  # killed by the same Ctrl-C (a terminal signals the group)
                    entry = doc["points"][i]
                    if what == "build":
                        _land(out, jobs[i].point, outcome, entry)
                        if spec.bitstream and entry["status"] == "done":
                            pending[_bitstream_ref(ray, out, jobs[i].point)] = ("bitstream", i)
                            continue
                    else:
                        _land_bitstream(out, jobs[i].point, outcome, entry)
                    done += 1
                    failed += entry["status"] == "failed"
                    write_json(out, doc)
                    t.update(done, what=f"{failed} failed" if failed else jobs[i].point.id)
    except Interrupted:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise


@contextlib.contextmanager
def _signals_as_flag() -> Iterator[list[int]]:
    """SIGTERM and SIGINT append to the yielded list instead of raising: an exception
    raised inside Ray's compiled ``ray.wait`` comes out as a SystemError, so the loop checks
    the list between waits (every half second) and raises ``Interrupted`` itself."""
    got: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield got
        return
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    for s in saved:
        signal.signal(s, lambda signum, _frame: got.append(signum))
    try:
        yield got
    finally:
        for s, handler in saved.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)


def _outcome(ray, ref, what: str) -> tuple[PointOutcome, bool]:
    """The task's result and False; or, if its worker died (killed, out of memory, its node
    lost), a failed point with Ray's reason and True."""
    try:
        return ray.get(ref), False
    except Exception as exc:  # ray.exceptions.RayError and its kin: the task never returned
        msg = f"the Ray task of {what} died: {type(exc).__name__}: {str(exc)[:1500]}"
        return PointOutcome({"error": {"phase": what, "message": msg, "exit_code": 1}}, None), True


def _land(out: Path, point: Point, outcome: PointOutcome, entry: dict) -> None:
    """Unpack a build's directory into DIR/points/<id> and record its summary."""
    s = dict(outcome.summary)
    if outcome.packed is not None:
        dest = out / POINTS / point.id
        dest.parent.mkdir(exist_ok=True)
        unpack(outcome.packed, dest)
        _repoint_manifest(dest)
        s["build_dir"] = str(dest.relative_to(out))
    s.setdefault("status", "failed")
    entry.clear()
    entry.update(point.to_json() | s)


def _repoint_manifest(build_dir: Path) -> None:
    """The manifest names the worker's scratch directory as ``out``; name this one."""
    from flows.build import MANIFEST, write_manifest

    path = build_dir / MANIFEST
    if path.is_file():
        m = json.loads(path.read_text())
        m["config"]["out"] = str(build_dir)
        write_manifest(build_dir, m)


def _bitstream_ref(ray, out: Path, point: Point):
    from flows.sweep.pack import pack
    from flows.sweep.vivado import bitstream_task

    task = ray.remote(num_cpus=1, max_retries=0, resources={VIVADO_RESOURCE: 1})(bitstream_task)
    return task.remote(pack(out / POINTS / point.id), point.id)


def _land_bitstream(out: Path, point: Point, outcome: PointOutcome, entry: dict) -> None:
    s = outcome.summary
    if outcome.packed is not None:
        unpack(outcome.packed, out / POINTS / point.id)
        _repoint_manifest(out / POINTS / point.id)
    entry["bitstream"] = s
    if s.get("error"):
        entry["status"] = "failed"
        entry["error"] = s["error"]


# What may differ between two runs of the same sweep: when, where and how long (a report's
# "seconds" are Yosys's measured run times)
VOLATILE = frozenset({"created", "wall_seconds", "seconds", "node", "ray_node", "ray", "address"})


def repeatable_part(doc):
    """sweep.json (or a point's report.json) without what may differ between two runs of the
    same arguments (times, hosts, the cluster): two runs must agree on the rest, to the bit."""
    if isinstance(doc, dict):
        return {k: repeatable_part(v) for k, v in doc.items() if k not in VOLATILE}
    if isinstance(doc, list):
        return [repeatable_part(v) for v in doc]
    return doc


class PointsFailed(BitfabError):
    """Some points failed (the others are in sweep.json as usual); the exit code is the
    worst of theirs: 3 if a design was not bit-exact, 2 if a tool failed, else 1."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def check_points(doc: dict, out: Path) -> None:
    """Raise :class:`PointsFailed` naming the failed points, if any."""
    failed = [p for p in doc["points"] if p["status"] == "failed"]
    if failed:
        code = max(p["error"].get("exit_code", 1) for p in failed)
        raise PointsFailed(
            f"{len(failed)} of {len(doc['points'])} points failed "
            f"({', '.join(p['id'] for p in failed)}); each one's error is in "
            f"{out / SWEEP_JSON}",
            code,
        )


def _fmt_res(res: dict | None) -> str:
    order = [k for k in ("LUT", "FF", "BRAM18", "DSP") if k in (res or {})]
    return " ".join(f"{k} {res[k]}" for k in order) if res else "-"


def summary_lines(doc: dict, out: Path) -> list[str]:
    """The table the command prints: a line a point, then where the files are."""
    rows = [("point", "status", "FPS (est)", "FPS (rtlsim)", "resources (no shell)", "fits")]
    for p in doc["points"]:
        est, sim, syn = p.get("estimated"), p.get("rtlsim"), p.get("synth")
        res = (
            f"synth {_fmt_res(syn['resources'])}"
            if syn
            else (f"est {_fmt_res(est['resources'])}" if est else "-")
        )
        rows.append(
            (
                p["id"],
                p["status"],
                f"{est['fps']:.0f}" if est else "-",
                f"{sim['fps']:.0f}" if sim else "-",
                res,
                ("yes" if p["fits"] else "no") if "fits" in p else "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    n_done = sum(p["status"] == "done" for p in doc["points"])
    lines.append(
        f"sweep {doc['status']}: {n_done}/{len(doc['points'])} points done in "
        f"{doc['wall_seconds']:.0f} s on {doc['ray']['cpus']} CPUs "
        f"({doc['ray']['nodes']} node(s)); {out / SWEEP_JSON}, {out / SWEEP_HTML}"
    )
    return lines
