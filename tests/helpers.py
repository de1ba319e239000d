"""Helpers shared by test modules. Test modules import from here, never from each other."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from flows.cli import main
from flows.sim.toolchain import CXXFLAGS

#: ``bitfab`` as a separate process, for what needs one: real signals, a fresh interpreter
#: (PYTHONHASHSEED, "no traceback" on the real stderr). Everything else uses :func:`run_cli`.
BITFAB = [sys.executable, "-m", "flows.cli"]

#: The repository checkout the tests run in (hls/tests, hls/.clang-format, README.md live here).
REPO_ROOT = Path(__file__).resolve().parents[1]

#: Flags for the HLS kernel testbenches; the session's precompiled header is built with them.
TB_CXXFLAGS = [*CXXFLAGS, "-O1"]


def run_cli(args: Sequence[object]) -> Result:
    """Run ``bitfab ARGS`` in this process and return click's result (``exit_code``, ``stdout``,
    ``stderr``). An exception the CLI does not turn into a message and an exit code propagates
    to the test: as a subprocess it would have printed a traceback."""
    return CliRunner().invoke(
        main, [str(a) for a in args], prog_name="bitfab", catch_exceptions=False
    )


def in_ci(values: list, n: int = 1) -> list:
    """The first ``n`` values run in CI; the others only with ``-m ''`` (make test-all), so
    CI keeps one gap pattern per kernel case and the full matrix stays one command away."""
    return [v if i < n else pytest.param(v, marks=pytest.mark.slow) for i, v in enumerate(values)]
