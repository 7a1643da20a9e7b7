#!/usr/bin/env bash
# The live-window figures quoted in docs/benchmarks.md ("Live window"): scripted runs of the real
# window and pipeline on the sample clip under Xvfb; JSON reports land in docs/bench/.
# Needs xvfb-run (apt-get install -y xvfb libxcb-icccm4 libxcb-keysyms1). Run the 60 s runs on an
# otherwise idle machine; MINUTES sets the length of the memory run (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/bench
mkdir -p "$out"
clip=assets/sample_tears_of_steel_640x360.mp4
run() { xvfb-run -a -s '-screen 0 1280x720x24' stylecam --source "$clip" --style starry_night "$@"; }
run --size 640x360 --duration 60 --metrics-json "$out/live_window_640x360.json"
run --size 640x480 --duration 60 --metrics-json "$out/live_window_640x480.json"
run --size 640x480 --duration $(( ${MINUTES:-10} * 60 )) --metrics-json "$out/live_window_640x480_10min.json"
