"""The person mask along the temporal path: steadied with the stylizer's own flow, then feathered.

Per frame, at the region grid (1/4 of the padded processing size, contract.REGION_DOWNSCALE):
    raw   the segmenter's probability, resized to the grid;
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
    feather: the Gaussian's sigma as a share of the frame width (0 = a hard edge)."""

    steadiness: float = 0.7
    feather: float = 0.012

    def __post_init__(self):
        if not 0.0 <= self.steadiness < 1.0:
            raise ValueError(f"mask steadiness must be in [0, 1), got {self.steadiness}")
        if self.feather < 0.0:
            raise ValueError(f"mask feather must be >= 0, got {self.feather}")


class MaskTracker:
    """Keeps the steadied mask between frames (see the module doc)."""

    def __init__(self, settings: MaskSettings = MaskSettings()):
        self.settings = settings
        self.state: np.ndarray | None = None  # gh x gw float32 in [0, 1]
        self._grid: np.ndarray | None = None

    def reset(self) -> None:
        self.state = None

    def _maps(self, flow: np.ndarray, gh: int, gw: int) -> np.ndarray:
        """Where each grid cell lies in the previous grid, from the flow (at its own resolution)."""
        if self._grid is None or self._grid.shape[:2] != (gh, gw):
            xs, ys = np.meshgrid(np.arange(gw, dtype=np.float32), np.arange(gh, dtype=np.float32))
            self._grid = np.dstack([xs, ys])
        fh, fw = flow.shape[:2]
        if (fh, fw) != (gh, gw):
            flow = cv2.resize(flow, (gw, gh), interpolation=cv2.INTER_LINEAR) * np.float32([gw / fw, gh / fh])
        return cv2.add(self._grid, flow)

    def step(self, person: np.ndarray, temporal: TemporalInputs, grid_hw: tuple[int, int]) -> np.ndarray:
        """person: the segmenter's probability (any size, float32 in [0, 1]); temporal: this
        frame's flow and trust; grid_hw: the region grid's (h, w). Returns the feathered mask,
        grid_hw float32 in [0, 1] (1 = person)."""
        gh, gw = grid_hw
        raw = cv2.resize(person, (gw, gh), interpolation=cv2.INTER_LINEAR)
        k = self.settings.steadiness
        if temporal.reset or temporal.flow is None or self.state is None or self.state.shape != raw.shape or k == 0:
            self.state = raw
        else:
            maps = self._maps(temporal.flow, gh, gw)
            warped = cv2.remap(self.state, maps, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            trust = temporal.trust
            if trust.shape != raw.shape:
                trust = cv2.resize(trust, (gw, gh), interpolation=cv2.INTER_LINEAR)
            self.state = raw + (k * trust) * (warped - raw)
        sigma = self.settings.feather * gw
        if sigma <= 0:
            return self.state
        return cv2.GaussianBlur(self.state, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
