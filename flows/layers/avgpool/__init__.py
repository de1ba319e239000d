"""Streaming accumulating (average) pool, channels last: the exact integer window sums."""
