"""Dataflow layers. One package per layer, split by role: spec, ref, cost, hls, node."""
