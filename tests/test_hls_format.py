"""The C++ of the HLS library (hls/) is clang-formatted with the style in hls/.clang-format.

Runs ``clang-format --dry-run --Werror`` over every ``.hpp``/``.cpp`` under ``hls/``. The binary
comes from the dev extras (the ``clang-format`` PyPI wheel, pinned in pyproject.toml); the
test is skipped, saying so, when no clang-format is installed. Fix a failure with
``clang-format -i`` on the files it names.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT

HLS_DIR = REPO_ROOT / "hls"


def _clang_format() -> str | None:
    """The venv's clang-format (the pinned wheel) first, else one on PATH."""
    beside_python = Path(sys.executable).parent / "clang-format"
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which("clang-format")


def test_hls_sources_are_clang_formatted() -> None:
    exe = _clang_format()
    if exe is None:
        pytest.skip("clang-format is not installed (pip install -e '.[dev]' provides it)")
    sources = sorted(p for ext in ("*.hpp", "*.cpp") for p in HLS_DIR.rglob(ext))
    assert sources, f"no C++ sources under {HLS_DIR}"
    result = subprocess.run(
        [exe, "--dry-run", "--Werror", *map(str, sources)],
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    version = subprocess.run([exe, "--version"], check=True, capture_output=True, text=True)
    assert result.returncode == 0, (
        f"{version.stdout.strip()}: not formatted; run `clang-format -i` on them\n{result.stderr}"
    )
