"""One net of a fuzzing campaign: run by a worker, its result saved by the driver.

:func:`run_seed` builds and verifies net ``seed`` in a temporary directory of its own (removed
after), shrinks a failure there and returns a :class:`NetResult`: plain data, the shrunk failure
included as the contents of its regression files, because a worker on another machine cannot
write into the driver's directories. :func:`save_result` writes them on the driver.
bench/fuzz.py's process pool and its Ray tasks both go through these two functions.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from tests.fuzz.runner import FAILURES, N_INPUTS, Outcome, quiet, run_spec
from tests.fuzz.shrink import REGRESSIONS, Regression, regression, shrink
from tests.fuzz.spec import NetSpec, describe, draw_spec


@dataclass(frozen=True)
class FuzzOptions:
    """How every net of a campaign is run."""

    inputs: int = N_INPUTS  # verification inputs per net
    rtlsim: bool = False  # also simulate the RTL of a net that passes C-simulation
    shrink: bool = True  # shrink a failing net (else only report it)
    max_shrink: int = 120  # builds per shrink at most


@dataclass(frozen=True)
class NetResult:
    """How net ``seed`` went (``status``, ``signature``, ``detail``, ``rounding`` as in
    :class:`~tests.fuzz.runner.Outcome`) and, for a shrunk failure, its regression."""

    seed: int
    status: str
    signature: str
    detail: str
    rounding: int
    desc: str  # the net, in short
    seconds: float  # its build and verification (not the shrinking)
    shrunk: str = ""  # the shrunk net, in short
    shrink_tries: int = 0
    regression: Regression | None = None

    @property
    def failed(self) -> bool:
        return self.status in FAILURES


def run_seed(seed: int, opts: FuzzOptions) -> NetResult:
    """Build and verify net ``seed``; shrink a failure. Runs in a worker process (its logging
    silenced), in a temporary directory of the machine it runs on."""
    quiet()
    spec = draw_spec(seed)
    with tempfile.TemporaryDirectory(prefix=f"fuzz{seed}-") as tmp:
        counter = itertools.count()

        def run(s: NetSpec) -> Outcome:
            d = Path(tmp) / str(next(counter))
            try:
                return run_spec(s, d, opts.inputs, opts.rtlsim)
            finally:
                shutil.rmtree(d, ignore_errors=True)

        t0 = time.perf_counter()
        out = run(spec)
        seconds = time.perf_counter() - t0
        result = NetResult(
            seed, out.status, out.signature, out.detail, out.rounding, describe(spec), seconds
        )
        if out.failed and opts.shrink:
            small, small_out, tries = shrink(spec, run, out.signature, opts.max_shrink)
            result = replace(
                result,
                shrunk=describe(small),
                shrink_tries=tries,
                regression=regression(small, small_out or out, seed),
            )
    return result


def save_result(result: NetResult, root: Path = REGRESSIONS) -> Path | None:
    """On the driver: write ``result``'s regression files under ``root``; the .onnx's path
    (None when there is no regression)."""
    return result.regression.write(root) if result.regression is not None else None
