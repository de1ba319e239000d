"""Where the hardware library is: the one module that locates it.

The library is the HLS C++ kernels (``include/bitfab/*.hpp``), the RTL kernels (``rtl/*.v``)
and the Verilator harness of the top (``rtl/tb/``). In the repository (a checkout, or an
editable install of it) it is ``hls/`` at the top level, beside the ``flows`` package. A wheel
carries the same tree as the data package ``bitfab_hls`` (setup.py maps ``hls/`` to that name),
installed beside ``flows`` in site-packages. The library beside the ``flows`` that is running
is the one used, so a checkout run with ``PYTHONPATH=.`` never compiles another install's
kernels.
"""

from __future__ import annotations

from pathlib import Path

from flows.errors import ToolMissingError

INSTALLED_NAME = "bitfab_hls"  # the package name hls/ has in a wheel (setup.py)
_BESIDE_FLOWS = Path(__file__).resolve().parents[1]
#: Where the library may be, in order: the repository's hls/, then the installed package.
CANDIDATES = (_BESIDE_FLOWS / "hls", _BESIDE_FLOWS / INSTALLED_NAME)
_MARKER = Path("include", "bitfab", "bitfab.hpp")


def find_library(candidates: tuple[Path, ...] = CANDIDATES) -> Path:
    """The first of ``candidates`` that holds the library (its ``include/bitfab/bitfab.hpp``)."""
    for root in candidates:
        if (root / _MARKER).is_file():
            return root
    tried = " nor ".join(str(c) for c in candidates)
    raise ToolMissingError(
        f"bitfab's hardware library is missing: neither {tried} holds {_MARKER}; reinstall "
        "bitfab (`pip install bitfab-*.whl`, or `make install` in a checkout)"
    )


LIBRARY = find_library()
#: -I directory of the HLS kernels: ``#include "bitfab/mvau.hpp"``.
HLS_INCLUDE = LIBRARY / "include"
#: The Verilog kernels, copied into every build's rtl/.
RTL_KERNELS = LIBRARY / "rtl"
#: The C++ harness Verilator compiles with a build's top for rtlsim.
RTL_TOP_HARNESS = RTL_KERNELS / "tb" / "top_tb.cpp"
