"""Compile the generated HLS C++ into a shared library for C-simulation (once per content).

The library is compiled with ``-DBITFAB_PARAMS_FROM_FILES``: it holds no weights or
thresholds, and the host fills them from the data files ``hls/params/*.bin`` with
``bitfab_load_params(dir)`` (boards/driver/accelerator.py). Compile time and memory therefore
stay flat as the weight count grows.

The library name carries a hash of every source it is built from (generated files, our
kernel headers, compiler flags) except the compiled-in tables (``hls/params/tables/``), which
this compile never reads: a rebuild of the same design with new weights reuses the library.
The data files are checked when they are loaded instead: each names its table's width and
length, which must equal what the library was compiled for, and carries a CRC of its contents.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
from pathlib import Path

from flows.codegen.hls import TABLES_DIR
from flows.errors import ToolError
from flows.hwlib import HLS_INCLUDE
from flows.sim.toolchain import CXXFLAGS, cxx, include_flags

log = logging.getLogger(__name__)

# The parameter tables come from data files (bitfab/csim_init.hpp), not from the C++.
CSIM_FLAGS = [*CXXFLAGS, "-DBITFAB_PARAMS_FROM_FILES"]


def source_hash(hls_dir: Path) -> str:
    """Hash of what the C-sim compile reads: every source but the compiled-in tables."""
    h = hashlib.sha256()
    tables = hls_dir / TABLES_DIR
    files = sorted(hls_dir.rglob("*.cpp")) + sorted(hls_dir.rglob("*.h"))
    files = [f for f in files if not f.is_relative_to(tables)]
    files += sorted(HLS_INCLUDE.rglob("*.hpp"))
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    h.update(" ".join(CSIM_FLAGS).encode())
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
        *CSIM_FLAGS,
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
