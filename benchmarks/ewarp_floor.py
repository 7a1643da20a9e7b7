"""The warping error that a perfectly steady output would still read: the E_warp metric's floor.

For each consecutive pair (t, t+1) of a real clip, frame t+1 is replaced by frame t moved by the
pair's backward DIS flow b (t+1 -> t): J(y) = I_t(y + b(y)), Lanczos-4. Where every pixel of J
comes from is then known exactly, so the output for frame t moved the same way is an output that
follows the motion perfectly. The metric (engines/stability.PairFlows: its own DIS flows and
trust mask, bilinear warp) run on that pair reads its floor for that texture: its flow's error
times the texture's gradient, plus the blur of its bilinear warp. Reported per clip, network and
style, as shares of v1's per-frame E_warp on the real clip (the unit of issue 8's targets):

  floor        the perfectly moved output, on the synthetic pairs
  per_frame    the network's own per-frame output for J, on the same synthetic pairs (repainting
               under motion known exactly, with the floor inside it)
  real         the network's per-frame output on the real pairs (for comparison)

    python benchmarks/ewarp_floor.py --bank DIR --json docs/bench/ewarp_floor.json
The machine's CPU class is recorded with the figures.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from phase_lock import PER_FRAME, outputs  # noqa: E402
from report import emit  # noqa: E402
from v1_engine import V1_STYLES, V1Engine  # noqa: E402

from stylecam.assets import paths  # noqa: E402
from stylecam.engines.backends import OrtEngine  # noqa: E402
from stylecam.engines.host import cpu_class  # noqa: E402
from stylecam.engines.stability import PairFlows  # noqa: E402
from stylecam.engines.styles import StyleBank  # noqa: E402
from stylecam.train.evaluate import read_clip  # noqa: E402


def moved(image: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """image (H x W x 3 uint8 BGR) sampled at y + backward(y), Lanczos-4, edges replicated."""
    h, w = backward.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(image, xs + backward[..., 0], ys + backward[..., 1], cv2.INTER_LANCZOS4,
                     borderMode=cv2.BORDER_REPLICATE)


def synthetic_pairs(frames: list[np.ndarray], real: PairFlows) -> list[tuple[int, np.ndarray, PairFlows]]:
    """(t, backward flow of the real pair, the metric's flows for (I_t, J)) per usable real pair."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    grey = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in frames]
    pairs = []
    for t, _, _ in real.pairs:
        backward = dis.calc(grey[t + 1], grey[t], None)
        pairs.append((t, backward, PairFlows([frames[t], moved(frames[t], backward)])))
    return pairs


def floors(engine, style: np.ndarray, frames: list[np.ndarray], real: PairFlows, synthetic, base: float) -> dict:
    out = outputs(engine, style, frames, PER_FRAME)
    floor, per_frame = [], []
    for t, backward, flows in synthetic:
        floor.append(flows.warping_error([out[t], moved(out[t], backward)]))
        per_frame.append(flows.warping_error([out[t], outputs(engine, style, [moved(frames[t], backward)], PER_FRAME)[0]]))
    return {"floor": round(float(np.mean(floor)) / base, 3), "per_frame": round(float(np.mean(per_frame)) / base, 3),
            "real": round(real.warping_error(out) / base, 3)}


def pan_and_still_clips(data: str, given: list[str] | None) -> list[Path]:
    """The clips given, or Tears of Steel (a pan) and Caminandes (a still camera, local motion)."""
    clips = Path(data) / "video" / "clips"
    return [Path(c) for c in given] if given else [clips / "tears_of_steel_excerpt_640x360.mp4",
                                                   clips / "caminandes_llama_drama_excerpt_640x360.mp4"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--bank", type=Path, help="a folder from `stylecam export` to measure instead of assets/")
    p.add_argument("--style", action="append", help="styles (default starry_night, udnie)")
    p.add_argument("--clip", action="append", help="clips (default Tears of Steel and Caminandes)")
    p.add_argument("--clip-frames", type=int, default=60)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    model, styles = (args.bank / paths.MODEL_ONNX, args.bank / paths.STYLE_BANK) if args.bank else (
        paths.model_onnx(), paths.style_bank())
    v2 = (OrtEngine(model, "CPUExecutionProvider"), StyleBank.load(styles))
    networks = {"v1": (V1Engine(), StyleBank.load(V1_STYLES)), "v2": v2}
    report = {"cpu": cpu_class(), "bank": str(args.bank or "assets"), "clip_frames": args.clip_frames, "clips": {}}
    for clip in pan_and_still_clips(args.data, args.clip):
        frames = read_clip(clip, args.clip_frames)
        real = PairFlows(frames)
        synthetic = synthetic_pairs(frames, real)
        for name in args.style or ["starry_night", "udnie"]:
            v1, v1_bank = networks["v1"]
            base = real.warping_error(outputs(v1, v1_bank.vector(name), frames, PER_FRAME))
            row = {net: floors(engine, bank.vector(name), frames, real, synthetic, base)
                   for net, (engine, bank) in networks.items()}
            report["clips"].setdefault(clip.stem, {})[name] = row
            print(f"{clip.stem} {name}: {json.dumps(row)}", file=sys.stderr, flush=True)
    return emit(report, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
