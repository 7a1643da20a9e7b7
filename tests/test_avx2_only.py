"""benchmarks/avx2_only: AVX-512 hidden from CPUID and from the flags stylecam reads, so that an
AVX-512 host measures what an AVX2-only host's kernels and training precision would be."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stylecam.engines.host import cpu_class, cpu_flags
from stylecam.train.precision import native_bf16

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "avx2_only" / "run.sh"


def test_flags_come_from_stylecam_cpuinfo_when_set(tmp_path, monkeypatch):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse4_2 avx avx2 fma\n")
    monkeypatch.setenv("STYLECAM_CPUINFO", str(cpuinfo))
    assert cpu_flags() == {"fpu", "sse4_2", "avx", "avx2", "fma"}
    assert cpu_class().startswith("AVX2 only (no AVX-512) [flags from $STYLECAM_CPUINFO")
    assert not native_bf16()


def _can_hide() -> str:
    flags = cpu_flags(Path("/proc/cpuinfo"))
    if "avx512f" not in flags:
        return "this host has no AVX-512 to hide"
    if "cpuid_fault" not in flags:
        return "this host offers no CPUID faulting (no cpuid_fault flag)"
    if not shutil.which("cc"):
        return "no C compiler to build the preload library"
    return ""


@pytest.mark.skipif(bool(_can_hide()), reason=_can_hide() or "can hide")
def test_run_sh_hides_avx512_from_torch_and_stylecam(tmp_path):
    torch = pytest.importorskip("torch")
    assert torch.backends.cpu.get_cpu_capability().startswith("AVX512")  # the host itself
    code = ("import torch; from stylecam.engines.host import cpu_class; "
            "from stylecam.train.precision import native_bf16; "
            "print(torch.backends.cpu.get_cpu_capability(), native_bf16(), cpu_class(), sep='|')")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("STYLECAM_CPUINFO", None)
    out = subprocess.run([str(RUN), sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=300, check=True).stdout.strip().split("|")
    assert out[0] == "AVX2"  # oneDNN / ATen dispatch read CPUID: AVX-512 is gone for them
    assert out[1] == "False"  # so training takes fp32, as on a real AVX2 host
    assert out[2].startswith("AVX2 only (no AVX-512) [flags from $STYLECAM_CPUINFO")
