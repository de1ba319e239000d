"""The bit packing (boards/driver/packing.py) gives the same bytes, values and errors as the
bit-by-bit implementation it replaced (tests/packing_reference.py), for every field width,
word size, signedness and input dtype; and the DMA buffer helpers copy only when they must."""

from __future__ import annotations

import re

import numpy as np
import pytest

from boards.driver.packing import (
    MAX_BITS,
    from_beats,
    image_bytes,
    pack,
    to_beats,
    to_storage,
    unpack,
    word_bytes,
)
from tests.packing_reference import (
    reference_from_beats,
    reference_pack,
    reference_to_beats,
    reference_unpack,
)

# Field widths the reference handles (it overflows at 64 bits); 64 is checked on its own.
REF_BITS = range(1, MAX_BITS)
# Word sizes every width is tried with, plus random ones up to 70 elements per word.
ELEMS = (1, 2, 3, 5, 7, 8, 9, 16, 31, 64, 70)


def _random_storage(rng, kind: str, bits: int, shape: tuple[int, int]) -> np.ndarray:
    """Storage-form values of one kind, the range's ends always among them."""
    if kind == "bipolar":
        return to_storage(np.where(rng.integers(0, 2, shape) > 0, 1, -1), bipolar=True)
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if kind == "signed" else (0, 2**bits - 1)
    if bits == 64 and kind == "unsigned":  # int64 holds the 64-bit patterns as they wrap
        lo, hi = -(1 << 63), (1 << 63) - 1
    v = rng.integers(lo, hi, size=shape, endpoint=True, dtype=np.int64)
    if v.size >= 2:
        v.flat[0], v.flat[-1] = lo, hi
    return v


def _narrow(v: np.ndarray, kind: str) -> list[np.ndarray]:
    """The same values in every narrower dtype that holds them (pack must not care)."""
    out = []
    for dt in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.bool_):
        if v.size and (v.min() >= np.iinfo(dt).min if dt != np.bool_ else v.min() >= 0):
            top = 1 if dt == np.bool_ else np.iinfo(dt).max
            if v.max() <= top:
                out.append(v.astype(dt))
    return out


def _layouts(bits: int, seed: int):
    """(elems, n images, words per image) cases for one width: the fixed word sizes and a few
    random ones, small enough for the bit-by-bit reference to stay fast."""
    rng = np.random.default_rng(seed)
    for elems in ELEMS + tuple(int(e) for e in rng.integers(1, 71, size=4)):
        yield elems, int(rng.integers(1, 4)), int(rng.integers(1, 4))


@pytest.mark.parametrize("bits", REF_BITS)
def test_pack_and_unpack_match_the_reference(bits: int) -> None:
    rng = np.random.default_rng(bits)
    kinds = ("unsigned", "signed", "bipolar") if bits == 1 else ("unsigned", "signed")
    for elems, n, words in _layouts(bits, seed=100 + bits):
        for kind in kinds:
            v = _random_storage(rng, kind, bits, (n, words * elems))
            want = reference_pack(v, bits, elems)
            got = pack(v, bits, elems)
            assert got.dtype == np.uint8 and got.shape == (n, words, word_bytes(bits, elems))
            assert np.array_equal(got, want), (bits, elems, kind)
            for narrow in _narrow(v, kind):
                assert np.array_equal(pack(narrow, bits, elems), want), (bits, elems, narrow.dtype)
            signed = kind == "signed"
            back = unpack(got, bits, elems, signed)
            assert back.dtype == np.int64 and np.array_equal(back, v)
            if not (signed and bits == 63):  # the reference overflows there (1 << 63)
                assert np.array_equal(back, reference_unpack(want, bits, elems, signed))
            # every bit pattern, padding included, decodes as the reference decodes it
            noise = rng.integers(0, 256, size=got.shape, dtype=np.uint8)
            if not (signed and bits == 63):
                assert np.array_equal(
                    unpack(noise, bits, elems, signed),
                    reference_unpack(noise, bits, elems, signed),
                )


@pytest.mark.parametrize("elems", [1, 2, 3, 5, 70])
def test_64_bit_fields_are_little_endian_two_complement(elems: int) -> None:
    """64-bit fields (the reference could not pack them) against Python's own integers."""
    rng = np.random.default_rng(elems)
    v = _random_storage(rng, "signed", 64, (3, 2 * elems))
    got = pack(v, 64, elems)
    want = [
        [
            b"".join(int(x).to_bytes(8, "little", signed=True) for x in row[w : w + elems])
            for w in range(0, 2 * elems, elems)
        ]
        for row in v
    ]
    assert [[bytes(word) for word in img] for img in got] == want
    assert np.array_equal(unpack(got, 64, elems, signed=True), v)
    assert np.array_equal(unpack(got, 64, elems, signed=False), v)  # int64 holds them wrapped


@pytest.mark.parametrize("bits", [3, 11, 17, 45, 57, 63])
def test_unaligned_fields_against_python_integers(bits: int) -> None:
    """Widths that are not whole bytes, wide ones split in pieces: each word is the integer
    sum(field_j << j*bits), little-endian in its bytes."""
    rng = np.random.default_rng(bits)
    for elems in (1, 2, 7, 8, 9, 33):
        v = _random_storage(rng, "unsigned", bits, (2, 3 * elems))
        got = pack(v, bits, elems)
        nbytes = word_bytes(bits, elems)
        for img, row in zip(got, v):
            for w, word in enumerate(img):
                fields = row[w * elems : (w + 1) * elems]
                value = sum(int(f) << (j * bits) for j, f in enumerate(fields))
                assert bytes(word) == value.to_bytes(nbytes, "little")


def test_values_are_converted_as_before() -> None:
    """Floats truncate, uint64 wraps, non-contiguous views pack as their values: all as the
    reference's ``np.asarray(values, dtype=np.int64)`` did."""
    x = np.array([[3.7, -2.2, 0.0, 7.9]])
    assert np.array_equal(pack(x, 4, 2), reference_pack(x, 4, 2))
    big = np.array([[2**64 - 1, 5]], dtype=np.uint64)  # -1 and 5 once wrapped to int64
    assert np.array_equal(pack(big, 8, 2), reference_pack(big, 8, 2))
    v = np.random.default_rng(0).integers(0, 8, size=(6, 12))
    for view in (v[::2], v[:, ::2], v.T.copy().T, np.asfortranarray(v)):
        for bits in (3, 8, 16):
            assert np.array_equal(pack(view, bits, 3), reference_pack(view, bits, 3))
    assert np.array_equal(pack(v.tolist(), 5, 4), reference_pack(v, 5, 4))


def test_empty_batches() -> None:
    for bits, elems in ((1, 8), (8, 3), (11, 1), (2, 5)):
        got = pack(np.zeros((0, elems * 2), np.int64), bits, elems)
        assert got.shape == (0, 2, word_bytes(bits, elems))
        assert unpack(got, bits, elems, signed=True).shape == (0, elems * 2)
        assert pack(np.zeros((4, 0), np.int64), bits, elems).shape == (
            4,
            0,
            word_bytes(bits, elems),
        )


@pytest.mark.parametrize("bits", REF_BITS)
def test_range_errors_are_the_reference_errors(bits: int) -> None:
    lo, hi = -(1 << (bits - 1)), (1 << bits) - 1
    message = f"pack: values outside what {bits} bits can hold ([{lo}, {hi}])"
    for bad in (lo - 1, hi + 1):
        if bad >= 1 << 63:  # no int64 holds it (63-bit fields)
            continue
        v = np.array([[0, bad]], dtype=np.int64)
        with pytest.raises(ValueError) as want:
            reference_pack(v, bits, 1)
        assert str(want.value) == message
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            pack(v, bits, 1)
        for narrow in _narrow(v, "signed"):
            with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
                pack(narrow, bits, 1)


def test_range_error_words() -> None:
    with pytest.raises(
        ValueError, match=r"^pack: values outside what 1 bits can hold \(\[-1, 1\]\)$"
    ):
        pack(np.array([[2, 0]], dtype=np.uint8), 1, 2)
    with pytest.raises(
        ValueError, match=r"^pack: values outside what 4 bits can hold \(\[-8, 15\]\)$"
    ):
        pack(np.array([[-9]], dtype=np.int8), 4, 1)
    pack(np.array([[-128, 255]], dtype=np.int16), 8, 2)  # both ends fit: no error


def test_shape_errors_are_the_reference_errors() -> None:
    cases = [
        (
            lambda f: f(np.zeros(4, np.int64), 2, 2),
            "pack expects a 2-D array [N, L], got shape (4,)",
        ),
        (
            lambda f: f(np.zeros((2, 5)), 2, 2),
            "pack: length 5 is not a multiple of 2 elements per word",
        ),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            call(reference_pack)
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            call(pack)
    message = "unpack expects [N, words, 2] bytes, got shape (3, 4, 3)"
    for f in (reference_unpack, unpack):
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            f(np.zeros((3, 4, 3), np.uint8), 3, 5, False)


def test_layouts_outside_what_a_field_can_be_are_refused() -> None:
    message = "pack: fields of 1..64 bits and at least one per word, got bits=65, elems=1"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        pack(np.zeros((1, 1), np.int64), 65, 1)
    with pytest.raises(ValueError, match=r"^unpack: fields of 1\.\.64 bits .* bits=0, elems=3$"):
        unpack(np.zeros((1, 1, 1), np.uint8), 0, 3, False)
    with pytest.raises(ValueError, match=r"^pack: .* got bits=8, elems=0$"):
        pack(np.zeros((1, 1), np.int64), 8, 0)


@pytest.mark.parametrize(
    ("bits", "elems", "words", "beat_bits"),
    [(1, 784, 1, 64), (8, 5, 2, 64), (8, 3, 1024, 64), (11, 1, 10, 64), (2, 64, 3, 128)],
)
def test_beats_match_the_reference_and_copy_only_to_pad(bits, elems, words, beat_bits) -> None:
    rng = np.random.default_rng(bits * elems)
    packed = pack(_random_storage(rng, "unsigned", bits, (4, words * elems)), bits, elems)
    buf = to_beats(packed, beat_bits)
    nbytes = packed.shape[2]
    assert np.array_equal(buf, reference_to_beats(packed, beat_bits))
    assert buf.shape == (4, image_bytes(words, nbytes, beat_bits))
    padded = buf.shape[1] != words * nbytes
    assert np.shares_memory(buf, packed) != padded  # a reshape when nothing is padded
    back = from_beats(buf, words, nbytes)
    assert np.shares_memory(back, buf)  # a view: the padding is sliced off, not copied
    assert np.array_equal(back, reference_from_beats(buf, words, nbytes))
    # unpack reads the strided view as the reference reads a copy of it
    assert np.array_equal(
        unpack(back, bits, elems, signed=True),
        reference_unpack(np.ascontiguousarray(back), bits, elems, signed=True),
    )


def test_dma_layouts_of_the_zoo_round_trip_at_batch_size() -> None:
    """The stream ends of tfc-w1a1 and cnv-w1a1 (bench/driver_pack.py times these): a batch
    packs to the reference's bytes and unpacks to its values."""
    rng = np.random.default_rng(0)
    for bits, elems, words, kind, n in (
        (1, 784, 1, "bipolar", 300),  # tfc-w1a1 in
        (8, 5, 2, "signed", 300),  # tfc-w1a1 out
        (8, 3, 1024, "signed", 20),  # cnv-w1a1 in
        (11, 1, 10, "signed", 300),  # cnv-w1a1 out
    ):
        v = _random_storage(rng, kind, bits, (n, words * elems))
        buf = to_beats(pack(v, bits, elems), 64)
        assert np.array_equal(buf, reference_to_beats(reference_pack(v, bits, elems), 64))
        got = unpack(from_beats(buf, words, word_bytes(bits, elems)), bits, elems, kind == "signed")
        assert np.array_equal(got, v)
