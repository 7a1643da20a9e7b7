"""v1 and v2 side by side, in one run on one machine (the figures of docs/benchmarks.md "v1 vs v2").

  engine    the engine call alone at 640x480 and 640x360, v1 and v2 alternating call by call: v1 on
            ONNX Runtime as it shipped ("v1"), v2 on the engine chosen (`--engine`, "v2"), and with
            OpenVINO installed both graphs on each runtime ("v1_openvino", "v2_ort")
  pipeline  the whole VideoStylizer step (temporal path on, each network with its own temporal
            defaults: v1 output share 0.55 and flow at 1/2 size, v2 today's TemporalSettings) on
            the sample clip at 640x480, alternating frame by frame: ms per stage
  flip      the flip test (train/evaluate.flip_test) of every style on 8 Kodak photos at 640x480
  quality   per style and clip: E_warp of per-frame and temporal output (as shares of v1's
            per-frame E_warp), Laplacian variance (sharpness) on moving footage and on a still
            camera, and the Gram style loss on the eval photos
  --sheet   a contact sheet of every style on the eval photos, v1's row above v2's for each photo

    python benchmarks/v1_vs_v2.py --data ../shared/data --json docs/bench/v1_vs_v2.json
The machine's CPU class (AVX2 / AVX-512) is recorded with the figures.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from v1_engine import V1_STYLES, V1_TEMPORAL, V1Engine  # noqa: E402

from stylecam.assets import paths  # noqa: E402
from stylecam.engines.seed import seed_tile, stem_input  # noqa: E402
from stylecam.engines.stability import PairFlows, sharpness  # noqa: E402
from stylecam.engines.backends import ENGINE_NAMES, create_engine  # noqa: E402
from stylecam.engines.styles import StyleBank  # noqa: E402
from stylecam.engines.stylizer import STAGES, VideoStylizer  # noqa: E402
from stylecam.engines.temporal import TemporalSettings  # noqa: E402
from stylecam.train.evaluate import contact_sheet, flip_test, perceptual_losses, read_clip, static_camera_clip  # noqa: E402
from stylecam.engines.host import cpu_class  # noqa: E402


def pct(values) -> dict[str, float]:
    return {f"p{q}": round(float(np.percentile(values, q)), 2) for q in (50, 95)}


def engine_times(engines: dict, frames: list[np.ndarray], size: tuple[int, int], rounds: int) -> dict:
    """Each engine's call alone, alternating, on real frames at `size` (w, h)."""
    w, h = size
    times = {k: [] for k in engines}
    tiles = {k: seed_tile(e.seed_period) for k, (e, _) in engines.items() if getattr(e, "seeded", False)}
    for r in range(rounds + 5):
        blob = cv2.dnn.blobFromImage(cv2.resize(frames[r % len(frames)], size), 1 / 255.0, swapRB=True)
        for name, (engine, style) in engines.items():
            prev = np.zeros((1, h // 8, w // 8, engine.core_channels), np.float32)
            blend = np.zeros((1, 1, h // 8, w // 8), np.float32)
            image = blob  # a seeded graph's stem input as the stylizer writes it, outside the timing
            if name in tiles:
                image = stem_input(blob, tiles[name], (0, 0))
            t = time.perf_counter()
            engine.run(image, style, prev, blend)
            if r >= 5:
                times[name].append(1000 * (time.perf_counter() - t))
    out = {k: pct(v) for k, v in times.items()}
    for k in engines:
        if k != "v1":
            out[f"v1_over_{k}"] = round(out["v1"]["p50"] / out[k]["p50"], 3)
    if "v1_openvino" in engines:  # both networks on OpenVINO (v1_over_v2_ort: both on ONNX Runtime)
        out["v1_openvino_over_v2_openvino"] = round(out["v1_openvino"]["p50"] / out["v2"]["p50"], 3)
    return out


def pipeline_times(engines: dict, settings: dict, frames: list[np.ndarray], size: tuple[int, int], strength: float) -> dict:
    """Whole steps with the temporal path on, alternating frame by frame."""
    stylizers = {k: VideoStylizer(e, s, replace(settings[k], strength=strength), size) for k, (e, s) in engines.items()}
    stages = {k: {st: [] for st in (*STAGES, "total", "overhead")} for k in engines}
    for i, frame in enumerate(frames):
        for k, stylizer in stylizers.items():
            t = stylizer.step(frame).times
            if i >= 5:
                for st in STAGES:
                    stages[k][st].append(getattr(t, st))
                stages[k]["total"].append(t.total)
                stages[k]["overhead"].append(t.overhead)
    out = {}
    for k, v in stages.items():
        out[k] = {st: pct(vals) for st, vals in v.items()}
        out[k]["overhead_share_of_engine"] = round(out[k]["overhead"]["p50"] / out[k]["engine"]["p50"], 3)
        out[k]["fps_from_p50"] = round(1000 / out[k]["total"]["p50"], 1)
    return out


def run_outputs(engine, style, clip, strength, settings: TemporalSettings):
    stylizer = VideoStylizer(engine, style, replace(settings, strength=strength))
    return [stylizer.step(f).image for f in clip]


def quality(engines: dict, settings: dict, names: list[str], clips: dict, still: list[np.ndarray],
            photos: list[np.ndarray], paintings: dict, strength: float, log, report: dict) -> dict:
    """Fills `report` style by style (the caller may save it as it grows)."""
    flows = {c: PairFlows(frames) for c, frames in clips.items()}
    for name in names:
        entry = {"clips": {}}
        for clip_name, frames in clips.items():
            row = {}
            for k, (engine, bank) in engines.items():
                style = bank.vector(name)
                for label, a in (("per_frame", 0.0), ("temporal", strength)):
                    outs = run_outputs(engine, style, frames, a, settings[k])
                    row[f"{k}_{label}_ewarp"] = flows[clip_name].warping_error(outs)
                    row[f"{k}_{label}_sharpness"] = float(np.mean([sharpness(o) for o in outs]))
            base = row["v1_per_frame_ewarp"]
            for k in engines:
                row[f"{k}_temporal_ewarp_vs_v1_per_frame"] = round(row[f"{k}_temporal_ewarp"] / base, 3)
                row[f"{k}_per_frame_ewarp_vs_v1_per_frame"] = round(row[f"{k}_per_frame_ewarp"] / base, 3)
                row[f"{k}_moving_sharpness_ratio"] = round(row[f"{k}_temporal_sharpness"] / row[f"{k}_per_frame_sharpness"], 3)
            row["v2_per_frame_sharpness_vs_v1"] = round(row["v2_per_frame_sharpness"] / row["v1_per_frame_sharpness"], 3)
            entry["clips"][clip_name] = row
            log(f"{name} {clip_name}: v2 temporal E_warp {row['v2_temporal_ewarp_vs_v1_per_frame']}x v1 per-frame, "
                f"moving sharpness {row['v2_moving_sharpness_ratio']}")
        for k, (engine, bank) in engines.items():
            style = bank.vector(name)
            outs = {label: run_outputs(engine, style, still, a, settings[k]) for label, a in (("pf", 0.0), ("t", strength))}
            late = slice(len(still) * 5 // 6, len(still))
            entry[f"{k}_still_sharpness_ratio"] = round(
                float(np.mean([sharpness(o) for o in outs["t"][late]]) / np.mean([sharpness(o) for o in outs["pf"][late]])), 3)
            losses = perceptual_losses(engine, bank, [name], photos, paintings, (640, 480))[name]
            entry[f"{k}_style_loss"] = round(losses.get("style", float("nan")), 4)
            entry[f"{k}_content_loss"] = round(losses["content"], 4)
        entry["style_loss_v2_over_v1"] = round(entry["v2_style_loss"] / entry["v1_style_loss"], 3)
        report[name] = entry
        log(json.dumps({name: entry}))
        log(f"{name}: style loss v2/v1 {entry['style_loss_v2_over_v1']}, still sharpness v2 {entry['v2_still_sharpness_ratio']}")
    return report


def main() -> int:
    from stylecam.app.cli.train import EVAL_PHOTOS
    from stylecam.train.loop import BANK_STYLES

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--parts", default="engine,pipeline,flip,quality")
    p.add_argument("--style", action="append", help="styles for the quality part (default all)")
    p.add_argument("--clip", action="append", help="clips for the quality part (default all in DATA/video/clips)")
    p.add_argument("--clip-frames", type=int, default=120)
    p.add_argument("--rounds", type=int, default=60)
    p.add_argument("--temporal", type=float, default=0.8)
    p.add_argument("--json", type=Path)
    p.add_argument("--v2", type=Path, help="a folder from `stylecam export` to compare instead of assets/")
    p.add_argument("--engine", default="auto", choices=[n for n in ENGINE_NAMES if n != "torch"],
                   help="the engine v2 runs on (default: what the app chooses)")
    p.add_argument("--baseline", type=Path, help="the engine part also times this export's graph (as "
                   "`v2_baseline`), alternating with the other two: a change to v2 against v2 before it")
    p.add_argument("--sheet", type=Path, help="also write a contact sheet here: the eval photos, v1's row above v2's")
    args = p.parse_args()
    data = Path(args.data)
    v1_bank = StyleBank.load(V1_STYLES)
    bank_dir = args.v2 or paths.model_onnx().parent
    v2 = create_engine(args.engine, bank_dir / paths.MODEL_ONNX, paths.checkpoint()).engine
    v2_bank = StyleBank.load(bank_dir / paths.STYLE_BANK)
    v1 = V1Engine()
    settings = {"v1": TemporalSettings(**V1_TEMPORAL), "v2": TemporalSettings()}
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    sample = read_clip(paths.sample_clip(), 240)
    report = {"cpu": cpu_class(), "v2_graph": v2.graph, "v2_engine": f"{v2.name} on {v2.provider}", "temporal": args.temporal,
              "temporal_settings": {k: asdict(v) for k, v in settings.items()}}
    parts = args.parts.split(",")
    if "engine" in parts:
        style_pair = {"v1": (v1, v1_bank.vectors[0]), "v2": (v2, v2_bank.vectors[0])}
        if v2.name == "openvino":
            style_pair["v1_openvino"] = (V1Engine(runtime="openvino"), v1_bank.vectors[0])
            style_pair["v2_ort"] = (create_engine("ort-cpu", bank_dir / paths.MODEL_ONNX, paths.checkpoint()).engine,
                                    v2_bank.vectors[0])
        if args.baseline:
            style_pair["v2_baseline"] = (create_engine(args.engine, args.baseline / paths.MODEL_ONNX,
                                                       paths.checkpoint()).engine,
                                         StyleBank.load(args.baseline / paths.STYLE_BANK).vectors[0])
        report["engine_ms"] = {f"{w}x{h}": engine_times(style_pair, sample, (w, h), args.rounds)
                               for w, h in ((640, 480), (640, 360))}
        log(f"engine: {report['engine_ms']}")
    if "pipeline" in parts:
        style_pair = {"v1": (v1, v1_bank.vectors[0]), "v2": (v2, v2_bank.vectors[0])}
        report["pipeline_ms_640x480"] = pipeline_times(style_pair, settings, sample[21:240], (640, 480), args.temporal)
        log(f"pipeline: {report['pipeline_ms_640x480']}")
    if "flip" in parts:
        kodak = ["kodim04", "kodim15", "kodim23", "kodim01", "kodim05", "kodim08", "kodim19", "kodim21"]
        photos = [cv2.imread(str(data / "content" / "kodak" / f"{n}.png")) for n in kodak]
        report["flip_ring_over_interior"] = {
            name: {"v1": round(flip_test(v1, v1_bank.vector(name), photos), 3),
                   "v2": round(flip_test(v2, v2_bank.vector(name), photos), 3)} for name in v2_bank.names}
        log(f"flip: {report['flip_ring_over_interior']}")
    if "quality" in parts:
        names = args.style or list(v2_bank.names)
        clip_paths = [Path(c) for c in args.clip] if args.clip else sorted((data / "video" / "clips").glob("*.mp4"))
        clips = {c.name: [cv2.resize(f, (640, 360)) if f.shape[1] > 640 else f for f in read_clip(c, args.clip_frames)]
                 for c in clip_paths}
        photos = [cv2.imread(str(data / p)) for p in EVAL_PHOTOS]
        paintings = {n: data / "styles" / f for n, f in BANK_STYLES.items()}
        still = static_camera_clip(photos[0], 300, (640, 480))
        report["quality"] = {}
        quality({"v1": (v1, v1_bank), "v2": (v2, v2_bank)}, settings, names, clips, still, photos, paintings,
                args.temporal, log, report["quality"])
    if args.sheet:
        photos = [cv2.imread(str(data / p)) for p in EVAL_PHOTOS]
        names = list(v2_bank.names)
        rows = []
        for photo in photos:
            rows += [contact_sheet(v1, v1_bank, names, [photo], (320, 240)), contact_sheet(v2, v2_bank, names, [photo], (320, 240))]
        cv2.imwrite(str(args.sheet), np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 88])
    text = json.dumps(report, indent=1)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
