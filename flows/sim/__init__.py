"""C-simulation: compile the generated HLS C++ with g++ and call it from Python."""
