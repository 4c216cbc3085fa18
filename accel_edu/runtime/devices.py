"""``accel-edu devices``: which backends work here, and every OpenCL platform and device."""
from __future__ import annotations

import json

from .availability import available_backends


def opencl_devices() -> list[dict]:
    """One record per OpenCL device: platform, name, type, compute units, memory, fp64."""
    try:
        import pyopencl as cl
        platforms = cl.get_platforms()
    except Exception:
        return []
    records = []
    for p_index, platform in enumerate(platforms):
        for d_index, device in enumerate(platform.get_devices()):
            records.append({
                "id": f"{p_index}:{d_index}",  # what PYOPENCL_CTX takes
                "platform": platform.name.strip(),
                "platform_version": platform.version.strip(),
                "name": device.name.strip(),
                "type": _device_type(cl, device.type),
                "compute_units": device.max_compute_units,
                "max_clock_mhz": device.max_clock_frequency,
                "global_mem_bytes": device.global_mem_size,
                "local_mem_bytes": device.local_mem_size,
                "max_work_group_size": device.max_work_group_size,
                "fp64": bool(device.double_fp_config),
                "driver": device.driver_version.strip(),
                "compiler_problem": _compiler_problem(device),
            })
    return records


def _compiler_problem(device) -> str:
    from .opencl import compiler_problem
    return compiler_problem(device)


def _device_type(cl, bits: int) -> str:
    """CPU, GPU, ACCELERATOR or CUSTOM. (pyopencl's to_string also matches the ALL mask, 0xFFFFFFFF,
    against any bit, and so printed "ALL | CPU" for PoCL.)"""
    names = [n for n in ("CPU", "GPU", "ACCELERATOR", "CUSTOM") if bits & getattr(cl.device_type, n, 0)]
    return " | ".join(names) or f"unknown ({bits})"


def describe() -> dict:
    backends = {name: {"available": a.available, "detail": a.detail}
                for name, a in available_backends().items()}
    selected = None
    if backends["opencl"]["available"]:
        from .opencl import default_device
        selected = default_device().name.strip()
    return {"backends": backends, "opencl_devices": opencl_devices(), "opencl_selected": selected}


def _mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB" if n < 2**30 else f"{n / 2**30:,.1f} GiB"


def format_text(info: dict) -> str:
    lines = ["Backends:"]
    for name, b in info["backends"].items():
        mark = "yes" if b["available"] else "NO "
        lines.append(f"  {name:<7} {mark}  {b['detail']}")
    lines.append("")
    devices = info["opencl_devices"]
    if not devices:
        lines.append("OpenCL devices: none (pip install pyopencl pocl-binary-distribution gives a CPU device)")
    else:
        lines.append("OpenCL devices (choose one with PYOPENCL_CTX=<id>):")
        for d in devices:
            chosen = "  <- selected" if d["name"] == info["opencl_selected"] else ""
            lines.append(f"  [{d['id']}] {d['name']} ({d['type']}){chosen}")
            lines.append(f"        platform {d['platform']}, {d['platform_version']}")
            lines.append(f"        {d['compute_units']} compute units, global memory {_mib(d['global_mem_bytes'])}, "
                         f"local memory {_mib(d['local_mem_bytes']) if d['local_mem_bytes'] >= 2**20 else str(d['local_mem_bytes'] // 1024) + ' KiB'}, "
                         f"fp64 {'yes' if d['fp64'] else 'no'}, max work-group {d['max_work_group_size']}")
            if d["compiler_problem"]:
                lines.append(f"        NOT USABLE: its compiler fails here: {d['compiler_problem']}")
    return "\n".join(lines)


def _run(args) -> int:
    info = describe()
    print(json.dumps(info, indent=2) if args.json else format_text(info))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "devices", help="list the backends and OpenCL devices this machine has",
        description="Show which backends (numpy, numba, opencl) work here and why any does not, "
                    "then every OpenCL platform and device: name, type, compute units, global "
                    "and local memory, float64 support. The id in brackets is what "
                    "PYOPENCL_CTX takes to choose a device.")
    p.add_argument("--json", action="store_true", help="print the same information as JSON")
    p.set_defaults(func=_run)
