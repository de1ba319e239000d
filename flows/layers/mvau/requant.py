"""Shift requantization: when a layer's thresholds are those of a power-of-two scale.

A requantization ``y = clip(round((acc + B) / 2^k))`` (bias and scales folded into the integer
offset B and the shift k) needs one adder, a shift, a rounding fix-up and a clamp per PE
instead of 2^bits - 1 comparators and their memory. The decision is made on the exact
thresholds found by evaluation: the shift form is chosen only where it reproduces every
reachable threshold of every channel, so it is exact by construction. Two rounding
behaviours are recognised: floor-like (thresholds evenly spaced by 2^k: FLOOR, CEIL,
HALF_UP...) and round-half-to-even (Brevitas' and qonnx's default ROUND).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ShiftEncoding:
    """level(acc) = clip(level0 + R((acc + offset[c]) / 2^shift), lo, hi); R = floor or RNE."""

    shift: int
    offset: np.ndarray  # int64 [C]
    level0: int
    rne: bool


def shift_level(acc: np.ndarray, enc: ShiftEncoding, lo: int, hi: int) -> np.ndarray:
    """The integer formula the hardware computes (numpy, for checks and as documentation)."""
    v = np.asarray(acc, np.int64) + enc.offset
    q = v >> enc.shift
    if enc.rne and enc.shift > 0:
        r = v & ((1 << enc.shift) - 1)
        half = 1 << (enc.shift - 1)
        q = q + ((r > half) | ((r == half) & (q & 1 == 1)))
    return np.clip(enc.level0 + q, lo, hi)


def _consistent(pred: np.ndarray, t: np.ndarray, lo, hi) -> bool:
    return bool(np.all((pred == t) | ((pred <= lo) & (t <= lo)) | ((pred > hi) & (t > hi))))


def shift_encoding(
    t: np.ndarray, lo: np.ndarray, hi: np.ndarray, qmin: int
) -> ShiftEncoding | None:
    """Find (k, offsets) reproducing thresholds ``t [C, n]`` (threshold i = smallest acc with
    level >= qmin + 1 + i) on each channel's range [lo, hi], or None."""
    t = np.asarray(t, np.int64)
    c, n = t.shape
    if n < 2:
        return None
    lo = np.broadcast_to(lo, (c,)).astype(np.int64)
    hi = np.broadcast_to(hi, (c,)).astype(np.int64)
    diffs = []
    for ch in range(c):
        inner = t[ch][(t[ch] > lo[ch]) & (t[ch] <= hi[ch])]
        if len(inner) >= 3:
            diffs.append((inner[-1] - inner[0]) / (len(inner) - 1))
    if not diffs:
        return None
    mean = float(np.median(diffs))
    if mean < 1:
        return None
    k = int(round(np.log2(mean)))
    levels = qmin + 1 + np.arange(n, dtype=np.int64)
    for rne in (False, True):
        if rne and k == 0:
            continue
        # where each level starts, for offset 0: floor -> l * 2^k; RNE -> (l - 1/2) 2^k + [l odd]
        start = levels << k if not rne else ((2 * levels - 1) << (k - 1)) + (levels & 1)
        offset = np.empty(c, np.int64)
        ok = True
        for ch in range(c):
            reach = (t[ch] > lo[ch]) & (t[ch] <= hi[ch])
            if reach.any():
                j = int(np.argmax(reach))
                offset[ch] = start[j] - t[ch][j]
            else:  # constant channel: any offset putting every threshold on its side
                below = int(np.sum(t[ch] <= lo[ch]))
                offset[ch] = (start[below - 1] - lo[ch]) if below else (start[0] - hi[ch] - 1)
            if not _consistent(start - offset[ch], t[ch], lo[ch], hi[ch]):
                ok = False
                break
        if ok:
            return ShiftEncoding(k, offset, 0, rne)
    return None
