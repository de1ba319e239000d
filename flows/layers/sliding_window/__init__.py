"""Sliding-window generator (convolution input generator): im2col as a stream, NHWC."""
