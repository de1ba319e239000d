"""Differential fuzzing of the compiler: random QONNX nets, built, C-simulated and compared
bit for bit with qonnx's executor.

``spec``: the ``NetSpec`` a seed draws; ``builder``: the QONNX model a spec describes;
``runner``: build + verify one net and classify the outcome; ``shrink``: reduce a failing
spec to a small one that fails the same way; ``regressions/``: the saved failing nets.
"""
