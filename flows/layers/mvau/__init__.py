"""Matrix-vector-activation unit: y = thresholds(x @ W), XNOR-popcount or integer MAC."""
