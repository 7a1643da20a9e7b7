"""The person mask along the temporal path: steadied with the stylizer's own flow, then feathered.

Per frame, at the region grid (1/4 of the padded processing size, contract.REGION_DOWNSCALE):
    raw   the segmenter's probability, resized to the grid (the segmenter runs on every
          `every`-th frame; in between the last state is only carried along by the flow);
    state S_t = raw + k * M * (warp(S_t-1) - raw): the last mask carried along by the flow
          (current -> previous, temporal.FlowTracker) and kept where the flow is trusted (M),
          so the border follows the person without flickering or crawling; k = `steadiness`;
    mask  S_t blurred with a Gaussian of sigma `feather` x the frame width, so the seam between
          the regions does not show. The state itself is not blurred (repeated blurs would
          widen the border frame after frame).
On a reset of the temporal path (scene cut, style switch, a = 0) the raw mask starts a new state.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from stylecam.engines.temporal import TemporalInputs


@dataclass(frozen=True)
class MaskSettings:
    """steadiness: share of the warped previous mask kept where the flow is trusted, in [0, 1).
    feather: the Gaussian's sigma as a share of the frame width (0 = a hard edge). every: the
    segmenter runs on every `every`-th frame (and after any reset), >= 1."""

    steadiness: float = 0.7
    feather: float = 0.012
    every: int = 2

    def __post_init__(self):
        if not 0.0 <= self.steadiness < 1.0:
            raise ValueError(f"mask steadiness must be in [0, 1), got {self.steadiness}")
        if self.feather < 0.0:
            raise ValueError(f"mask feather must be >= 0, got {self.feather}")
        if self.every < 1:
            raise ValueError(f"the segmenter must run every >= 1 frames, got {self.every}")


class MaskTracker:
    """Keeps the steadied mask between frames (see the module doc)."""

    def __init__(self, settings: MaskSettings = MaskSettings()):
        self.settings = settings
        self.state: np.ndarray | None = None  # gh x gw float32 in [0, 1]
        self._grid: np.ndarray | None = None
        self._since = 0  # frames since the segmenter last ran

    def reset(self) -> None:
        self.state = None

    def wants_segment(self, temporal: TemporalInputs, grid_hw: tuple[int, int]) -> bool:
        """Whether this frame needs the segmenter's output (else step() may be given None)."""
        carried = not (temporal.reset or temporal.flow is None or self.state is None or self.state.shape != grid_hw)
        return not carried or self._since + 1 >= self.settings.every

    def _maps(self, flow: np.ndarray, gh: int, gw: int) -> np.ndarray:
        """Where each grid cell lies in the previous grid, from the flow (at its own resolution)."""
        if self._grid is None or self._grid.shape[:2] != (gh, gw):
            xs, ys = np.meshgrid(np.arange(gw, dtype=np.float32), np.arange(gh, dtype=np.float32))
            self._grid = np.dstack([xs, ys])
        fh, fw = flow.shape[:2]
        if (fh, fw) != (gh, gw):
            flow = cv2.resize(flow, (gw, gh), interpolation=cv2.INTER_LINEAR) * np.float32([gw / fw, gh / fh])
        return cv2.add(self._grid, flow)

    def step(self, person: np.ndarray | None, temporal: TemporalInputs, grid_hw: tuple[int, int]) -> np.ndarray:
        """person: the segmenter's probability (any size, float32 in [0, 1]), or None on a frame
        where wants_segment() said no; temporal: this frame's flow and trust; grid_hw: the
        region grid's (h, w). Returns the feathered mask, grid_hw float32 in [0, 1] (1 = person)."""
        gh, gw = grid_hw
        raw = None if person is None else cv2.resize(person, (gw, gh), interpolation=cv2.INTER_LINEAR)
        self._since = 0 if raw is not None else self._since + 1
        k = self.settings.steadiness
        if temporal.reset or temporal.flow is None or self.state is None or self.state.shape != (gh, gw):
            if raw is None:
                raise ValueError("the mask needs the segmenter's output after a reset")
            self.state = raw
        elif raw is None or k > 0:
            maps = self._maps(temporal.flow, gh, gw)
            warped = cv2.remap(self.state, maps, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            if raw is None:
                self.state = warped
            else:
                trust = temporal.trust
                if trust.shape != raw.shape:
                    trust = cv2.resize(trust, (gw, gh), interpolation=cv2.INTER_LINEAR)
                self.state = raw + (k * trust) * (warped - raw)
        else:
            self.state = raw
        sigma = self.settings.feather * gw
        if sigma <= 0:
            return self.state
        return cv2.GaussianBlur(self.state, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
