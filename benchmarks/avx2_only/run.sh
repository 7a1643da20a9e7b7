#!/usr/bin/env bash
# Run a command as on an AVX2-only CPU: AVX-512 hidden from CPUID (hide_avx512.c) and from the
# flags stylecam reads (STYLECAM_CPUINFO, a copy of /proc/cpuinfo without them), so the kernels
# ONNX Runtime, oneDNN and torch choose, stylecam's CPU class and its training precision are
# those of such a host. The silicon, its clock and its caches stay this host's: figures measured
# so are ratios between graphs run alike, not an AVX2 machine's times.
#   benchmarks/avx2_only/run.sh stylecam bench --size 640x480
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
grep -qw cpuid_fault /proc/cpuinfo || { echo "avx2_only: no CPUID faulting on this host (no cpuid_fault flag)" >&2; exit 2; }
cache=${XDG_CACHE_HOME:-$HOME/.cache}/stylecam
mkdir -p "$cache"
lib=$cache/hide_avx512.so
[ "$lib" -nt "$here/hide_avx512.c" ] || cc -O2 -shared -fPIC -o "$lib" "$here/hide_avx512.c"
cpuinfo=$cache/cpuinfo_avx2_only
sed -E '/^flags/ s/ (avx512[a-z0-9_]*|avx_vnni|amx_[a-z0-9]*)\b//g' /proc/cpuinfo > "$cpuinfo"
STYLECAM_CPUINFO=$cpuinfo LD_PRELOAD=$lib${LD_PRELOAD:+:$LD_PRELOAD} exec "$@"
