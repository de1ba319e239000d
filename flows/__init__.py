"""bitfab compiler: QONNX in, verified integer streaming dataflow design out."""
