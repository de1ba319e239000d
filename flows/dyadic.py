"""Exact integer multipliers for adding two differently scaled integer tensors.

A float32 scale is a dyadic rational ``m * 2^e`` (``m`` an odd integer below 2^24). Two of
them, ``sa`` and ``sb``, share the largest common unit ``s = gcd(ma', mb') * 2^min(ea, eb)``
(``ma'``, ``mb'``: the mantissas brought to the smaller exponent); then ``sa = ka * s`` and
``sb = kb * s`` with coprime integers ``ka``, ``kb``, and ``sa*ia + sb*ib = (ka*ia + kb*ib) * s``
exactly. ``s`` is itself a float32 (the gcd divides an odd mantissa below 2^24), so the
integer sum ``z = ka*ia + kb*ib`` stands for its real value exactly, with the smallest
multipliers any exact integer sum can have. Equal scales give ``ka = kb = 1``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from flows.errors import UnsupportedError


@dataclass(frozen=True)
class ScaledSum:
    """``sa*ia + sb*ib == (ka*ia + kb*ib) * scale`` exactly; ``scale`` is float32, shaped as
    ``sa`` and ``sb`` broadcast (one value per channel when they are per channel)."""

    ka: int
    kb: int
    scale: np.ndarray

    def integers(self, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
        """The exact integer sum ``ka*ia + kb*ib`` (int64)."""
        return self.ka * np.asarray(ia, np.int64) + self.kb * np.asarray(ib, np.int64)


def _dyadic(x: float) -> tuple[int, int]:
    """``(m, e)`` with ``x == m * 2**e`` exactly, ``m`` odd (or 0)."""
    frac, exp = math.frexp(float(np.float32(x)))
    m, e = int(frac * (1 << 24)), exp - 24  # a float32 mantissa has 24 bits: exact
    if m == 0:
        return 0, 0
    while m % 2 == 0:
        m, e = m // 2, e + 1
    return m, e


def multipliers(sa: float, sb: float) -> tuple[int, int, float]:
    """``(ka, kb, s)``: coprime integers and the float32 ``s`` with ``sa == ka*s`` and
    ``sb == kb*s`` exactly (``s > 0``; a negative scale gives a negative multiplier)."""
    (ma, ea), (mb, eb) = _dyadic(sa), _dyadic(sb)
    if ma == 0 or mb == 0:
        raise ValueError("a zero scale has no common unit")
    e = min(ea, eb)
    ma, mb = ma << (ea - e), mb << (eb - e)
    g = math.gcd(ma, mb)
    s = math.ldexp(g, e)
    exact = Fraction(s) * (ma // g) == Fraction(float(np.float32(sa)))
    assert exact and Fraction(s) * (mb // g) == Fraction(float(np.float32(sb)))
    assert float(np.float32(s)) == s  # the common unit is a float32 itself
    return ma // g, mb // g, s


def scaled_sum(sa: np.ndarray, sb: np.ndarray, where: str) -> ScaledSum:
    """The multipliers for adding integers of scales ``sa`` and ``sb`` (scalars or one value
    per channel). Per-channel scales are taken when every channel has the same multipliers
    (the same ratio ``sa/sb``: the hardware holds one pair of constants); else refused,
    naming ``where``."""
    sa = np.asarray(sa, np.float32)
    sb = np.asarray(sb, np.float32)
    shape = np.broadcast_shapes(sa.shape, sb.shape)
    fa, fb = np.broadcast_to(sa, shape).ravel(), np.broadcast_to(sb, shape).ravel()
    if not (np.all(np.isfinite(fa)) and np.all(np.isfinite(fb))) or np.any(fa * fb == 0):
        raise UnsupportedError(
            f"{where}: a residual add of a path with a zero or non-finite scale; quantize "
            "both paths with a finite, non-zero scale"
        )
    pairs = [multipliers(a, b) for a, b in zip(fa, fb)]
    ks = {(ka, kb) for ka, kb, _ in pairs}
    if len(ks) > 1:
        (ka0, kb0), (ka1, kb1) = sorted(ks)[:2]
        raise UnsupportedError(
            f"{where}: a residual add of two paths whose per-channel scales differ by a "
            f"different ratio in different channels ({ka0}:{kb0} and {ka1}:{kb1}); bitfab "
            "adds the integers with one pair of constant multipliers: give both paths the "
            "same quantizer, per-tensor scales, or per-channel scales in one fixed ratio"
        )
    ka, kb = next(iter(ks))
    scale = np.array([s for _, _, s in pairs], np.float32).reshape(shape)
    return ScaledSum(ka, kb, scale)
