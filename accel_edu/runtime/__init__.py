"""How a kernel reaches hardware. Knows nothing of deep learning."""
from .availability import Availability, available_backends
from .backends import BACKENDS, current_backend, resolve_backend, use
from .registry import REGISTRY, Case, Kernel, get_kernel
from .opencl import DeviceArray, reset_transfer_stats, to_device, to_host, transfer_stats


def to_numpy(x):
    """Any array (NumPy or DeviceArray) as a NumPy array; a download is counted."""
    return to_host(x)


__all__ = [
    "Availability", "available_backends", "BACKENDS", "current_backend", "resolve_backend",
    "use", "REGISTRY", "Case", "Kernel", "get_kernel", "DeviceArray", "to_device", "to_host",
    "to_numpy", "transfer_stats", "reset_transfer_stats",
]
