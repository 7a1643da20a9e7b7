"""Phase lock: the frame is placed on the network's canvas so that the scene keeps its position on
the core's 8-pixel grid while the camera moves.

Why: the network paints its strokes on that grid. Content moved by a whole cell comes out as the
same strokes, moved; content moved by a fraction of a cell is repainted (benchmarks/shift_probe.py,
docs/design-notes.md "the grid"), and that repainting is most of the per-frame flicker. Following
the camera's motion and shifting the frame on the canvas by the whole pixels of it that are not a
whole cell keeps the grid fixed to the scene: on a pan the strokes travel with it (to 0.6 px,
the rounding and its hysteresis), and the previous fused features are read near whole cells, so
their resampling blends little (exact copies only for whole-pixel motion). With the sub-pixel
shift (update(subpixel=True), engines/subpixel.py) the caller moves the output by that
remainder too, and the state is read where the moved strokes were: the strokes then follow the
scene's travel exactly, and the reuse is an exact copy on a pan.

The canvas is the padded processing frame with DOWNSCALE pixels added each way, split between the
sides by the offset (reflected), so the engine runs on (H+8)(W+8) pixels instead of HW (+3 % at
640x480). What the lock follows, and what not: PhaseLock.
"""
from __future__ import annotations

import cv2
import numpy as np

from stylecam.engines.contract import DOWNSCALE
from stylecam.engines.temporal import REACH_PX, CoordinateGrids, TemporalInputs, identity_inputs, motion_group

TRUSTED_SHARE = 0.5  # the share of the frame the flow must be trusted on to be followed
GROUP_SHARE = 0.5  # the share of the trusted pixels that must move alike to be followed
MIN_STEP_PX = 1.0  # slower motion is followed only when the last frame's went the same way (see PhaseLock)
HYSTERESIS_PX = 0.1  # the offset moves once the scene is this far past half a pixel from it
RELAX = 0.5  # with the sub-pixel shift: the share of it kept on each frame whose motion is not followed


def dominant_motion(flow: np.ndarray, trusted: np.ndarray, scale: tuple[float, float]) -> np.ndarray | None:
    """flow: gh x gw x 2 float32 (x, y) in flow pixels; trusted: gh x gw uint8 mask (255 = use);
    scale: processing pixels per flow pixel (x, y). Returns the mean motion (x, y, processing
    pixels) of the largest group of trusted pixels that move alike (temporal.motion_group, less
    the snapped still pixels), or None when that group is the still one (the tracker snaps still
    flow to zero), holds less than GROUP_SHARE of the trusted pixels (no motion most of the
    picture shares: a fight, a zoom, a cut the flow did not catch), or is at the edge of
    REACH_PX."""
    near, centre = motion_group(flow, trusted, scale)
    if not centre.any() or np.abs(centre).max() == REACH_PX:
        return None
    near = cv2.bitwise_and(near, cv2.bitwise_not(cv2.inRange(flow, (0.0, 0.0), (0.0, 0.0))))  # not the snapped still
    if cv2.countNonZero(near) < GROUP_SHARE * cv2.countNonZero(trusted):
        return None
    return np.array(cv2.mean(flow, near)[:2]) * scale


class PhaseLock:
    """Tracks how far the scene has moved and the canvas offset that cancels it modulo one core
    cell. offset: (x, y) whole pixels, each in [0, DOWNSCALE): where the padded frame's top-left
    pixel sits on the canvas.

    It follows the motion most of the picture shares (dominant_motion): a pan or a shake, not a
    person moving before a still background that shows more, which keeps its grid and strokes.
    The hysteresis keeps a camera that trembles around half a pixel from flipping the offset
    (and the strokes with it) every frame. Motion under MIN_STEP_PX counts only when the frame
    before moved the same way (a slow pan): a camera on a stand trembles back and forth, now
    and then by over half a pixel in one frame, and following that would repaint the picture
    for nothing. A
    step not followed is not added to the travel either: the grid then stays where it was, as
    with no lock."""

    def __init__(self):
        self.travel = np.zeros(2)  # (x, y) pixels the scene has moved since the reset, processing frame
        self.lock = np.zeros(2)  # the whole-pixel shift that cancels travel: offset = lock mod DOWNSCALE
        self.offset = (0, 0)
        self.previous = (0, 0)  # the offset of the last frame, which the state was computed at
        self.shift = np.zeros(2)  # (x, y) the output is moved by, under a pixel (see update)
        self.previous_shift = np.zeros(2)  # the same for the last frame
        self.last_motion: np.ndarray | None = None  # the dominant motion of the last frame, if any
        self._grid = CoordinateGrids()

    def reset(self) -> None:
        self.travel[:] = 0.0
        self.lock[:] = 0.0
        self.offset = self.previous = (0, 0)
        self.shift[:] = self.previous_shift[:] = 0.0
        self.last_motion = None

    def update(self, temporal: TemporalInputs, padded_hw: tuple[int, int], subpixel: bool = False) -> tuple[int, int]:
        """Moves the offset with the dominant motion of the trusted flow and returns it. On a reset
        the offset stays where it was (there is no previous state to line up with). With
        `subpixel`, `shift` is then how far (x, y pixels, each within 0.5 + HYSTERESIS_PX) the
        scene has moved on the canvas past the offset's whole pixels: the output moved by it
        (subpixel.py) keeps the strokes on the scene between whole pixels too. Zero otherwise."""
        self.previous = self.offset
        self.previous_shift[:] = self.shift
        followed = self._follow(temporal, padded_hw)
        if subpixel and not followed:
            # Nothing moves as a whole (the camera stopped, or a fight before it): the shift only
            # softens the picture, so it relaxes to none, the strokes sliding onto the grid.
            self.travel[:] = RELAX * (self.travel + self.lock) - self.lock
        self.shift[:] = self.travel + self.lock if subpixel else 0.0
        return self.offset

    def _follow(self, temporal: TemporalInputs, padded_hw: tuple[int, int]) -> bool:
        """Adds the dominant motion to the travel and moves the lock with it; False where it does not."""
        last, self.last_motion = self.last_motion, None
        if temporal.reset or temporal.flow is None:
            return False
        trusted = cv2.compare(temporal.trust, 0.5, cv2.CMP_GT)
        if cv2.countNonZero(trusted) < TRUSTED_SHARE * trusted.size:
            return False  # too little agreement to say how the scene moved
        gh, gw = trusted.shape
        motion = self.last_motion = dominant_motion(temporal.flow, trusted, (padded_hw[1] / gw, padded_hw[0] / gh))
        if motion is None:
            return False
        if np.abs(motion).max() < MIN_STEP_PX and (last is None or float(np.dot(motion, last)) <= 0.0):
            return False  # a lone small step: noise more likely than motion
        # flow is current -> previous (current(x) ~ previous(x + f)): the scene moved by -f.
        self.travel -= motion
        far = np.abs(-self.travel - self.lock) > 0.5 + HYSTERESIS_PX
        self.lock[far] = np.round(-self.travel[far])
        ox, oy = np.mod(self.lock, DOWNSCALE).astype(int)
        self.offset = (int(ox), int(oy))
        return True

    def canvas_inputs(self, temporal: TemporalInputs, canvas_core: tuple[int, int]) -> TemporalInputs:
        """The temporal inputs of the padded frame's core grid moved to the canvas's: each canvas
        cell reads the frame cell under it (displacement and blend resampled, edges replicated) and
        maps into the previous canvas, whose offset was `previous`. The outputs' shifts count as
        the grid's own motion: the state is read where the shifted strokes were."""
        if temporal.reset:
            return identity_inputs(canvas_core)
        (ox, oy), (px, py) = self.offset, self.previous
        canvas_cells = self._grid(*canvas_core)
        shift = self.to_canvas(temporal.maps - self._grid(*temporal.maps.shape[:2]), canvas_core, DOWNSCALE)
        (sx, sy), (qx, qy) = self.shift, self.previous_shift
        maps = canvas_cells + shift + np.float32([(px - ox + sx - qx) / DOWNSCALE, (py - oy + sy - qy) / DOWNSCALE])
        blend = self.to_canvas(temporal.blend[0, 0], canvas_core, DOWNSCALE)
        return TemporalInputs(maps, blend[None, None], reset=False, flow=temporal.flow, trust=temporal.trust)

    def to_canvas(self, field: np.ndarray, canvas_hw: tuple[int, int], cell_px: int) -> np.ndarray:
        """A float32 map on a grid of `cell_px`-pixel cells of the padded frame (h x w or
        h x w x 2) resampled onto the same grid of the canvas: each canvas cell reads the frame
        cell under it (bilinear, edges replicated)."""
        ox, oy = self.offset
        under = self._grid(*canvas_hw) - np.float32([ox / cell_px, oy / cell_px])
        return cv2.remap(field, under, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
