"""RTL simulation benchmark: Verilator compile time, simulation speed, measured vs estimated.

    python bench/rtlsim.py --model cnv-w1a1 [--board pynq-z2] [--n 20] [--build DIR]

Builds the model (or takes an existing ``--build``), compiles its RTL top with Verilator into a
fresh cache (so the compile is timed, not found), simulates ``--n`` images and prints the
compile time, simulated cycles per wall-clock second, and per layer the cost model's cycles an
image beside the cycles the simulation found it busy (neither starved nor back-pressured).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flows.build import run_build  # noqa: E402
from flows.config import BuildConfig  # noqa: E402
from flows.rtlsim import run_rtlsim  # noqa: E402
from flows.sim import rtlsim as sim  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cnv-w1a1")
    ap.add_argument("--board", default="pynq-z2")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--build", type=Path, default=None, help="an existing build directory")
    a = ap.parse_args()
    d = a.build
    if d is None:
        d = Path(tempfile.mkdtemp(prefix="bench-rtlsim-")) / f"{a.model}-{a.board}"
        t0 = time.perf_counter()
        run_build(BuildConfig(model=a.model, board=a.board, out=d))
        print(f"build:            {time.perf_counter() - t0:.1f} s ({d})")
    design = sim.load_rtl(d)
    shutil.rmtree(design.dir / sim.OBJ_DIR, ignore_errors=True)
    t0 = time.perf_counter()
    sim.compile_top(design, n=a.n)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    s = run_rtlsim(d, a.n)
    wall = time.perf_counter() - t0
    acc = sim.make_accelerator(d)
    acc.run_design(acc.random_design_input(a.n))
    sim_wall = acc.last_timing["simulate"]
    cycles = acc.backend.last_run.cycles
    print(f"verilator:        {s['simulator']}")
    opt = sim._opt(design.estimated_cycles() * (a.n + 1))
    print(f"compile:          {compile_s:.1f} s (Verilator + g++ {opt}, cold cache)")
    print(
        f"simulation:       {cycles:,} cycles for {a.n} images in {sim_wall:.2f} s = "
        f"{cycles / sim_wall:,.0f} cycles/s"
    )
    print(f"rtlsim command:   {wall:.1f} s (verification against QONNX included)")
    est = max(layer["cycles"] for layer in design.layers)
    print(
        f"cycles an image:  measured {s['cycles_per_image']:.0f}, estimated {est} "
        f"({(s['cycles_per_image'] / est - 1):+.1%})"
    )
    print(
        f"FPS at {s['clock_mhz']:g} MHz:   measured {s['fps']:.0f}, "
        f"estimated {s['clock_mhz'] * 1e6 / est:.0f}"
    )
    print(f"latency:          {s['latency_cycles']} cycles = {s['latency_us']:.1f} us")
    print(f"{'layer':34} {'estimated':>10} {'busy/img':>10} {'starved':>8} {'blocked':>8}")
    for row in s["layers"]:
        print(
            f"{row['name'][:34]:34} {row['estimated_cycles']:>10} "
            f"{row['busy_cycles_per_image']:>10.0f} {row['starved']:>8.1%} "
            f"{row['back_pressured']:>8.1%}"
        )


if __name__ == "__main__":
    main()
