"""Stream fork: one stream read by two layers (a residual block's skip and main paths)."""
