"""The temporal path's inputs: optical flow and a trust mask for reusing the previous frame's
fused core features (after Chen et al. 2017, with OpenCV DIS flow instead of a learned flow net)
and, by output_blend.py, the previous output frame.

Per frame, on small grey copies of the current and previous frames:
  flow f (current -> previous): current(x) ~ previous(x + f(x)), DIS ULTRAFAST;
  trust M in [0, 1]: 1 where the previous grey frame, warped by f, matches the current one,
  falling to 0 at a mismatch of `tolerance` (occlusions, new content, lighting jumps);
  both resampled to the core's grid (1/8 of the processing size): `maps`, where each core cell
  lies in the previous frame's core grid (warp_state resamples the previous fused features there,
  outside the graph: ORT's GridSample cost 5.7 ms where cv2.remap takes 0.25 ms), and
  blend = a * M, which the network applies as F = F_now + blend * (warp(F_prev) - F_now).
The flow and trust at the flow resolution go along for the output blend.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np


@dataclass(frozen=True)
class TemporalSettings:
    """strength: a in [0, 1], 0 = per-frame stylisation. output_share: the output blend's weight
    as a share of a (b = a * output_share, see output_blend.py); 0 by default since network v2
    is coherent by itself (the blend only softened it: docs/design-notes.md). flow_downscale: DIS
    runs on a grey copy of the processing frame divided by this; flow_finest_scale: the finest
    level of its pyramid that it estimates the flow at (0: that copy itself, 8-pixel patches every
    4 pixels; each level halves it). Features reused along flow estimated at 1/8 of the processing
    size flickered 11-25 % less on a pan and a running llama than along the DIS preset's level 2
    of a 1/4 copy (1/16), the setting before (docs/design-notes.md).
    flow_min_width: the grey copy is kept at least this many pixels wide: frames narrower than
    flow_downscale * flow_min_width divide by less (`flow_divisor`; at 320x240 by 4, not 8), as
    the sizes `--size auto` steps down to flickered more with a coarser copy (docs/design-notes.md,
    "The temporal path at the smaller processing sizes"); 0 divides by flow_downscale at every size.
    tolerance: grey mismatch (0-1 scale) at which trust reaches 0.
    scene_cut: mean absolute grey difference (0-1) above which the state is reset.
    still: flow shorter than this (pixels of the processing frame) counts as no motion, so a
    still camera reuses its features without resampling (which would blur them over time).
    flat_energy: a pixel of the flow's grey copy whose Sobel energy (gx^2 + gy^2 on 0-255 grey,
    5x5 mean) is under this counts as flat and takes the motion most of the textured pixels
    share, within 1 pixel of the processing frame, where there is one (`fill_flat`); 0 keeps
    DIS's flow there.
    A plain wall measures ~20, the dark Sintel cave's flattest part ~700, Tears of Steel's ~10000.
    phase_lock: place the frame on the network's canvas so that the scene keeps its position on
    the 8-pixel grid while the camera moves (phase_lock.py). subpixel: with the lock, also move the
    output by the fraction of a pixel the scene moved past the lock's whole pixels (subpixel.py).
    norm_smoothing: beta in [0, 1), how much of the last frame's norm statistics each norm layer
    keeps (contract.INPUTS), so that what moves in one part of the frame does not repaint the
    rest; 0.9 keeps fast motion sharp, 0.97 is steadier (docs/design-notes.md).
    fast_cells: (lo, hi) core cells (8 px) a cell moved since the last frame, on the network's
    grid (after the phase lock): its features are reused fully up to lo and not at all from hi
    (`fade_fast`); None reuses them at any speed. (0.7, 2.1): at (1, 3), the setting before, the
    fast dark Sintel cave processed at 640x480 kept 0.77 of its per-frame sharpness for two
    styles (docs/design-notes.md, "The fast fade at 640x480"). fast_width: fast_cells hold for
    frames at least this many pixels wide; narrower ones scale them by width / fast_width
    (`fast_fade`; at 320x240 0.44 to 1.31 cells), so that the fade starts at the same speed
    across the picture as at 512 px: at a fixed (1, 3) the cave at 320x240 kept 0.58-0.70 of its
    per-frame sharpness (docs/design-notes.md, "The temporal path at the smaller processing
    sizes"); 0 never scales them."""

    strength: float = 0.8
    output_share: float = 0.0
    flow_downscale: int = 8
    flow_finest_scale: int = 0
    flow_min_width: int = 80
    tolerance: float = 0.1
    scene_cut: float = 0.15
    still: float = 0.5
    flat_energy: float = 200.0
    phase_lock: bool = True
    subpixel: bool = True
    norm_smoothing: float = 0.9
    fast_cells: tuple[float, float] | None = (0.7, 2.1)
    fast_width: int = 512

    def flow_divisor(self, width: int) -> int:
        """What the flow's grey copy of a frame `width` pixels wide divides its size by."""
        if self.flow_min_width == 0:
            return self.flow_downscale
        return max(1, min(self.flow_downscale, width // self.flow_min_width))

    def fast_fade(self, width: int) -> tuple[float, float] | None:
        """fast_cells for frames `width` pixels wide."""
        if self.fast_cells is None or width >= self.fast_width:
            return self.fast_cells
        k = width / self.fast_width
        return (self.fast_cells[0] * k, self.fast_cells[1] * k)

    def __post_init__(self):
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"temporal strength must be in [0, 1], got {self.strength}")
        if not 0.0 <= self.output_share <= 1.0:
            raise ValueError(f"output share must be in [0, 1], got {self.output_share}")
        if self.flow_downscale < 1 or self.flow_finest_scale < 0 or self.flow_min_width < 0:
            raise ValueError(f"flow downscale must be >= 1, finest scale and minimum width >= 0, got "
                             f"{self.flow_downscale}, {self.flow_finest_scale}, {self.flow_min_width}")
        if self.flat_energy < 0.0:
            raise ValueError(f"flat energy must be >= 0, got {self.flat_energy}")
        if not 0.0 <= self.norm_smoothing < 1.0:
            raise ValueError(f"norm smoothing must be in [0, 1), got {self.norm_smoothing}")
        if self.fast_cells is not None and not 0.0 <= self.fast_cells[0] < self.fast_cells[1]:
            raise ValueError(f"fast cells must be 0 <= lo < hi, got {self.fast_cells}")
        if self.fast_width < 0:
            raise ValueError(f"fast width must be >= 0, got {self.fast_width}")


@dataclass
class TemporalInputs:
    """What the network needs besides the image, at the core resolution h x w: maps (h x w x 2
    float32, (x, y) of each cell in the previous core grid, cell units; None on a reset) and blend
    (1 x 1 x h x w float32 in [0, 1]). `reset` says the previous state must not be used.
    flow (gh x gw x 2, current -> previous, in pixels of the flow resolution) and trust
    (gh x gw in [0, 1]) at the flow resolution, for the output blend; None on a reset."""

    maps: np.ndarray | None
    blend: np.ndarray
    reset: bool
    flow: np.ndarray | None = None
    trust: np.ndarray | None = None


class CoordinateGrids:
    """h x w x 2 float32 (x, y) coordinates of a grid's pixels or cells, made once per size."""

    def __init__(self):
        self._grids: dict[tuple[int, int], np.ndarray] = {}

    def __call__(self, h: int, w: int) -> np.ndarray:
        if (h, w) not in self._grids:
            xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
            self._grids[(h, w)] = np.dstack([xs, ys])
        return self._grids[(h, w)]


def _trust_table(tolerance: float) -> np.ndarray:
    """Grey mismatch 0-255 -> trust in [0, 1], falling linearly to 0 at `tolerance` (0-1 scale)."""
    return np.clip(1.0 - np.arange(256, dtype=np.float32) / (255.0 * tolerance), 0.0, 1.0).astype(np.float32)


def identity_inputs(core_hw: tuple[int, int]) -> TemporalInputs:
    """No reuse: a reset with a zero blend."""
    return TemporalInputs(None, np.zeros((1, 1, *core_hw), np.float32), reset=True)


def fade_fast(temporal: TemporalInputs, cells: tuple[float, float], grid: CoordinateGrids) -> TemporalInputs:
    """The blend faded where a core cell moved far since the last frame: kept up to cells[0] cells
    of displacement, falling linearly to 0 at cells[1]. There the flow is least reliable and the
    reused features, moved by a wrong amount, blur the strokes (docs/design-notes.md)."""
    if temporal.reset:
        return temporal
    lo, hi = cells
    h, w = temporal.maps.shape[:2]
    moved = cv2.subtract(temporal.maps, grid(h, w))
    keep = np.clip((hi - cv2.magnitude(moved[..., 0], moved[..., 1])) * np.float32(1.0 / (hi - lo)), 0.0, 1.0)
    return replace(temporal, blend=temporal.blend * keep)


REACH_PX = 32  # motion groups are looked for up to this many pixels a frame (processing frame) each way


def motion_group(flow: np.ndarray, mask: np.ndarray, scale: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The largest group of `mask`ed pixels (gh x gw uint8, 255 = use) that move alike: the fullest
    1-pixel bin of their flow (gh x gw x 2 float32 (x, y) in flow pixels; `scale`: processing
    pixels per flow pixel (x, y); one bin centred on no motion, REACH_PX each way) and the masked
    pixels within 1 px of its centre. Returns the group (gh x gw uint8 mask) and its centre
    (x, y whole processing pixels; REACH_PX at the histogram's edge)."""
    sx, sy = scale
    side, reach = 2 * REACH_PX + 1, REACH_PX + 0.5
    hist = cv2.calcHist([flow], [0, 1], mask, [side, side], [-reach / sx, reach / sx, -reach / sy, reach / sy])
    bx, by = np.unravel_index(int(np.argmax(hist)), hist.shape)
    centre = np.array([bx - REACH_PX, by - REACH_PX], np.float32)
    lo, hi = (centre - 1.0) / (sx, sy), (centre + 1.0) / (sx, sy)
    return cv2.bitwise_and(cv2.inRange(flow, tuple(map(float, lo)), tuple(map(float, hi))), mask), centre


MIN_TEXTURED = 0.05  # the share of the frame that must be textured for fill_flat to say how it moves
ALIKE_SHARE = 0.7  # the share of the textured pixels that must move alike (fill_flat)


def fill_flat(flow: np.ndarray, grey: np.ndarray, energy: float, scale: tuple[float, float]) -> None:
    """In place: where `grey` (the flow's h x w uint8 grey frame) is flat, DIS has nothing to match
    and returns noise, and features reused along it are resampled by random fractions every frame
    (the painted texture of a plain wall blurs); there the flow (h x w x 2 float32, flow pixels;
    `scale`: processing pixels per flow pixel, x and y) becomes the motion of the picture around
    the flat area, where the picture moves as a whole: the mean flow of the largest group of
    textured pixels that move alike within 1 px (`motion_group`, as the phase lock's
    dominant_motion), when it holds at least ALIKE_SHARE of them. The flat area then votes with
    the picture in the phase lock, which follows the motion (and moves the seed's texture with
    it) where the flat noise outvoted it, so the state there is copied by whole cells. Where the
    picture's motions disagree (a fast scene), a lock following a motion most of it does not
    share softened the textured parts too (docs/design-notes.md), so the flow is left as it is.
    Flat: Sobel energy under `energy` (TemporalSettings.flat_energy). Left as it is too where
    under MIN_TEXTURED is textured or nothing is flat."""
    gx, gy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    energies = cv2.blur(cv2.add(cv2.multiply(gx, gx), cv2.multiply(gy, gy)), (5, 5))
    textured = cv2.compare(energies, energy, cv2.CMP_GE)  # uint8 mask, 255 = textured
    count = cv2.countNonZero(textured)
    if count == textured.size or count < MIN_TEXTURED * textured.size:
        return
    group, _ = motion_group(flow, textured, scale)
    if cv2.countNonZero(group) < ALIKE_SHARE * count:
        return
    flow[textured == 0] = cv2.mean(flow, group)[:2]


def warp_state(state: np.ndarray, maps: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The previous fused features (1 x h x w x C float32, channels last) resampled bilinearly at
    `maps` (h x w x 2, cell units), edges replicated. Where maps hold whole cell positions (a still
    camera) the result is an exact copy."""
    dst = None if out is None else out[0]
    return cv2.remap(state[0], maps, None, cv2.INTER_LINEAR, dst=dst, borderMode=cv2.BORDER_REPLICATE)[None]


class FlowTracker:
    """Keeps the previous small grey frame and turns each new frame into TemporalInputs."""

    def __init__(self, settings: TemporalSettings):
        self.dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        self.settings = settings
        self.prev_grey: np.ndarray | None = None
        self._grid = CoordinateGrids()

    @property
    def settings(self) -> TemporalSettings:
        return self._settings

    @settings.setter
    def settings(self, settings: TemporalSettings) -> None:
        """New settings take effect from the next frame (DIS's finest level is set here)."""
        self._settings = settings
        self.dis.setFinestScale(settings.flow_finest_scale)

    def reset(self) -> None:
        self.prev_grey = None

    def step(self, frame_bgr: np.ndarray, core_hw: tuple[int, int]) -> TemporalInputs:
        """frame_bgr: the processing-size frame, H x W x 3 uint8 BGR; core_hw: the core's (h, w)."""
        s = self.settings
        h, w = frame_bgr.shape[:2]
        divisor = s.flow_divisor(w)
        small = (max(8, w // divisor), max(8, h // divisor))
        grey = cv2.resize(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY), small, interpolation=cv2.INTER_AREA)
        prev, self.prev_grey = self.prev_grey, grey
        if s.strength == 0.0 or prev is None or prev.shape != grey.shape:
            return identity_inputs(core_hw)
        if cv2.norm(grey, prev, cv2.NORM_L1) / (grey.size * 255.0) > s.scene_cut:
            return identity_inputs(core_hw)

        flow = self.dis.calc(grey, prev, None)  # current -> previous, in small-frame pixels
        gh, gw = grey.shape
        if s.flat_energy > 0:
            fill_flat(flow, grey, s.flat_energy, (w / gw, h / gh))
        if s.still > 0:
            moving = cv2.compare(cv2.magnitude(*cv2.split(flow)), s.still / divisor, cv2.CMP_GE)
            flow = cv2.bitwise_and(flow, flow, mask=moving)  # zero where still
        maps = cv2.add(self._grid(gh, gw), flow)
        warped = cv2.remap(prev, maps, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        mismatch = cv2.blur(cv2.absdiff(warped, grey), (3, 3))
        outside = cv2.bitwise_not(cv2.inRange(maps, (0.0, 0.0), (gw - 1.0, gh - 1.0)))
        trust = np.take(_trust_table(s.tolerance), cv2.bitwise_or(mismatch, outside))  # none where the flow leaves the frame

        ch, cw = core_hw
        core_flow = cv2.resize(flow, (cw, ch), interpolation=cv2.INTER_AREA)
        core_flow[..., 0] *= cw / gw
        core_flow[..., 1] *= ch / gh
        maps = cv2.add(self._grid(ch, cw), core_flow)
        blend = cv2.resize(trust, (cw, ch), interpolation=cv2.INTER_AREA) * np.float32(s.strength)
        return TemporalInputs(maps, blend[None, None].astype(np.float32), reset=False, flow=flow, trust=trust)
