"""Published peak figures of real accelerators, to draw beside this machine's measured roofline.

Every figure is the vendor's *peak*: the clock times the widest units, dense (no 2:4 sparsity
doubling), with nothing waiting on memory. Measured programs reach a fraction of it, just as
our kernels reach a fraction of this CPU's theoretical peak. Units: TFLOP/s (TOPS for int8)
and GB/s. A figure that could not be checked against the vendor's own document, or a copy of
it, is left as None rather than guessed.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    name: str
    kind: str                      # "GPU", "ASIC", "FPGA"
    fp32_tflops: float | None      # dense, vector or matrix units as the vendor quotes it
    bf16_tflops: float | None      # dense (matrix units: tensor cores, MXUs, matrix cores)
    int8_tops: float | None        # dense
    memory_gbps: float             # peak bandwidth of the part's own memory (HBM)
    source: str                    # the vendor document the figures are from
    cite: str                      # its key in book/references.bib
    note: str = ""

    def peak(self, precision: str) -> float | None:
        """The peak in GFLOP/s (GOPS) at ``precision`` ("fp32", "bf16", "int8"), or None."""
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
        tera = {"fp32": self.fp32_tflops, "bf16": self.bf16_tflops, "int8": self.int8_tops}[precision]
        return None if tera is None else tera * 1e3

    def ridge(self, precision: str) -> float | None:
        """FLOPs per byte a kernel needs to reach the part's peak from its memory (the ridge point)."""
        peak = self.peak(precision)
        return None if peak is None else peak / self.memory_gbps

    def as_ceiling(self, precision: str) -> dict | None:
        """This part as a roofline ceiling (:mod:`.roofline`'s dict), or None without that peak."""
        peak = self.peak(precision)
        if peak is None:
            return None
        return {"name": f"{self.name} ({precision})", "backend": self.kind, "peak_gflops": peak,
                "bandwidth_gbps": self.memory_gbps, "source": f"{self.source} (vendor's peak)"}


PRECISIONS = ("fp32", "bf16", "int8")

PARTS = [
    Part("NVIDIA H100 SXM", "GPU", 67.0, 989.4, 1978.9, 3350.0,
         "NVIDIA H100 Tensor Core GPU datasheet", "nvidia2022h100",
         "80 GB HBM3; the datasheet's tensor-core figures are with sparsity, halved here"),
    Part("NVIDIA A100 SXM 80GB", "GPU", 19.5, 312.0, 624.0, 2039.0,
         "NVIDIA A100 Tensor Core GPU datasheet", "nvidia2020a100",
         "80 GB HBM2e (the 40 GB part: 1555 GB/s)"),
    Part("AMD Instinct MI300X", "GPU", None, 1307.4, None, 5300.0,
         "AMD Instinct MI300X data sheet", "amd2023mi300x",
         "192 GB HBM3; FP32 and INT8 left out (not checked)"),
    Part("Google TPU v4", "ASIC", None, 275.0, 275.0, 1200.0,
         "Google Cloud TPU v4 documentation", "google2023tpuv4",
         "one chip, two TensorCores of four 128x128 MXUs each; 32 GiB HBM2"),
    Part("AMD Alveo U280 (DPUCAHX8H)", "FPGA", None, None, 17.2, 460.0,
         "AMD PG367 (DPUCAHX8H) and UG1393 (Alveo HBM)", "amd2021dpucahx8h,amd2021ug1393",
         "the INT8 peak is of AMD's CNN engine built in the FPGA's fabric (3 cores at 300 MHz), "
         "not of the chip: an FPGA's peak is whatever circuit is loaded onto it"),
]


def part(name: str) -> Part:
    """The part called ``name`` (as in :data:`PARTS`)."""
    for p in PARTS:
        if p.name == name:
            return p
    raise ValueError(f"name must be one of {', '.join(p.name for p in PARTS)}; got {name!r}")


def part_ceilings(precision: str) -> list[dict]:
    """Every part with a peak at ``precision`` as a roofline ceiling (for ``plot_roofline(parts=)``)."""
    return [c for c in (p.as_ceiling(precision) for p in PARTS) if c is not None]


def parts_table(precision: str = "bf16") -> list[dict]:
    """One row per part with a peak at ``precision``: name, kind, peak (GFLOP/s), bandwidth
    (GB/s) and ridge point (FLOP/byte), sorted by peak."""
    rows = [{"name": p.name, "kind": p.kind, "peak_gflops": p.peak(precision), "memory_gbps": p.memory_gbps,
             "ridge_flop_per_byte": p.ridge(precision)} for p in PARTS if p.peak(precision) is not None]
    return sorted(rows, key=lambda r: r["peak_gflops"])
