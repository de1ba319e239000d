"""rtlsim: the build's RTL top, simulated cycle-accurately with Verilator.

Compiles ``rtl/`` once (cached in ``rtl/obj/`` by content), runs the inputs ``verify`` would
draw through the same packing and AXI-Stream beats the host driver uses, checks every output
bit-exactly against the QONNX reference and the dataflow model, and measures what C-sim cannot:
cycles per image, latency, where each layer waits, FIFO occupancy, deadlock.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper

from boards.driver.accelerator import Accelerator
from boards.driver.rtlsim import MODEL_JSON, SimDeadlock, SimRun
from flows.codegen.rtl import DESIGN_JSON, SOURCES
from flows.errors import InputError
from flows.hwlib import RTL_TOP_HARNESS
from flows.sim.verilator import ModelSpec, compile_model, verilator

OBJ_DIR = "obj"
# Cycles with no output beat before a run is declared deadlocked: far above any layer's
# legitimate silence (a whole image through the slowest layer), so a stall is a deadlock.
MIN_IDLE = 100_000


@dataclass(frozen=True)
class RtlDesign:
    """``rtl/design.json`` of a build: what rtlsim needs to drive and read the top."""

    dir: Path
    info: dict

    @property
    def fifos(self) -> list[dict]:
        return self.info["fifos"]

    @property
    def layers(self) -> list[dict]:
        return self.info["layers"]

    def depths(self) -> dict[int, int]:
        return {f["index"]: f["depth"] for f in self.fifos}

    def estimated_cycles(self) -> int:
        """The cost model's cycles an image for this RTL: its slowest layer or edge adapter."""
        edges = self.info.get("edge_cycles", {}).values()
        return max([layer["cycles"] for layer in self.layers] + list(edges))

    def max_idle(self) -> int:
        """Cycles without an output beat after which the run is a deadlock: twice the
        latency's upper bound (every layer's cycles an image, one after the other), since the
        first image's output can take that long when the layers are slow (FINN's cnv-w1a1
        folding: ~32k cycles a layer, over 131k before the first beat)."""
        total = sum(layer["cycles"] for layer in self.layers)
        return max(MIN_IDLE, 2 * total)


def load_rtl(build_dir: Path) -> RtlDesign:
    """The build's RTL design, or exit 1 saying how to get one."""
    rtl = Path(build_dir) / "rtl"
    path = rtl / DESIGN_JSON
    if not path.exists():
        raise InputError(
            f"{build_dir}: no rtl/{DESIGN_JSON}: the build predates the RTL backend or was "
            "not finished; rebuild it with `bitfab build` (or `--from-step codegen`)"
        )
    try:
        info = json.loads(path.read_text())
        for key in ("top", "fifos", "layers", "sources"):
            info[key]  # noqa: B018 - presence check
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):
        raise InputError(f"{path}: unreadable or not bitfab's; rebuild the design") from None
    missing = [s for s in info["sources"] + info.get("memories", []) if not (rtl / s).exists()]
    if missing:
        raise InputError(f"{rtl}: missing {', '.join(missing[:3])}; rebuild the design")
    return RtlDesign(rtl, info)


# How hard g++ optimises the model, by the cycles a run simulates: compiling dominates a short
# run (-O0 compiles fastest, but simulates some 20x slower: cnv-w1a1 ran 8.5k cycles/s), a long
# one is worth -O3 (slower to compile, faster to simulate).
O1_CYCLES = 20_000
O3_CYCLES = 20_000_000


def _opt(cycles: int) -> str:
    return "-O0" if cycles < O1_CYCLES else "-O1" if cycles < O3_CYCLES else "-O3"


def compile_top(design: RtlDesign, depths: dict[int, int] | None = None, n: int = 1) -> Path:
    """The simulation binary of the top with FIFO ``depths`` (default: the design's own),
    compiled with probes for ``n`` images; cached under rtl/obj by content."""
    sources = tuple(design.dir / s for s in (design.dir / SOURCES).read_text().split())
    depths = depths or design.depths()
    spec = ModelSpec(
        sources,
        design.info["top"],
        RTL_TOP_HARNESS,
        {f"FIFO_DEPTH_{i}": d for i, d in sorted(depths.items())},
        defines=("BITFAB_PROBES",),
        opt=_opt(design.estimated_cycles() * (n + 1)),
    )
    return compile_model(spec, design.dir / OBJ_DIR, jobs=os.cpu_count() or 2)


def record_model(design: RtlDesign, binary: Path) -> None:
    """``rtl/model.json``: the compiled model the driver's rtlsim backend runs."""
    data = {
        "binary": str(binary.relative_to(design.dir)),
        "simulator": verilator().version,
        "n_probes": len(design.fifos),
        "max_idle": design.max_idle(),
    }
    tmp = design.dir / (MODEL_JSON + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, design.dir / MODEL_JSON)


def layer_activity(design: RtlDesign, run: SimRun) -> list[dict]:
    """Per layer, the share of the run's cycles it was starved (its input FIFO empty while it
    wanted a word) and back-pressured (its output FIFO full while it offered one), each counted
    on its own edge; ``busy`` is what neither covers. A layer whose input and output side run
    independently (a sliding window's writer and emitter) can be starved and back-pressured in
    the same cycle, so for it the two overlap and ``busy`` is a lower bound (clipped at 0)."""
    total = max(run.cycles - run.first_in, 1)
    stats = {f.index: f for f in run.fifos}
    rows = []
    for layer in design.layers:
        starved = max((stats[i].out_starve for i in layer["inputs"] if i in stats), default=0)
        blocked = max((stats[i].in_stall for i in layer["outputs"] if i in stats), default=0)
        busy = max(total - starved - blocked, 0)
        rows.append(
            {
                "name": layer["name"],
                "estimated_cycles": layer["cycles"],
                # cycles an image the layer was neither starved nor blocked: its own pace
                "busy_cycles_per_image": round(busy / max(run.n_images, 1), 1),
                "busy": round(busy / total, 4),
                "starved": round(starved / total, 4),
                "back_pressured": round(blocked / total, 4),
            }
        )
    return rows


def stuck_layers(design: RtlDesign, run: SimRun) -> list[str]:
    """Layers whose input FIFO is full and whose output FIFO is empty at a deadlock."""
    st = {f.index: f for f in run.fifos}
    depth = design.depths()
    out = []
    for layer in design.layers:
        full_in = any(i in st and st[i].full_now >= depth[i] for i in layer["inputs"])
        empty_out = all(i in st and st[i].full_now == 0 for i in layer["outputs"])
        if full_in and empty_out:
            out.append(layer["name"])
    return out


def make_accelerator(build_dir: Path, progress: Callable | None = None) -> Accelerator:
    acc = Accelerator.from_build(build_dir, backend="rtlsim")
    acc.backend.progress = progress
    return acc


def deadlock_message(design: RtlDesign, exc: SimDeadlock) -> str:
    stuck = stuck_layers(design, exc.run)
    where = ", ".join(stuck) if stuck else "no layer with a full input and an empty output"
    return f"{exc}; stuck: {where}"


def sim_section(design: RtlDesign, run: SimRun, status: str, clock_mhz: float, n: int) -> dict:
    """The report's ``rtlsim`` section for one run."""
    cpi = run.cycles_per_image
    return {
        "simulator": verilator().version,
        "measured": "rtlsim (Verilator, cycle-accurate RTL simulation)",
        "n": n,
        "status": status,
        "clock_mhz": clock_mhz,
        "cycles_per_image": round(cpi, 2),
        "estimated_cycles_per_image": design.estimated_cycles(),
        "measured_vs_estimate": round(cpi / design.estimated_cycles() - 1, 4),
        "latency_cycles": run.latency_cycles,
        "fps": round(clock_mhz * 1e6 / cpi, 2) if cpi else 0.0,
        "latency_us": round(run.latency_cycles / clock_mhz, 3),
        "fifo_depths": {f["tensor"]: f["depth"] for f in design.fifos},
        "fifo_max_occupancy": {
            f["tensor"]: s.max for f, s in zip(design.fifos, run.fifos, strict=False)
        },
        "layers": layer_activity(design, run),
    }


def draw(build_dir: Path, n: int, seed: int, inputs: np.ndarray | None) -> np.ndarray:
    from flows.verify import draw_inputs

    if inputs is not None:
        return inputs.astype(np.float32)
    ref = ModelWrapper(str(Path(build_dir) / "reference.onnx"))
    return draw_inputs(ref, n, seed)
