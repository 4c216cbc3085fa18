"""OpenCL host code of the backprop chapter (being written)."""
LADDERS = {}
