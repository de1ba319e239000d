"""Yosys synthesis of the RTL backend: real post-synthesis cell counts per layer.

yosys.py runs Yosys; cells.py reads its counts; wrapper.py and module.py synthesize one module
(cached); design.py splits a build's rtl/ into out-of-context runs; run.py writes the report.
"""
