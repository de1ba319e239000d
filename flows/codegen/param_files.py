"""Parameter data files: a layer's weight and threshold tables as binary files for C-simulation.

Compiling the tables into the C-simulation library made its compile time and memory grow with
the weight count (MobileNet-v1: 4.2 M weights). The HLS backend therefore also writes each
table as ``params/<layer>.<table>.bin``; the library, compiled with
``-DBITFAB_PARAMS_FROM_FILES`` (flows/sim/csim.py), only declares the tables and fills them
when the host calls ``bitfab_load_params(dir)``. Vitis HLS never sees these files: synthesis
and its C-simulation keep the tables compiled in (``params/tables/<layer>.h``).

The layout (the reader, which checks every field, is hls/include/bitfab/csim_init.hpp):
a 40-byte header -- magic ``BFPARAM\\0``, u32 version 1, u32 kind (1 words, 2 ints), u32 bits
per entry W, u32 64-bit limbs per entry L, u64 entries N, u32 CRC-32 of the payload, u32 0 --
then N*L little-endian u64 limbs: entry k is limbs [k*L, k*L+L), least significant first; an
int is one two's complement int64.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

import numpy as np

MAGIC = b"BFPARAM\0"
VERSION = 1
HEADER = struct.Struct("<8sIIIIQII")  # magic, version, kind, bits, limbs, entries, crc, 0


class TableKind(IntEnum):
    """What an entry is: a W-bit unsigned word (ap_uint) or a W-bit signed value (ap_int)."""

    WORDS = 1
    INTS = 2


@dataclass(frozen=True)
class ParamTable:
    """One table, flat in the order the kernel's array is laid out in memory.

    ``limbs`` is ``uint64 [N, L]`` for words and ``int64 [N, 1]`` for ints."""

    kind: TableKind
    bits: int
    limbs: np.ndarray

    @classmethod
    def words(cls, hex_words: Sequence[str], bits: int) -> ParamTable:
        """Words given as the codegen's hex literals (``pack_words_as_hex``)."""
        n = (bits + 63) // 64
        raw = b"".join(int(w, 16).to_bytes(8 * n, "little") for w in hex_words)
        return cls(TableKind.WORDS, bits, np.frombuffer(raw, "<u8").reshape(-1, n))

    @classmethod
    def ints(cls, values: Sequence | np.ndarray, bits: int) -> ParamTable:
        """Signed values of at most ``bits`` bits (a nested list is flattened in C order)."""
        v = np.asarray(values, dtype=np.int64).reshape(-1, 1)
        return cls(TableKind.INTS, bits, v)

    def to_bytes(self) -> bytes:
        dtype = "<u8" if self.kind == TableKind.WORDS else "<i8"
        data = np.ascontiguousarray(self.limbs, dtype=dtype).tobytes()
        n, limbs = self.limbs.shape
        head = HEADER.pack(MAGIC, VERSION, self.kind, self.bits, limbs, n, zlib.crc32(data), 0)
        return head + data


def file_name(cname: str, table: str) -> str:
    """``<layer>.<table>.bin``: the dot keeps two layers' names from ever colliding."""
    return f"{cname}.{table}.bin"


def write_tables(params_dir: Path, cname: str, tables: dict[str, ParamTable]) -> list[Path]:
    """Write each table of one layer into ``params_dir``; returns the paths written."""
    out = []
    for table, t in tables.items():
        path = params_dir / file_name(cname, table)
        path.write_bytes(t.to_bytes())
        out.append(path)
    return out
