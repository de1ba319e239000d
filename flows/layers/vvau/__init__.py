"""Vector-vector-activation unit: a depthwise convolution's per-channel dot products over the
kernel window, then the MVAU's activation (thresholds, shift requantization or none)."""
