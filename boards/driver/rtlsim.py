"""The rtlsim backend: the build's Verilator model of the RTL top, fed the DMA buffers.

``bitfab rtlsim DIR`` compiles the model and records it in ``rtl/model.json``; this backend
runs that binary on the same beats a DMA would move and reads back the beats, the cycle each
left the design, and the per-FIFO statistics. Its figures are simulated clock cycles at the
build clock, never wall time. Like the rest of the driver it imports nothing of bitfab's
compiler: on a host without the model it says which command makes it.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import DriverError

MODEL_JSON = "model.json"
DEADLOCK_EXIT = 3


class SimDeadlock(DriverError):
    """The simulated design stopped producing output (exit 3: a verification failure)."""

    exit_code = 3

    def __init__(self, message: str, run: SimRun):
        super().__init__(message)
        self.run = run


@dataclass
class FifoStats:
    index: int
    max: int = 0
    in_fire: int = 0
    in_stall: int = 0
    out_fire: int = 0
    out_starve: int = 0
    out_block: int = 0
    full_now: int = 0
    # the handshake bits at the end of a deadlock: in_valid, in_ready, out_valid, out_ready
    bits: int = 0


@dataclass
class SimRun:
    """One simulation: when each image's last beat left, and what every FIFO saw."""

    n_images: int
    cycles: int = 0
    first_in: int = 0
    image_done: list[int] = field(default_factory=list)  # cycle of each image's last beat
    fifos: list[FifoStats] = field(default_factory=list)
    stderr: str = ""

    @property
    def cycles_per_image(self) -> float:
        """Steady state: between the first and the last image's completion."""
        d = self.image_done
        return (d[-1] - d[0]) / (len(d) - 1) if len(d) > 1 else float(self.latency_cycles)

    @property
    def latency_cycles(self) -> int:
        """From the first input beat to the first image's last output beat."""
        return self.image_done[0] - self.first_in + 1 if self.image_done else 0


def read_stats(path: Path, run: SimRun) -> None:
    """The harness's stats file (hls/rtl/tb/top_tb.cpp) into ``run``."""
    if not path.exists():
        return
    for line in path.read_text().splitlines():
        tok = line.split()
        if not tok:
            continue
        if tok[0] == "cycles":
            kv = dict(zip(tok[0::2], tok[1::2]))
            run.cycles = int(kv.get("cycles", 0))
            run.first_in = int(kv.get("first_in", 0))
        elif tok[0] == "fifo":
            st = FifoStats(int(tok[1]))
            kv = dict(zip(tok[2::2], tok[3::2]))
            for k in ("max", "in_fire", "in_stall", "out_fire", "out_starve", "out_block"):
                setattr(st, k, int(kv.get(k, 0)))
            st.full_now = int(kv.get("full_now", 0))
            st.bits = int(kv.get("bits", 0))
            run.fifos.append(st)


class RtlsimBackend:
    """Runs ``rtl/model.json``'s binary; ``last_run`` keeps the latest simulation."""

    name = "rtlsim"
    stages = ("simulate",)

    def __init__(self, rtl_dir: Path, in_bytes: int, out_bytes: int, beat_bits: int):
        """``binary`` (set after construction) may point at another compiled variant of the
        same top, e.g. with other FIFO depths: FIFO sizing runs several."""
        path = rtl_dir / MODEL_JSON
        if not path.exists():
            raise DriverError(
                f"{rtl_dir}: no compiled RTL model; run `bitfab rtlsim {rtl_dir.parent}` first"
            )
        self.model = json.loads(path.read_text())
        self.rtl_dir = rtl_dir
        self.binary = rtl_dir / self.model["binary"]
        if not self.binary.exists():
            raise DriverError(f"{self.binary}: missing; run `bitfab rtlsim {rtl_dir.parent}`")
        self.in_bytes, self.out_bytes, self.beat_bits = in_bytes, out_bytes, beat_bits
        self.out_beats = out_bytes * 8 // beat_bits
        self.last_run: SimRun | None = None
        self.progress = None  # optional callback(cycle, beats_out, beats_total)

    def _write_beats(self, ibuf: np.ndarray, path: Path) -> None:
        beat = self.beat_bits // 8
        rows = np.ascontiguousarray(ibuf, np.uint8).reshape(-1, beat)[:, ::-1]  # big end first
        hexes = np.char.mod("%02x", rows.reshape(-1)).reshape(rows.shape)
        path.write_text("\n".join("".join(r) for r in hexes) + "\n")

    def _read_beats(self, path: Path, n: int, run: SimRun) -> np.ndarray:
        beat = self.beat_bits // 8
        obuf = np.zeros((n, self.out_bytes), np.uint8)
        flat = obuf.reshape(-1)
        done = []
        for i, line in enumerate(path.read_text().splitlines() if path.exists() else []):
            word, cycle, _ = line.split()
            v = int(word, 16)
            flat[i * beat : (i + 1) * beat] = np.frombuffer(v.to_bytes(beat, "little"), np.uint8)
            if (i + 1) % self.out_beats == 0:
                done.append(int(cycle))
        run.image_done = done
        return obuf

    def _follow(self, proc: subprocess.Popen) -> list[str]:
        """The simulation's stderr: progress lines to the callback, the rest kept."""
        lines = []
        for line in proc.stderr:
            if line.startswith("progress ") and self.progress:
                _, cyc, beats = line.split()
                got, total = beats.split("/")
                self.progress(int(cyc), int(got), int(total))
            else:
                lines.append(line)
        return lines

    def transfer(self, ibuf: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
        n = ibuf.shape[0]
        run = SimRun(n)
        with tempfile.TemporaryDirectory(prefix="rtlsim-") as tmp:
            t = Path(tmp)
            self._write_beats(ibuf, t / "in.hex")
            args = [t / "in.hex", t / "out.txt", n, self.out_beats, self.model["max_idle"]]
            args += [t / "stats.txt", self.model["n_probes"]]
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                [str(self.binary), *map(str, args)],
                cwd=self.rtl_dir,  # $readmemh finds the memory files by name
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                lines = self._follow(proc)
            except BaseException:  # interrupted: the simulation goes too
                proc.kill()
                proc.wait()
                raise
            rc = proc.wait()
            wall = time.perf_counter() - t0
            run.stderr = "".join(lines)
            read_stats(t / "stats.txt", run)
            obuf = self._read_beats(t / "out.txt", n, run)
        self.last_run = run
        if rc == DEADLOCK_EXIT:
            raise SimDeadlock(run.stderr.strip().splitlines()[0] if run.stderr else "deadlock", run)
        if rc != 0:
            raise DriverError(f"RTL simulation failed (exit {rc}): {run.stderr.strip()[:500]}")
        return obuf, {"simulate": wall}

    def simulated_throughput(self, clock_mhz: float) -> dict:
        """FPS and latency of the last run in simulated cycles at ``clock_mhz``."""
        run = self.last_run
        if run is None or not run.image_done:
            raise DriverError("no RTL simulation has run yet")
        cpi = run.cycles_per_image
        return {
            "backend": self.name,
            "measured": "simulated cycles",
            "clock_mhz": clock_mhz,
            "batch": run.n_images,
            "cycles_per_image": cpi,
            "fps": clock_mhz * 1e6 / cpi if cpi else 0.0,
            "latency_cycles": run.latency_cycles,
            "latency_us": {"first_image": run.latency_cycles / clock_mhz},
        }
