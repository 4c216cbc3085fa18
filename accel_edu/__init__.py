"""accel_edu: how deep learning is made fast, one kernel on three backends.

>>> import accel_edu
>>> accel_edu.available_backends()            # doctest: +SKIP
>>> with accel_edu.use("opencl"):             # doctest: +SKIP
...     y = model.forward(x)
"""
from .runtime import (BACKENDS, DeviceArray, REGISTRY, available_backends, current_backend,
                      get_kernel, reset_transfer_stats, to_device, to_numpy, transfer_stats, use)

__version__ = "0.1.0"

__all__ = ["BACKENDS", "DeviceArray", "REGISTRY", "available_backends", "current_backend",
           "get_kernel", "reset_transfer_stats", "to_device", "to_numpy", "transfer_stats",
           "use", "__version__"]
