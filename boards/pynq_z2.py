"""TUL PYNQ-Z2: Zynq XC7Z020-1CLG400C."""

from boards._zynq import Board, _Zynq7000

PYNQ_Z2 = Board(
    name="pynq-z2",
    part="xc7z020clg400-1",
    ps=_Zynq7000.ps,
    hp_port_bits=_Zynq7000.hp_port_bits,
    default_clock_mhz=_Zynq7000.default_clock_mhz,
    max_clock_mhz=_Zynq7000.max_clock_mhz,
    luts=53200,
    ffs=106400,
    bram18=280,
    dsps=220,
)
