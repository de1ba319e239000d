"""Stream fork estimates: it is wiring and a handshake (bitfab_fork.v); the coefficients
come from its Yosys synthesis (bench/calibrate.py) like every kind's."""

from __future__ import annotations

from flows.layers import calibration
from flows.layers.fork.spec import ForkSpec


def cycles(s: ForkSpec) -> int:
    return s.words


def lut_features(s: ForkSpec) -> dict[str, float]:
    """The two valid and the one ready gate; the data wires cost nothing."""
    return {"base": 1.0}


def resources(s: ForkSpec) -> dict[str, int]:
    return {"LUT": calibration.estimate("fork", "LUT", lut_features(s)), "BRAM18": 0, "DSP": 0}
