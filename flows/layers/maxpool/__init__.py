"""Streaming max pool, channels last."""
