"""User-facing errors and the CLI exit codes they map to.

Every error a user can cause is one of these, with a message that names the file or node,
says what is wrong and what would work. The CLI prints the message (no traceback) and exits
with the class's ``exit_code``: 1 bad input, 2 a tool missing or failing, 3 verification.

``boards`` and ``models`` (and ``boards.driver``, which ships to the board) cannot import this
module; their errors (``BoardError``, ``ModelError``, ``DriverError``) carry an ``exit_code``
of their own, and the CLI maps any exception by that attribute.
"""

from __future__ import annotations


class BitfabError(Exception):
    """Base class: a problem the user can fix. ``exit_code`` is what the CLI returns."""

    exit_code = 1


class InputError(BitfabError):
    """Bad input file, model, option or build directory (exit 1)."""


class ModelFileError(InputError):
    """The model file is missing, not ONNX, truncated or otherwise unreadable."""


class UnsupportedError(InputError):
    """A node, attribute, shape or datatype the compiler cannot map (names the node)."""


class LayerError(InputError):
    """A dataflow layer's parameters are inconsistent (e.g. PE does not divide MH)."""


class FoldingError(InputError):
    """A folding file or target that cannot be built."""


class ToolError(BitfabError):
    """A tool we run (g++, vitis_hls, vivado) failed; the message carries its output (exit 2)."""

    exit_code = 2


class ToolMissingError(ToolError):
    """A needed tool (g++, vitis_hls, vivado) is not on PATH (exit 2)."""


class SynthError(ToolError):
    """Yosys failed on our Verilog (exit 2). ``first_error`` is its first ``ERROR:`` line, the
    one a user needs; the message adds which run failed and where its log is."""

    def __init__(self, message: str, first_error: str = ""):
        super().__init__(message)
        self.first_error = first_error


class VerificationError(BitfabError):
    """Two executions that must agree bit for bit do not (exit 3)."""

    exit_code = 3


class Interrupted(BaseException):
    """SIGTERM (or Ctrl-C) arrived: steps stop, the manifest says so, the CLI exits 128+signal.

    A BaseException so that no ``except Exception`` inside a step can swallow it.
    """

    def __init__(self, signum: int):
        super().__init__(f"interrupted by signal {signum}")
        self.signum = signum
