"""Build time and peak memory of `bitfab build`, per process and for the whole process tree.

    python bench/build_cost.py MODEL [--board B] [--verify N] [other `bitfab build` options]

Runs the CLI in a fresh build directory and samples every process of its tree (the Python
build, g++, Verilator...) from /proc every 0.1 s. Prints the wall time, the peak resident
memory of the tree (the sum at its highest sample: what the machine must have) and of its
biggest single process, and which command that was. Sampling can miss a peak shorter than
0.1 s; the kernel's own high-water mark of each process (VmHWM) is read too, so no single
process's peak is missed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _children(pid: int) -> list[int]:
    out = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            out += [int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
        except OSError:
            pass
    return out


def _status(pid: int) -> dict[str, int]:
    vals = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                vals[k] = int(v.split()[0]) * 1024
    except OSError:
        pass
    return vals


def _cmd(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    return " ".join(a.decode(errors="replace") for a in raw if a)[:120]


@dataclass
class Peak:
    tree_bytes: int = 0
    process_bytes: int = 0
    process_cmd: str = ""
    seen: dict[int, str] = field(default_factory=dict)


def watch(proc: subprocess.Popen, period: float = 0.1) -> Peak:
    peak = Peak()
    while proc.poll() is None:
        stack, tree = [proc.pid], 0
        while stack:
            pid = stack.pop()
            st = _status(pid)
            tree += st.get("VmRSS", 0)
            hwm = st.get("VmHWM", 0)
            if hwm > peak.process_bytes:
                peak.process_bytes, peak.process_cmd = hwm, _cmd(pid)
            try:
                stack += _children(pid)
            except OSError:
                pass
        peak.tree_bytes = max(peak.tree_bytes, tree)
        time.sleep(period)
    return peak


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--board", default="pynq-z2")
    ap.add_argument("--verify", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="build directory (default: fresh)")
    a, extra = ap.parse_known_args()  # the rest goes to `bitfab build` as it is
    out = a.out or Path(tempfile.mkdtemp(prefix="bench-build-")) / a.model
    cmd = [sys.executable, "-m", "flows.cli", "build", a.model, "--board", a.board]
    cmd += ["--out", str(out), "--verify", str(a.verify), *[x for x in extra if x != "--"]]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    peak = watch(proc)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        print(f"build failed (exit {proc.returncode}); figures below are up to the failure")
    gib = 1 << 30
    print(f"{a.model} on {a.board}, verify {a.verify}: wall {wall:.1f} s")
    print(f"peak memory of the process tree (sampled, 0.1 s): {peak.tree_bytes / gib:.2f} GiB")
    print(f"peak of one process (VmHWM): {peak.process_bytes / gib:.2f} GiB: {peak.process_cmd}")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
