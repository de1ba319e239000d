"""``bitfab synth``: synthesize a build's RTL with Yosys and write report.json's ``synth``.

Every layer and the top's glue run out of context in parallel (flows/synth/design.py), each
cached by content (flows/synth/module.py), so a second run of an unchanged build reads the
cache. report.json is written once, atomically, after every run succeeded: a Yosys failure
(exit 2) or an interrupt leaves it as it was.

``--layer NAME`` is a probe: that one layer is synthesized and returned, report.json is left
alone (a section holding one layer would read as the design's figures).
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path

from boards.registry import get_board
from flows.build import check_finished
from flows.errors import InputError
from flows.progress import SILENT, Progress, Task
from flows.report import add_section
from flows.sim.rtlsim import load_rtl
from flows.synth.cells import Cells
from flows.synth.design import GLUE, Run, runs
from flows.synth.family import family_of
from flows.synth.module import SynthResult, synth_command, synthesize
from flows.synth.yosys import PACKAGE, Runs, yosys_version

LABEL = "Yosys synth_xilinx post-synthesis cell counts (not Vivado, not place-and-route)"


def _fits(total: Cells, board) -> dict[str, dict]:
    """Synthesized use against the board's resources, the board's shell allowance added
    (the shell is on the chip too; boards/_zynq.py gives its figures and their source). LUT
    is Vivado's "Slice LUTs" (logic, distributed RAM and shift registers)."""
    shell = board.shell.resources()
    rows = {}
    for key, used, avail in (
        ("LUT", total.slice_luts, board.luts),
        ("FF", total.FF, board.ffs),
        ("BRAM18", total.BRAM18, board.bram18),
        ("DSP", total.DSP, board.dsps),
    ):
        with_shell = used + shell.get(key, 0)
        rows[key] = {
            "used": used,
            "shell": shell.get(key, 0),
            "available": avail,
            "percent": round(100.0 * with_shell / avail, 2) if avail else None,
            "fits": with_shell <= avail,
        }
    return rows


def _estimate_error(build_dir: Path, total: Cells) -> dict[str, dict]:
    """The report's estimate (totals.resources) against this synthesis: the measured error
    that labels the estimate. LUT compares with Slice LUTs, as the estimate counts them."""
    rep = json.loads((build_dir / "report.json").read_text())
    est = rep["totals"]["resources"]
    synth = {"LUT": total.slice_luts, "BRAM18": total.BRAM18, "DSP": total.DSP}
    return {
        k: {
            "estimate": int(est[k]),
            "synth": int(synth[k]),
            "error": (est[k] - synth[k]) / synth[k] if synth[k] else None,
        }
        for k in synth
    }


def _execute(todo: list[Run], design_dir: Path, family: str, jobs: int, task: Task) -> dict:
    """Run every synthesis, ``jobs`` at a time; the first failure stops the others. ``task``
    counts the finished runs and names the run that started or finished last."""
    results: dict[str, SynthResult] = {}
    group = Runs()

    def one(run: Run) -> SynthResult:
        if group.stopped:
            raise _Cancelled
        task.update(len(results), what=f"{run.name} started")
        res = synthesize(
            run.sources,
            run.top,
            run.params,
            family,
            design_dir,
            blackboxes=run.blackboxes,
            runs=group,
        )
        results[run.name] = res
        how = "cached" if res.cached else f"{res.seconds:.1f} s"
        task.update(len(results), what=f"{run.name} done ({how})")
        return res

    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        futures = [pool.submit(one, run) for run in todo]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for f in futures:
            if f in done and f.exception() is not None:
                raise f.exception()  # the first failure (SynthError: exit 2)
    except BaseException:
        group.stop()  # kills the Yosys of runs still going, and any about to start
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    return {run.name: results[run.name] for run in todo}


class _Cancelled(Exception):
    """A queued run that found the synthesis stopped (never seen outside ``_execute``)."""


def run_synth(
    build_dir: Path,
    jobs: int | None = None,
    layer: str | None = None,
    progress: Progress = SILENT,
) -> dict:
    """Synthesize and return the ``synth`` section (written to report.json unless ``layer``);
    ``progress`` counts the runs (every layer and the glue)."""
    d = Path(build_dir)
    manifest = check_finished(d)
    design = load_rtl(d)
    board = get_board(manifest["config"]["board"])
    family = family_of(board)
    todo = runs(design)
    if layer is not None:
        names = [r.name for r in todo if r.name != GLUE]
        if layer not in names:
            raise InputError(
                f"{d}: no layer '{layer}' in rtl/design.json; its layers: {', '.join(names)}"
            )
        todo = [r for r in todo if r.name == layer]
    start = time.monotonic()
    with progress.task("synth", len(todo), "runs", every=True) as task:
        results = _execute(todo, design.dir, family, jobs or os.cpu_count() or 1, task)
    kinds = {r.name: (r.kind, r.top) for r in todo}
    layers = {
        name: {"kind": kinds[name][0], "module": kinds[name][1], **res.to_json()}
        for name, res in results.items()
        if name != GLUE
    }
    section: dict = {
        "tool": {
            "name": f"yosys ({PACKAGE})",
            "version": yosys_version(),
            "command": synth_command(family, "<module>"),
        },
        "family": family,
        "board": board.name,
        "label": LABEL,
        "layers": layers,
        "seconds": round(time.monotonic() - start, 1),
    }
    if layer is not None:
        return section
    glue = results[GLUE]
    total = sum((r.cells for n, r in results.items()), Cells())
    section.update(
        estimate_error=_estimate_error(d, total),
        glue={
            **glue.to_json(),
            "module": design.info["top"],
            "blackboxes": sorted({r.top for r in todo if r.name != GLUE}),
        },
        total=total.to_json(),
        fits=_fits(total, board),
    )
    add_section(d, "synth", section)
    return section


COLUMNS = ("LUT", "FF", "LUTRAM", "SRL", "BRAM18", "DSP", "CARRY")


def table(section: dict) -> str:
    """The figures as a fixed-width text table: layers, glue, total."""
    rows = [(name, row) for name, row in section["layers"].items()]
    if "glue" in section:
        rows.append(("(glue: FIFOs, AXI, ctrl)", section["glue"]))
    width = max([len(n) for n, _ in rows] + [len("total")])
    head = f"{'layer':<{width}} " + " ".join(f"{c:>7}" for c in COLUMNS) + "  seconds"
    lines = [head]
    for name, row in rows:
        cached = " (cached)" if row.get("cached") else ""
        lines.append(
            f"{name:<{width}} "
            + " ".join(f"{row[c]:>7}" for c in COLUMNS)
            + f"  {row['seconds']:7.1f}{cached}"
        )
    if "total" in section:
        lines.append(
            f"{'total':<{width}} " + " ".join(f"{section['total'][c]:>7}" for c in COLUMNS)
        )
    return "\n".join(lines)


def summary_line(section: dict) -> str:
    """Totals against the board, saying what the figures are."""
    if "fits" not in section:
        return f"synth: {section['label']}; family {section['family']}; report.json not changed"
    names = {"LUT": "LUT+LUTRAM+SRL"}  # the board's LUTs hold all three
    parts = [
        f"{names.get(k, k)} {v['used']}+{v['shell']} shell/{v['available']} ({v['percent']:.1f}%)"
        for k, v in section["fits"].items()
    ]
    verdict = "fits" if all(v["fits"] for v in section["fits"].values()) else "does NOT fit"
    err = section.get("estimate_error", {})
    est = ", ".join(f"{k} {v['error']:+.1%}" for k, v in err.items() if v.get("error") is not None)
    return (
        f"synth ({section['family']}, {section['seconds']:.0f} s): {', '.join(parts)} on "
        f"{section['board']}: {verdict}; {section['label']}"
        + (f"; the report's estimate is off by {est}" if est else "")
    )
