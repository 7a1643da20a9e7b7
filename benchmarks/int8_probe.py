"""A bank's graph in int8 (ONNX Runtime static quantisation, QDQ, its convolutions only:
per-channel int8 weights, uint8 activations calibrated on 16 frames of the sample clip across the
styles) against the same graph in fp32, in one run on one machine:

  speed      the engine call at 640x480 on real frames, the two graphs alternating call by call
  difference mean and max |int8 - fp32| of the output (0-255 scale), every style, three frames
  flicker    E_warp of the temporal output (sub-pixel lock) on a clip as a share of v1's per-frame
             E_warp, and the temporal output's sharpness over fp32's, both graphs

Not shipped: this measures what int8 would give (issue 8). The gain depends on the CPU: AVX-512
VNNI runs int8 dot products natively, AVX2 without VNNI emulates them with 16-bit ones; the CPU
class is written with the figures.

    python benchmarks/int8_probe.py --bank assets --json docs/bench/int8_probe.json
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from phase_lock import LOCK, PER_FRAME, mean_sharpness, outputs  # noqa: E402
from report import emit  # noqa: E402
from v1_engine import V1_STYLES, V1Engine  # noqa: E402

from stylecam.assets import paths  # noqa: E402
from stylecam.engines.backends import OrtEngine  # noqa: E402
from stylecam.engines.host import cpu_class  # noqa: E402
from stylecam.engines.seed import seed_tile, stem_input  # noqa: E402
from stylecam.engines.stability import PairFlows  # noqa: E402
from stylecam.engines.styles import StyleBank  # noqa: E402
from stylecam.train.evaluate import read_clip  # noqa: E402

SIZE = (640, 480)


def engine_feed(frame: np.ndarray, style: np.ndarray, engine: OrtEngine) -> dict[str, np.ndarray]:
    """The graph's inputs for one BGR frame, per-frame (no state, no carried norm statistics):
    image NCHW RGB [0, 1], a seeded graph's stem input with the tile cut at the origin."""
    h, w = frame.shape[0] // 8, frame.shape[1] // 8
    image = np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB).transpose(2, 0, 1)[None], np.float32) / 255.0
    if engine.seeded:
        image = stem_input(image, seed_tile(engine.seed_period), None)
    return {"image": image, "style": style.astype(np.float32),
            "prev": np.zeros((1, h, w, engine.core_channels), np.float32), "blend": np.zeros((1, 1, h, w), np.float32),
            "norm_stats": np.zeros(style.shape, np.float32), "norm_beta": np.zeros(1, np.float32)}


def quantize(model: Path, out: Path, feeds: list[dict[str, np.ndarray]]) -> Path:
    """`model` with its convolutions in int8 (module doc), calibrated on `feeds`, written to `out`."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Frames(CalibrationDataReader):
        def __init__(self):
            self.feeds = iter(feeds)

        def get_next(self):
            return next(self.feeds, None)

    pre = out.with_name("pre.onnx")
    quant_pre_process(str(model), str(pre), skip_symbolic_shape=True)
    quantize_static(str(pre), str(out), Frames(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, op_types_to_quantize=["Conv"])
    return out


def speed(engines: dict, feed: list[dict[str, np.ndarray]], rounds: int) -> dict:
    """Milliseconds per graph call (p50, p95; the first 5 rounds left out), the graphs alternating
    call by call, and fp32's p50 over int8's."""
    times = {name: [] for name in engines}
    for r in range(rounds):
        for name, engine in engines.items():
            t = time.perf_counter()
            engine.session.run(None, feed[r % len(feed)])
            times[name].append(1000.0 * (time.perf_counter() - t))
    report = {name: {"p50": round(float(np.median(t[5:])), 2), "p95": round(float(np.percentile(t[5:], 95)), 2)}
              for name, t in times.items()}
    report["fp32_over_int8"] = round(report["fp32"]["p50"] / report["int8"]["p50"], 3)
    return report


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bank", type=Path, default=Path(paths.model_onnx()).parent,
                   help="a folder from `stylecam export` (default assets/)")
    p.add_argument("--clip", type=Path, default=Path("../shared/data/video/clips/tears_of_steel_excerpt_640x360.mp4"))
    p.add_argument("--style", action="append", help="styles for the flicker part (default starry_night, udnie)")
    p.add_argument("--rounds", type=int, default=60)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    bank = StyleBank.load(args.bank / paths.STYLE_BANK)
    fp32 = OrtEngine(args.bank / paths.MODEL_ONNX, "CPUExecutionProvider")
    sample = [cv2.resize(f, SIZE) for f in read_clip(paths.sample_clip(), 240)]
    calibration = [engine_feed(sample[i], bank.vectors[k % len(bank.vectors)], fp32)
                   for k, i in enumerate(range(0, 240, 15))]
    with tempfile.TemporaryDirectory() as tmp:
        int8 = OrtEngine(quantize(args.bank / paths.MODEL_ONNX, Path(tmp) / "int8.onnx", calibration),
                         "CPUExecutionProvider")
    report = {"cpu": cpu_class(), "bank": str(args.bank), "size": "x".join(map(str, SIZE))}
    report["engine_ms"] = speed({"fp32": fp32, "int8": int8},
                                [engine_feed(f, bank.vectors[0], fp32) for f in sample[::8]], args.rounds)
    diffs = []
    for k in range(len(bank.vectors)):
        for i in (30, 120, 200):
            feed = engine_feed(sample[i], bank.vectors[k], fp32)
            d = 255.0 * np.abs(fp32.session.run(["output"], feed)[0] - int8.session.run(["output"], feed)[0])
            diffs.append((float(d.mean()), float(d.max())))
    report["difference_255"] = {"mean": round(float(np.mean([d[0] for d in diffs])), 2),
                                "max": round(float(np.max([d[1] for d in diffs])), 1)}
    frames = read_clip(args.clip, 120)
    flows, v1, v1_bank = PairFlows(frames), V1Engine(), StyleBank.load(V1_STYLES)
    flicker = {}
    for name in args.style or ["starry_night", "udnie"]:
        base = flows.warping_error(outputs(v1, v1_bank.vector(name), frames, PER_FRAME))
        temporal = {k: outputs(e, bank.vector(name), frames, LOCK["subpixel"])
                    for k, e in (("fp32", fp32), ("int8", int8))}
        flicker[name] = {f"{k}_vs_v1": round(flows.warping_error(out) / base, 3) for k, out in temporal.items()}
        sharpness = {k: mean_sharpness(out) for k, out in temporal.items()}
        flicker[name]["int8_sharpness_over_fp32"] = round(sharpness["int8"] / sharpness["fp32"], 3)
    report["flicker_" + args.clip.stem] = flicker
    return emit(report, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
