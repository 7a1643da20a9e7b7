"""The output half of the temporal path: the previous output frame, warped by the same flow as the
core's features, blended into the new output where the flow is trusted:

    O_t = S_t + b * M * (warp(O_t-1) - S_t),   b = strength * output_share.

Why: the feature fusion (network.py) steadies the content at 1/8 resolution, but the decoder
upsamples on an 8-pixel grid, so strokes drawn from features that moved by a fraction of a cell do
not move with the scene. Warping the last output at full resolution carries them along.
Bilinear resampling softens what it repeats; the fresh share (1 - b*M) bounds that, and flow
snapped to zero on a still camera (TemporalSettings.still) makes the warp an exact copy.
"""
from __future__ import annotations

import cv2
import numpy as np

from stylecam.engines.temporal import TemporalInputs


class OutputBlender:
    """Keeps the last output (H x W x 3 uint8 BGR) and blends it into the next one."""

    def __init__(self):
        self.prev: np.ndarray | None = None
        self._base: np.ndarray | None = None  # H x W x 2 float32 pixel coordinates (x, y)

    def reset(self) -> None:
        self.prev = None

    def step(self, stylised: np.ndarray, temporal: TemporalInputs, padded_hw: tuple[int, int],
             share: float) -> np.ndarray:
        """stylised: this frame's network output, H x W x 3 uint8 BGR (the top-left of the padded
        processing frame, padded_hw = (PH, PW)). temporal.flow / trust are at the flow resolution
        of the padded frame. share: b, in [0, 1]. Returns the blended frame (kept as the next prev)."""
        h, w = stylised.shape[:2]
        if (temporal.reset or temporal.flow is None or share <= 0.0
                or self.prev is None or self.prev.shape != stylised.shape):
            self.prev = stylised
            return stylised
        ph, pw = padded_hw
        gh, gw = temporal.flow.shape[:2]
        if self._base is None or self._base.shape[:2] != (h, w):
            xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
            self._base = np.dstack([xs, ys])
        flow = cv2.resize(temporal.flow, (pw, ph), interpolation=cv2.INTER_LINEAR)[:h, :w]
        maps = cv2.add(self._base, cv2.multiply(flow, (pw / gw, ph / gh, 0.0, 0.0)))
        warped = cv2.remap(self.prev, maps, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        keep = cv2.resize(temporal.trust * np.float32(share), (pw, ph), interpolation=cv2.INTER_LINEAR)[:h, :w]
        keep = np.ascontiguousarray(keep)
        self.prev = cv2.blendLinear(warped, stylised, keep, 1.0 - keep)
        return self.prev
