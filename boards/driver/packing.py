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

This module imports only numpy: it ships to the board with the driver.
"""

from __future__ import annotations

import numpy as np


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


def pack(values: np.ndarray, bits: int, elems: int) -> np.ndarray:
    """Pack integer ``values`` of shape ``[N, L]`` into bytes of shape ``[N, L/elems, nbytes]``.

    ``values`` are already in storage form (see :func:`to_storage`); signed values are written
    as ``bits``-wide two's complement. ``L`` must be a multiple of ``elems``.
    """
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
    nbytes = word_bytes(bits, elems)
    fields = (v & ((1 << bits) - 1)).astype(np.uint64).reshape(n, nwords, elems)
    # Expand every field into its bits, LSB first, then regroup the bit stream into bytes.
    shifts = np.arange(bits, dtype=np.uint64)
    bitarr = ((fields[..., None] >> shifts) & np.uint64(1)).astype(np.uint8)
    bitarr = bitarr.reshape(n, nwords, elems * bits)
    pad = nbytes * 8 - elems * bits
    if pad:
        bitarr = np.concatenate([bitarr, np.zeros((n, nwords, pad), np.uint8)], axis=2)
    return np.packbits(bitarr.reshape(n, nwords, nbytes, 8), axis=3, bitorder="little")[..., 0]


def unpack(data: np.ndarray, bits: int, elems: int, signed: bool) -> np.ndarray:
    """Inverse of :func:`pack`: bytes ``[N, W, nbytes]`` to integers ``[N, W*elems]`` (int64)."""
    d = np.asarray(data, dtype=np.uint8)
    if d.ndim != 3 or d.shape[2] != word_bytes(bits, elems):
        raise ValueError(
            f"unpack expects [N, words, {word_bytes(bits, elems)}] bytes, got shape {d.shape}"
        )
    n, nwords, _ = d.shape
    bitarr = np.unpackbits(d[..., None], axis=3, bitorder="little").reshape(n, nwords, -1)
    bitarr = bitarr[:, :, : elems * bits].reshape(n, nwords, elems, bits).astype(np.int64)
    weights = np.left_shift(np.int64(1), np.arange(bits, dtype=np.int64))
    fields = (bitarr * weights).sum(axis=3)
    if signed:
        fields = np.where(fields >= (1 << (bits - 1)), fields - (1 << bits), fields)
    return fields.reshape(n, nwords * elems)


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
    """Packed words ``[N, words, nbytes]`` -> DMA buffer ``[N, image_bytes]`` (zero padded)."""
    p = np.asarray(packed, dtype=np.uint8)
    n, words, nbytes = p.shape
    out = np.zeros((n, image_bytes(words, nbytes, beat_bits)), dtype=np.uint8)
    out[:, : words * nbytes] = p.reshape(n, -1)
    return out


def from_beats(buf: np.ndarray, words: int, nbytes: int) -> np.ndarray:
    """DMA buffer ``[N, image_bytes]`` -> packed words ``[N, words, nbytes]`` (padding dropped)."""
    b = np.asarray(buf, dtype=np.uint8)
    return b[:, : words * nbytes].reshape(b.shape[0], words, nbytes)
