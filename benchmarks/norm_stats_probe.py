"""Norm statistics smoothed over time (TemporalSettings.norm_smoothing): a sweep of beta.

Each conditional instance norm layer normalises by its per-channel mean and variance moved towards
the last frame's by beta (0: each frame's own, the network as before; engines/network.Stylizer.
smoothed). Runs the exported graph with the temporal path and the sub-pixel lock and reports per
clip, bank and style the E_warp as a share of v1's per-frame E_warp, and the moving sharpness over
the same network's per-frame output.

    python benchmarks/norm_stats_probe.py --bank DIR --beta 0,0.9,0.97 --json docs/bench/norm_stats.json
The machine's CPU class is recorded with the figures.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ewarp_floor import pan_and_still_clips  # noqa: E402
from phase_lock import PER_FRAME, mean_sharpness, outputs  # noqa: E402
from report import emit  # noqa: E402
from v1_engine import V1_STYLES, V1Engine  # noqa: E402

from stylecam.assets import paths  # noqa: E402
from stylecam.engines.backends import OrtEngine  # noqa: E402
from stylecam.engines.host import cpu_class  # noqa: E402
from stylecam.engines.stability import PairFlows  # noqa: E402
from stylecam.engines.styles import StyleBank  # noqa: E402
from stylecam.engines.temporal import TemporalSettings  # noqa: E402
from stylecam.train.evaluate import read_clip  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--bank", type=Path, action="append", help="folders from `stylecam export` (default assets/)")
    p.add_argument("--beta", default="0,0.9,0.97", help="norm smoothing values to run")
    p.add_argument("--style", action="append", help="styles (default starry_night, udnie)")
    p.add_argument("--clip", action="append", help="clips (default Tears of Steel and Caminandes)")
    p.add_argument("--clip-frames", type=int, default=120)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    folders = args.bank or [paths.model_onnx().parent]
    betas = [float(b) for b in args.beta.split(",")]
    v1, v1_bank = V1Engine(), StyleBank.load(V1_STYLES)
    report = {"cpu": cpu_class(), "clip_frames": args.clip_frames, "results": {}}
    for clip in pan_and_still_clips(args.data, args.clip):
        frames = read_clip(clip, args.clip_frames)
        flows = PairFlows(frames)
        for name in args.style or ["starry_night", "udnie"]:
            base = flows.warping_error(outputs(v1, v1_bank.vector(name), frames, PER_FRAME))
            for folder in folders:
                engine = OrtEngine(folder / paths.MODEL_ONNX, "CPUExecutionProvider")
                style = StyleBank.load(folder / paths.STYLE_BANK).vector(name)
                sharp = mean_sharpness(outputs(engine, style, frames, PER_FRAME))
                row = {}
                for beta in betas:
                    out = outputs(engine, style, frames, TemporalSettings(norm_smoothing=beta))
                    row[f"beta_{beta}"] = {"ewarp_vs_v1": round(flows.warping_error(out) / base, 3),
                                           "moving_sharpness": round(mean_sharpness(out) / sharp, 3)}
                report["results"].setdefault(clip.stem, {}).setdefault(str(folder), {})[name] = row
                print(f"{clip.stem} {folder} {name}: {json.dumps(row)}", file=sys.stderr, flush=True)
    return emit(report, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
