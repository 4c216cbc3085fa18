"""The cache sizes the operating system reports, so a bandwidth-against-size plot can mark
where L1, L2 and L3 end.

Two sources, since each misses things the other has:

- sysfs, ``/sys/devices/system/cpu/cpu0/cache/index*/``: one folder per cache that cpu0 uses,
  with ``level``, ``type`` (Data, Instruction, Unified), ``size`` ("48K") and
  ``shared_cpu_list`` (which CPUs share it: an L3 usually serves them all). Sizes are per
  instance: one core's L1d.
- ``lscpu``: totals over the machine ("L1d cache: 96 KiB (2 instances)").

On a virtual machine both describe what the hypervisor exposes, which usually matches the host's
cores but may not say how much of a shared L3 this guest really gets.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

SYSFS = Path("/sys/devices/system/cpu/cpu0/cache")
_UNITS = {"": 1, "B": 1, "K": 2 ** 10, "KB": 2 ** 10, "KIB": 2 ** 10, "M": 2 ** 20, "MB": 2 ** 20,
          "MIB": 2 ** 20, "G": 2 ** 30, "GB": 2 ** 30, "GIB": 2 ** 30}


def parse_size(text: str) -> int:
    """'48K', '32768K', '1 MiB', '2 MiB' -> bytes. Caches are counted in binary units."""
    match = re.fullmatch(r"\s*([\d.]+)\s*([A-Za-z]*)\s*", text)
    if not match or match.group(2).upper() not in _UNITS:
        raise ValueError(f"text must be a size such as '48K' or '2 MiB'; got {text!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def read_sysfs_caches(root: Path | str = SYSFS) -> list[dict]:
    """[{"level": 1, "type": "Data", "size_bytes": 49152, "shared_cpu_list": "0"}, ...] sorted by
    level, from the ``index*`` folders under ``root``; [] where there is no such folder."""
    caches = []
    for index in sorted(Path(root).glob("index*")):
        def field(name):
            path = index / name
            return path.read_text().strip() if path.exists() else ""
        if not field("size"):
            continue
        caches.append({"level": int(field("level") or 0), "type": field("type"),
                       "size_bytes": parse_size(field("size")), "shared_cpu_list": field("shared_cpu_list")})
    return sorted(caches, key=lambda c: (c["level"], c["type"]))


def parse_lscpu(text: str) -> dict[str, dict]:
    """lscpu's cache lines -> {"L1d": {"total_bytes": 98304, "instances": 2}, "L3": ...}."""
    out = {}
    for match in re.finditer(r"^\s*(L\d\w?) cache:\s*([\d.]+\s*[KMG]i?B?)(?:\s*\((\d+) instances?\))?",
                             text, flags=re.MULTILINE):
        out[match.group(1)] = {"total_bytes": parse_size(match.group(2)),
                               "instances": int(match.group(3)) if match.group(3) else 1}
    return out


def lscpu_caches() -> dict[str, dict]:
    """:func:`parse_lscpu` of this machine's ``lscpu``; {} where lscpu is missing."""
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10,
                              env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"}).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    return parse_lscpu(text)


def cache_levels(caches: list[dict] | None = None) -> dict[str, int]:
    """Per-core data cache sizes for a plot's markers: {"L1": 49152, "L2": 1048576, "L3": ...}
    (instruction caches left out: data never lives there)."""
    caches = read_sysfs_caches() if caches is None else caches
    return {f"L{c['level']}": c["size_bytes"] for c in caches if c["type"] in ("Data", "Unified")}
