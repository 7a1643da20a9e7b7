"""Candidate network layouts timed in ONNX Runtime CPU at 640x480 (random weights, alternating
call by call), and an ORT profile of one graph by operator. This is how v2's layout was chosen
(docs/design-notes.md, "Network v2"); the chosen one is engines/network.py's NetConfig().
With --int8 each candidate is also timed as an int8 graph (ORT static quantisation, QDQ, its
convolutions only: per-channel int8 weights, uint8 activations calibrated on random inputs),
named NAME_int8: what capacity int8 would pay for. Speed only; random weights say nothing of
int8's output quality (benchmarks/int8_probe.py measures that on a trained bank).

    python benchmarks/layout_candidates.py v1 v1_reflect F
    python benchmarks/layout_candidates.py --int8 v1 F F_in48 F_in64
    python benchmarks/layout_candidates.py --profile F
"""
from __future__ import annotations

import argparse
import collections
import json
import logging
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn.functional as F
from torch import nn


def conv(cin, cout, k=3, stride=1, pad="zeros"):
    return nn.Conv2d(cin, cout, k, stride=stride, padding=(k - 1) // 2, padding_mode=pad)


class Candidate(nn.Module):
    """Encoder (4x4 s2 stem, two s2 convs), residual blocks at 1/8 (inner width `inner`), fusion
    with an optional in-graph GridSample, and one of three decoders:
      x2:  nearest x2 + conv, twice, conv to 12, pixel-shuffle x2 (v1)
      x2t: 1x1 reduce at 1/8, nearest x2 + conv, nearest x2 + thin conv (8), conv to 12, shuffle x2
      x4:  1x1 reduce at 1/8, nearest x2 + conv, conv, conv to 48, pixel-shuffle x4 (v2)"""

    def __init__(self, widths=(16, 32, 64), blocks=4, inner=None, pad="zeros", dec="x2", gridsample=True, reduce=True,
                 dec_w=None):
        super().__init__()
        w1, w2, w3 = widths
        d1 = dec_w or w1  # the x4 decoder's last width
        inner = inner or w3
        self.dec, self.gridsample = dec, gridsample
        self.enc1 = nn.Conv2d(3, w1, 4, stride=2, padding=1, padding_mode=pad)
        self.enc2, self.enc3 = conv(w1, w2, stride=2, pad=pad), conv(w2, w3, stride=2, pad=pad)
        self.res = nn.ModuleList(nn.ModuleList([conv(w3, inner, pad=pad), conv(inner, w3, pad=pad)]) for _ in range(blocks))
        if dec == "x2":
            self.dec1, self.dec2, self.out = conv(w3, w2, pad=pad), conv(w2, w1, pad=pad), conv(w1, 12, pad=pad)
        elif dec == "x2t":
            self.red = conv(w3, w2, k=1)
            self.dec1, self.dec2, self.out = conv(w2, w2, pad=pad), conv(w2, 8, pad=pad), conv(8, 12, pad=pad)
        else:  # without the 1x1 reduce, dec1 takes the core's w3 channels at 1/4 resolution
            self.red = conv(w3, w2, k=1) if reduce else nn.Identity()
            self.dec1 = conv(w2 if reduce else w3, w2, pad=pad)
            self.dec2, self.out = conv(w2, d1, pad=pad), conv(d1, 48, pad=pad)

    def forward(self, x, prev, grid, blend):
        n = F.instance_norm
        up = lambda t: F.interpolate(t, scale_factor=2.0, mode="nearest")  # noqa: E731
        x = F.relu(n(self.enc1(x)))
        x = F.relu(n(self.enc2(x)))
        x = F.relu(n(self.enc3(x)))
        for a, b in self.res:
            x = x + n(b(F.relu(n(a(x)))))
        warped = F.grid_sample(prev, grid, align_corners=False, padding_mode="border") if self.gridsample else prev
        x = x + blend * (warped - x)
        if self.dec == "x2":
            x = F.relu(n(self.dec1(up(x))))
            x = F.relu(n(self.dec2(up(x))))
            return torch.sigmoid(F.pixel_shuffle(self.out(x), 2))
        x = F.relu(n(self.red(x))) if isinstance(self.red, nn.Conv2d) else x
        x = F.relu(n(self.dec1(up(x))))
        if self.dec == "x2t":
            x = F.relu(n(self.dec2(up(x))))
            return torch.sigmoid(F.pixel_shuffle(self.out(x), 2))
        x = F.relu(n(self.dec2(x)))
        return torch.sigmoid(F.pixel_shuffle(self.out(x), 4))


R = dict(pad="reflect")
CANDIDATES = {
    "v1": dict(),  # as shipped in v1: zero padding, GridSample in the graph
    "v1_nogs": dict(gridsample=False),  # v1 with the state warped outside the graph
    "v1_reflect": R,  # v1 with reflection padding
    "w48": dict(widths=(16, 32, 48), **R),
    "inner32": dict(inner=32, **R),
    "w48_b3": dict(widths=(16, 32, 48), blocks=3, **R),
    "x4_only": dict(dec="x4", **R),
    "A": dict(inner=32, dec="x4", gridsample=False, reduce=False, **R),  # dec1 64 -> 32 at 1/4
    "F": dict(inner=32, dec="x4", gridsample=False, **R),  # v2
    "F_zeros": dict(inner=32, dec="x4", gridsample=False),  # v2 with zero padding (Pad ops' cost)
    "F2": dict(inner=32, dec="x2t", gridsample=False, **R),  # v2 ending at 1/2 resolution
    "F_in48": dict(inner=48, dec="x4", gridsample=False, **R),  # v2, residual blocks 64 -> 48 -> 64
    "F_in64": dict(inner=64, dec="x4", gridsample=False, **R),  # v2, full-width residual blocks
    "F_d24": dict(inner=32, dec="x4", gridsample=False, dec_w=24, **R),  # v2, decoder's last conv 24 wide
    "F_d32": dict(inner=32, dec="x4", gridsample=False, dec_w=32, **R),  # v2, decoder's last conv 32 wide
    "F_b5_d24": dict(inner=32, blocks=5, dec="x4", gridsample=False, dec_w=24, **R),  # and a fifth block
}
H, W = 480, 640


def session(name: str, folder: Path):
    net = Candidate(**CANDIDATES[name]).eval()
    c = net.enc3.out_channels
    args = (torch.rand(1, 3, H, W), torch.zeros(1, c, H // 8, W // 8), torch.zeros(1, H // 8, W // 8, 2),
            torch.zeros(1, 1, H // 8, W // 8))
    path = folder / f"{name}.onnx"
    torch.onnx.export(net, args, str(path), dynamo=True, opset_version=18, input_names=["image", "prev", "grid", "blend"])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = 2, 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return opts, path, {i.name: a.numpy() for i, a in zip(ort.InferenceSession(str(path)).get_inputs(), args)}


def quantized(path: Path, feed: dict[str, np.ndarray]) -> Path:
    """The graph at `path` with its convolutions in int8 (static QDQ, module doc), beside it."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Inputs(CalibrationDataReader):
        def __init__(self):
            rng = np.random.default_rng(0)
            images = [rng.random(feed["image"].shape, dtype=np.float32) for _ in range(4)]
            self.feeds = iter([{**feed, "image": image} for image in images])

        def get_next(self):
            return next(self.feeds, None)

    inline, pre, out = (path.with_name(f"{path.stem}_{k}.onnx") for k in ("inline", "pre", "int8"))
    onnx.save(onnx.load(str(path)), str(inline))  # weights inside the file (the export writes them beside it)
    quant_pre_process(str(inline), str(pre), skip_symbolic_shape=True)
    quantize_static(str(pre), str(out), Inputs(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, op_types_to_quantize=["Conv"])
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("names", nargs="*", default=list(CANDIDATES))
    p.add_argument("--profile", action="store_true", help="ORT profile by operator of the first name")
    p.add_argument("--rounds", type=int, default=40)
    p.add_argument("--int8", action="store_true", help="also time each candidate quantised to int8 (module doc)")
    args = p.parse_args()
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        built = {n: session(n, Path(tmp)) for n in args.names}
        if args.int8:
            built |= {f"{n}_int8": (opts, quantized(path, feed), feed)
                      for n, (opts, path, feed) in list(built.items())}
        if args.profile:
            opts, path, feed = built[args.names[0]]
            opts.enable_profiling = True
            s = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            for _ in range(30):
                s.run(None, feed)
            by_op = collections.defaultdict(float)
            for e in json.load(open(s.end_profiling())):
                if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
                    by_op[e["args"]["op_name"]] += e["dur"] / 30 / 1000
            total = sum(by_op.values())
            for op, ms in sorted(by_op.items(), key=lambda x: -x[1]):
                print(f"{op:24s} {ms:6.2f} ms {100 * ms / total:5.1f}%")
            return
        sessions = {n: (ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"]), feed)
                    for n, (opts, path, feed) in built.items()}
        times = {n: [] for n in sessions}
        for _ in range(args.rounds):
            for n, (s, feed) in sessions.items():
                t = time.perf_counter()
                s.run(None, feed)
                times[n].append(1000 * (time.perf_counter() - t))
        base = np.median(times[args.names[0]][5:])
        for n, t in times.items():
            m = np.median(t[5:])
            print(f"{n:12s} p50 {m:6.1f} ms  p90 {np.percentile(t[5:], 90):6.1f}  {args.names[0]}/this {base / m:.2f}x")


if __name__ == "__main__":
    main()
