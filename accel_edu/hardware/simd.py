"""What the CPU says about itself: SIMD register width, clock, core count.

Read from ``/proc/cpuinfo`` (Linux). On a virtual machine these are what the hypervisor
reports: the "cpu MHz" line is the VM's nominal clock, and a core may run faster (turbo) or
share its time with other guests, so a theoretical peak built from it is an estimate.
"""
from __future__ import annotations

import os


def cpu_flags(text: str | None = None) -> set[str]:
    """The ``flags`` of the first processor in /proc/cpuinfo (or in ``text``)."""
    if text is None:
        try:
            with open("/proc/cpuinfo") as f:
                text = f.read()
        except OSError:
            return set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):   # x86 says flags, ARM says Features
            return set(line.split(":", 1)[1].split())
    return set()


def register_bytes(flags: set[str] | None = None) -> int:
    """Bytes in one SIMD register the CPU has: 64 (AVX-512), 32 (AVX/AVX2), else 16 (SSE, NEON)."""
    flags = cpu_flags() if flags is None else flags
    if "avx512f" in flags:
        return 64
    if "avx" in flags:
        return 32
    return 16


def clock_mhz(text: str | None = None) -> float | None:
    """The highest "cpu MHz" in /proc/cpuinfo (or ``text``); None where it is not reported."""
    if text is None:
        try:
            with open("/proc/cpuinfo") as f:
                text = f.read()
        except OSError:
            return None
    values = [float(line.split(":", 1)[1]) for line in text.splitlines() if line.startswith("cpu MHz")]
    return max(values) if values else None


def cores() -> int:
    """CPUs this process may run on (what Numba's and PoCL's threads share)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
