"""Does the per-frame output move with its content? A still frame is cut out of a larger one at
offsets 0 and dx pixels (a pure, exact translation: no resampling, no noise), both are stylised,
and the mean square difference of the two outputs, lined up, is reported (RGB 0-1, x 1e4, over
the interior). A network that moves its strokes with the picture scores ~0 at every dx; one that
draws them on a fixed grid scores ~0 only at multiples of the grid. For scale: the same frame
with Gaussian noise of std 0.01 / 0.02 added (RGB 0-1), and nothing moved.

    python benchmarks/shift_probe.py --checkpoint A.pt --checkpoint B.pt --style starry_night --json out.json
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

from stylecam.engines.checkpoint import load_bank, load_network

FRAME = "content/frames_tears_of_steel/tears_of_steel_excerpt_640x360_f0100.jpg"
SHIFTS = (1, 2, 4, 8, 16)
MARGIN = 40  # pixels of each output's border left out (the two cut-outs see different borders)


def stylise(net, style: torch.Tensor, rgb: np.ndarray) -> np.ndarray:
    """H x W x 3 float32 RGB [0, 1] -> the per-frame output, same layout."""
    with torch.no_grad():
        x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None]
        return net.stylize(x, style)[0].permute(1, 2, 0).numpy()


def probe(net, style: torch.Tensor, big: np.ndarray, size: tuple[int, int]) -> dict[str, float]:
    """MSE x 1e4 per shift and per noise level (module doc); big: float32 RGB, 32 px larger than
    `size` (h, w) on every side."""
    h, w = size
    base = stylise(net, style, big[16:16 + h, 32:32 + w])
    m = MARGIN
    out = {}
    for dx in SHIFTS:
        moved = stylise(net, style, big[16:16 + h, 32 + dx:32 + dx + w])  # moved(x) should be base(x + dx)
        out[f"shift_{dx}px"] = float(((moved[m:-m, m:-m - dx] - base[m:-m, m + dx:-m]) ** 2).mean()) * 1e4
    rng = np.random.default_rng(0)
    for std in (0.01, 0.02):
        noisy = np.clip(big[16:16 + h, 32:32 + w] + rng.normal(0, std, (h, w, 3)), 0, 1).astype(np.float32)
        out[f"noise_{std}"] = float(((stylise(net, style, noisy) - base)[m:-m, m:-m] ** 2).mean()) * 1e4
    return {k: round(v, 3) for k, v in out.items()}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--checkpoint", action="append", required=True, type=Path)
    p.add_argument("--style", action="append", help="default: starry_night and udnie")
    p.add_argument("--data", default="../shared/data", type=Path)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    torch.set_num_threads(2)
    frame = cv2.imread(str(args.data / FRAME))
    if frame is None:
        print(f"frame not found: {args.data / FRAME}", file=sys.stderr)
        return 1
    h, w = 352, 640
    big = cv2.cvtColor(cv2.resize(frame, (w + 64, h + 64), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    big = big.astype(np.float32) / 255
    report = {}
    for path in args.checkpoint:
        net, bank = load_network(path), load_bank(path)
        report[str(path)] = {name: probe(net, torch.from_numpy(bank.vector(name)), big, (h, w))
                             for name in args.style or ["starry_night", "udnie"]}
        print(path, json.dumps(report[str(path)]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
