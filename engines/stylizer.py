"""VideoStylizer: one frame in, one stylised frame out, with the temporal state carried along.

Frames in and out are H x W x 3 uint8 BGR, C-contiguous. The processing size is the output size;
frames of another size are resized to it, and sizes that are not multiples of 8 are padded
(reflected) for the network and cropped back. With the temporal path on, the phase lock
(phase_lock.py) places the padded frame on a canvas 8 px larger each way for the network. With
a seeded engine (backends.Engine.seeded) the seed tile is cut where it keeps to the scene: in
whole cells, at the scene coordinate of the canvas's top-left pixel (the lock's shift less the
offset), so texture painted from it travels with a pan and stays put on a still camera. With
`regions` set (regions.py), a person mask is made each frame (segmenter.py, steadied and
feathered by person_mask.py) and the person and the background are painted as the regions say.

`step` is three phases, also callable one by one (overlap.py runs the engine phase of one frame
on another thread while this one prepares the next frame and finishes the last): `prepare`
(resize, flow, phase lock, the engine's input, the person mask; needs only the frames; the frame
is converted into the engine's input on a helper thread while the flow and the lock run, as
seed.StemInput keeps it at one place whatever offset the lock then gives),
`run_engine` (the previous state warped to this frame, the engine call; needs the last frame's
run_engine) and `finish` (the output back to uint8 BGR, the output blend, kept regions). A
prepared frame's buffers stay valid until the prepare after next (two sets, used in turn).
"""
from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import dataclass

import cv2
import numpy as np

from stylecam.engines.backends import Engine
from stylecam.engines.bands import RowBands
from stylecam.engines.contract import DOWNSCALE, REGION_DOWNSCALE
from stylecam.engines.output_blend import OutputBlender
from stylecam.engines.person_mask import MaskSettings, MaskTracker
from stylecam.engines.phase_lock import PhaseLock
from stylecam.engines.subpixel import LOBES, passes, shifted_plane
from stylecam.engines.regions import WHOLE_FRAME, OriginalKeeper, Plan, Regions
from stylecam.engines.seed import StemInput, seed_tile
from stylecam.engines.segmenter import PersonSegmenter
from stylecam.engines.temporal import (CoordinateGrids, FlowTracker, TemporalInputs, TemporalSettings, fade_fast,
                                       identity_inputs, warp_state)

STAGES = ("preprocess", "flow", "segment", "engine", "postprocess", "blend")


@dataclass
class StageTimes:
    """Milliseconds spent in each stage of one step."""

    preprocess: float = 0.0  # resize and pad; the engine input's rings and seed at the lock's offset
    flow: float = 0.0  # flow, trust, the phase lock (the frame into the engine's input beside them), the state warped
    segment: float = 0.0  # the person mask (segmenter, steadying, feathering); 0 for the whole frame
    engine: float = 0.0
    postprocess: float = 0.0
    blend: float = 0.0  # the output blend of the temporal path

    @property
    def total(self) -> float:
        return self.preprocess + self.flow + self.segment + self.engine + self.postprocess + self.blend

    @property
    def overhead(self) -> float:
        """Everything but the engine call."""
        return self.total - self.engine


@dataclass
class Stylized:
    image: np.ndarray  # H x W x 3 uint8 BGR at the processing size
    times: StageTimes
    reset: bool  # the temporal state was (re)started on this frame
    mask: np.ndarray | None = None  # the person mask at 1/4 of the padded size, float32 [0, 1]; None for the whole frame


@dataclass
class Prepared:
    """One frame made ready for the engine (`VideoStylizer.prepare`)."""

    hw: tuple[int, int]  # (h, w) of the output
    padded: np.ndarray  # the padded H x W x 3 uint8 BGR frame
    temporal: TemporalInputs
    core: tuple[int, int]  # the engine's core grid (h, w) cells
    offset: tuple[int, int] | None  # the phase lock's canvas offset (x, y) pixels; None: no canvas
    shift: tuple[float, float] | None  # the output's sub-pixel shift (x, y) pixels; None: none
    graph_input: np.ndarray  # the engine's image input
    region: np.ndarray | None  # the person mask on the engine's 1/4 grid, 1 x 1 x h x w; None: whole frame
    mask: np.ndarray | None  # the person mask on the padded frame's 1/4 grid; None: whole frame
    style: np.ndarray
    style_b: np.ndarray | None
    times: StageTimes  # preprocess, flow and segment so far


@dataclass
class Ran:
    """A prepared frame's engine call (`VideoStylizer.run_engine`)."""

    output: np.ndarray  # 1 x 3 x CH x CW float32 RGB [0, 1]
    temporal: TemporalInputs  # as prepared, or the identity where no state fitted
    warp_ms: float
    engine_ms: float


def _padded(n: int) -> int:
    return -(-n // DOWNSCALE) * DOWNSCALE


class VideoStylizer:
    """Runs the preprocess -> flow -> engine -> postprocess -> blend chain on consecutive frames."""

    def __init__(self, engine: Engine, style: np.ndarray, temporal: TemporalSettings,
                 size: tuple[int, int] | None = None, segmenter: PersonSegmenter | None = None,
                 mask: MaskSettings = MaskSettings()):
        """size: (width, height) of the output, or None for each frame's own size. segmenter:
        needed for any regions but the whole frame."""
        self.engine = engine
        # the engine as this stylizer calls it: one that lends its output buffers where it can
        # (backends.OpenVinoEngine.lending), as each call's results are used up by the call after next
        lending = getattr(engine, "lending", None)
        self._calls = lending() if lending is not None else engine
        self.style = np.ascontiguousarray(style, dtype=np.float32)
        self.tracker = FlowTracker(temporal)
        self.phase = PhaseLock()
        self._cells = CoordinateGrids()
        self.blender = OutputBlender()
        self.segmenter = segmenter
        self.masks = MaskTracker(mask)
        self.keeper = OriginalKeeper()
        self.regions = WHOLE_FRAME
        self.size = size
        self.state: np.ndarray | None = None  # 1 x h x w x C, the last fused features
        self._prev: np.ndarray | None = None  # the state warped to the current frame (reused buffer)
        self.norm_stats: np.ndarray | None = None  # S, the last frame's norm statistics (engine.run_smoothed)
        self._slot = 0  # which of the two buffer sets the next prepare writes (a prepared frame keeps its own)
        self._buffers: list[tuple[np.ndarray, np.ndarray] | None] = [None, None]  # the sized and the padded frame
        # per slot, the engine's image input (seed.py): a seeded engine's whole stem input, the seed
        # cut only when it moves
        tile = seed_tile(engine.seed_period) if getattr(engine, "seeded", False) else None
        self._inputs = [StemInput(tile) for _ in range(2)]
        self._planes: list[np.ndarray] = []  # the padded frame split into its channels (uint8)
        self._shifted: np.ndarray | None = None  # bands x 4 x rows x W float32: each band's shifted planes and scratch
        self._bands = RowBands()  # the per-pixel steps around the engine, in two bands at once

    def reset(self) -> None:
        """Forget the previous frame (the next one is stylised on its own)."""
        self.state = None
        self.norm_stats = None
        self.tracker.reset()
        self.phase.reset()
        self.blender.reset()
        self.masks.reset()

    def set_regions(self, regions: Regions) -> None:
        """Paint the person and the background as `regions` says (and start afresh)."""
        if not regions.whole_frame and self.segmenter is None:
            raise ValueError("regions need a person segmenter")
        self.regions = regions
        self.reset()

    def set_style(self, style: np.ndarray, reset: bool = True) -> None:
        """Switch to a style vector (S,) float32. reset=False keeps the temporal state, for the
        small steps of a crossfade between two styles."""
        self.style = np.ascontiguousarray(style, dtype=np.float32)
        if reset:
            self.reset()

    def set_temporal(self, temporal: TemporalSettings) -> None:
        self.tracker.settings = temporal

    def _preprocess(self, frame: np.ndarray) -> np.ndarray:
        """Resize and pad into reused buffers (large per-frame allocations cost milliseconds of
        page faults here). Returns the padded H x W x 3 uint8 BGR frame, valid until the next call."""
        w, h = self.size or (frame.shape[1], frame.shape[0])
        ph, pw = _padded(h), _padded(w)
        buffers = self._buffers[self._slot]
        if buffers is None or buffers[0].shape[:2] != (h, w) or buffers[1].shape[:2] != (ph, pw):
            buffers = self._buffers[self._slot] = (np.empty((h, w, 3), np.uint8), np.empty((ph, pw, 3), np.uint8))
        sized, padded = buffers
        if (frame.shape[1], frame.shape[0]) != (w, h):
            shrink = w * h < frame.shape[0] * frame.shape[1]
            cv2.resize(frame, (w, h), dst=sized, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        else:
            sized = frame
        if (ph, pw) != (h, w):
            cv2.copyMakeBorder(sized, 0, ph - h, 0, pw - w, cv2.BORDER_REFLECT_101, dst=padded)
        else:
            padded = sized
        return padded

    def _start_converting(self, padded: np.ndarray, rgb: np.ndarray, beside: bool) -> Future | None:
        """The padded frame into the engine input's `rgb` view (_convert): with `beside`, on the
        helper thread, returning its future (the caller runs the flow meanwhile, as the frame's
        place in the input does not depend on the lock's offset); else in two bands at once."""
        ph, pw = padded.shape[:2]
        if not self._planes or self._planes[0].shape != (ph, pw):
            self._planes = [np.empty((ph, pw), np.uint8) for _ in range(3)]
        if beside:
            return self._bands.aside(lambda: self._convert(padded, rgb, 0, ph))
        self._bands.run(lambda _band, r0, r1: self._convert(padded, rgb, r0, r1), ph)
        return None

    def _convert(self, padded: np.ndarray, rgb: np.ndarray, r0: int, r1: int) -> None:
        """Rows [r0, r1) of the padded H x W x 3 uint8 BGR frame into `rgb`, 1 x 3 x H x W float32
        RGB [0, 1]."""
        planes = [p[r0:r1] for p in self._planes]
        cv2.split(padded[r0:r1], planes)  # contiguous planes convert in half the time of strided ones
        for c in range(3):  # OpenCV's conversion: numpy's multiply to the same bits, in twice the time
            cv2.multiply(planes[2 - c], 1.0, dst=rgb[0, c, r0:r1], scale=1.0 / 255.0, dtype=cv2.CV_32F)

    def _image(self, output: np.ndarray, offset: tuple[int, int], shift: tuple[float, float] | None,
               hw: tuple[int, int]) -> np.ndarray:
        """The engine's 1 x 3 x CH x CW float32 RGB [0, 1] output as an H x W x 3 uint8 BGR frame,
        cut out of the canvas at `offset` and moved by `shift` (x, y pixels, under one; None: not)."""
        (ox, oy), (h, w) = offset, hw
        filters = passes(shift) if shift is not None else []
        spans = self._bands.spans(h)
        band_rows = max(r1 - r0 for r0, r1 in spans) + 2 * LOBES  # the largest band and the rows its filters read
        if self._shifted is None or self._shifted.shape != (len(spans), 4, band_rows, w):
            self._shifted = np.empty((len(spans), 4, band_rows, w), np.float32)
        image = np.empty((h, w, 3), np.uint8)  # new each frame: the caller may keep it

        def convert(band: int, r0: int, r1: int) -> None:
            # a band's rows with the LOBES rows either side its filters read: the whole
            # image's result (up to float rounding), the filters reflecting at its own top and bottom only
            a, b = (max(r0 - LOBES, 0), min(r1 + LOBES, h)) if filters else (r0, r1)
            scratch = self._shifted[band, :, :b - a]
            planes = [shifted_plane(output[0, c, oy + a:oy + b, ox:ox + w], filters, scratch[3], scratch[i])
                      for i, c in enumerate((2, 1, 0))]
            cv2.merge([cv2.convertScaleAbs(p[r0 - a:r1 - a], alpha=255.0) for p in planes], dst=image[r0:r1])

        self._bands.run(convert, h)
        return image

    def _seed_origin(self, offset: tuple[int, int] | None) -> tuple[int, int]:
        """(x, y) core cells of the seed tile under the engine input's top-left cell: the canvas
        pixel c shows the frame pixel c - offset, whose scene coordinate is that plus the lock
        (phase_lock.py), so the tile is cut at lock - offset, a whole number of cells since
        offset = lock mod DOWNSCALE. Without the canvas, at 0: the frame's own pixels."""
        if offset is None:
            return (0, 0)
        x, y = (int(self.phase.lock[i]) - offset[i] for i in (0, 1))
        return (x // DOWNSCALE, y // DOWNSCALE)

    def step(self, frame: np.ndarray) -> Stylized:
        """Stylise `frame` (H x W x 3 uint8 BGR): the three phases in turn."""
        prepared = self.prepare(frame)
        return self.finish(prepared, self.run_engine(prepared))

    def prepare(self, frame: np.ndarray) -> Prepared:
        """Phase one: everything the engine call needs that comes from the frames alone."""
        t0 = time.perf_counter()
        h, w = (frame.shape[0], frame.shape[1]) if self.size is None else (self.size[1], self.size[0])
        padded = self._preprocess(frame)
        ph, pw = padded.shape[:2]

        s = self.tracker.settings
        locked = s.phase_lock and s.strength > 0.0
        margin = DOWNSCALE if locked else 0
        engine_input = self._inputs[self._slot]
        converting = self._start_converting(padded, engine_input.rgb(ph, pw, margin), beside=s.strength > 0.0)
        t1 = time.perf_counter()
        seeding = None
        try:
            core = (ph // DOWNSCALE, pw // DOWNSCALE)
            temporal = self.tracker.step(padded, core)
            offset, shift = None, None
            if locked:
                offset = self.phase.update(temporal, (ph, pw), s.subpixel)
                shift = tuple(self.phase.shift) if s.subpixel else None
            place, origin = offset or (0, 0), self._seed_origin(offset)
            if converting is not None:  # the seed's cut next on the helper, beside the rest of the lock
                seeding = self._bands.aside(lambda: engine_input.cut_seed(origin, place))
            if locked:
                core = (core[0] + 1, core[1] + 1)
                temporal = self.phase.canvas_inputs(temporal, core)
            fast = s.fast_fade(pw)
            if fast is not None:
                temporal = fade_fast(temporal, fast, self._cells)
        finally:
            if converting is not None:
                converting.result()
        t2 = time.perf_counter()
        try:
            engine_input.reflect(place)
        finally:
            if seeding is not None:
                seeding.result()
        engine_input.cut_seed(origin, place, self._bands.run)  # nothing left to do if cut beside
        graph_input = engine_input.view(place)
        t2b = time.perf_counter()

        mask, region = None, None
        if not self.regions.whole_frame:
            grid = (ph // REGION_DOWNSCALE, pw // REGION_DOWNSCALE)
            person = self.segmenter(padded) if self.masks.wants_segment(temporal, grid) else None
            mask = self.masks.step(person, temporal, grid)
            region = mask
            if offset is not None:  # the region map onto the canvas's 1/4 grid
                grid = ((ph + margin) // REGION_DOWNSCALE, (pw + margin) // REGION_DOWNSCALE)
                region = self.phase.to_canvas(mask, grid, REGION_DOWNSCALE)
            region = region[None, None]
        style, style_b = self.regions.styles(self.style)
        t3 = time.perf_counter()
        self._slot = 1 - self._slot
        times = StageTimes(preprocess=1000.0 * ((t1 - t0) + (t2b - t2)), flow=1000.0 * (t2 - t1),
                           segment=1000.0 * (t3 - t2b))
        return Prepared((h, w), padded, temporal, core, offset, shift, graph_input, region, mask, style, style_b, times)

    def run_engine(self, prepared: Prepared) -> Ran:
        """Phase two: the last frame's state warped to this one, and the engine call. Runs after
        the last frame's run_engine (it reads and replaces the state)."""
        t0 = time.perf_counter()
        temporal, core = prepared.temporal, prepared.core
        s = self.tracker.settings
        state_shape = (1, *core, self.engine.core_channels)
        if self._prev is None or self._prev.shape != state_shape:
            self._prev = np.zeros(state_shape, np.float32)
        if not temporal.reset and (self.state is None or self.state.shape != state_shape):
            # no state for this grid (the canvas came or went with the temporal strength): start afresh
            temporal = identity_inputs(core)
        if temporal.reset:
            self._prev.fill(0.0)
        else:
            warp_state(self.state, temporal.maps, out=self._prev)
        t1 = time.perf_counter()

        style, style_b, graph_input = prepared.style, prepared.style_b, prepared.graph_input
        smooth = s.strength > 0.0 and s.norm_smoothing > 0.0 and hasattr(self.engine, "run_smoothed")
        if style_b is None and smooth:  # the norm statistics carried with the state, and reset with it
            carried = not temporal.reset and self.norm_stats is not None
            stats = self.norm_stats if carried else np.zeros_like(style)
            output, self.state, self.norm_stats = self._calls.run_smoothed(
                graph_input, style, self._prev, temporal.blend, stats, s.norm_smoothing if carried else 0.0)
        elif style_b is None:
            output, self.state = self._calls.run(graph_input, style, self._prev, temporal.blend)
            self.norm_stats = None
        else:
            output, self.state = self._calls.run_two(graph_input, style, style_b, prepared.region, self._prev,
                                                     temporal.blend)
            self.norm_stats = None
        t2 = time.perf_counter()
        return Ran(output, temporal, 1000.0 * (t1 - t0), 1000.0 * (t2 - t1))

    def finish(self, prepared: Prepared, ran: Ran) -> Stylized:
        """Phase three: the engine's output as the stylised frame."""
        t0 = time.perf_counter()
        (h, w), padded, temporal = prepared.hw, prepared.padded, ran.temporal
        ph, pw = padded.shape[:2]
        s = self.tracker.settings
        image = self._image(ran.output, prepared.offset or (0, 0), prepared.shift, (h, w))
        t1 = time.perf_counter()

        image = self.blender.step(image, temporal, (ph, pw), s.strength * s.output_share)
        t2 = time.perf_counter()

        plan = self.regions.plan
        if plan in (Plan.KEEP_PERSON, Plan.KEEP_BACKGROUND):
            mask = prepared.mask
            keep = mask if plan is Plan.KEEP_PERSON else 1.0 - mask  # at the region grid: small
            image = self.keeper.step(image, padded[:h, :w], keep, (ph, pw))
        t3 = time.perf_counter()
        before = prepared.times
        times = StageTimes(before.preprocess, before.flow + ran.warp_ms, before.segment + 1000.0 * (t3 - t2),
                           ran.engine_ms, 1000.0 * (t1 - t0), 1000.0 * (t2 - t1))
        return Stylized(image, times, temporal.reset, prepared.mask)
