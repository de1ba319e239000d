"""Digilent PYNQ-Z1: Zynq XC7Z020-1CLG400C (the same part as the PYNQ-Z2)."""

from boards._zynq import XC7Z020, zynq7000_board

PYNQ_Z1 = zynq7000_board("pynq-z1", **XC7Z020, board_part="www.digilentinc.com:pynq-z1:part0:1.0")
