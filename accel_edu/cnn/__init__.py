"""The CNN chapter: convolution, pooling, flatten and transposed convolution, forward and backward.

For now only the NumPy reference (``numpy_kernels``), the shared argument checks (``checks``)
and the awkward inputs for the cross-backend check (``cases``) exist; the Numba and OpenCL
versions, the kernel registrations and the layers follow.
"""
