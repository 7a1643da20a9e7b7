"""The phase lock (engines/phase_lock.py) on real frames: it follows a pan so that the scene keeps its
place on the 8-pixel grid, reuses the state at whole cells, lowers the warping error of a pan,
and leaves the grid alone for a still camera or a minority moving before a still background."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from stylecam.engines.contract import DOWNSCALE, STEM_PAD
from stylecam.engines.phase_lock import PhaseLock, dominant_motion
from stylecam.engines.seed import StemInput, seed_tile, stem_input
from stylecam.engines.stability import PairFlows, sharpness
from stylecam.engines.stylizer import VideoStylizer
from stylecam.engines.temporal import FlowTracker, TemporalSettings
from stylecam.train.evaluate import handheld_camera_clip, static_camera_clip

STEP = (3, 1)  # the pan: the scene moves this many pixels left and up per frame
SIZE = (256, 144)  # processing frames (w, h) of the tests that run the network
# ... and of those that run only the flow and the lock: the smallest size `--size auto` steps down
# to is 448x336. At 256x144 the flow's 1/8 copy is 32x18 pixels, too few for the lock to tell a
# tripod's jitter from a step (docs/design-notes.md, "Flow estimated at 1/8").
LOCK_SIZE = (448, 256)


def pan_frames(frames_small: list[np.ndarray], size: tuple[int, int]) -> list[np.ndarray]:
    """An exact pan across a real picture: `size` (w, h) windows of the first frame at 2x, each
    STEP further right and down than the last."""
    big = cv2.resize(frames_small[0], None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    w, h = size
    return [np.ascontiguousarray(big[20 + STEP[1] * t:20 + STEP[1] * t + h, 20 + STEP[0] * t:20 + STEP[0] * t + w])
            for t in range(24)]


@pytest.fixture(scope="module")
def pan(frames_small) -> list[np.ndarray]:
    return pan_frames(frames_small, SIZE)


def trusted_all(shape: tuple[int, int]) -> np.ndarray:
    return np.full(shape, 255, np.uint8)


def test_dominant_motion_is_the_motion_most_of_the_picture_shares():
    rng = np.random.default_rng(0)
    flow = np.zeros((60, 80, 2), np.float32)
    flow[:, :56] = np.float32([0.6, -0.25]) + rng.normal(scale=0.05, size=(60, 56, 2)).astype(np.float32)
    motion = dominant_motion(flow, trusted_all((60, 80)), (4.0, 4.0))  # 70 % pans, 30 % still
    np.testing.assert_allclose(motion, [2.4, -1.0], atol=0.05)

    flow[:, :32] = 0.0  # now 60 % still: that is the grid to keep
    assert dominant_motion(flow, trusted_all((60, 80)), (4.0, 4.0)) is None

    spread = rng.uniform(-3, 3, size=(60, 80, 2)).astype(np.float32)  # no shared motion (a zoom, a fight)
    assert dominant_motion(spread, trusted_all((60, 80)), (4.0, 4.0)) is None

    mask = trusted_all((60, 80))
    mask[:, 56:] = 0  # untrusted pixels do not vote
    flow[:, :56] = np.float32([0.6, -0.25])
    np.testing.assert_allclose(dominant_motion(flow, mask, (4.0, 4.0)), [2.4, -1.0], atol=1e-5)


def test_a_pan_keeps_the_scene_on_the_grid_and_the_state_at_whole_cells(frames_small):
    tracker, lock = FlowTracker(TemporalSettings(phase_lock=True)), PhaseLock()
    ph, pw = LOCK_SIZE[1], LOCK_SIZE[0]  # both multiples of 8
    core = (ph // 8, pw // 8)
    phases, locked, free = [], [], []
    for frame in pan_frames(frames_small, LOCK_SIZE):
        temporal = tracker.step(frame, core)
        ox, oy = lock.update(temporal, (ph, pw))
        phases.append(((ox - STEP[0] * len(phases)) % 8, (oy - STEP[1] * len(phases)) % 8))
        canvas = lock.canvas_inputs(temporal, (core[0] + 1, core[1] + 1))
        if not canvas.reset:  # how far from whole cells the previous features are read, inside
            locked.append(np.abs(canvas.maps[2:-2, 2:-2] - np.round(canvas.maps[2:-2, 2:-2])).mean())
            free.append(np.abs(temporal.maps[2:-2, 2:-2] - np.round(temporal.maps[2:-2, 2:-2])).mean())
    # A scene point (canvas x = frame x + offset) stays at its place modulo one cell. The flow
    # is integrated, so its error (a few hundredths of a pixel per frame here) lets the phase slip
    # by a pixel now and then; unlocked, it would move by STEP every frame.
    slips = [(a, b) for a, b in zip(phases[1:], phases[2:]) if a != b]
    assert len(slips) <= len(phases) // 6, phases
    assert all(max(abs((p - q + 4) % 8 - 4) for p, q in zip(a, b)) == 1 for a, b in slips), phases
    # the previous features are read at whole cells (copies, not blends) but for the flow's error
    assert np.median(locked) < 0.1 and np.median(locked) < 0.4 * np.median(free), (locked, free)


def test_the_lock_lowers_the_warping_error_of_a_pan_and_keeps_it_sharp(ort_engine, bank, pan):
    flows = PairFlows(pan)
    for style in (0, 3):
        outputs = {}
        for lock in (False, True):
            stylizer = VideoStylizer(ort_engine, bank.vectors[style], TemporalSettings(phase_lock=lock))
            outputs[lock] = [stylizer.step(f).image for f in pan]
        free, locked = (flows.warping_error(outputs[k]) for k in (False, True))
        assert locked < 0.6 * free, (style, locked, free)
        sharp_free, sharp_locked = (np.mean([sharpness(o) for o in outputs[k][4:]]) for k in (False, True))
        assert sharp_locked > 0.95 * sharp_free, (style, sharp_locked, sharp_free)


def test_a_still_camera_and_a_small_mover_leave_the_grid_alone(frames_small):
    """A tripod camera (sensor noise, 0.15 px jitter, independent per frame: now and then a lone
    step of over half a pixel), then a patch (a sixth of the frame) moving across the picture."""
    frames = static_camera_clip(frames_small[5], 120, LOCK_SIZE)
    patch = cv2.resize(frames_small[30], (168, 112))
    for t, frame in enumerate(frames[96:]):
        x = 35 + 7 * t
        frame[70:182, x:x + 168] = patch
    tracker, lock = FlowTracker(TemporalSettings()), PhaseLock()
    offsets = [lock.update(tracker.step(f, (32, 56)), (256, 448)) for f in frames]
    assert set(offsets) == {(0, 0)}, offsets


def test_the_canvas_margin_changes_the_picture_only_at_its_edges(ort_engine, bank, frames_small):
    """On the first frame (offset 0) the locked output is the plain one, but for the reflected
    margin's small effect on the normalisation and on the last pixels before it."""
    frame = cv2.resize(frames_small[0], SIZE)
    plain = VideoStylizer(ort_engine, bank.vectors[1], TemporalSettings(phase_lock=False)).step(frame).image
    locked = VideoStylizer(ort_engine, bank.vectors[1], TemporalSettings(phase_lock=True)).step(frame).image
    assert locked.shape == plain.shape
    inner = np.abs(locked[:-16, :-16].astype(int) - plain[:-16, :-16])
    assert inner.mean() < 3.0, inner.mean()  # the plain output moved by 1 px differs by 6.9


def test_the_lock_steadies_a_hand_held_camera(ort_engine, bank, frames_small):
    """A still picture through a wandering hand-held camera (1.5 px std per frame): the lock
    follows the shake, so the strokes stay on the picture."""
    shaky = handheld_camera_clip(frames_small[10], 30, SIZE)
    flows = PairFlows(shaky)
    errors = {}
    for lock in (False, True):
        stylizer = VideoStylizer(ort_engine, bank.vectors[0], TemporalSettings(phase_lock=lock))
        errors[lock] = flows.warping_error([stylizer.step(f).image for f in shaky])
    assert errors[True] < 0.5 * errors[False], errors  # 0.26-0.32 over three seeds


def test_maps_on_the_frame_grid_move_onto_the_canvas_by_the_offset():
    """The region map (1/4 grid) and the blend (1/8) go where the frame sits on the canvas."""
    lock = PhaseLock()
    lock.offset = (4, 0)  # one 1/4-grid cell right, half a core cell
    region = np.zeros((36, 64), np.float32)
    region[:, 20:] = 1.0
    moved = lock.to_canvas(region, (38, 66), 4)
    assert moved.shape == (38, 66)
    assert np.array_equal(moved[:, :21], np.zeros((38, 21), np.float32))
    assert np.array_equal(moved[:, 21:65], np.ones((38, 44), np.float32))
    blend = lock.to_canvas(region[::2, ::2].copy(), (19, 33), 8)  # half a cell: the edge is blended
    np.testing.assert_allclose(blend[0, 9:12], [0.0, 0.5, 1.0])


class FrameEngine:
    """An engine whose output is its input image (and whose state is zeros): what comes out of
    the stylizer is then exactly the part of the canvas it cuts back out."""

    name, provider, precision, graph, core_channels = "frame", "none", "fp32", "identity", 4

    def run(self, image, style, prev, blend):
        assert prev.shape[1:3] == blend.shape[2:] == (image.shape[2] // 8, image.shape[3] // 8)
        return image.copy(), np.zeros_like(prev)


def test_the_frame_is_cut_back_out_of_the_canvas_exactly_at_any_offset(pan):
    """Sizes that are not multiples of 8 too (pad and canvas together); the offset goes round."""
    stylizer = VideoStylizer(FrameEngine(), np.zeros(4, np.float32), TemporalSettings(phase_lock=True, subpixel=False), (250, 138))
    offsets = set()
    for frame in pan:
        sized = cv2.resize(frame, (250, 138), interpolation=cv2.INTER_AREA)
        out = stylizer.step(frame).image
        offsets.add(stylizer.phase.offset)
        assert np.array_equal(out, sized)
    assert len(offsets) >= 4, offsets  # the pan moved the frame around the canvas


@pytest.mark.parametrize("tile", [seed_tile(64), None], ids=["seeded", "unseeded"])
def test_the_engine_input_is_the_canvas_at_any_offset_from_one_write_of_the_frame(frames_small, tile):
    """StemInput takes the frame before the offset is known (the stylizer converts it while the
    flow runs) and gives, for each offset, what the canvas is there: the frame reflected by the
    offset's pixels on the left and top and the rest on the right and bottom (OpenCV's
    BORDER_REFLECT_101, as the canvas was made before), with the stem's ring and the seed cut
    around it; frames as small as the canvas's margin too."""
    stem = StemInput(tile)
    for h, w in [(96, 160), (8, 16)]:
        frame = cv2.resize(frames_small[3], (w, h), interpolation=cv2.INTER_AREA)
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
        stem.rgb(h, w, DOWNSCALE)[...] = rgb.transpose(2, 0, 1)[None]
        for offset, origin in [((0, 0), (0, 0)), ((7, 7), (2, -1)), ((3, 5), (2, -1)), ((0, 0), (0, 0)), ((5, 0), (9, 4))]:
            ox, oy = offset
            canvas = cv2.copyMakeBorder(rgb, oy, DOWNSCALE - oy, ox, DOWNSCALE - ox, cv2.BORDER_REFLECT_101)
            canvas = np.ascontiguousarray(canvas.transpose(2, 0, 1)[None])
            expected = canvas if tile is None else stem_input(canvas, tile, origin)
            got = stem.finish(origin, offset)
            assert got.flags.c_contiguous and np.array_equal(got, expected), ((h, w), offset, origin)


class SeedRecorder(FrameEngine):
    """A seeded FrameEngine: finds where the stylizer cut the seed tile in the stem input it is
    given (its first cell matched against the tile's), (x, y) cells per frame, signed."""

    seeded, seed_period = True, 1024

    def __init__(self):
        self.origins = []
        cells = self.seed_period // DOWNSCALE
        self.cells = seed_tile(self.seed_period)[0].reshape(cells, DOWNSCALE, cells, DOWNSCALE)

    def run(self, image, style, prev, blend):
        first = image[0, 3, STEM_PAD:STEM_PAD + DOWNSCALE, STEM_PAD:STEM_PAD + DOWNSCALE]
        (y, x), = np.argwhere(np.all(self.cells == first[None, :, None, :], axis=(1, 3)))
        n = len(self.cells)
        self.origins.append((int(x) - n * (x >= n // 2), int(y) - n * (y >= n // 2)))
        return super().run(np.ascontiguousarray(image[:, :3, STEM_PAD:-STEM_PAD, STEM_PAD:-STEM_PAD]), style, prev,
                           blend)


def test_the_seed_is_cut_where_it_stays_on_the_scene(frames_small):
    """The tile coordinate under a scene point (canvas pixel + 8 x origin, the origin in cells;
    the frame's pixel 0 sits at canvas pixel `offset`) stays put while the pan moves the scene
    STEP per frame; per frame (strength 0) the tile stays at the frame's own pixels."""
    engine = SeedRecorder()
    stylizer = VideoStylizer(engine, np.zeros(4, np.float32), TemporalSettings(phase_lock=True), LOCK_SIZE)
    places = []
    for k, frame in enumerate(pan_frames(frames_small, LOCK_SIZE)):
        stylizer.step(frame)
        (x, y), (ox, oy) = engine.origins[-1], stylizer.phase.offset
        places.append((8 * x + ox - STEP[0] * k, 8 * y + oy - STEP[1] * k))
    # unplaced, a scene point would cross 69 px of the tile; placed, the lock's rounding and the
    # flow's error move it by a pixel or two
    assert np.ptp(np.array(places), axis=0).max() <= 2, places

    engine.origins.clear()
    stylizer.set_temporal(TemporalSettings(strength=0.0))
    for frame in pan_frames(frames_small, LOCK_SIZE)[:4]:
        stylizer.step(frame)
    assert engine.origins == [(0, 0)] * 4


def test_the_temporal_strength_back_from_zero_starts_afresh(ort_engine, bank, frames_small):
    """At a = 0 there is no canvas, so the state has another shape: the first frame back must not
    fuse with zeros (that faded the picture for ~10 frames)."""
    frames = [cv2.resize(f, SIZE) for f in frames_small[:8]]
    stylizer = VideoStylizer(ort_engine, bank.vectors[0], TemporalSettings(strength=0.0))
    for frame in frames[:4]:
        stylizer.step(frame)
    stylizer.set_temporal(TemporalSettings(strength=0.8))
    back = stylizer.step(frames[4])
    alone = VideoStylizer(ort_engine, bank.vectors[0], TemporalSettings(strength=0.8)).step(frames[4])
    assert back.reset
    assert np.array_equal(back.image, alone.image)


def subpixel_pan(frames_small, step: tuple[float, float], count: int = 24) -> list[np.ndarray]:
    """A pan by a fraction of a pixel per frame over the first frame at 2x (cubic resampling)."""
    big = cv2.resize(frames_small[0], None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    w, h = SIZE
    return [cv2.warpAffine(big, np.float32([[1, 0, -20 - step[0] * t], [0, 1, -20 - step[1] * t]]), (w, h),
                           flags=cv2.INTER_CUBIC) for t in range(count)]


class GridPainter(FrameEngine):
    """An engine that paints the same texture, periodic in one core cell, whatever the input:
    strokes that keep their place on the grid, as the network's do."""

    def run(self, image, style, prev, blend):
        h, w = image.shape[2:]
        y, x = np.mgrid[:h, :w].astype(np.float32) * np.float32(2 * np.pi / 8)
        texture = 0.5 + 0.12 * (np.cos(x + 1.0) + np.cos(y + 2.0) + np.cos(x + y) + np.cos(2 * x - y + 0.5))
        return np.repeat(texture[None, None], 3, axis=1), np.zeros_like(prev)


def test_subpixel_taps_move_a_smooth_picture_by_the_fraction():
    from stylecam.engines.subpixel import LOBES, passes, shifted_plane, taps

    for t in (-0.6, -0.25, 0.3, 0.55):
        weights, anchor = taps(t)
        assert len(weights) == 2 * LOBES and abs(weights.sum() - 1.0) < 1e-6 and 0 <= anchor < 2 * LOBES
    assert taps(0.01) is None  # no shift, no filter
    y, x = np.mgrid[:60, :80].astype(np.float32)
    wave = lambda dx, dy: np.sin(0.9 * (x - dx)) + np.cos(0.7 * (y - dy))  # noqa: E731  (up to 0.29 of Nyquist)
    plane = wave(0, 0)
    moved = shifted_plane(plane, passes((0.3, -0.45)), np.empty_like(plane), np.empty_like(plane))
    np.testing.assert_allclose(moved[8:-8, 8:-8], wave(0.3, -0.45)[8:-8, 8:-8], atol=0.02)
    assert len(passes((0.5, 0.0))) == 1 and passes((0.01, -0.01)) == []
    x_only = shifted_plane(plane, passes((0.5, 0.0)), np.empty_like(plane), np.empty_like(plane))
    np.testing.assert_allclose(x_only[8:-8, 8:-8], wave(0.5, 0)[8:-8, 8:-8], atol=0.02)
    assert shifted_plane(plane, [], None, None) is plane


class OutputRecorder(FrameEngine):
    """A FrameEngine that keeps its last output (the whole canvas, before the stylizer cuts and shifts it)."""

    def run(self, image, style, prev, blend):
        self.last, state = super().run(image, style, prev, blend)
        return self.last, state


def test_the_output_shifted_in_two_bands_is_the_whole_output_shifted(frames_small):
    """The sub-pixel shift and the conversion to uint8 run in two bands of rows at once
    (engines/bands.py), each reading the rows its filters reach past its edge: the frame is the
    whole cut-out shifted in one piece, up to float rounding."""
    from stylecam.engines.subpixel import passes, shifted_plane

    engine = OutputRecorder()
    stylizer = VideoStylizer(engine, np.zeros(4, np.float32), TemporalSettings())
    both_axes = 0
    for frame in subpixel_pan(frames_small, (1.3, 0.45)):
        out = stylizer.step(frame).image
        (ox, oy), shift, (h, w) = stylizer.phase.offset, tuple(stylizer.phase.shift), out.shape[:2]
        filters = passes(shift)
        both_axes += len(filters) == 2
        scratch = np.empty((2, h, w), np.float32)
        planes = [shifted_plane(np.ascontiguousarray(engine.last[0, c, oy:oy + h, ox:ox + w]), filters, scratch[0],
                                scratch[1]).copy() for c in (2, 1, 0)]
        whole = cv2.merge([cv2.convertScaleAbs(p, alpha=255.0) for p in planes]).astype(int)
        assert np.abs(out - whole).max() <= 1 and (out != whole).mean() < 1e-3
    assert both_axes >= 10  # the rows' filter ran, whose reach crosses the bands' edge


def test_row_bands_cover_every_row_once_and_pass_errors_on():
    from stylecam.engines.bands import MIN_ROWS, RowBands

    bands = RowBands()
    for rows in (MIN_ROWS - 1, MIN_ROWS, 481):
        seen = np.zeros(rows, int)
        calls = []

        def mark(band, r0, r1):
            calls.append(band)
            seen[r0:r1] += 1

        bands.run(mark, rows)
        assert (seen == 1).all() and sorted(calls) == ([0] if rows < MIN_ROWS else [0, 1])

    def fail(band, r0, r1):
        if band == 1:
            raise ValueError("band 1 failed")

    with pytest.raises(ValueError, match="band 1 failed"):
        bands.run(fail, 200)


def cell_phase(grey: np.ndarray) -> np.ndarray:
    """(x, y) position in pixels, modulo one core cell, of the 8-pixel period in a picture."""
    h, w = grey.shape
    y, x = np.mgrid[:h, :w] * (2 * np.pi / 8)
    return np.array([-np.angle((grey * np.exp(-1j * a)).sum()) for a in (x, y)]) * (8 / (2 * np.pi))


def test_subpixel_lock_moves_the_strokes_with_the_scene_between_whole_pixels(frames_small):
    """A pan of 1.3 and 0.45 px per frame under strokes fixed to the canvas grid: the whole-pixel lock
    moves them by whole pixels (1 or 2, then 0 or 1), the sub-pixel one by the pan's own step."""
    step = np.array([1.3, 0.45])
    pan = subpixel_pan(frames_small, tuple(step))
    error = {}
    for subpixel in (False, True):
        stylizer = VideoStylizer(GridPainter(), np.zeros(4, np.float32), TemporalSettings(subpixel=subpixel))
        phases = [cell_phase(cv2.cvtColor(stylizer.step(f).image, cv2.COLOR_BGR2GRAY).astype(np.float64)) for f in pan]
        moves = (np.diff(phases[4:], axis=0) + 4) % 8 - 4
        error[subpixel] = np.abs(moves + step).max(axis=1)  # the scene moves by -step
    assert np.median(error[True]) < 0.15 and np.median(error[False]) > 0.3, error


def test_subpixel_lock_leaves_a_still_camera_exactly_as_the_whole_pixel_lock(ort_engine, bank, frames_small):
    still = static_camera_clip(frames_small[0], 12, SIZE, seed=1)
    out = {}
    for subpixel in (False, True):
        stylizer = VideoStylizer(ort_engine, bank.vectors[0], TemporalSettings(subpixel=subpixel))
        out[subpixel] = [stylizer.step(f).image for f in still]
        assert not stylizer.phase.shift.any()
    assert all(np.array_equal(a, b) for a, b in zip(out[False], out[True]))


def test_the_subpixel_shift_relaxes_once_the_camera_stops(frames_small):
    """After a pan the last frame held still: the shift falls to none within a few frames, so a
    camera that stopped gets its exact, unfiltered frames back (the identity engine's output is
    then the frame itself)."""
    pan = subpixel_pan(frames_small, (1.3, 0.45), count=16)
    stylizer = VideoStylizer(FrameEngine(), np.zeros(4, np.float32), TemporalSettings())
    shifts = []
    for frame in pan:
        stylizer.step(frame)
        shifts.append(np.abs(stylizer.phase.shift).max())
    assert max(shifts[4:]) > 0.2  # the pan was followed between whole pixels
    for _ in range(8):
        out = stylizer.step(pan[-1]).image
    assert np.abs(stylizer.phase.shift).max() < 0.02  # under subpixel.SKIP_PX: not filtered
    assert np.array_equal(out, pan[-1])
