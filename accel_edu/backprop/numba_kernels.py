"""Numba kernels of the backprop chapter (being written)."""
LADDERS = {}
