"""Wall time of one sweep with 1 and with 2 Ray workers, and that both give the same result.

    python bench/sweep_scaling.py [--jobs 1,2] [--out DIR] -- SWEEP ARGS...

Default arguments: issue 16's sweep, ``tfc-w1a1 --target-fps 100000,1000000,3000000
--boards pynq-z2,zcu104 --synth --rtlsim 5``. Each run is ``bitfab sweep ... --jobs J`` in a
subprocess, into ``DIR/jobs-J``; the figures printed are measured wall clock. "same result"
compares sweep.json without times and hosts (flows.sweep.run.repeatable_part), every point's
hls/, deploy/ and folding.json byte for byte, and its report.json without Yosys's run times.

Synthesis reuses Yosys results cached by content ($BITFAB_CACHE/synth, by default
~/.cache/bitfab/synth), so the first run of a new design pays for it and later runs do not;
``--cold`` points the cache at an empty directory for every run, so each run pays in full.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flows.sweep.run import SWEEP_JSON, repeatable_part  # noqa: E402

DEFAULT = [
    "tfc-w1a1",
    "--target-fps",
    "100000,1000000,3000000",
    "--boards",
    "pynq-z2,zcu104",
    "--synth",
    "--rtlsim",
    "5",
]
COMPARED = ("hls", "deploy", "report.json", "folding.json")


def _files(d: Path) -> dict[str, object]:
    """The compared files' bytes; report.json's content without measured run times."""
    out: dict[str, object] = {}
    for p in sorted(d.rglob("*")):
        rel = p.relative_to(d)
        if p.is_file() and rel.parts[0] in COMPARED:
            data = p.read_bytes()
            out[str(rel)] = repeatable_part(json.loads(data)) if rel.name == "report.json" else data
    return out


def _run(args: list[str], jobs: int, out: Path, cold: bool) -> tuple[float, dict]:
    env = dict(os.environ)
    if cold:
        env["BITFAB_CACHE"] = tempfile.mkdtemp(prefix="bitfab-cache-cold-")
    cmd = [sys.executable, "-m", "flows.cli", "sweep", *args, "--jobs", str(jobs)]
    t0 = time.perf_counter()
    r = subprocess.run([*cmd, "--out", str(out), "--quiet"], env=env, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"bitfab sweep --jobs {jobs} exited {r.returncode}")
    return wall, json.loads((out / SWEEP_JSON).read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", default="1,2", help="worker counts to compare")
    ap.add_argument("--out", type=Path, default=Path("build/bench-sweep"))
    ap.add_argument("--cold", action="store_true", help="an empty synthesis cache per run")
    ap.add_argument("sweep_args", nargs="*", help="after --: bitfab sweep's arguments")
    a = ap.parse_args()
    args = a.sweep_args or DEFAULT
    runs = {}
    for j in (int(x) for x in a.jobs.split(",")):
        wall, doc = _run(args, j, a.out / f"jobs-{j}", a.cold)
        runs[j] = (wall, doc)
        done = sum(p["status"] == "done" for p in doc["points"])
        print(
            f"--jobs {j}: {wall:6.1f} s wall (measured), {done}/{len(doc['points'])} points "
            f"done, sweep {doc['wall_seconds']:.1f} s after the export",
            flush=True,
        )
    base_j, (base_wall, base_doc) = next(iter(runs.items()))
    for j, (wall, doc) in list(runs.items())[1:]:
        same_doc = repeatable_part(doc) == repeatable_part(base_doc)
        diff = []
        for p in base_doc["points"]:
            fa = _files(a.out / f"jobs-{base_j}" / p["build_dir"])
            fb = _files(a.out / f"jobs-{j}" / p["build_dir"])
            diff += [f"{p['id']}/{k}" for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)]
        print(
            f"--jobs {j} vs --jobs {base_j}: speed-up {base_wall / wall:.2f}x; sweep.json "
            f"{'identical' if same_doc else 'DIFFERS'} (times and hosts aside); build files "
            f"{'identical' if not diff else 'DIFFER: ' + ', '.join(diff[:5])}"
        )


if __name__ == "__main__":
    main()
