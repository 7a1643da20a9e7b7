"""The v1 graph (benchmarks/v1/stylecam_v1.onnx, as shipped in v1) behind today's Engine protocol,
for side-by-side comparisons only.

v1 warped its state inside the graph (a GridSample grid input) and kept it channels-first. Fed an
identity grid and the state already warped outside (as v2's pipeline does), it computes what it
computed in v1: an identity GridSample samples every cell at its own centre. The two transposes
(~0.5 ms at 640x480) are counted in its engine time, and so is its in-graph GridSample, as in v1.
v1 shipped on ONNX Runtime; `runtime="openvino"` runs the same graph on OpenVINO's CPU plugin, to
compare v1 and v2 on one runtime as well.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnxruntime as ort

from stylecam.engines.backends import OpenVinoGraph

V1_DIR = Path(__file__).resolve().parent / "v1"
V1_MODEL = V1_DIR / "stylecam_v1.onnx"
V1_STYLES = V1_DIR / "styles_v1.npz"
V1_TEMPORAL = {"output_share": 0.55, "flow_downscale": 2, "flow_finest_scale": 2,  # v1 as shipped: its TemporalSettings
               "phase_lock": False}  # defaults (the DIS preset's finest level), no phase lock


def identity_grid(h: int, w: int) -> np.ndarray:
    xs, ys = np.meshgrid((np.arange(w, dtype=np.float32) + 0.5) / w * 2 - 1,
                         (np.arange(h, dtype=np.float32) + 0.5) / h * 2 - 1)
    return np.stack([xs, ys], axis=-1)[None].astype(np.float32)


V1_INPUTS = ("image", "style", "prev", "grid", "blend")


class V1Engine:
    precision = "fp32"
    graph = "stylecam v1"
    core_channels = 64

    def __init__(self, model: Path = V1_MODEL, runtime: str = "onnxruntime"):
        """runtime: "onnxruntime" (as v1 shipped) or "openvino"."""
        threads = os.cpu_count() or 1
        self.name = runtime
        self.session, self._openvino = None, None
        if runtime == "openvino":
            self.provider = "CPU"
            self._openvino = OpenVinoGraph(model, V1_INPUTS, threads)
        else:
            self.provider = "CPUExecutionProvider"
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self.session = ort.InferenceSession(str(model), opts, providers=[self.provider])
        self._grids: dict[tuple[int, int], np.ndarray] = {}

    def run(self, image, style, prev, blend):
        h, w = prev.shape[1:3]
        if (h, w) not in self._grids:
            self._grids[(h, w)] = identity_grid(h, w)
        feed = {"image": image, "style": style, "prev": np.ascontiguousarray(prev.transpose(0, 3, 1, 2)),
                "grid": self._grids[(h, w)], "blend": blend}
        if self._openvino is not None:
            output, fused = self._openvino.infer(feed, ("output", "fused"))
        else:
            output, fused = self.session.run(["output", "fused"], feed)
        return output, np.ascontiguousarray(fused.transpose(0, 2, 3, 1))
