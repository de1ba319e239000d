"""How a stream field's integer encoding is spelled in the HLS library (``bitfab::Kind``) and
as the RTL kernels' integer ``*KIND`` parameters.

One source for the Python side of ``hls/include/bitfab/types.hpp``'s enum: the codegen, the
kernel contexts and the kernel tests all take the spelling from here.
"""

from __future__ import annotations

from enum import Enum

from qonnx.core.datatype import DataType

from flows.datatypes import BIPOLAR


class FieldKind(Enum):
    """The three ways a field's bits are read: 1 = +1 / 0 = -1, two's complement, unsigned."""

    BIPOLAR = "Bipolar"
    SIGNED = "Signed"
    UNSIGNED = "Unsigned"

    @property
    def cxx(self) -> str:
        return f"bitfab::Kind::{self.value}"

    @property
    def rtl(self) -> int:
        """The RTL kernels' integer parameter for the kind (hls/rtl/README.md)."""
        return {"Unsigned": 0, "Signed": 1, "Bipolar": 2}[self.value]

    @classmethod
    def from_cxx(cls, cxx: str) -> FieldKind:
        """The kind an HLS context spelled as ``bitfab::Kind::X``."""
        return cls(cxx.rsplit("::", 1)[-1])

    @classmethod
    def from_dtype(cls, dt: DataType) -> FieldKind:
        if dt == BIPOLAR:
            return cls.BIPOLAR
        return cls.SIGNED if dt.signed() else cls.UNSIGNED

    @classmethod
    def of_output(cls, dt: DataType) -> FieldKind:
        """A thresholded output: a bipolar one is sent as its unsigned level count (0/1)."""
        return cls.UNSIGNED if dt == BIPOLAR else cls.from_dtype(dt)
