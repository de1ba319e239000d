"""Graph passes: each a qonnx Transformation in its own module, named for what it does."""
