"""Output-blend share, flow resolution and warp resampling, swept on clips: E_warp of the temporal output as a
share of v1's per-frame E_warp, and the temporal output's sharpness as a share of the same
network's per-frame output (moving footage). The choice of TemporalSettings.output_share and of
the output warp's interpolation rests on this (docs/design-notes.md).

    python benchmarks/blend_sweep.py --clip CLIP.mp4 ... --shares 0,0.2,0.3,0.4 --flow 2,4 --style 0
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from v1_engine import V1_STYLES, V1Engine  # noqa: E402

from stylecam.app.cli.loading import load_bank, load_engine  # noqa: E402
from stylecam.assets import paths  # noqa: E402
from stylecam.engines.backends import OrtEngine  # noqa: E402
from stylecam.engines.stability import PairFlows, sharpness  # noqa: E402
from stylecam.engines.styles import StyleBank  # noqa: E402
from stylecam.engines.stylizer import VideoStylizer  # noqa: E402
from stylecam.engines.temporal import TemporalSettings  # noqa: E402
from stylecam.train.evaluate import read_clip  # noqa: E402


def outputs(engine, style, clip, settings: TemporalSettings, interpolation: int) -> list[np.ndarray]:
    stylizer = VideoStylizer(engine, style, settings)
    stylizer.blender.interpolation = interpolation
    return [stylizer.step(f).image for f in clip]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--clip", action="append", required=True)
    p.add_argument("--shares", default="0,0.2,0.3,0.4,0.55")
    p.add_argument("--flow", default="2", help="flow downscales to try (TemporalSettings.flow_downscale)")
    p.add_argument("--interp", default="linear,cubic")
    p.add_argument("--style", default="0")
    p.add_argument("--frames", type=int, default=96)
    p.add_argument("--temporal", type=float, default=0.8)
    p.add_argument("--json", type=Path)
    p.add_argument("--v2", type=Path, help="a folder from `stylecam export` to sweep instead of assets/")
    args = p.parse_args()
    if args.v2:
        engine = OrtEngine(args.v2 / paths.MODEL_ONNX, "CPUExecutionProvider")
        bank = StyleBank.load(args.v2 / paths.STYLE_BANK)
    else:
        engine, bank = load_engine("ort-cpu").engine, load_bank()
    v1, v1_bank = V1Engine(), StyleBank.load(V1_STYLES)
    style, v1_style = bank.vector(args.style), v1_bank.vector(args.style)
    report = {}
    for clip_path in args.clip:
        clip = [cv2.resize(f, (640, 360)) if f.shape[1] > 640 else f for f in read_clip(Path(clip_path), args.frames)]
        flows = PairFlows(clip)
        v1_pf = flows.warping_error(outputs(v1, v1_style, clip, TemporalSettings(strength=0.0), cv2.INTER_LINEAR))
        per_frame = outputs(engine, style, clip, TemporalSettings(strength=0.0), cv2.INTER_LINEAR)
        pf_sharp = float(np.mean([sharpness(o) for o in per_frame]))
        rows = {"v2_per_frame": round(flows.warping_error(per_frame) / v1_pf, 3)}
        interps = {"linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC}
        for share, flow, name in ((float(s), int(f), n) for s in args.shares.split(",")
                                  for f in args.flow.split(",") for n in args.interp.split(",")):
            if share == 0 and name != "linear":
                continue  # no output warp at share 0
            settings = replace(TemporalSettings(strength=args.temporal), output_share=share, flow_downscale=flow)
            outs = outputs(engine, style, clip, settings, interps[name])
            rows[f"share {share} flow 1/{flow} {name}"] = {
                "ewarp_vs_v1_per_frame": round(flows.warping_error(outs) / v1_pf, 3),
                "moving_sharpness": round(float(np.mean([sharpness(o) for o in outs])) / pf_sharp, 3)}
        report[Path(clip_path).name] = rows
        print(Path(clip_path).name, json.dumps(rows), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
