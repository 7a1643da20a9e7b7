"""What this machine's CPU offers: its feature flags and a short name of its class, to state with
every speed figure (the same network runs ~1.7x slower on an AVX2-only host than with AVX-512).
STYLECAM_CPUINFO names another file to read the flags from: benchmarks/avx2_only/run.sh points it
at a copy without AVX-512 while it hides AVX-512 from CPUID, so that the class and the training
precision follow the kernels the libraries then choose."""
from __future__ import annotations

import os
from pathlib import Path


def cpu_flags(cpuinfo: Path | None = None) -> set[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo, or $STYLECAM_CPUINFO); empty where that file
    does not exist."""
    cpuinfo = cpuinfo or Path(os.environ.get("STYLECAM_CPUINFO") or "/proc/cpuinfo")
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_class(flags: set[str] | None = None) -> str:
    """'AVX-512 (VNNI, BF16)', 'AVX2 only (no AVX-512)', ... or 'unknown' without flags."""
    masked = flags is None and bool(os.environ.get("STYLECAM_CPUINFO"))
    flags = cpu_flags() if flags is None else flags
    if not flags:
        return "unknown"
    extras = [name for flag, name in (("avx512_vnni", "VNNI"), ("avx_vnni", "AVX-VNNI"), ("avx512_bf16", "BF16"),
                                      ("amx_bf16", "AMX")) if flag in flags]
    base = "AVX-512" if "avx512f" in flags else "AVX2 only (no AVX-512)" if "avx2" in flags else "no AVX2"
    return (base + (f" ({', '.join(extras)})" if extras else "")
            + (" [flags from $STYLECAM_CPUINFO: benchmarks/avx2_only]" if masked else ""))
