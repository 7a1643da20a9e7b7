"""How much a state's per-frame output moves when its input picture gets noise, relative to the
output's variance: frames of the eval clips (every 8th of the first 40, at 320x176), noise of
std 0.02 (RGB 0-1), starry_night, great_wave and shipwreck, torch on the CPU. A student that
matches its teacher's output but answers noise more strongly flickers more
(`docs/design-notes.md`, "Distillation into a cheaper layout"); the first state is the reference.

    python benchmarks/noise_sensitivity.py shipped=checkpoints/v2MB_mixed_checkpoint.pt \\
        b3=checkpoints/v2B3G_step750_checkpoint.pt --json F
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import emit  # noqa: E402

from stylecam.engines.checkpoint import load_bank, load_network  # noqa: E402
from stylecam.engines.host import cpu_class  # noqa: E402
from stylecam.train.evaluate import read_clip  # noqa: E402

CLIPS = {"snowy": "sintel_excerpt_640x360.mp4", "cave": "sintel_cave_2_clean_50f_1024x436.mp4",
         "tears_of_steel": "tears_of_steel_excerpt_640x360.mp4"}
STYLES = ("starry_night", "great_wave", "shipwreck")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("states", nargs="+", help="NAME=CHECKPOINT, the reference first")
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    states = dict(a.split("=", 1) for a in args.states)
    report = {"cpu": cpu_class(), "noise_std": 0.02, "change_over_variance": {}}
    for clip, name in CLIPS.items():
        frames = [cv2.resize(f, (320, 176)) for f in read_clip(Path(args.data) / "video/clips" / name, 40)[::8]]
        x = torch.from_numpy(np.stack([f[:, :, ::-1] for f in frames]).copy()).permute(0, 3, 1, 2).float() / 255
        noisy = (x + torch.randn(x.shape, generator=torch.Generator().manual_seed(0)) * 0.02).clamp(0, 1)
        row = {}
        for state, path in states.items():
            net, bank = load_network(Path(path)).eval(), load_bank(Path(path))
            with torch.no_grad():
                row[state] = {}
                for style in STYLES:
                    vector = torch.from_numpy(bank.vector(style))
                    a, b = net.stylize(x, vector), net.stylize(noisy, vector)
                    row[state][style] = round(float(((a - b) ** 2).mean() / a.var()), 5)
        report["change_over_variance"][clip] = row
    return emit(report, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
