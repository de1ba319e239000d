"""Differential fuzzing: build and verify N random QONNX nets in parallel, shrink failures.

    python bench/fuzz.py --n 200 [--seed S] [--jobs J] [--inputs 64] [--save DIR] [--rtlsim]
                         [--require depthwise,avgpool] [--quiet]

Net ``i`` has seed ``S + i``. Each worker process builds in its own temporary directory.
A failing net (mismatch or crash) is shrunk in its worker to the smallest spec that fails
the same way and saved as ``<seed>-<short>.onnx`` + ``.json`` under ``--save`` (default:
tests/fuzz/regressions, which ``tests/test_fuzz.py::test_regressions`` replays).
With ``--rtlsim`` every net that passes C-simulation also runs through the RTL simulation
(Verilator) on the same inputs; a mismatch or a deadlock there fails the net.
Progress (nets done, failures as they come) goes to stderr: a bar on a terminal, plain
timestamped lines otherwise, nothing with ``--quiet``; the summary goes to stdout.
"""

from __future__ import annotations

import argparse
import collections
import os
import secrets
import shutil
import sys
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flows.progress import for_stream  # noqa: E402
from tests.fuzz.runner import N_INPUTS, quiet, run_spec  # noqa: E402
from tests.fuzz.shrink import REGRESSIONS, save_regression, shrink  # noqa: E402
from tests.fuzz.spec import describe, draw_spec  # noqa: E402

_OPTS: dict = {}


def _init(opts: dict) -> None:
    quiet()
    _OPTS.update(opts)
    _OPTS["tmp"] = Path(tempfile.mkdtemp(prefix=f"fuzz{os.getpid()}-"))


def _work(seed: int) -> dict:
    """Build + verify net ``seed``; on failure shrink and save it. Runs in a worker."""
    spec = draw_spec(seed)
    tmp: Path = _OPTS["tmp"]
    counter = iter(range(1_000_000))

    def run(s):
        d = tmp / f"{seed}-{next(counter)}"
        try:
            return run_spec(s, d, _OPTS["inputs"], _OPTS["rtlsim"])
        finally:
            shutil.rmtree(d, ignore_errors=True)

    t0 = time.perf_counter()
    out = run(spec)
    res = {
        "seed": seed,
        "status": out.status,
        "signature": out.signature,
        "detail": out.detail,
        "rounding": out.rounding,
        "desc": describe(spec),
        "seconds": time.perf_counter() - t0,
    }
    if out.failed and not _OPTS["no_shrink"]:
        small, small_out, tries = shrink(spec, run, out.signature, _OPTS["max_shrink"])
        path = save_regression(small, small_out or out, seed, Path(_OPTS["save"]))
        res.update(regression=str(path), shrunk=describe(small), shrink_tries=tries)
    return res


# --require: what a drawn net must contain (several, comma-separated: all of them)
REQUIRE = {
    "residual": lambda spec: any(lay.residual for lay in spec.layers),
    "depthwise": lambda spec: any(lay.depthwise for lay in spec.layers),
    "avgpool": lambda spec: any(lay.avgpool != "none" for lay in spec.layers),
    "trunc": lambda spec: any(lay.avgpool == "trunc" for lay in spec.layers),
    "global-pool": lambda spec: any(lay.avg_global for lay in spec.layers),
    # one of the features added after the first campaigns
    "new": lambda spec: any(
        lay.residual or lay.depthwise or lay.avgpool != "none" for lay in spec.layers
    ),
}


def _requirement(text: str | None):
    """``--require a,b``: a predicate true when the spec has every feature named."""
    if not text:
        return None
    names = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in names if t not in REQUIRE]
    if unknown:
        raise SystemExit(
            f"--require: unknown feature(s) {', '.join(unknown)}; choose from "
            f"{', '.join(sorted(REQUIRE))} (comma-separated: all of them)"
        )
    return lambda spec: all(REQUIRE[t](spec) for t in names)


def _seeds(first: int, n: int, keep) -> list[int]:
    """The first ``n`` seeds from ``first`` whose spec ``keep`` accepts (all when None)."""
    if keep is None:
        return list(range(first, first + n))
    out, seed = [], first
    while len(out) < n:
        if keep(draw_spec(seed)):
            out.append(seed)
        seed += 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="number of nets")
    ap.add_argument("--seed", type=int, default=None, help="first seed (default: random)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--inputs", type=int, default=N_INPUTS, help="verification inputs per net")
    ap.add_argument("--save", default=str(REGRESSIONS), help="where shrunk failures go")
    ap.add_argument("--max-shrink", type=int, default=120, help="builds per shrink at most")
    ap.add_argument("--no-shrink", action="store_true")
    ap.add_argument("--rtlsim", action="store_true", help="also simulate each net's RTL")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per net")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    ap.add_argument(
        "--require",
        default=None,
        metavar="FEATURE[,FEATURE...]",
        help="only the seeds whose net has all of these (the next N such seeds from --seed); "
        f"features: {', '.join(sorted(REQUIRE))}",
    )
    a = ap.parse_args()
    first = a.seed if a.seed is not None else secrets.randbelow(10**9)
    seeds = _seeds(first, a.n, _requirement(a.require))
    what = f" with {a.require}" if a.require else ""
    print(f"fuzzing {a.n} nets{what}, seeds {seeds[0]}..{seeds[-1]}, {a.jobs} jobs", flush=True)
    opts = {
        "inputs": a.inputs,
        "save": a.save,
        "max_shrink": a.max_shrink,
        "no_shrink": a.no_shrink,
        "rtlsim": a.rtlsim,
    }
    t0 = time.perf_counter()
    results = []
    ctx = get_context("fork")
    progress = for_stream(sys.stderr, a.quiet)
    with ctx.Pool(a.jobs, initializer=_init, initargs=(opts,)) as pool, progress:
        with progress.task("fuzz", len(seeds), "nets") as t:
            for r in pool.imap_unordered(_work, seeds):
                results.append(r)
                failed = sum(x["status"] in ("mismatch", "crash") for x in results)
                t.update(len(results), what=f"{failed} failed")
                if a.verbose or r["status"] in ("mismatch", "crash"):
                    line = f"{r['seed']}: {r['status']} {r['signature']} {r['desc']}"
                    progress.note("fuzz", line)
    wall = time.perf_counter() - t0
    _summary(results, wall)


def _summary(results: list[dict], wall: float) -> None:
    by = collections.Counter(r["status"] for r in results)
    rounding_nets = sum(1 for r in results if r["rounding"])
    print()
    print(f"nets tried:      {len(results)}")
    print(f"passed:          {by['pass']}")
    print(f"rejected:        {by['rejected']}")
    print(
        f"failed:          {by['mismatch'] + by['crash']} "
        f"({by['mismatch']} mismatch, {by['crash']} crash)"
    )
    print(
        f"reference-rounding cases: {sum(r['rounding'] for r in results)} inputs "
        f"in {rounding_nets} nets"
    )
    print(f"nets/minute:     {len(results) / wall * 60:.1f}  (wall {wall:.0f} s)")
    rej = collections.Counter(
        r["detail"].split(": ", 1)[-1][:110] for r in results if r["status"] == "rejected"
    )
    for msg, k in rej.most_common():
        print(f"  rejected x{k}: {msg}")
    for r in sorted(results, key=lambda r: r["seed"]):
        if r["status"] in ("mismatch", "crash"):
            print(f"FAILED seed {r['seed']}: {r['signature']}")
            print(f"  net:    {r['desc']}")
            if "regression" in r:
                print(f"  shrunk: {r['shrunk']} ({r['shrink_tries']} builds)")
                print(f"  saved:  {r['regression']}")


if __name__ == "__main__":
    main()
