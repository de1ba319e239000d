"""The backend protocol: one module per way of writing the design (HLS C++ today).

A backend renders a ``Design`` into its own directory of the build and names the vendor tools
its bitstream flow needs (after Amaranth's ``required_tools``).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Protocol

from flows.codegen.design import Design


class Backend(Protocol):
    name: ClassVar[str]  # also the build subdirectory it writes, and the registry key
    REQUIRED_TOOLS: ClassVar[tuple[str, ...]]

    def render(self, design: Design, out_dir: Path, model_name: str, dma_bits: int) -> None:
        """Write every file of the design for this backend into ``out_dir``."""
