"""The phase lock (engines/phase_lock.py) off and on, in one run on one machine.

  quality  per clip and style: E_warp of network v2's per-frame output and of its temporal output
           with the lock off and on, as shares of v1's per-frame E_warp (v1 as shipped, from
           benchmarks/v1/), and the temporal output's Laplacian variance over v2's per-frame
           output (moving sharpness); on a still camera (kodim04, sensor noise, 0.15 px jitter,
           640x480) the same ratio over the last sixth of 300 frames (still sharpness)
  handheld the clip part on a hand-held camera (train/evaluate.handheld_camera_clip: kodim04 at 640x480,
           a wandering camera of 1.5 px std per frame, sensor noise; 60 frames), and the same camera
           on kodim04 before a plain wall (evaluate.portrait_before_wall), where the seed paints,
           and kodim04 swaying before that wall on a still camera (evaluate.person_sways_clip)
  timing   the whole VideoStylizer step at 640x480 on the sample clip, lock off and on
           alternating frame by frame (v1_vs_v2.pipeline_times): ms per stage, p50 and p95
  --variants  off, pixel, subpixel (the lock's three settings; the default) and subpixel_dis_flat
           (the sub-pixel lock with the flow as DIS gives it on flat pixels, flat_energy 0: the
           setting before 2026-12-07, temporal.fill_flat)
  --flow   each variant with these flows (DOWNSCALE:FINEST_SCALE, e.g. 4:2,8:0: the setting before
           2026-12-06's sixth session and the one after)
  --sheet  a picture to look at: frames 76 and 77 of the first --clip (default Tears of Steel, a pan) per
           frame, lock off and lock on, each with their difference after the flow (x3)

    python benchmarks/phase_lock.py --clip ../shared/data/video/clips/tears_of_steel_excerpt_640x360.mp4 \\
        --style starry_night --json docs/bench/phase_lock.json
The machine's CPU class (AVX2 / AVX-512) is recorded with the figures.
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
from report import emit  # noqa: E402
from v1_engine import V1_STYLES, V1Engine  # noqa: E402
from v1_vs_v2 import pipeline_times  # noqa: E402

from stylecam.assets import paths  # noqa: E402
from stylecam.engines.backends import ENGINE_NAMES, create_engine  # noqa: E402
from stylecam.engines.host import cpu_class  # noqa: E402
from stylecam.engines.stability import PairFlows, sharpness, warp_by_flow  # noqa: E402
from stylecam.engines.styles import StyleBank  # noqa: E402
from stylecam.engines.stylizer import VideoStylizer  # noqa: E402
from stylecam.engines.temporal import TemporalSettings  # noqa: E402
from stylecam.train.evaluate import (handheld_camera_clip, person_sways_clip, portrait_before_wall, read_clip,  # noqa: E402
                                     static_camera_clip)

PER_FRAME = TemporalSettings(strength=0.0)
LOCK = {"off": TemporalSettings(phase_lock=False), "pixel": TemporalSettings(phase_lock=True, subpixel=False),
        "subpixel": TemporalSettings(phase_lock=True, subpixel=True),
        "subpixel_dis_flat": TemporalSettings(phase_lock=True, subpixel=True, flat_energy=0.0),
        # as before the fourteenth session: the flow at 1/8 and the fast fade at (1, 3) cells at every size
        "subpixel_fixed_scale": TemporalSettings(phase_lock=True, subpixel=True, flow_min_width=0, fast_cells=(1.0, 3.0),
                                                 fast_width=0)}


def outputs(engine, style: np.ndarray, frames: list[np.ndarray], settings: TemporalSettings) -> list[np.ndarray]:
    stylizer = VideoStylizer(engine, style, settings)
    return [stylizer.step(f).image for f in frames]


def mean_sharpness(images: list[np.ndarray]) -> float:
    return float(np.mean([sharpness(i) for i in images]))


def quality(engine, bank: StyleBank, v1, v1_bank: StyleBank, names: list[str], clips: dict, still: list[np.ndarray],
            variants: dict[str, TemporalSettings], log) -> dict:
    report = {}
    for clip_name, frames in clips.items():
        flows = PairFlows(frames)
        for name in names:
            base = flows.warping_error(outputs(v1, v1_bank.vector(name), frames, PER_FRAME))
            per_frame = outputs(engine, bank.vector(name), frames, PER_FRAME)
            row = {"v1_per_frame_ewarp": base, "per_frame_vs_v1": round(flows.warping_error(per_frame) / base, 3)}
            for lock, settings in variants.items():
                temporal = outputs(engine, bank.vector(name), frames, settings)
                row[f"lock_{lock}_vs_v1"] = round(flows.warping_error(temporal) / base, 3)
                row[f"lock_{lock}_moving_sharpness"] = round(mean_sharpness(temporal) / mean_sharpness(per_frame), 3)
            report.setdefault(clip_name, {})[name] = row
            log(f"{clip_name} {name}: {json.dumps(row)}")
    late = slice(len(still) * 5 // 6, len(still))
    for name in names if still else []:
        per_frame = mean_sharpness(outputs(engine, bank.vector(name), still, PER_FRAME)[late])
        row = {f"lock_{lock}_still_sharpness": round(mean_sharpness(outputs(engine, bank.vector(name), still, s)[late])
                                                     / per_frame, 3) for lock, s in variants.items()}
        report.setdefault("still_camera_kodim04_%dx%d" % (still[0].shape[1], still[0].shape[0]), {})[name] = row
        log(f"still {name}: {json.dumps(row)}")
    return report


def timing(engine, style: np.ndarray, frames: list[np.ndarray], variants: dict[str, TemporalSettings]) -> dict:
    return pipeline_times({f"lock_{k}": (engine, style) for k in variants}, {f"lock_{k}": s for k, s in variants.items()},
                          frames, (640, 480), LOCK["subpixel"].strength)


def sheet(engine, style: np.ndarray, frames: list[np.ndarray], path: Path, t: int = 76) -> None:
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    grey = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in frames[t:t + 2]]
    forward = dis.calc(grey[0], grey[1], None)
    h, w = frames[t].shape[:2]
    crop = (slice(h // 4, h // 4 + h // 2), slice(w // 3, w // 3 + w * 3 // 8))
    rows = []
    for label, settings in (("per frame", PER_FRAME), ("lock off", LOCK["off"]), ("lock, whole pixels", LOCK["pixel"]),
                            ("lock, sub-pixel", LOCK["subpixel"])):
        out = outputs(engine, style, frames[:t + 2], settings)
        a, b = out[t].astype(np.float32), warp_by_flow(out[t + 1].astype(np.float32), forward)
        diff = cv2.cvtColor(np.clip(np.abs(a - b).max(axis=2) * 3, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
        row = np.hstack([cv2.resize(i[crop], None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
                         for i in (out[t], out[t + 1], diff)])
        cv2.putText(row, f"{label}: frames {t}, {t + 1}, |difference after the flow| x3 (mean {np.abs(a - b).mean():.1f})",
                    (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
        rows.append(row)
    cv2.imwrite(str(path), np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 85])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--parts", default="quality,timing")
    p.add_argument("--style", action="append", help="styles for the quality part (default starry_night, udnie)")
    p.add_argument("--clip", action="append", help="clips (default all in DATA/video/clips)")
    p.add_argument("--clip-frames", type=int, default=120)
    p.add_argument("--variants", default="off,pixel,subpixel", help=f"temporal variants to run, of {', '.join(LOCK)}")
    p.add_argument("--flow", help="flows to run each variant with, DOWNSCALE:FINEST_SCALE each (e.g. 4:2,8:0; "
                   "named VARIANT_flowD_F; TemporalSettings.flow_downscale, flow_finest_scale); default: its own")
    p.add_argument("--fast", help="fast-motion fades to run each variant with, LO:HI core cells each or 'none' (e.g. "
                   "1:3,2:5,none; named VARIANT_fastLO_HI; TemporalSettings.fast_cells); default: its own")
    p.add_argument("--bank", type=Path, help="a folder from `stylecam export` to measure instead of assets/")
    p.add_argument("--engine", default="auto", choices=[n for n in ENGINE_NAMES if n != "torch"],
                   help="what runs the network (default: what the app chooses)")
    p.add_argument("--size", help="WxH: every clip resized to this processing size (as `--size auto` steps "
                   "down to); default: the clips' own, 640x480 for the made-up ones")
    p.add_argument("--json", type=Path)
    p.add_argument("--sheet", type=Path, help="also write the picture described above here (.jpg)")
    args = p.parse_args()
    variants = {name: LOCK[name] for name in args.variants.split(",")}
    if args.flow:
        flows = [tuple(int(n) for n in f.split(":")) for f in args.flow.split(",")]
        variants = {f"{name}_flow{d}_{f}": replace(settings, flow_downscale=d, flow_finest_scale=f)
                    for name, settings in variants.items() for d, f in flows}
    if args.fast:
        fades = [None if f == "none" else tuple(float(n) for n in f.split(":")) for f in args.fast.split(",")]
        variants = {f"{name}_fast{'none' if c is None else '%g_%g' % c}": replace(settings, fast_cells=c)
                    for name, settings in variants.items() for c in fades}
    data = Path(args.data)
    size = tuple(int(n) for n in args.size.split("x")) if args.size else None
    made_up = size or (640, 480)  # the size of the clips made from a still photo

    def sized(frames: list[np.ndarray]) -> list[np.ndarray]:
        return [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames] if size else frames

    bank_dir = args.bank or paths.model_onnx().parent
    engine = create_engine(args.engine, bank_dir / paths.MODEL_ONNX, paths.checkpoint()).engine
    bank = StyleBank.load(bank_dir / paths.STYLE_BANK)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    report = {"cpu": cpu_class(), "graph": engine.graph, "engine": f"{engine.name} on {engine.provider}",
              "bank": str(args.bank or "assets"), "size": args.size or "own"}
    if "quality" in args.parts.split(","):
        clip_paths = [Path(c) for c in args.clip] if args.clip else sorted((data / "video" / "clips").glob("*.mp4"))
        clips = {c.stem: sized(read_clip(c, args.clip_frames)) for c in clip_paths}
        still = static_camera_clip(cv2.imread(str(data / "content" / "kodak" / "kodim04.png")), 300, made_up)
        report["quality"] = quality(engine, bank, V1Engine(), StyleBank.load(V1_STYLES),
                                    args.style or ["starry_night", "udnie"], clips, still, variants, log)
    if "handheld" in args.parts.split(","):
        photo = cv2.imread(str(data / "content" / "kodak" / "kodim04.png"))
        clips = {"handheld_kodim04_%dx%d" % made_up: handheld_camera_clip(photo, 60, made_up),
                 "handheld_kodim04_before_a_wall": handheld_camera_clip(portrait_before_wall(photo), 60, made_up),
                 "still_camera_kodim04_sways_before_a_wall": sized(person_sways_clip(photo, 60))}
        report["handheld"] = quality(engine, bank, V1Engine(), StyleBank.load(V1_STYLES),
                                     args.style or ["starry_night", "udnie"], clips, [], variants, log)
    if "timing" in args.parts.split(","):
        sample = [cv2.resize(f, (640, 480)) for f in read_clip(paths.sample_clip(), 240)[21:240]]
        report["timing_640x480_ms"] = timing(engine, bank.vectors[0], sample, variants)
        log(f"timing: {json.dumps(report['timing_640x480_ms'])}")
    if args.sheet:
        first = Path(args.clip[0]) if args.clip else sorted((data / "video" / "clips").glob("*.mp4"))[-1]
        sheet(engine, bank.vector("starry_night"), read_clip(first, 80), args.sheet)
    return emit(report, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
