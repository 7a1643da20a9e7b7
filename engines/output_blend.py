"""The output half of the temporal path: the previous output frame, warped by the same flow as the
core's features, blended into the new output where the flow is trusted:

    O_t = S_t + b * M * (warp(O_t-1) - S_t),   b = strength * output_share.

Why: the feature fusion (network.py) steadies the content at 1/8 resolution, but the decoder
upsamples on an 8-pixel grid, so strokes drawn from features that moved by a fraction of a cell do
not move with the scene. Warping the last output at full resolution carries them along.
Bilinear resampling softens what it repeats; the fresh share (1 - b*M) bounds that, and flow
snapped to zero on a still camera (TemporalSettings.still) makes the warp a copy (exact but for
the outermost pixels, see step).
"""
from __future__ import annotations

import cv2
import numpy as np

from stylecam.engines.temporal import TemporalInputs


class OutputBlender:
    """Keeps the last output (H x W x 3 uint8 BGR) and blends it into the next one. Scratch
    buffers are reused across frames (fresh multi-MB arrays cost page faults every frame)."""

    def __init__(self, interpolation: int = cv2.INTER_LINEAR):
        self.interpolation = interpolation  # of the warp of the last output (cv2.INTER_*)
        self.prev: np.ndarray | None = None
        self._size: tuple[int, ...] | None = None  # (PH, PW, H, W, GH, GW) the buffers are for

    def reset(self) -> None:
        self.prev = None

    def _buffers(self, ph: int, pw: int, h: int, w: int, gh: int, gw: int) -> None:
        if self._size == (ph, pw, h, w, gh, gw):
            return
        self._size = (ph, pw, h, w, gh, gw)
        sx, sy = pw / gw, ph / gh
        xs, ys = np.meshgrid((np.arange(gw, dtype=np.float32) + 0.5) * sx - 0.5,
                             (np.arange(gh, dtype=np.float32) + 0.5) * sy - 0.5)
        self._base = np.dstack([xs, ys])  # flow-grid cell centres in output pixels (x, y)
        self._scale = (sx, sy, 0.0, 0.0)
        self._where = np.empty((gh, gw, 2), np.float32)
        self._share_map = np.empty((gh, gw), np.float32)
        self._maps = np.empty((ph, pw, 2), np.float32)
        self._keep = np.empty((ph, pw), np.float32)
        self._fresh = np.empty((h, w), np.float32)
        self._warped = np.empty((h, w, 3), np.uint8)

    def step(self, stylised: np.ndarray, temporal: TemporalInputs, padded_hw: tuple[int, int],
             share: float) -> np.ndarray:
        """stylised: this frame's network output, H x W x 3 uint8 BGR (the top-left of the padded
        processing frame, padded_hw = (PH, PW)). temporal.flow / trust are at the flow resolution
        of the padded frame. share: b, in [0, 1]. Returns the blended frame (a new array, kept as
        the next prev)."""
        h, w = stylised.shape[:2]
        if (temporal.reset or temporal.flow is None or share <= 0.0
                or self.prev is None or self.prev.shape != stylised.shape):
            self.prev = stylised
            return stylised
        ph, pw = padded_hw
        gh, gw = temporal.flow.shape[:2]
        self._buffers(ph, pw, h, w, gh, gw)
        # Where each output pixel comes from, interpolated from the flow grid in one resize: exact
        # inside, up to half a pixel off on the outermost pixels (where resize clamps).
        cv2.multiply(temporal.flow, self._scale, dst=self._where)
        cv2.add(self._base, self._where, dst=self._where)
        cv2.resize(self._where, (pw, ph), dst=self._maps, interpolation=cv2.INTER_LINEAR)
        np.multiply(temporal.trust, np.float32(share), out=self._share_map)
        cv2.resize(self._share_map, (pw, ph), dst=self._keep, interpolation=cv2.INTER_LINEAR)
        maps = self._maps if (ph, pw) == (h, w) else np.ascontiguousarray(self._maps[:h, :w])
        keep = self._keep[:h, :w]
        cv2.subtract(1.0, keep, dst=self._fresh)
        cv2.remap(self.prev, maps, None, self.interpolation, dst=self._warped, borderMode=cv2.BORDER_REPLICATE)
        self.prev = cv2.blendLinear(self._warped, stylised, keep, self._fresh)
        return self.prev
