"""Build and verify one fuzz net and say how it went.

Outcome classes (``Outcome.status``):

* ``pass``: the C-simulation, the dataflow model and qonnx's executor agree on every input
  (``rounding`` counts inputs where only the float32 reference rounded differently and
  float64 agrees with the hardware: reported by ``verify``, not a failure);
* ``rejected``: the compiler refused the net with an ``InputError`` (a documented limit,
  exit code 1): not a failure, but the generator is tuned so that this is rare;
* ``mismatch``: verification found a disagreement (C-sim, or with ``rtlsim`` the RTL
  simulation, including a deadlock): a bug;
* ``crash``: any other exception (including a plain ``BitfabError`` such as generated C++
  that g++ cannot compile): a bug.

``Outcome.signature`` is what "fails the same way" means to the shrinker: the status plus
the exception type and the innermost ``flows/`` frame (crash), or which executions disagreed
(mismatch).
"""

from __future__ import annotations

import logging
import re
import traceback
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

from flows.build import run_build
from flows.config import BuildConfig
from flows.errors import InputError, VerificationError
from flows.rtlsim import run_rtlsim
from flows.verify import verify_build
from tests.fuzz.builder import build_model
from tests.fuzz.spec import NetSpec

N_INPUTS = 64
FAILURES = ("mismatch", "crash")


@dataclass(frozen=True)
class Outcome:
    status: str  # pass | rejected | mismatch | crash
    signature: str
    detail: str = ""
    rounding: int = 0

    @property
    def failed(self) -> bool:
        return self.status in FAILURES

    def to_json(self) -> dict:
        return asdict(self)


def _crash_signature(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/flows/" in f.filename or "/boards/" in f.filename]
    where = ""
    if ours:
        f = ours[-1]
        where = f"{Path(f.filename).parent.name}/{Path(f.filename).name}:{f.name}"
    return f"crash:{type(exc).__name__}:{where}"


def _shape_of(msg: str) -> str:
    """A rejection message without its file, node names and numbers (what kind of refusal)."""
    msg = msg.split(": ", 1)[-1]
    msg = re.sub(r"'[^']*'", "'_'", msg)
    return re.sub(r"\d+", "N", msg)[:80]


def verify_model_file(path: Path, out: Path, n: int, seed: int, rtlsim: bool = False) -> Outcome:
    """Build ``path`` into ``out`` and verify ``n`` inputs drawn with ``seed`` (C-sim, and
    with ``rtlsim`` the RTL simulation of the same inputs too)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            d = run_build(BuildConfig(model=str(path), out=out, verify_n=0))
            v = verify_build(d, n, seed=seed)
            if rtlsim and v["status"] == "pass":
                return _rtlsim_outcome(d, n, seed)
    except InputError as exc:
        msg = str(exc).splitlines()[0]
        return Outcome("rejected", f"rejected:{type(exc).__name__}:{_shape_of(msg)}", msg)
    except Exception as exc:  # noqa: BLE001 - every other exception is a compiler crash
        tb = "".join(traceback.format_exception(exc)[-6:])
        return Outcome("crash", _crash_signature(exc), tb[-3000:])
    if v["status"] != "pass":
        kinds = []
        if v["csim_vs_dataflow_mismatches"]:
            kinds.append("csim")
        if v["reference_mismatches"]:
            kinds.append("reference")
        first = v.get("first_mismatch", {})
        detail = f"{v['reference_mismatches']} reference / {v['csim_vs_dataflow_mismatches']} "
        detail += f"csim mismatches of {v['n']}; first: {first}"
        return Outcome("mismatch", "mismatch:" + "+".join(kinds), detail, v["reference_rounding"])
    return Outcome("pass", "pass", "", v["reference_rounding"])


def _rtlsim_outcome(build_dir: Path, n: int, seed: int) -> Outcome:
    """rtlsim on the same inputs: a mismatch or a deadlock is a failure like a C-sim one."""
    try:
        s = run_rtlsim(build_dir, n, seed)
    except VerificationError as exc:
        what = "deadlock" if "deadlock" in str(exc) else "rtlsim"
        return Outcome("mismatch", f"mismatch:{what}", str(exc)[:3000])
    return Outcome("pass", "pass", "", s["verification"]["reference_rounding"])


def run_spec(spec: NetSpec, workdir: Path, n: int = N_INPUTS, rtlsim: bool = False) -> Outcome:
    """Build ``spec``'s model in ``workdir`` (created), then build and verify it."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"fuzz{spec.seed}.onnx"
    build_model(spec).save(str(path))
    return verify_model_file(path, workdir / "build", n, spec.seed, rtlsim)


def quiet() -> None:
    """Silence the per-step logging and qonnx's warnings in worker processes."""
    logging.getLogger().setLevel(logging.WARNING)
    warnings.simplefilter("ignore")
