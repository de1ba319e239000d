"""bitfab beside FINN: the BNN-PYNQ networks with FINN's foldings and with ours.

    python bench/vs_finn.py [--models cnv-w1a1,tfc-w1a1] [--boards pynq-z2] [--n 5] [--jobs 2]
                            [--out DIR]
    python bench/vs_finn.py --builds DIR[,DIR...] [--n 1] [--jobs 2]

``--builds`` takes finished build directories instead (large models, e.g. mobilenet-v1-w4a4
on zcu104, whose rtlsim and synthesis take long): their report.json ``rtlsim`` and ``synth``
sections are used when present (the measurement already made, with its image count), and run
only when missing.

Each model is built twice per board: with FINN's published folding (bench/finn_published.json,
which names its sources) and with bitfab's default folding. Each build is simulated
cycle-accurately (Verilator rtlsim, bit-exact against QONNX) and synthesized (Yosys
synth_xilinx, out of context per layer). The table prints measured FPS at the build clock,
synthesized LUT, BRAM18 and DSP, the calibrated estimate beside each, and FINN's published
figures (Vivado post-synthesis, HLS; FPS on the board). The shell is not in the synthesized
counts; ``+shell`` adds the board's allowance (boards/_zynq.py, with its source).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from boards.registry import get_board  # noqa: E402
from flows.build import run_build  # noqa: E402
from flows.config import BuildConfig  # noqa: E402
from flows.rtlsim import run_rtlsim  # noqa: E402
from flows.synth.run import run_synth  # noqa: E402

PUBLISHED = Path(__file__).with_name("finn_published.json")
RES = ("LUT", "BRAM18", "DSP")


def _build(model: str, board: str, folding: dict | None, out: Path) -> Path:
    fpath = None
    if folding is not None:
        fpath = out.with_suffix(".folding.json")
        fpath.write_text(json.dumps({"layers": folding}))
    return run_build(BuildConfig(model=model, board=board, out=out, folding=fpath))


def _row(label: str, d: Path, n: int, jobs: int, reuse: bool = False) -> dict:
    """One table row; with ``reuse``, the report's own rtlsim/synth sections when present."""
    rep = json.loads((d / "report.json").read_text())
    t0 = time.perf_counter()
    sim = rep["rtlsim"] if reuse and "rtlsim" in rep else run_rtlsim(d, n)
    t_sim = time.perf_counter() - t0
    t0 = time.perf_counter()
    syn = rep["synth"] if reuse and "synth" in rep else run_synth(d, jobs)
    t_syn = time.perf_counter() - t0
    rep = json.loads((d / "report.json").read_text())
    board = get_board(rep["board"])
    shell = board.shell.resources()
    # slice LUTs, as the synth section's fit test counts them: logic + LUTRAM + SRL
    tot = syn["total"]
    synth = {**{k: tot[k] for k in RES}, "LUT": tot["LUT"] + tot["LUTRAM"] + tot["SRL"]}
    return {
        "label": label,
        "fps": sim["fps"],
        "sim_images": sim["n"],
        "fps_est": rep["totals"]["estimated_fps"],
        "synth": synth,
        "est": {k: rep["totals"]["resources"][k] for k in RES},
        "with_shell": {k: synth[k] + shell[k] for k in RES},
        "board": board.budget(),
        "seconds": (t_sim, t_syn),
    }


def _print(rows: list[dict], published: dict) -> None:
    head = (
        f"{'build':34} {'FPS rtlsim':>10} {'imgs':>4} {'FPS est':>9} {'LUT syn':>8} {'LUT est':>8} "
        f"{'BRAM18 syn':>10} {'est':>5} {'DSP':>4} {'LUT+shell':>10} {'% board':>8}"
    )
    print(head)
    for r in rows:
        s, e, w = r["synth"], r["est"], r["with_shell"]
        pct = 100 * w["LUT"] / r["board"]["LUT"]
        print(
            f"{r['label']:34} {r['fps']:>10,.0f} {r['sim_images']:>4} {r['fps_est']:>9,.0f} "
            f"{s['LUT']:>8,} "
            f"{e['LUT']:>8,} {s['BRAM18']:>10} {e['BRAM18']:>5} {s['DSP']:>4} "
            f"{w['LUT']:>10,} {pct:>7.1f}%"
        )
    print(
        "(FPS rtlsim over 'imgs' images: one image's figure is its latency, a lower bound on the "
        "steady-state rate)"
    )
    print()
    for model, p in published.items():
        pub = p["published"]
        figs = ", ".join(
            f"{k} {pub[k]:,}" for k in ("fps_board", "fps_analytic", "LUT", "BRAM18") if k in pub
        )
        print(f"FINN published, {model}: {figs}")
        for key in ("resources_source", "fps_board_note"):
            if key in pub:
                print(f"  ({pub[key]})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="cnv-w1a1,tfc-w1a1")
    ap.add_argument("--boards", default="pynq-z2")
    ap.add_argument("--n", type=int, default=5, help="images per rtlsim run")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--builds", default=None, help="finished build dirs, comma-separated")
    a = ap.parse_args()
    published = json.loads(PUBLISHED.read_text())["models"]
    if a.builds:
        rows, models = [], []
        for d in map(Path, a.builds.split(",")):
            cfg = json.loads((d / "manifest.json").read_text())["config"]
            models.append(Path(cfg["model"]).stem)
            rows.append(_row(f"{models[-1]} {cfg['board']} bitfab", d, a.n, a.jobs, reuse=True))
        _print(rows, {m: p for m, p in published.items() if m in models})
        return
    root = a.out or Path(tempfile.mkdtemp(prefix="bench-vs-finn-"))
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for model in a.models.split(","):
        for board in a.boards.split(","):
            configs = [("bitfab default", None)]
            if published.get(model, {}).get("board") == board and "folding" in published[model]:
                configs.insert(0, ("FINN folding", published[model]["folding"]))
            for label, folding in configs:
                out = root / f"{model}-{board}-{'finn' if folding else 'default'}"
                d = _build(model, board, folding, out)
                row = _row(f"{model} {board} {label}", d, a.n, a.jobs)
                rows.append(row)
                print(
                    f"# {row['label']}: rtlsim {row['seconds'][0]:.0f} s, "
                    f"synth {row['seconds'][1]:.0f} s ({d})",
                    flush=True,
                )
    print()
    _print(rows, {m: p for m, p in published.items() if m in a.models.split(",")})


if __name__ == "__main__":
    main()
