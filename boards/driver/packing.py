"""The one bit-packing module: how integer tensors become stream words and bytes.

Everything that moves data into or out of the accelerator uses these functions: the codegen
(to pack weights), the C-simulation harness (its byte buffers are the DMA buffers), the host
driver and the tests. Keeping the layout in one place is what makes "bit-exact" checkable.

Layout contract
---------------
* A tensor is flattened in its stream order (the dataflow graph's channels-last order) and cut
  into *words* of ``elems`` consecutive elements.
* Element ``j`` of a word occupies bits ``[j*bits, (j+1)*bits)`` of the word (LSB first), as a
  two's-complement field for signed data, unsigned otherwise.
* BIPOLAR values (+1/-1) are stored as one bit: 1 = +1, 0 = -1.
* A word is stored little-endian in ``word_bytes(bits, elems)`` bytes (rounded up to whole
  bytes, which is what an AXI stream of that width carries).

How it is computed
------------------
Three paths give the bytes of that layout, each vectorised over the whole batch (the driver
packs every batch on the board's CPU, so this is on the measured path):

* 8/16/32/64-bit fields are whole little-endian integers: one cast and a byte view;
* 1-bit fields are ``np.packbits`` (LSB first);
* any other width cuts the word into groups of ``lcm(bits, 8)`` bits, which start on a byte
  boundary, and shifts each field position of a group into its bytes for all groups at once:
  at most 8 shifts, whatever the word size.

tests/test_packing.py checks all of them against the original bit-by-bit implementation.

This module imports only numpy: it ships to the board with the driver.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# Widest field the packing handles (a field is at most one 64-bit integer on the host).
MAX_BITS = 64


def word_bits(bits: int, elems: int) -> int:
    """Width in bits of one stream word carrying ``elems`` fields of ``bits`` bits."""
    return bits * elems


def word_bytes(bits: int, elems: int) -> int:
    """Bytes one stream word occupies in a host buffer (rounded up to whole bytes)."""
    return (word_bits(bits, elems) + 7) // 8


def to_storage(values: np.ndarray, bipolar: bool) -> np.ndarray:
    """Map values to their stored integer: +1/-1 to 1/0 for BIPOLAR, unchanged otherwise."""
    v = np.asarray(values)
    if bipolar:
        return (v > 0).astype(np.int64)
    return v.astype(np.int64)


def from_storage(fields: np.ndarray, bipolar: bool) -> np.ndarray:
    """Inverse of :func:`to_storage`."""
    f = np.asarray(fields, dtype=np.int64)
    if bipolar:
        return 2 * f - 1
    return f


def _check_layout(fn: str, bits: int, elems: int) -> None:
    if not (1 <= bits <= MAX_BITS and elems >= 1):
        raise ValueError(
            f"{fn}: fields of 1..{MAX_BITS} bits and at least one per word, "
            f"got bits={bits}, elems={elems}"
        )


def _uint(nbits: int) -> np.dtype:
    """The smallest little-endian unsigned dtype of at least ``nbits`` bits."""
    for size in (1, 2, 4, 8):
        if nbits <= 8 * size:
            return np.dtype(f"<u{size}")
    raise AssertionError(nbits)


@dataclass(frozen=True)
class _Piece:
    """Up to 32 (or a whole field's) bits of field ``field`` of a group: bits ``[src, src+width)``
    of the field land at bit ``shift`` of bytes ``[byte, byte+nb)`` of the group."""

    field: int
    src: int
    width: int
    byte: int
    shift: int
    nb: int


@dataclass(frozen=True)
class _Groups:
    """A word cut into groups of ``fields`` fields that start and end on byte boundaries.

    ``fields * bits`` is a multiple of 8 (the group is ``lcm(bits, 8)`` bits), so every group
    has the same byte layout and the pieces are shifted once for all groups at once. A word
    shorter than one group is one group of its own fields (``nbytes`` bytes).
    """

    fields: int
    groups: int
    nbytes: int  # bytes per group
    pieces: tuple[_Piece, ...]
    dtype: np.dtype  # unsigned container that holds a field and every shifted piece


@lru_cache(maxsize=256)
def _groups(bits: int, elems: int) -> _Groups:
    period = 8 // math.gcd(bits, 8)
    if elems <= period:
        fields, groups, nbytes = elems, 1, word_bytes(bits, elems)
    else:
        fields, groups, nbytes = period, -(-elems // period), period * bits // 8
    # A field and its byte shift (< 8) must fit in 64 bits; wider fields go as 32-bit pieces.
    step = bits if bits + 7 <= 64 else 32
    pieces = []
    for f in range(fields):
        for src in range(0, bits, step):
            width = min(step, bits - src)
            at = f * bits + src
            shift = at % 8
            pieces.append(_Piece(f, src, width, at // 8, shift, (shift + width + 7) // 8))
    top = max(bits, *(p.shift + p.width for p in pieces))
    return _Groups(fields, groups, nbytes, tuple(pieces), _uint(top))


def _as_integers(values) -> np.ndarray:
    """``values`` as an integer array, without a copy when they already are one.

    Anything else converts exactly as ``np.asarray(values, dtype=np.int64)`` does (floats are
    truncated, uint64 wraps), which is what the packing has always done.
    """
    v = np.asarray(values)
    if v.dtype == np.bool_ or (v.dtype.kind in "iu" and v.dtype != np.uint64):
        return v
    return v.astype(np.int64)


def _check_range(v: np.ndarray, bits: int) -> None:
    lo, hi = -(1 << (bits - 1)), (1 << bits) - 1
    if v.dtype == np.bool_:
        return
    info = np.iinfo(v.dtype)
    if lo <= info.min and info.max <= hi:  # every value of the dtype fits: nothing to scan
        return
    if v.size and (int(v.min()) < lo or int(v.max()) > hi):
        raise ValueError(f"pack: values outside what {bits} bits can hold ([{lo}, {hi}])")


def pack(values: np.ndarray, bits: int, elems: int) -> np.ndarray:
    """Pack integer ``values`` of shape ``[N, L]`` into bytes of shape ``[N, L/elems, nbytes]``.

    ``values`` are already in storage form (see :func:`to_storage`; a bool array is taken as
    0/1); signed values are written as ``bits``-wide two's complement. ``L`` must be a
    multiple of ``elems``. Any integer dtype is packed without widening it first.
    """
    v = _as_integers(values)
    if v.ndim != 2:
        raise ValueError(f"pack expects a 2-D array [N, L], got shape {v.shape}")
    _check_layout("pack", bits, elems)
    n, length = v.shape
    if length % elems:
        raise ValueError(f"pack: length {length} is not a multiple of {elems} elements per word")
    _check_range(v, bits)
    nwords, nbytes = length // elems, word_bytes(bits, elems)
    if bits in (8, 16, 32, 64):  # fields are whole little-endian integers: a cast is the packing
        return v.astype(_uint(bits), order="C").view(np.uint8).reshape(n, nwords, nbytes)
    if bits == 1:  # in range, a field's bit is set exactly when the value is not zero
        b = v if v.dtype == np.bool_ else v != 0
        return np.packbits(b.reshape(n, nwords, elems), axis=2, bitorder="little")
    return _pack_groups(v.reshape(n * nwords, elems), bits, elems).reshape(n, nwords, nbytes)


def _pack_groups(v: np.ndarray, bits: int, elems: int) -> np.ndarray:
    """Words ``[R, elems]`` -> bytes ``[R, nbytes]`` by the byte-aligned groups of ``_groups``."""
    g = _groups(bits, elems)
    rows, dt = v.shape[0], g.dtype
    fields = np.zeros((rows, g.groups * g.fields), dt)
    fields[:, :elems] = v  # wraps to the container: two's complement of the negatives
    if bits < 8 * dt.itemsize:
        fields &= dt.type((1 << bits) - 1)
    fields = fields.reshape(rows, g.groups, g.fields)
    out = np.zeros((rows, g.groups, g.nbytes), np.uint8)
    for p in g.pieces:
        t = fields[:, :, p.field]
        if p.src:
            t = t >> dt.type(p.src)
        if p.width < bits:
            t = t & dt.type((1 << p.width) - 1)
        t = np.ascontiguousarray(t << dt.type(p.shift), dtype=dt)  # little-endian bytes
        le = t.view(np.uint8).reshape(rows, g.groups, dt.itemsize)
        out[:, :, p.byte : p.byte + p.nb] |= le[:, :, : p.nb]
    out = out.reshape(rows, g.groups * g.nbytes)
    return np.ascontiguousarray(out[:, : word_bytes(bits, elems)])


def unpack(data: np.ndarray, bits: int, elems: int, signed: bool) -> np.ndarray:
    """Inverse of :func:`pack`: bytes ``[N, W, nbytes]`` to integers ``[N, W*elems]`` (int64)."""
    _check_layout("unpack", bits, elems)
    nbytes = word_bytes(bits, elems)
    d = np.asarray(data, dtype=np.uint8)
    if d.ndim != 3 or d.shape[2] != nbytes:
        raise ValueError(f"unpack expects [N, words, {nbytes}] bytes, got shape {d.shape}")
    n, nwords, _ = d.shape
    if bits in (8, 16, 32, 64):
        if d.strides[2] != 1:
            d = np.ascontiguousarray(d)
        kind = f"<{'i' if signed else 'u'}{bits // 8}"
        return d.view(kind).astype(np.int64).reshape(n, nwords * elems)
    if bits == 1:
        f = np.unpackbits(d, axis=2, count=elems, bitorder="little").reshape(n, nwords * elems)
        f = f.astype(np.int64)
        return np.negative(f, out=f) if signed else f
    f = _unpack_groups(d.reshape(n * nwords, nbytes), bits, elems).astype(np.int64)
    if signed:  # sign-extend the bits-wide two's complement fields
        sign = np.int64(1 << (bits - 1))
        f ^= sign
        f -= sign
    return f.reshape(n, nwords * elems)


def _unpack_groups(d: np.ndarray, bits: int, elems: int) -> np.ndarray:
    """Bytes ``[R, nbytes]`` -> unsigned fields ``[R, elems]`` (inverse of ``_pack_groups``)."""
    g = _groups(bits, elems)
    rows, dt = d.shape[0], g.dtype
    span = g.groups * g.nbytes
    if span != d.shape[1]:  # the last group's padding fields: zero bytes
        full = np.zeros((rows, span), np.uint8)
        full[:, : d.shape[1]] = d
        d = full
    d = d.reshape(rows, g.groups, g.nbytes)
    fields = np.zeros((rows, g.groups, g.fields), dt)
    word = np.zeros((rows, g.groups, dt.itemsize), np.uint8)
    for p in g.pieces:
        word[:, :, : p.nb] = d[:, :, p.byte : p.byte + p.nb]
        word[:, :, p.nb :] = 0
        t = word.view(dt)[:, :, 0] >> dt.type(p.shift)
        t &= dt.type((1 << p.width) - 1)
        if p.src:
            t <<= dt.type(p.src)
        fields[:, :, p.field] |= t
    return fields.reshape(rows, g.groups * g.fields)[:, :elems]


def pack_words_as_hex(values: np.ndarray, bits: int, elems: int) -> list[str]:
    """Pack a 1-D run of fields into words and return each word as a hex literal string.

    Used by the codegen to write weight memories: one ``0x...`` string per word, most
    significant hex digit first, exactly the bits :func:`pack` would put in the stream.
    """
    b = pack(np.asarray(values, dtype=np.int64).reshape(1, -1), bits, elems)[0]
    out = []
    for word in b:
        digits = word[::-1].tobytes().hex().lstrip("0") or "0"
        out.append("0x" + digits)
    return out


def image_bytes(words: int, nbytes: int, beat_bits: int) -> int:
    """Bytes one image occupies in a DMA buffer: its words, padded to whole DMA beats.

    Padding every image (not just the batch) keeps each image on a beat boundary, so the
    design's DMA edge restarts its word alignment per image and a batch is a concatenation.
    """
    beat = beat_bits // 8
    return -(-words * nbytes // beat) * beat


def to_beats(packed: np.ndarray, beat_bits: int) -> np.ndarray:
    """Packed words ``[N, words, nbytes]`` -> DMA buffer ``[N, image_bytes]`` (zero padded).

    When an image is already whole beats the result is ``packed`` reshaped (no copy).
    """
    p = np.asarray(packed, dtype=np.uint8)
    n, words, nbytes = p.shape
    used, row = words * nbytes, image_bytes(words, nbytes, beat_bits)
    if used == row:
        return p.reshape(n, row)
    out = np.empty((n, row), dtype=np.uint8)
    out[:, :used] = p.reshape(n, used)
    out[:, used:] = 0
    return out


def from_beats(buf: np.ndarray, words: int, nbytes: int) -> np.ndarray:
    """DMA buffer ``[N, image_bytes]`` -> packed words ``[N, words, nbytes]`` (padding dropped).

    A view of ``buf`` (no copy) when it is already a uint8 array.
    """
    b = np.asarray(buf, dtype=np.uint8)
    return b[:, : words * nbytes].reshape(b.shape[0], words, nbytes)
