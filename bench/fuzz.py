"""Differential fuzzing: build and verify N random QONNX nets in parallel, shrink failures.

    python bench/fuzz.py --n 200 [--seed S] [--jobs J] [--inputs 64] [--save DIR] [--rtlsim]
                         [--require depthwise,avgpool] [--ray [--address ADDR]] [--quiet]

Net ``i`` has seed ``S + i``. Each net runs in a worker process (a pool of ``--jobs``, or with
``--ray`` one Ray task each) in a temporary directory of its own. A failing net (mismatch or
crash) is shrunk in its worker to the smallest spec that fails the same way; the worker sends
it back as data and this process saves it as ``<seed>-<short>.onnx`` + ``.json`` under
``--save`` (default: tests/fuzz/regressions, which ``tests/test_fuzz.py::test_regressions``
replays). tests/fuzz/campaign.py has the worker's and the driver's half, shared by both modes.
With ``--rtlsim`` every net that passes C-simulation also runs through the RTL simulation
(Verilator) on the same inputs; a mismatch or a deadlock there fails the net.

``--ray`` runs the nets on a private Ray started with ``--jobs`` CPUs, or with ``--address`` on
a running cluster (``auto``, ``HOST:PORT``, ``ray://HOST:PORT``: flows/sweep/cluster.py). The
fuzzer's code lives in tests/, which is not installed, so the tasks get this checkout on their
PYTHONPATH: every node of a cluster needs the repository checked out at the same path as here,
at the same commit, installed (``make install``), with g++ (and Verilator for ``--rtlsim``).
Nothing else is shared: the regression files come back through Ray.

Progress (nets done, failures as they come) goes to stderr: a bar on a terminal, plain
timestamped lines otherwise, nothing with ``--quiet``; the summary goes to stdout. Ctrl-C
stops the workers and prints the summary of the nets that finished (exit 130); a Ray task is
killed outright, so it leaves its ``fuzz<seed>-*`` temporary directory on its node.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import functools
import os
import secrets
import signal
import sys
import time
from collections.abc import Iterator
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows.errors import BitfabError  # noqa: E402
from flows.progress import for_stream  # noqa: E402
from flows.sweep.cluster import LOCAL, connect, import_ray  # noqa: E402
from tests.fuzz.campaign import FuzzOptions, NetResult, run_seed, save_result  # noqa: E402
from tests.fuzz.runner import N_INPUTS  # noqa: E402
from tests.fuzz.shrink import REGRESSIONS  # noqa: E402
from tests.fuzz.spec import describe, draw_spec  # noqa: E402


def _stop_on_signals() -> None:
    """Pool workers: Ctrl-C, and the SIGTERM of the pool's ``terminate``, end a worker as an
    exit does, once: the build's g++ is killed and the net's temporary directory removed."""

    def stop(signum, _frame) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: None)  # not SIG_IGN: one may be pending already
        raise SystemExit(128 + signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)


def pool_results(seeds: list[int], opts: FuzzOptions, jobs: int) -> Iterator[NetResult]:
    """Every net in a pool of ``jobs`` processes, as they finish (the pool is terminated
    when the caller stops early)."""
    with get_context("fork").Pool(jobs, initializer=_stop_on_signals) as pool:
        yield from pool.imap_unordered(functools.partial(run_seed, opts=opts), seeds)


def ray_results(seeds: list[int], opts: FuzzOptions) -> Iterator[NetResult]:
    """Every net as a Ray task (Ray connected already), as they finish; the tasks not finished
    when the caller stops early are cancelled."""
    ray = import_ray()
    # tests/ is not installed: the workers import it from this checkout (the same path on
    # every node, see the module docstring)
    env = {"env_vars": {"PYTHONPATH": str(ROOT)}}
    task = ray.remote(num_cpus=1, max_retries=0, runtime_env=env)(run_seed)
    pending = {task.remote(seed, opts): seed for seed in seeds}
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
            for ref in ready:
                yield _ray_result(ray, ref, pending.pop(ref))
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)


def _ray_result(ray, ref, seed: int) -> NetResult:
    """The task's result. A worker that died (killed, out of memory, its node lost) is a
    crash of that net; an exception of ``run_seed`` is a bug of the fuzzer and stops the run,
    as in the pool."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError:
        raise
    except ray.exceptions.RayError as exc:
        msg = f"the Ray task died: {type(exc).__name__}: {str(exc)[:2500]}"
        desc = describe(draw_spec(seed))
        return NetResult(seed, "crash", f"crash:{type(exc).__name__}:ray", msg, 0, desc, 0.0)


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


def main(argv: list[str] | None = None) -> list[NetResult]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="number of nets")
    ap.add_argument("--seed", type=int, default=None, help="first seed (default: random)")
    ap.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (with --ray: the CPUs of the private Ray; a cluster has its own)",
    )
    ap.add_argument("--inputs", type=int, default=N_INPUTS, help="verification inputs per net")
    ap.add_argument("--save", default=str(REGRESSIONS), help="where shrunk failures go")
    ap.add_argument("--max-shrink", type=int, default=120, help="builds per shrink at most")
    ap.add_argument("--no-shrink", action="store_true")
    ap.add_argument("--rtlsim", action="store_true", help="also simulate each net's RTL")
    ap.add_argument("--ray", action="store_true", help="one Ray task per net instead of a pool")
    ap.add_argument(
        "--address",
        default=None,
        help=f"with --ray: {LOCAL} (default: a private Ray of --jobs CPUs), auto, HOST:PORT "
        "or ray://HOST:PORT (a running cluster)",
    )
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per net")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    ap.add_argument(
        "--require",
        default=None,
        metavar="FEATURE[,FEATURE...]",
        help="only the seeds whose net has all of these (the next N such seeds from --seed); "
        f"features: {', '.join(sorted(REQUIRE))}",
    )
    a = ap.parse_args(argv)
    if a.address is not None and not a.ray:
        ap.error("--address: only with --ray")
    first = a.seed if a.seed is not None else secrets.randbelow(10**9)
    seeds = _seeds(first, a.n, _requirement(a.require))
    what = f" with {a.require}" if a.require else ""
    header = f"fuzzing {a.n} nets{what}, seeds {seeds[0]}..{seeds[-1]}"
    opts = FuzzOptions(a.inputs, a.rtlsim, not a.no_shrink, a.max_shrink)
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        if a.ray:
            try:
                conn = stack.enter_context(connect(a.address or LOCAL, a.jobs))
            except BitfabError as exc:  # an address that does not answer; Ray not installed
                print(f"error: {exc}", file=sys.stderr)
                raise SystemExit(exc.exit_code) from None
            nodes = f"{conn.nodes} node{'s' if conn.nodes != 1 else ''}"
            print(f"{header}, via Ray ({conn.cpus} CPUs, {nodes})", flush=True)
            results = ray_results(seeds, opts)
        else:
            print(f"{header}, {a.jobs} jobs", flush=True)
            results = pool_results(seeds, opts, a.jobs)
        done, saved, interrupted = _collect(results, len(seeds), Path(a.save), a)
    wall = time.perf_counter() - t0
    if interrupted:
        print(f"\ninterrupted: {len(done)} of {len(seeds)} nets finished, the rest stopped")
    _summary(done, saved, wall)
    if interrupted:
        raise SystemExit(128 + signal.SIGINT)
    return done


def _collect(
    results: Iterator[NetResult], n: int, save: Path, a: argparse.Namespace
) -> tuple[list[NetResult], dict[int, Path], bool]:
    """Take the results as they come: progress, regressions saved; stop at Ctrl-C. The nets
    done, the regressions saved (by seed), and whether Ctrl-C stopped it."""
    done: list[NetResult] = []
    saved: dict[int, Path] = {}
    progress = for_stream(sys.stderr, a.quiet)
    try:
        with progress, progress.task("fuzz", n, "nets") as t:
            for r in results:
                done.append(r)
                path = save_result(r, save)
                if path is not None:
                    saved[r.seed] = path
                failed = sum(x.failed for x in done)
                t.update(len(done), what=f"{failed} failed")
                if a.verbose or r.failed:
                    progress.note("fuzz", f"{r.seed}: {r.status} {r.signature} {r.desc}")
    except KeyboardInterrupt:
        return done, saved, True
    finally:
        results.close()  # terminates the pool, cancels the Ray tasks left
    return done, saved, False


def _summary(results: list[NetResult], saved: dict[int, Path], wall: float) -> None:
    by = collections.Counter(r.status for r in results)
    rounding_nets = sum(1 for r in results if r.rounding)
    print()
    print(f"nets tried:      {len(results)}")
    print(f"passed:          {by['pass']}")
    print(f"rejected:        {by['rejected']}")
    print(
        f"failed:          {by['mismatch'] + by['crash']} "
        f"({by['mismatch']} mismatch, {by['crash']} crash)"
    )
    print(
        f"reference-rounding cases: {sum(r.rounding for r in results)} inputs "
        f"in {rounding_nets} nets"
    )
    print(f"nets/minute:     {len(results) / wall * 60:.1f}  (wall {wall:.0f} s)")
    rej = collections.Counter(
        r.detail.split(": ", 1)[-1][:110] for r in results if r.status == "rejected"
    )
    for msg, k in rej.most_common():
        print(f"  rejected x{k}: {msg}")
    for r in sorted(results, key=lambda r: r.seed):
        if r.failed:
            print(f"FAILED seed {r.seed}: {r.signature}")
            print(f"  net:    {r.desc}")
            if r.seed in saved:
                print(f"  shrunk: {r.shrunk} ({r.shrink_tries} builds)")
                print(f"  saved:  {saved[r.seed]}")


if __name__ == "__main__":
    main()
