"""Standalone multi-threshold activation (input quantization on integer inputs)."""
