"""Helpers shared by the layer packages (attribute parsing at the ONNX edge)."""

from __future__ import annotations

from qonnx.core.datatype import DataType

DOMAIN = "flows.layers.custom_ops"


def dt(name: str):
    """Parse a datatype attribute string, once, at the ONNX edge."""
    return DataType[name]


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]
