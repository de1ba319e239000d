"""C-simulation reads weights and thresholds from data files (hls/params/<layer>.<table>.bin),
not from C++ initializers: a build runs and verifies from them wherever it is moved, every
kind of damage to a file is an error naming the file, and the library's cache key leaves the
weights out (the compiled-in tables for Vitis are checked in test_synthesis_path.py)."""

from __future__ import annotations

import ctypes
import json
import re
import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest

from boards.driver.accelerator import Accelerator, DriverError
from flows.codegen.param_files import HEADER, MAGIC, ParamTable, TableKind
from flows.sim.csim import source_hash
from tests.helpers import run_cli

pytestmark = pytest.mark.csim


@pytest.fixture
def moved(built, tmp_path) -> Path:
    """A finished build copied elsewhere (its library and data files with it)."""
    return Path(shutil.copytree(built("tfc-w1a1"), tmp_path / "moved"))


def _params(build: Path) -> Path:
    return build / "hls" / "params"


def test_param_file_layout_is_the_documented_one():
    t = ParamTable.words(["0x1", "0x3" + "0" * 15 + "2"], 70)  # two limbs a word
    raw = t.to_bytes()
    magic, version, kind, bits, limbs, n, crc, zero = HEADER.unpack(raw[: HEADER.size])
    assert (magic, version, kind, bits, limbs, n, zero) == (MAGIC, 1, TableKind.WORDS, 70, 2, 2, 0)
    assert HEADER.size == 40 and crc == zlib.crc32(raw[40:])
    assert np.frombuffer(raw[40:], "<u8").tolist() == [1, 0, 2, 3]
    ints = ParamTable.ints([[[-1, 5]]], 4).to_bytes()
    assert HEADER.unpack(ints[:40])[2:6] == (TableKind.INTS, 4, 1, 2)
    assert np.frombuffer(ints[40:], "<i8").tolist() == [-1, 5]


def test_a_moved_build_verifies_from_its_own_data_files(moved, tmp_path):
    from flows.verify import verify_build

    accel = json.loads((moved / "deploy" / "accel.json").read_text())
    # a library opened for the first time refuses to run on tables it has not loaded
    fresh = Path(shutil.copyfile(moved / accel["csim_library"], tmp_path / "fresh.so"))
    lib = ctypes.CDLL(str(fresh))
    lib.bitfab_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    files = sorted(_params(moved).glob("*.bin"))
    assert lib.bitfab_param_tables() == len(files) >= 4  # every table comes from a file
    buf = np.zeros(4096, np.uint8)
    assert lib.bitfab_run(buf.ctypes.data, buf.ctypes.data, 1) == -4

    assert verify_build(moved, 20)["status"] == "pass"
    # the copy's files are the ones read: remove one and the copy's path is named
    files[0].unlink()
    with pytest.raises(DriverError, match=re.escape(f"{files[0]}: cannot open")):
        Accelerator.from_build(moved)


def _flip_payload_bit(raw: bytes) -> bytes:
    b = bytearray(raw)
    b[-1] ^= 1
    return bytes(b)


def _out_of_range(raw: bytes) -> bytes:
    """A well-formed file (right header and CRC) whose first entry is one bit too wide."""
    _, _, kind, bits, limbs, n, _, _ = HEADER.unpack(raw[:40])
    v = np.frombuffer(raw[40:], "<u8").copy()
    v[limbs - 1] = 1 << (bits % 64)
    t = ParamTable(TableKind(kind), bits, v.reshape(n, limbs))
    return t.to_bytes()


DAMAGE = {
    "truncated": (lambda raw: raw[:-8], "shorter than its header says"),
    "padded": (lambda raw: raw + bytes(8), "longer than its header says"),
    "payload bit flipped": (_flip_payload_bit, r"payload checksum \(CRC-32\) mismatch"),
    "header overwritten": (lambda raw: bytes(40) + raw[40:], "not a bitfab parameter file"),
    "entry too wide": (_out_of_range, r"entry 0 does not fit in \d+ bits: the file is corrupt"),
    "empty": (lambda raw: b"", "not a bitfab parameter file"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_data_file_is_refused_naming_it(moved, damage):
    fn, why = DAMAGE[damage]
    path = _params(moved) / "MatMul_3.weights.bin"  # words of SIMD bits (tfc-w1a1's last layer)
    path.write_bytes(fn(path.read_bytes()))
    with pytest.raises(DriverError, match=re.escape(f"{path}: ") + why):
        Accelerator.from_build(moved)


def test_another_designs_data_file_is_refused(moved):
    a, b = _params(moved) / "MatMul_3.weights.bin", _params(moved) / "MatMul_0.weights.bin"
    _, _, _, bits, _, n, _, _ = HEADER.unpack(a.read_bytes()[:40])
    shutil.copyfile(b, a)
    with pytest.raises(DriverError) as e:
        Accelerator.from_build(moved)
    assert str(e.value).startswith(f"C-simulation parameters: {a}: holds ")
    assert f"the C-simulation library expects {n} {bits}-bit words:" in str(e.value)
    assert "the data files and the library come from different designs" in str(e.value)


def test_cli_names_the_damaged_file_and_exits_1(moved):
    path = _params(moved) / "MatMul_0.thresholds.bin"
    path.write_bytes(_flip_payload_bit(path.read_bytes()))
    r = run_cli(["verify", moved, "--n", "2"])
    assert r.exit_code == 1, r.stderr
    assert f"{path}: payload checksum (CRC-32) mismatch: the file is corrupt" in r.stderr
    assert "Traceback" not in r.stderr


def test_library_cache_key_leaves_the_weights_out(moved):
    """New weights reuse the library (the data files carry them); a new shape does not."""
    hls = moved / "hls"
    key = source_hash(hls)
    tables = hls / "params" / "tables" / "MatMul_0.h"
    tables.write_text(tables.read_text().replace("0x", "0x1", 1))
    (hls / "params" / "MatMul_0.weights.bin").write_bytes(b"new weights")
    assert source_hash(hls) == key
    header = hls / "params" / "MatMul_0.h"
    header.write_text(header.read_text() + "\n// another design\n")
    assert source_hash(hls) != key


def test_two_libraries_in_one_process_keep_their_own_tables(moved, tmp_path):
    """Each library registers its tables in a registry of its own (a registry shared through
    the process, as a GNU_UNIQUE symbol is, filled one library's tables from another's files)."""
    other = Path(shutil.copytree(moved, tmp_path / "other"))
    a, b = Accelerator.from_build(moved), Accelerator.from_build(other)
    n = len(list(_params(moved).glob("*.bin")))
    assert a.backend.lib.bitfab_param_tables() == b.backend.lib.bitfab_param_tables() == n
    x = np.random.default_rng(0).uniform(0, 1, (4, *a.input_shape[1:])).astype(np.float32)
    assert np.array_equal(a.execute(x), b.execute(x))
