"""Person and background regions: what they cost and how steady the seam is (docs/benchmarks.md,
"Person and background").

  cost   at 640x480 on the sample clip, alternating call by call in one run: the one-style graph,
         the regions graph (two styles in one pass), two one-style calls (the naive way), the
         segmenter, the mask's steadying + feathering, and the composite of the original over a
         region; then the whole VideoStylizer step per region mode, ms per stage
  seam   on people clips: E_warp (stability.PairFlows) of the mask itself (as an image) and of
         the output within 12 px of the mask's border, the mask steadied (shipped settings) vs
         raw (steadiness 0, the segmenter on every frame), for "background only" (the person kept
         original)

    python benchmarks/regions.py --data ../shared/data --json docs/bench/regions.json
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from stylecam.assets import paths
from stylecam.engines.backends import OrtEngine
from stylecam.engines.host import cpu_class
from stylecam.engines.person_mask import MaskSettings, MaskTracker
from stylecam.engines.regions import ORIGINAL, OriginalKeeper, Regions
from stylecam.engines.segmenter import PersonSegmenter
from stylecam.engines.stability import PairFlows
from stylecam.engines.styles import StyleBank
from stylecam.engines.stylizer import STAGES, VideoStylizer
from stylecam.engines.temporal import FlowTracker, TemporalSettings
from stylecam.train.evaluate import read_clip

SIZE = (640, 480)


def pct(values) -> dict[str, float]:
    """p50, p95 and the mean (the segmenter runs on every 2nd frame, so the mean is its cost)."""
    out = {f"p{q}": round(float(np.percentile(values, q)), 2) for q in (50, 95)}
    return {**out, "mean": round(float(np.mean(values)), 2)}


def cost(engine: OrtEngine, segmenter: PersonSegmenter, bank: StyleBank, frames: list[np.ndarray],
         rounds: int) -> dict:
    w, h = SIZE
    a, b = bank.vectors[0], bank.vectors[2]
    prev = np.zeros((1, h // 8, w // 8, engine.core_channels), np.float32)
    blend = np.zeros((1, 1, h // 8, w // 8), np.float32)
    tracker, masks, keeper = FlowTracker(TemporalSettings()), MaskTracker(), OriginalKeeper()
    parts = ("one_style", "regions_graph", "two_calls", "segmenter", "mask", "composite")
    times = {k: [] for k in parts}
    for r in range(rounds + 5):
        frame = cv2.resize(frames[r % len(frames)], SIZE)
        blob = cv2.dnn.blobFromImage(frame, 1 / 255.0, swapRB=True)
        temporal = tracker.step(frame, (h // 8, w // 8))
        t0 = time.perf_counter()
        engine.run(blob, a, prev, blend)
        t1 = time.perf_counter()
        person = segmenter(frame)
        t2 = time.perf_counter()
        mask = masks.step(person, temporal, (h // 4, w // 4))
        t3 = time.perf_counter()
        engine.run_two(blob, a, b, mask[None, None], prev, blend)
        t4 = time.perf_counter()
        engine.run(blob, a, prev, blend)
        engine.run(blob, b, prev, blend)
        t5 = time.perf_counter()
        keeper.step(frame, frame, mask, (h, w))
        t6 = time.perf_counter()
        if r >= 5:
            for k, d in zip(parts, (t1 - t0, t4 - t3, t5 - t4, t2 - t1, t3 - t2, t6 - t5)):
                times[k].append(1000 * d)
    out = {k: pct(v) for k, v in times.items()}
    one = out["one_style"]["p50"]
    out["regions_graph_over_one_style"] = round(out["regions_graph"]["p50"] / one, 3)
    out["two_calls_over_one_style"] = round(out["two_calls"]["p50"] / one, 3)
    out["segment_share_of_engine"] = round((out["segmenter"]["p50"] + out["mask"]["p50"]) / one, 3)
    return out


def pipeline(engine: OrtEngine, segmenter: PersonSegmenter, bank: StyleBank, frames: list[np.ndarray]) -> dict:
    """The whole step per region mode on the clip at 640x480, modes alternating frame by frame."""
    modes = {"whole": Regions(), "background_only": Regions(person=ORIGINAL),
             "person_only": Regions(background=ORIGINAL), "two_styles": Regions(background=bank.vectors[2])}
    stylizers = {}
    for name, regions in modes.items():
        stylizers[name] = VideoStylizer(engine, bank.vectors[0], TemporalSettings(), SIZE, segmenter)
        stylizers[name].set_regions(regions)
    times = {name: {s: [] for s in (*STAGES, "total")} for name in modes}
    for i, frame in enumerate(frames):
        for name, stylizer in stylizers.items():
            t = stylizer.step(frame).times
            if i >= 5:
                for s in STAGES:
                    times[name][s].append(getattr(t, s))
                times[name]["total"].append(t.total)
    return {name: {s: pct(v) for s, v in stages.items()} for name, stages in times.items()}


def _as_image(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    m = cv2.resize(mask, size, interpolation=cv2.INTER_LINEAR)
    return cv2.cvtColor(np.clip(m * 255.0 + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def _border_error(flows: PairFlows, outputs: list[np.ndarray], masks: list[np.ndarray]) -> float:
    """E_warp restricted to pixels within 12 px of the mask's 0.5 contour."""
    errors = []
    for t, forward, valid in flows.pairs:
        hard = (cv2.cvtColor(masks[t], cv2.COLOR_BGR2GRAY) > 127).astype(np.uint8)
        band = cv2.dilate(hard, np.ones((25, 25), np.uint8)) - cv2.erode(hard, np.ones((25, 25), np.uint8))
        m = valid * band
        h, w = forward.shape[:2]
        xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        nxt = cv2.remap(outputs[t + 1], xs + forward[..., 0], ys + forward[..., 1], cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE).astype(np.float32) / 255.0
        err = np.sum((outputs[t].astype(np.float32) / 255.0 - nxt) ** 2, axis=-1)
        if m.sum() > 0:
            errors.append(float(np.sum(m * err) / np.sum(m)))
    return float(np.mean(errors)) if errors else float("nan")


def seam(engine: OrtEngine, segmenter: PersonSegmenter, bank: StyleBank, clips: dict[str, list[np.ndarray]]) -> dict:
    out = {}
    for clip, frames in clips.items():
        h, w = frames[0].shape[:2]
        flows = PairFlows(frames)
        row = {}
        for label, settings in (("steadied", MaskSettings()), ("raw", MaskSettings(steadiness=0.0, every=1))):
            stylizer = VideoStylizer(engine, bank.vectors[0], TemporalSettings(), (w, h), segmenter, settings)
            stylizer.set_regions(Regions(person=ORIGINAL))
            outputs, masks = [], []
            for f in frames:
                result = stylizer.step(f)
                outputs.append(result.image)
                masks.append(_as_image(result.mask, (-(-w // 8) * 8, -(-h // 8) * 8))[:h, :w])
            row[label] = {"mask_ewarp": round(flows.warping_error(masks), 5),
                          "output_ewarp_near_border": round(_border_error(flows, outputs, masks), 5)}
        row["mask_ewarp_steadied_over_raw"] = round(row["steadied"]["mask_ewarp"] / row["raw"]["mask_ewarp"], 3)
        out[clip] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--frames", type=int, default=120, help="frames per clip for the seam figures")
    parser.add_argument("--parts", nargs="+", default=["cost", "pipeline", "seam"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    engine = OrtEngine(paths.model_onnx(), "CPUExecutionProvider", regions_model=paths.regions_onnx())
    segmenter, bank = PersonSegmenter(paths.segmenter_onnx()), StyleBank.load(paths.style_bank())
    sample = read_clip(paths.sample_clip(), args.frames)
    report: dict = {"cpu": cpu_class()}
    if "cost" in args.parts:
        report["cost_640x480_ms"] = cost(engine, segmenter, bank, sample, args.rounds)
    if "pipeline" in args.parts:
        report["pipeline_640x480_ms"] = pipeline(engine, segmenter, bank, sample[:args.rounds + 5])
    if "seam" in args.parts:
        clips = {"tears_of_steel (people, the sample)": sample,
                 "sintel_excerpt (animated people)": read_clip(args.data / "video/clips/sintel_excerpt_640x360.mp4",
                                                               args.frames)}
        report["seam"] = seam(engine, segmenter, bank, clips)
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
