"""Runs one RTL kernel of hls/rtl under Verilator with the generic stream testbench.

Each call compiles the kernel with its parameters (cached by content, so a repeated
configuration compiles once per machine), feeds it words with random valid gaps, accepts its
output with random ready gaps, and returns the output words with the cycle each was taken.
Kernel tests compare those words with the kind's numpy reference.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from flows.hwlib import RTL_KERNELS
from flows.sim.verilator import ModelSpec, compile_model

RTL_DIR = RTL_KERNELS
STREAM_TB = RTL_DIR / "tb" / "stream_tb.cpp"
CACHE = Path(os.environ.get("BITFAB_VERILATOR_CACHE", tempfile.gettempdir())) / (
    f"bitfab-verilator-{os.getuid()}"
)


# Kernel runs are short: compiling dominates, and g++ -O0 compiles the model fastest
OPT = "-O0"


@dataclass(frozen=True)
class KernelRun:
    words: list[int]
    cycles: list[int]  # the cycle each output word was taken
    returncode: int
    stderr: str

    def image_periods(self, images: int) -> set[int]:
        """Cycles between each output word and the same word of the next image (steady state:
        one value, the kernel's cycles per image)."""
        per = len(self.words) // images
        return {self.cycles[k + per] - self.cycles[k] for k in range((images - 1) * per)}

    @property
    def steady_cycles(self) -> int:
        """Cycles from the first output word to the last."""
        return self.cycles[-1] - self.cycles[0] if self.cycles else 0


def kernel_sources() -> tuple[Path, ...]:
    return tuple(sorted(RTL_DIR.glob("*.v")))


def run_kernel(
    module: str,
    params: dict[str, int | str],
    words: Sequence[int],
    n_out: int,
    *,
    seed: int = 0,
    valid_pct: int = 100,
    ready_pct: int = 100,
    max_idle: int = 20000,
    workdir: Path | None = None,
) -> KernelRun:
    """Simulate ``module`` on ``words``; expects ``n_out`` output words."""
    spec = ModelSpec(kernel_sources(), module, STREAM_TB, dict(params), opt=OPT)
    binary = compile_model(spec, CACHE)
    d = Path(workdir or tempfile.mkdtemp(prefix="rtl-"))
    d.mkdir(parents=True, exist_ok=True)
    (d / "in.hex").write_text("".join(f"{int(w):x}\n" for w in words))
    args = [d / "in.hex", d / "out.hex", n_out, seed, valid_pct, ready_pct, max_idle]
    proc = subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True)
    out, cyc = [], []
    if (d / "out.hex").exists():
        for line in (d / "out.hex").read_text().splitlines():
            w, c = line.split()
            out.append(int(w, 16))
            cyc.append(int(c))
    return KernelRun(out, cyc, proc.returncode, proc.stderr)


def pack(fields: Sequence[int], bits: int) -> int:
    """One stream word from its fields (field 0 in the low bits; fields already stored)."""
    w = 0
    for j, f in enumerate(fields):
        w |= (int(f) & ((1 << bits) - 1)) << (j * bits)
    return w


def unpack(word: int, bits: int, n: int, signed: bool = False) -> list[int]:
    """The ``n`` fields of a word, two's complement when ``signed``."""
    out = []
    for j in range(n):
        f = (word >> (j * bits)) & ((1 << bits) - 1)
        if signed and f >> (bits - 1):
            f -= 1 << bits
        out.append(f)
    return out
