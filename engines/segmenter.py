"""Person segmentation: MediaPipe's selfie-segmentation model (landscape, 256 x 144), converted once
to ONNX (export/segmenter_onnx.py) and run in the same ONNX Runtime as the stylizer, on the CPU.

Why this way: mediapipe itself pulls a second OpenCV (opencv-contrib-python, which overwrites the
headless one), matplotlib and sounddevice, and pins numpy < 2; the TFLite interpreter
(ai-edge-litert) is one more runtime of ~20 MB for one 250 KB model. The converted graph gives
the TFLite model's output within 1e-5 (docs/benchmarks.md, "Person and background").
"""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from stylecam.engines.backends import EngineUnavailable

INPUT_WH = (256, 144)  # the model's input, width x height; frames are resized to it (not letterboxed)


class PersonSegmenter:
    """A frame in, the probability that each pixel shows a person out (at the model's 256 x 144)."""

    def __init__(self, model: Path, threads: int | None = None):
        import onnxruntime as ort

        if not Path(model).is_file():
            raise EngineUnavailable(f"segmentation model not found: {model}")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or os.cpu_count() or 1
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        w, h = INPUT_WH
        self._small = np.empty((h, w, 3), np.uint8)
        self._blob = np.empty((1, 3, h, w), np.float32)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """frame: H x W x 3 uint8 BGR, any size. Returns 144 x 256 float32 in [0, 1]."""
        cv2.resize(frame, INPUT_WH, dst=self._small, interpolation=cv2.INTER_AREA)
        for c in range(3):  # BGR HWC uint8 -> RGB CHW float32 / 255
            np.multiply(self._small[..., 2 - c], np.float32(1.0 / 255.0), out=self._blob[0, c], casting="unsafe")
        (person,) = self.session.run(["person"], {"image": self._blob})
        return person[0, 0]
