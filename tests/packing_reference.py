"""The bit packing as it was before the vectorised paths (commit 04c3ff3), kept as an oracle.

``boards/driver/packing.py`` must give the same bytes and values as these for every
(bits, elems, signed) layout; tests/test_packing.py checks it and bench/driver_pack.py times
both. They expand every field into its bits, which is slow but obviously right.
"""

from __future__ import annotations

import numpy as np


def _word_bytes(bits: int, elems: int) -> int:
    return (bits * elems + 7) // 8


def reference_pack(values: np.ndarray, bits: int, elems: int) -> np.ndarray:
    """``pack`` as of commit 04c3ff3, unchanged."""
    v = np.asarray(values, dtype=np.int64)
    if v.ndim != 2:
        raise ValueError(f"pack expects a 2-D array [N, L], got shape {v.shape}")
    n, length = v.shape
    if length % elems:
        raise ValueError(f"pack: length {length} is not a multiple of {elems} elements per word")
    lo, hi = -(1 << (bits - 1)), (1 << bits) - 1
    if v.size and (v.min() < lo or v.max() > hi):
        raise ValueError(f"pack: values outside what {bits} bits can hold ([{lo}, {hi}])")
    nwords = length // elems
    nbytes = _word_bytes(bits, elems)
    fields = (v & ((1 << bits) - 1)).astype(np.uint64).reshape(n, nwords, elems)
    # Expand every field into its bits, LSB first, then regroup the bit stream into bytes.
    shifts = np.arange(bits, dtype=np.uint64)
    bitarr = ((fields[..., None] >> shifts) & np.uint64(1)).astype(np.uint8)
    bitarr = bitarr.reshape(n, nwords, elems * bits)
    pad = nbytes * 8 - elems * bits
    if pad:
        bitarr = np.concatenate([bitarr, np.zeros((n, nwords, pad), np.uint8)], axis=2)
    return np.packbits(bitarr.reshape(n, nwords, nbytes, 8), axis=3, bitorder="little")[..., 0]


def reference_unpack(data: np.ndarray, bits: int, elems: int, signed: bool) -> np.ndarray:
    """``unpack`` as of commit 04c3ff3, unchanged."""
    d = np.asarray(data, dtype=np.uint8)
    if d.ndim != 3 or d.shape[2] != _word_bytes(bits, elems):
        raise ValueError(
            f"unpack expects [N, words, {_word_bytes(bits, elems)}] bytes, got shape {d.shape}"
        )
    n, nwords, _ = d.shape
    bitarr = np.unpackbits(d[..., None], axis=3, bitorder="little").reshape(n, nwords, -1)
    bitarr = bitarr[:, :, : elems * bits].reshape(n, nwords, elems, bits).astype(np.int64)
    weights = np.left_shift(np.int64(1), np.arange(bits, dtype=np.int64))
    fields = (bitarr * weights).sum(axis=3)
    if signed:
        fields = np.where(fields >= (1 << (bits - 1)), fields - (1 << bits), fields)
    return fields.reshape(n, nwords * elems)


def reference_to_beats(packed: np.ndarray, beat_bits: int) -> np.ndarray:
    """``to_beats`` as of commit 04c3ff3, unchanged."""
    p = np.asarray(packed, dtype=np.uint8)
    n, words, nbytes = p.shape
    beat = beat_bits // 8
    out = np.zeros((n, -(-words * nbytes // beat) * beat), dtype=np.uint8)
    out[:, : words * nbytes] = p.reshape(n, -1)
    return out


def reference_from_beats(buf: np.ndarray, words: int, nbytes: int) -> np.ndarray:
    """``from_beats`` as of commit 04c3ff3, unchanged."""
    b = np.asarray(buf, dtype=np.uint8)
    return b[:, : words * nbytes].reshape(b.shape[0], words, nbytes)
