#!/usr/bin/env bash
# The pipeline benchmarks quoted in docs/benchmarks.md; JSON reports land in docs/bench/.
# Name the CPU class with the figures: grep -m1 flags /proc/cpuinfo | grep -o avx512[a-z_0-9]* (none: AVX2 class).
# Run on an otherwise idle machine (pause background jobs: kill -STOP PID ... kill -CONT PID).
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/bench
mkdir -p "$out"
clip=assets/sample_tears_of_steel_640x360.mp4
stylecam bench --source synthetic --size 640x480 --frames 300 --temporal 0.8 --json "$out/synthetic_640x480_a0.8.json"
stylecam bench --source synthetic --size 640x480 --frames 300 --temporal 0.0 --json "$out/synthetic_640x480_a0.0.json"
stylecam bench --source "$clip" --size 640x480 --frames 300 --temporal 0.8 --json "$out/clip_640x480_a0.8.json"
stylecam bench --source "$clip" --size 640x360 --frames 300 --temporal 0.8 --json "$out/clip_640x360_a0.8.json"
stylecam bench --source synthetic --size 1280x720 --frames 100 --temporal 0.8 --json "$out/synthetic_1280x720_a0.8.json"
stylecam bench --source synthetic --size 640x480 --frames 1000 --temporal 0.8 --json "$out/rss_1000_640x480.json"
python benchmarks/peer_compare.py --size 640x480 --frames 200 --json "$out/peer_640x480.json" --sheet docs/peer_sheet.png
python benchmarks/v1_vs_v2.py --data ../shared/data --json "$out/v1_vs_v2.json"
# 3-minute soak (the 60-minute one: --minutes 60, figures in docs/benchmarks.md)
QT_QPA_PLATFORM=offscreen python benchmarks/soak.py --minutes 3 --json "$out/soak_3min.json" --plot "$out/soak_3min.png"
