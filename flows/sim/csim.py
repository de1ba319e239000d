"""Compile the generated HLS C++ into a shared library for C-simulation (once per content).

The library name carries a hash of every source it is built from (generated files, our
kernel headers, compiler flags), so a rebuild with the same design reuses it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
from pathlib import Path

from flows.errors import ToolError
from flows.hwlib import HLS_INCLUDE
from flows.sim.toolchain import CXXFLAGS, cxx, include_flags

log = logging.getLogger(__name__)


def source_hash(hls_dir: Path) -> str:
    h = hashlib.sha256()
    files = sorted(hls_dir.rglob("*.cpp")) + sorted(hls_dir.rglob("*.h"))
    files += sorted(HLS_INCLUDE.rglob("*.hpp"))
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    h.update(" ".join(CXXFLAGS).encode())
    return h.hexdigest()[:16]


def compile_csim(hls_dir: Path, out_dir: Path) -> Path:
    """Build ``out_dir/csim-<hash>.so`` from ``hls_dir/csim_harness.cpp`` unless it exists."""
    hls_dir, out_dir = hls_dir.resolve(), out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    lib = out_dir / f"csim-{source_hash(hls_dir)}.so"
    if lib.exists():
        log.info("C-sim library %s is up to date", lib.name)
        return lib
    tmp = lib.with_suffix(f".{os.getpid()}.tmp")
    cmd = [
        cxx(),
        *CXXFLAGS,
        "-shared",
        *include_flags(),
        "-I",
        str(hls_dir),
        str(hls_dir / "csim_harness.cpp"),
        "-o",
        str(tmp),
    ]
    log.info("compiling C-simulation: %s", " ".join(cmd))
    proc = subprocess.run(cmd, cwd=hls_dir, capture_output=True, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise ToolError(
            f"{hls_dir}: g++ failed to compile the generated design:\n{proc.stderr[-4000:]}"
        )
    tmp.replace(lib)  # atomic: a half-written library is never picked up
    return lib
