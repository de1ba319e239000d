"""Elementwise add of two integer streams (a residual block's join)."""
