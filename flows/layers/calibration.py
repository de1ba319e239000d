"""The coefficients of the layer cost models, fitted to Yosys synthesis (bench/calibrate.py).

``calibration.json`` beside this module holds, per kind, the LUT and FF coefficients of the
features its ``cost.lut_features`` names, with the Yosys version, family, date, grid sizes and
the held-back errors the fit achieved; ``bench/calibrate.py --write`` regenerates it. A kind
missing from the file (a plug-in kind, or before calibration) gets no fitted logic: its
estimate is then its memories alone. FF coefficients are fitted and stored too (the report
and fold count LUT, BRAM18 and DSP; ``estimate(kind, "FF", features)`` gives FFs).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("calibration.json")


@lru_cache(maxsize=1)
def load_raw() -> dict[str, Any]:
    """The whole data file, read once."""
    return json.loads(DATA_FILE.read_text())


def coefficients(kind: str, resource: str) -> dict[str, float]:
    """``{feature: coefficient}`` of ``kind``'s ``resource`` ("LUT" or "FF") model."""
    kinds = load_raw().get("kinds", {})
    return dict(kinds.get(kind, {}).get("coefficients", {}).get(resource, {}))


def estimate(kind: str, resource: str, features: dict[str, float]) -> int:
    """Features x fitted coefficients, rounded to whole cells."""
    coeffs = coefficients(kind, resource)
    return round(sum(coeffs.get(name, 0.0) * value for name, value in features.items()))


def held_back_error(kind: str) -> dict[str, dict[str, float]]:
    """``{resource: {"mean", "max", ...}}`` measured on points the fit did not see."""
    return dict(load_raw().get("kinds", {}).get(kind, {}).get("held_back_error", {}))
