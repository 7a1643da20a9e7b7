"""Two versions of engines/stylizer.py side by side, frame by frame in one process (one engine).

The baseline is another checkout's stylizer.py (for example a `git worktree` of the last commit),
loaded beside the working tree's, both on the same frames of the synthetic source at 640x480,
alternating which goes first: the medians of each stage (ms) and the overhead's share of the
engine. Separate `stylecam bench` runs differ by more than a change of a few tenths of a
millisecond on these shared hosts; alternating frames in one process does not.

    git worktree add /tmp/base HEAD
    python benchmarks/stylizer_ab.py --baseline /tmp/base/engines/stylizer.py --json F

The baseline must run with this tree's other modules (the engines, temporal, seed).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys

import numpy as np

from stylecam.app.cli.loading import load_bank, load_engine
from stylecam.app.live.sources import SyntheticSource
from stylecam.engines import stylizer as working
from stylecam.engines.backends import ENGINE_NAMES
from stylecam.engines.host import cpu_class
from stylecam.engines.temporal import TemporalSettings

STAGES = ("preprocess", "flow", "engine", "postprocess", "overhead", "total")


def _load(path: str):
    spec = importlib.util.spec_from_file_location("baseline_stylizer", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="the other stylizer.py")
    parser.add_argument("--engine", choices=ENGINE_NAMES, default="auto")
    parser.add_argument("--frames", type=int, default=300, help="measured frames each (after 20 warm-up frames)")
    parser.add_argument("--strength", type=float, default=TemporalSettings().strength, help="temporal strength a")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()

    engine, bank = load_engine(args.engine).engine, load_bank()
    settings = TemporalSettings(strength=args.strength)
    versions = {"baseline": _load(args.baseline).VideoStylizer(engine, bank.vectors[0], settings, (640, 480)),
                "working": working.VideoStylizer(engine, bank.vectors[0], settings, (640, 480))}
    source = SyntheticSource(640, 480)
    times: dict[str, list] = {name: [] for name in versions}
    for i in range(args.frames + 20):
        frame = source.render(i)
        for name, stylizer in (list(versions.items())[::1 if i % 2 else -1]):
            t = stylizer.step(frame).times
            if i >= 20:
                times[name].append([getattr(t, stage) for stage in STAGES])
    report = {"cpu": cpu_class(), "engine": engine.name, "strength": args.strength, "frames": args.frames}
    for name, rows in times.items():
        p50 = dict(zip(STAGES, np.round(np.median(np.array(rows), axis=0), 3).tolist()))
        report[name] = {"p50_ms": p50, "overhead_share": round(p50["overhead"] / p50["engine"], 4)}
        print(f"{name:9s} " + " ".join(f"{k} {v:.2f}" for k, v in p50.items())
              + f"  overhead / engine {report[name]['overhead_share']:.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
