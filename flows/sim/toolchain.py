"""Where the C++ toolchain and headers come from for C-simulation.

The Xilinx arbitrary-precision headers (ap_int.h, ap_fixed.h, hls_stream.h) ship inside the
installed hls4ml package; we point g++ at them instead of copying them into this repository.
"""

from __future__ import annotations

import platform
import shutil
from functools import lru_cache
from pathlib import Path

from flows.errors import ToolMissingError
from flows.hwlib import HLS_INCLUDE

# -mpopcnt: without it g++ calls libgcc's software popcount, the XNOR layers' inner loop.
CXXFLAGS = ["-std=c++14", "-O2", "-fPIC", "-w"] + (
    ["-mpopcnt"] if platform.machine() in ("x86_64", "AMD64") else []
)


@lru_cache(maxsize=1)
def ap_types_dir() -> Path:
    """Directory holding ap_int.h and hls_stream.h from the installed hls4ml package."""
    try:
        import hls4ml
    except ImportError as exc:  # pragma: no cover - install problem
        raise ToolMissingError(
            "hls4ml is not installed: it provides the ap_types headers C-simulation needs; "
            "run `make install`"
        ) from exc
    root = Path(hls4ml.__file__).resolve().parent / "templates" / "vivado" / "ap_types"
    if not (root / "ap_int.h").is_file():
        raise ToolMissingError(f"ap_int.h not found under {root}; reinstall hls4ml==1.3.0")
    return root


def cxx() -> str:
    """Path of the C++ compiler used for C-simulation."""
    found = shutil.which("g++")
    if not found:
        raise ToolMissingError("g++ is not on PATH: C-simulation needs it (apt-get install g++)")
    return found


def include_flags() -> list[str]:
    """-I flags for our HLS library and the ap_types headers."""
    return ["-I", str(HLS_INCLUDE), "-I", str(ap_types_dir())]
