"""Probe: instance-norm statistics smoothed over time, a flicker lever not yet in the graph.

Every conditional instance norm layer normalises by its own frame's per-channel mean and
variance, so anything that changes those statistics (a llama running across a still scene)
repaints the whole frame a little. Here each layer's statistics are an exponential moving
average over the frames instead: s_t = beta * s_(t-1) + (1 - beta) * (this frame's), beta = 0 being
the network as shipped. It runs the torch network (engines/backends.TorchEngine, which matches
the ONNX graph: beta 0 reads the same figures as benchmarks/phase_lock.py) with the temporal
path and the sub-pixel lock, and reports per clip, bank and style the E_warp as a share of v1's
per-frame E_warp, and the moving sharpness over the same network's per-frame output at beta 0.

    python benchmarks/norm_stats_probe.py --bank DIR --beta 0,0.9,0.97 --json docs/bench/norm_stats_probe.json
A probe only: no scene-cut or style-switch reset, and the graph does not take the statistics as
an input yet. The machine's CPU class is recorded with the figures.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ewarp_floor import pan_and_still_clips  # noqa: E402
from phase_lock import LOCK, PER_FRAME, mean_sharpness, outputs  # noqa: E402
from v1_engine import V1_STYLES, V1Engine  # noqa: E402

from stylecam.assets import paths  # noqa: E402
from stylecam.engines import network  # noqa: E402
from stylecam.engines.backends import TorchEngine  # noqa: E402
from stylecam.engines.host import cpu_class  # noqa: E402
from stylecam.engines.stability import PairFlows  # noqa: E402
from stylecam.engines.styles import StyleBank  # noqa: E402
from stylecam.train.evaluate import read_clip  # noqa: E402


class SmoothedNorm:
    """A stand-in for network._cin keeping each layer's (mean, variance) as a moving average;
    layers are told apart by their order within a frame (`new_frame` restarts the count)."""

    def __init__(self, beta: float):
        self.beta, self.stats, self.layer = beta, [], 0

    def new_frame(self) -> None:
        self.layer = 0

    def __call__(self, x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
        mean, var = x.mean(dim=(2, 3), keepdim=True), x.var(dim=(2, 3), keepdim=True, unbiased=False)
        if self.layer < len(self.stats):
            last_mean, last_var = self.stats[self.layer]
            mean, var = self.beta * last_mean + (1 - self.beta) * mean, self.beta * last_var + (1 - self.beta) * var
            self.stats[self.layer] = (mean, var)
        else:
            self.stats.append((mean, var))
        self.layer += 1
        return (x - mean) / torch.sqrt(var + 1e-5) * scale + shift


class SmoothedEngine(TorchEngine):
    def __init__(self, checkpoint: Path, norm: SmoothedNorm):
        super().__init__(checkpoint)
        self.norm = norm

    def run(self, image, style, prev, blend):
        self.norm.new_frame()
        return super().run(image, style, prev, blend)


def probe(folder: Path, name: str, beta: float, frames: list[np.ndarray], flows: PairFlows, base: float,
          per_frame_sharpness: float) -> dict:
    norm = SmoothedNorm(beta)
    original, network._cin = network._cin, norm
    try:
        out = outputs(SmoothedEngine(folder / paths.CHECKPOINT, norm), StyleBank.load(folder / paths.STYLE_BANK).vector(name),
                      frames, LOCK["subpixel"])
    finally:
        network._cin = original
    return {"ewarp_vs_v1": round(flows.warping_error(out) / base, 3),
            "moving_sharpness": round(mean_sharpness(out) / per_frame_sharpness, 3)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--bank", type=Path, action="append", help="folders from `stylecam export` (default assets/)")
    p.add_argument("--beta", default="0,0.9,0.97", help="moving-average weights of the last statistics")
    p.add_argument("--style", action="append", help="styles (default starry_night, udnie)")
    p.add_argument("--clip", action="append", help="clips (default Tears of Steel and Caminandes)")
    p.add_argument("--clip-frames", type=int, default=120)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    folders = args.bank or [paths.checkpoint().parent]
    betas = [float(b) for b in args.beta.split(",")]
    v1, v1_bank = V1Engine(), StyleBank.load(V1_STYLES)
    report = {"cpu": cpu_class(), "clip_frames": args.clip_frames, "results": {}}
    for clip in pan_and_still_clips(args.data, args.clip):
        frames = read_clip(clip, args.clip_frames)
        flows = PairFlows(frames)
        for name in args.style or ["starry_night", "udnie"]:
            base = flows.warping_error(outputs(v1, v1_bank.vector(name), frames, PER_FRAME))
            for folder in folders:
                engine = TorchEngine(folder / paths.CHECKPOINT)
                sharp = mean_sharpness(outputs(engine, StyleBank.load(folder / paths.STYLE_BANK).vector(name), frames, PER_FRAME))
                row = {f"beta_{b}": probe(folder, name, b, frames, flows, base, sharp) for b in betas}
                report["results"].setdefault(clip.stem, {}).setdefault(str(folder), {})[name] = row
                print(f"{clip.stem} {folder} {name}: {json.dumps(row)}", file=sys.stderr, flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
