"""Import every chapter's kernels, so the registry is complete (the tests and `bench` use it)."""
from .backprop import kernels as backprop_kernels  # noqa: F401
