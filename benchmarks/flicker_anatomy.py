"""What the flicker of v2's output is made of, and what a blend that keeps the detail buys.

  bands    E_warp of the per-frame and temporal output split at a Gaussian (sigma 4 px): the
           low band (colour and shape) and the high band (texture)
  floor    E_warp of an ideally coherent output: each per-frame output advected to the next frame
           by the backward DIS flow, then measured as usual (the flow and resampling errors alone)
  detail   the output blend with its detail kept: blend as output_blend.py does, then restore,
           per 16 px cell, the fine-band energy (above a Gaussian of `--sigma` px) of the fresh
           frame, so the texture averaged with a misaligned copy keeps its contrast

E_warp as shares of v1's per-frame E_warp; sharpness (Laplacian variance) as shares of v2's own
per-frame output. Findings in docs/design-notes.md ("Flicker anatomy").

    python benchmarks/flicker_anatomy.py --clip CLIP.mp4 --style starry_night --shares 0.5,0.7
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from v1_engine import V1_STYLES, V1Engine  # noqa: E402

from stylecam.app.cli.loading import load_bank, load_engine  # noqa: E402
from stylecam.engines.output_blend import OutputBlender  # noqa: E402
from stylecam.engines.stability import PairFlows, sharpness, warp_by_flow  # noqa: E402
from stylecam.engines.styles import StyleBank  # noqa: E402
from stylecam.engines.stylizer import VideoStylizer  # noqa: E402
from stylecam.engines.temporal import TemporalInputs, TemporalSettings  # noqa: E402
from stylecam.train.evaluate import read_clip  # noqa: E402


class DetailKeepingBlender(OutputBlender):
    """OutputBlender, then per 16 px cell a gain (1 to 2) on the fine band of the blended frame
    that brings its energy back to the fresh frame's."""

    def __init__(self, sigma: float, cell: int = 16):
        super().__init__()
        self.sigma, self.cell = sigma, cell

    def step(self, stylised: np.ndarray, temporal: TemporalInputs, padded_hw: tuple[int, int], share: float) -> np.ndarray:
        blended = super().step(stylised, temporal, padded_hw, share)
        if blended is stylised:
            return blended
        h, w = stylised.shape[:2]
        b, s = blended.astype(np.float32), stylised.astype(np.float32)
        low_b = cv2.GaussianBlur(b, (0, 0), self.sigma)
        fine_b, fine_s = b - low_b, s - cv2.GaussianBlur(s, (0, 0), self.sigma)
        cells = (max(1, w // self.cell), max(1, h // self.cell))
        energy = lambda x: cv2.resize((x * x).sum(-1), cells, interpolation=cv2.INTER_AREA)  # noqa: E731
        gain = np.clip(np.sqrt((energy(fine_s) + 1e-3) / (energy(fine_b) + 1e-3)), 1.0, 2.0)
        gain = cv2.resize(gain, (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
        self.prev = np.clip(low_b + gain * fine_b + 0.5, 0, 255).astype(np.uint8)
        return self.prev


def run(engine, style, clip, settings: TemporalSettings, blender: OutputBlender | None = None) -> list[np.ndarray]:
    stylizer = VideoStylizer(engine, style, settings)
    if blender is not None:
        stylizer.blender = blender
    return [stylizer.step(f).image for f in clip]


def bands(flows: PairFlows, outputs: list[np.ndarray], sigma: float = 4.0) -> tuple[float, float]:
    """(low, high) band E_warp: the warped difference split at a Gaussian of sigma px."""
    low, high = [], []
    for t, forward, mask in flows.pairs:
        diff = outputs[t].astype(np.float32) / 255 - warp_by_flow(outputs[t + 1].astype(np.float32) / 255, forward)
        lf = cv2.GaussianBlur(diff, (0, 0), sigma)
        low.append(float(np.sum(mask * np.sum(lf**2, -1)) / mask.sum()))
        high.append(float(np.sum(mask * np.sum((diff - lf) ** 2, -1)) / mask.sum()))
    return float(np.mean(low)), float(np.mean(high))


def advected(clip: list[np.ndarray], flows: PairFlows, outputs: list[np.ndarray]) -> list[np.ndarray]:
    """A sequence as coherent as the flow allows: for each measured pair (t, t+1), output t moved to
    frame t+1 by the backward DIS flow stands in for output t+1 (pairs are measured independently)."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    grey = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in clip]
    ideal = list(outputs)
    for t, _, _ in flows.pairs:
        ideal[t + 1] = warp_by_flow(outputs[t], dis.calc(grey[t + 1], grey[t], None))
    return ideal


def floor_ewarp(clip, flows: PairFlows, outputs) -> float:
    ideal = advected(clip, flows, outputs)
    errors = []
    for t, forward, mask in flows.pairs:
        diff = outputs[t].astype(np.float32) / 255 - warp_by_flow(ideal[t + 1].astype(np.float32) / 255, forward)
        errors.append(float(np.sum(mask * np.sum(diff**2, -1)) / mask.sum()))
    return float(np.mean(errors))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--clip", action="append", required=True)
    p.add_argument("--style", action="append")
    p.add_argument("--shares", default="0.5,0.7")
    p.add_argument("--sigma", type=float, default=1.0)
    p.add_argument("--frames", type=int, default=120)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    engine, bank = load_engine("ort-cpu").engine, load_bank()
    v1, v1_bank = V1Engine(), StyleBank.load(V1_STYLES)
    report = {}
    for clip_path in args.clip:
        clip = [cv2.resize(f, (640, 360)) if f.shape[1] > 640 else f for f in read_clip(Path(clip_path), args.frames)]
        flows = PairFlows(clip)
        for name in args.style or ["starry_night", "udnie"]:
            base = flows.warping_error(run(v1, v1_bank.vector(name), clip, TemporalSettings(strength=0.0)))
            per_frame = run(engine, bank.vector(name), clip, TemporalSettings(strength=0.0))
            temporal = run(engine, bank.vector(name), clip, TemporalSettings())
            pf_sharp = float(np.mean([sharpness(o) for o in per_frame]))
            share_of = lambda outs: {"ewarp": round(flows.warping_error(outs) / base, 3),  # noqa: E731
                                     "sharpness": round(float(np.mean([sharpness(o) for o in outs])) / pf_sharp, 3)}
            row = {"per_frame": share_of(per_frame), "temporal": share_of(temporal),
                   "bands_per_frame_low_high": [round(x / base, 3) for x in bands(flows, per_frame)],
                   "bands_temporal_low_high": [round(x / base, 3) for x in bands(flows, temporal)],
                   "floor": round(floor_ewarp(clip, flows, per_frame) / base, 3)}
            for share in (float(s) for s in args.shares.split(",")):
                settings = TemporalSettings(output_share=share)
                row[f"blend {share}"] = share_of(run(engine, bank.vector(name), clip, settings))
                row[f"blend {share}, detail kept"] = share_of(
                    run(engine, bank.vector(name), clip, settings, DetailKeepingBlender(args.sigma)))
            report[f"{Path(clip_path).stem} {name}"] = row
            print(Path(clip_path).stem, name, json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
