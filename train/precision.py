"""Training precision chosen from the CPU: bf16 autocast only where the CPU computes bf16 natively
(AVX-512 BF16 or AMX). Elsewhere (AVX2-only CPUs, most laptops and desktops) bf16 is emulated and
runs ~150x slower than fp32, so training stays in fp32 there."""
from __future__ import annotations

import contextlib

from stylecam.engines import host

NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def native_bf16(flags: set[str] | None = None) -> bool:
    """True where bf16 matrix maths runs in hardware. Without /proc/cpuinfo (macOS, Windows) it
    asks oneDNN, which reports bf16 support only on AVX-512 class CPUs."""
    flags = host.cpu_flags() if flags is None else flags
    if flags:
        return any(f in flags for f in NATIVE_BF16_FLAGS)
    import torch

    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def perceptual_autocast(use_bf16: bool):
    """The context for the VGG passes: bf16 autocast when `use_bf16`, else plain fp32."""
    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16) if use_bf16 else contextlib.nullcontext()


def describe(use_bf16: bool) -> str:
    return "[bf16: native on this CPU]" if use_bf16 else "[fp32: no native bf16 on this CPU]"
