"""Where models run: CUDA when present, else the CPU with a sensible thread count; and which
arithmetic this hardware does well (native bf16 or not)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import torch


def pick_device(preference: str = "auto") -> torch.device:
    """CUDA if asked for or available (auto), otherwise the CPU."""
    if preference in ("cuda", "auto") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def configure_threads(threads: int = 0) -> int:
    """Use the cores this process may run on (0 = all of them); returns the count set."""
    if threads <= 0:
        try:
            threads = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not on Linux
            threads = os.cpu_count() or 1
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"GPU ({torch.cuda.get_device_name(device)})"
    return f"CPU ({torch.get_num_threads()} threads)"


# CPU flags (Linux /proc/cpuinfo names) with bf16 matrix instructions; without them oneDNN
# emulates bf16 with AVX-512 BW, which is slower than fp32.
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    """The CPU's feature flags (empty where /proc/cpuinfo is not there: not Linux)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
        except OSError:
            return set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags") and ":" in line:
            return set(line.split(":", 1)[1].split())
    return set()


@functools.lru_cache(maxsize=1)
def native_bf16() -> bool:
    """Whether the CPU multiplies bf16 in hardware (AVX-512 BF16 or AMX) and oneDNN can use it."""
    if not any(flag in cpu_flags() for flag in NATIVE_BF16_FLAGS):
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def good_precisions(device: torch.device | None = None) -> tuple[str, ...]:
    """The batch arithmetic that runs well on ``device`` (default: where batches will run).

    fp32 everywhere; int8 (dynamic quantization) on the CPU only; bf16 on a CPU with native
    bf16, or a GPU that supports it. Emulated bf16 is slower than fp32, so it is left out.
    """
    device = device or batch_device()
    if device.type == "cuda":
        return ("fp32", "bf16") if torch.cuda.is_bf16_supported() else ("fp32",)
    return ("fp32", "int8", "bf16") if native_bf16() else ("fp32", "int8")


def batch_device(preference: str = "auto", cuda_available: bool | None = None) -> torch.device:
    """Where batch analysis runs: a GPU when there is one (auto, cuda), else the CPU."""
    if preference not in ("auto", "cuda", "cpu"):
        raise ValueError("device must be auto, cuda or cpu")
    available = torch.cuda.is_available() if cuda_available is None else cuda_available
    if preference != "cpu" and available:
        return torch.device("cuda")
    return torch.device("cpu")
