"""The live pipeline without Qt: slots, crossfade, real stylisation of sample-clip frames, worker
errors, and a fake camera that is lost and comes back."""
from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from stylecam.app.live.camera import CameraSource, resolve_source, sample_source
from stylecam.app.live.pipeline import Controls, Pipeline, StyleFader
from stylecam.app.live.rates import RollingRate
from stylecam.app.live.slots import LatestSlot
from stylecam.app.live.sources import Frame, SourceError
from tests.fake_camera import FakeCameraRig


def wait_for(condition, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


class Collector:
    """The callbacks a window would give the pipeline, recorded."""

    def __init__(self):
        self.statuses: list[tuple[str, str]] = []
        self.errors: list[tuple[str, str]] = []
        self.nudges = 0

    def on_result(self):
        self.nudges += 1

    def on_status(self, kind, text):
        self.statuses.append((kind, text))

    def on_error(self, stage, message):
        self.errors.append((stage, message))


def make_pipeline(source, engine, bank, controls=Controls(size=(320, 180))):
    c = Collector()
    return Pipeline(source, engine, bank.vectors, controls, c.on_result, c.on_status, c.on_error), c


def test_latest_slot_keeps_the_newest_and_counts_drops():
    slot: LatestSlot[int] = LatestSlot()
    for i in range(5):
        slot.put(i)
    assert slot.take() == 4 and slot.dropped == 4
    assert slot.take(timeout=0.01) is None
    threading.Timer(0.05, slot.put, args=(7,)).start()
    assert slot.take(timeout=5.0) == 7


def test_a_slot_wait_ends_early_when_told_to_look_again():
    slot: LatestSlot[int] = LatestSlot()
    done = threading.Event()
    threading.Timer(0.05, lambda: (done.set(), slot.wake())).start()
    started = time.perf_counter()
    assert slot.take(timeout=5.0, until=done.is_set) is None
    assert time.perf_counter() - started < 4.0  # woken by wake(), not by the timeout
    slot.put(3)
    assert slot.take(timeout=5.0, until=done.is_set) == 3  # an item is still taken when `until` holds


def test_rolling_rate():
    rate = RollingRate(window=2.0)
    for i in range(21):
        rate.tick(10.0 + i * 0.05)
    assert rate.rate(11.0) == pytest.approx(20.0)
    assert rate.rate(20.0) == 0.0


def test_crossfade_is_a_linear_interpolation_of_style_vectors(bank):
    fader = StyleFader(bank.vectors, 0, duration=0.3)
    fader.switch(3, now=100.0)
    np.testing.assert_allclose(fader.vector(100.15), 0.5 * (bank.vectors[0] + bank.vectors[3]), rtol=1e-5, atol=1e-6)
    assert fader.fading(100.2) and not fader.fading(100.31)
    np.testing.assert_array_equal(fader.vector(100.31), bank.vectors[3])


def test_pipeline_stylises_real_frames_at_the_output_size(ort_engine, bank):
    pipeline, calls = make_pipeline(sample_source(), ort_engine, bank)
    pipeline.start()
    try:
        results = []
        wait_for(lambda: (r := pipeline.results.take(timeout=0.5)) is not None and results.append(r) is None
                 and len(results) >= 3)
    finally:
        pipeline.stop()
    assert not calls.errors
    assert ("live", "sample clip: 640x360 @ 24 fps file") in calls.statuses
    for r in results:
        assert r.image.shape == r.original.shape == (180, 320, 3) and r.image.dtype == np.uint8
        assert r.t_ready > r.t_capture
        assert np.abs(r.image.astype(int) - r.original).mean() > 10  # stylised, not a copy
    assert pipeline.metrics.inference.count >= 3 and calls.nudges >= 3
    assert not pipeline.capture.alive and not pipeline.inference.alive  # joined on stop


def test_style_strength_zero_shows_the_original(ort_engine, bank):
    pipeline, _ = make_pipeline(sample_source(), ort_engine, bank, Controls(style_strength=0.0, size=(320, 180)))
    source = sample_source()
    source.open()
    image = source.read()
    source.close()
    result = pipeline.inference.process(Frame(image, 0, 0.0))
    np.testing.assert_array_equal(result.image, result.original)
    np.testing.assert_array_equal(result.original, cv2.resize(image, (320, 180), interpolation=cv2.INTER_AREA))


class BrokenEngine:
    name, provider, precision, graph, core_channels = "broken", "nowhere", "fp32", "none", 48

    def run(self, *args):
        raise RuntimeError("engine fell over")


def test_an_engine_that_keeps_failing_is_reported_counted_and_retried_with_growing_waits(bank, monkeypatch):
    monkeypatch.setattr("stylecam.app.live.pipeline.RESTART_WAIT_S", (0.05, 0.2))
    pipeline, calls = make_pipeline(sample_source(), BrokenEngine(), bank)
    started = time.perf_counter()
    pipeline.start()
    try:
        wait_for(lambda: len(calls.errors) >= 4)
        took = time.perf_counter() - started
        assert pipeline.inference.alive and pipeline.metrics.stage_failures["inference"] >= 4
    finally:
        stop_at = time.perf_counter()
        pipeline.stop()
    assert took >= 0.05 + 0.1 + 0.2  # the waits between the 4 failures doubled
    assert time.perf_counter() - stop_at < 1.0 and not pipeline.inference.alive
    stage, message = calls.errors[0]
    assert stage == "inference" and "RuntimeError: engine fell over" in message


def test_camera_is_opened_with_one_frame_buffer_mjpg_and_reports_granted_values():
    rig = FakeCameraRig(grant=(320, 240))
    camera = CameraSource(0, opener=rig.open)
    granted = camera.open()
    camera.close()
    assert rig.props[cv2.CAP_PROP_BUFFERSIZE] == 1
    assert rig.props[cv2.CAP_PROP_FOURCC] == cv2.VideoWriter_fourcc(*"MJPG")
    assert (rig.props[cv2.CAP_PROP_FRAME_WIDTH], rig.props[cv2.CAP_PROP_FRAME_HEIGHT]) == (640, 480)
    assert (granted.width, granted.height, granted.fps, granted.fourcc) == (320, 240, 25.0, "MJPG")
    assert granted.describe() == "320x240 @ 25 fps MJPG"


def test_no_camera_falls_back_to_the_sample_clip_saying_so():
    rig = FakeCameraRig()
    rig.unplug()
    resolved = resolve_source("/dev/video7", opener=rig.open)
    assert resolved.source.name == "sample clip"
    assert "camera /dev/video7 did not open" in resolved.notice and "sample clip" in resolved.notice


def test_a_missing_source_file_is_bad_input(tmp_path):
    with pytest.raises(SourceError, match="not a camera"):
        resolve_source(str(tmp_path / "nope.mp4"))


def test_camera_loss_and_recovery(ort_engine, bank, monkeypatch):
    monkeypatch.setattr("stylecam.app.live.pipeline.RECONNECT_EVERY_S", 0.1)
    rig = FakeCameraRig()
    pipeline, calls = make_pipeline(CameraSource(0, opener=rig.open), ort_engine, bank)
    pipeline.start()
    try:
        wait_for(lambda: pipeline.metrics.inference.count >= 2)
        rig.unplug()
        wait_for(lambda: any(kind == "reconnecting" for kind, _ in calls.statuses))
        time.sleep(0.3)  # a few failed reconnects
        stalled = pipeline.metrics.capture.count
        assert rig.opened >= 2
        rig.plug()
        wait_for(lambda: pipeline.metrics.capture.count >= stalled + 3)
    finally:
        pipeline.stop()
    kinds = [kind for kind, _ in calls.statuses]
    assert kinds[0] == "live" and "reconnecting" in kinds and kinds[-1] == "live"
    assert not calls.errors


class SlowedEngine:
    """A fake engine whose time grows with the frame's area: `full_ms` at 640x360, proportionally
    less at smaller sizes. It returns the input as the 'stylised' image."""

    name, provider, precision, graph, core_channels = "slowed", "fake", "fp32", "identity", 64

    def __init__(self, full_ms: float):
        self.full_ms = full_ms

    def run(self, image, style, prev, blend):
        time.sleep(self.full_ms / 1000.0 * image.shape[2] * image.shape[3] / (640 * 360))
        return image.copy(), prev.copy()


def test_auto_size_steps_down_when_behind_and_back_up_with_room(bank):
    """The sample clip plays at 24 fps (41.7 ms a frame). An engine needing 120 ms at 640x360 is
    behind down to 384x216 (43 ms) and pushes auto to the ladder's foot, 320x180 (30 ms); once
    the engine is fast again the size climbs back to 640x360. The output stays 640x360."""
    from stylecam.app.live.autosize import AutoSizePolicy

    engine = SlowedEngine(120.0)
    c = Collector()
    policy = AutoSizePolicy(behind_s=0.8, room_s=1.2, cooldown_s=0.4)
    pipeline = Pipeline(sample_source(), engine, bank.vectors, Controls(auto_size=True), c.on_result, c.on_status,
                        c.on_error, auto_policy=policy)
    shapes = set()
    pipeline.start()
    try:
        wait_for(lambda: pipeline.metrics.processing_size == (320, 180), timeout=30)
        time.sleep(1.0)
        down = [size for _, size in pipeline.metrics.size_steps]
        assert down == [(512, 288), (448, 252), (384, 216), (320, 180)], down
        engine.full_ms = 1.0  # fast, so the room holds even when other processes slow the pipeline's own steps
        wait_for(lambda: pipeline.metrics.processing_size == (640, 360), timeout=45)
        for _ in range(5):
            result = pipeline.take()
            if result is not None:
                shapes.add(result.image.shape)
            time.sleep(0.05)
    finally:
        pipeline.stop()
    assert not c.errors
    assert [size for _, size in pipeline.metrics.size_steps][4:] == [(384, 216), (448, 252), (512, 288), (640, 360)]
    assert shapes == {(360, 640, 3)}


def test_auto_size_ladder_and_decisions():
    """Deterministic timelines: behind for the whole window steps down, and so does losing every
    tenth frame (the median result interval then equals the camera's); a short stall does not;
    room at the next size up steps back up; nothing happens while the camera rate is unknown."""
    from stylecam.app.live.autosize import AutoSize, AutoSizePolicy, ladder

    assert ladder((640, 480)) == [(640, 480), (512, 384), (448, 336), (384, 288), (320, 240)]
    policy = AutoSizePolicy(behind_s=3.0, room_s=6.0, headroom=0.75, cooldown_s=2.0)
    auto = AutoSize((640, 480), policy)
    t = 0.0
    for _ in range(100):  # 3.3 s at 30 fps, 40 ms a frame against 33.3 ms
        t += 1 / 30
        auto.observe(t, 40.0, None)
    assert auto.size == (640, 480)  # camera rate unknown: no decision
    assert auto.observe(t + 1 / 30, 40.0, 33.3)  # 3 s behind already seen: one step down at once
    assert auto.size == (512, 384)
    t += 1 / 30
    assert not any(auto.observe(t + i / 30, 40.0, 33.3) for i in range(1, 80))  # 2.6 s at the new size: wait
    t += 80 / 30
    spike = AutoSize((640, 480), policy)  # a 0.4 s compile, then a 1 s stall over 5 frames
    assert not any(spike.observe(i / 30, 400.0 if i == 0 else 200.0 if 30 <= i < 35 else 20.0, 33.3) for i in range(120))
    lossy = AutoSize((640, 480), policy)  # results 33.3 ms apart, every tenth 66.7 ms: 27 of 30 fps
    steps = [lossy.observe(i / 30, 66.7 if i % 10 == 9 else 33.3, 33.3) for i in range(120)]
    assert 0.9 * 3 * 30 <= steps.index(True) <= 3 * 30 and lossy.size == (512, 384)
    keeping_up = AutoSize((640, 480), policy)  # every frame, 32-34.6 ms apart
    assert not any(keeping_up.observe(i / 30, 33.3 + (1.3 if i % 2 else -1.3), 33.3) for i in range(240))
    # at 512x384 frames take 14 ms: scaled to 640x480 that is 22 ms < 0.75 * 33.3 -> back up after ~6 s
    auto = AutoSize((640, 480), policy)
    auto.level, t = 1, 10.0
    steps = [auto.observe(t + i / 30, 14.0, 33.3) for i in range(240)]
    assert 0.9 * 6 * 30 - 2 <= steps.index(True) <= 6 * 30 and auto.size == (640, 480)


def test_a_stalled_camera_read_is_caught_by_the_watchdog_and_reconnected(ort_engine, bank, monkeypatch):
    monkeypatch.setattr("stylecam.app.live.pipeline.STALL_S", 0.4)
    rig = FakeCameraRig()
    pipeline, calls = make_pipeline(CameraSource(0, opener=rig.open), ort_engine, bank)
    pipeline.start()
    try:
        wait_for(lambda: pipeline.metrics.inference.count >= 2)
        stuck = pipeline.capture
        rig.stall(3.0)
        wait_for(lambda: pipeline.metrics.stalls == 1, timeout=2.0)  # well before the read returns
        assert pipeline.capture is not stuck and stuck.stopping.is_set()
        captured = pipeline.metrics.capture.count
        wait_for(lambda: pipeline.metrics.capture.count >= captured + 5, timeout=2.0)  # new frames, still stalled
        assert rig.opened == 2
        wait_for(lambda: not stuck.alive, timeout=5.0)  # the abandoned thread ends once its read returns
    finally:
        pipeline.stop()
    kinds = [kind for kind, _ in calls.statuses]
    assert "reconnecting" in kinds and kinds[-1] == "live"
    assert any("stalled: no frame for" in text for _, text in calls.statuses)
    assert not calls.errors and rig.released == 2


def test_a_camera_that_changes_size_keeps_the_output_size(ort_engine, bank):
    rig = FakeCameraRig()
    pipeline, calls = make_pipeline(CameraSource(0, opener=rig.open), ort_engine, bank)
    pipeline.start()
    try:
        wait_for(lambda: pipeline.metrics.inference.count >= 2)
        rig.grant = (640, 480)  # the driver switches mode mid-run
        stylised = pipeline.metrics.inference.count
        wait_for(lambda: pipeline.metrics.inference.count >= stylised + 4)
        result = pipeline.take()
    finally:
        pipeline.stop()
    assert result.image.shape == (180, 320, 3) and result.original.shape == (180, 320, 3)
    assert not calls.errors


def test_black_frames_are_stylised_and_reported_once(ort_engine, bank, monkeypatch):
    monkeypatch.setattr("stylecam.app.live.pipeline.BLACK_FRAMES", 5)
    rig = FakeCameraRig(fps=50.0)
    pipeline, calls = make_pipeline(CameraSource(0, opener=rig.open), ort_engine, bank)
    pipeline.start()
    try:
        wait_for(lambda: pipeline.metrics.inference.count >= 2)
        rig.black = True
        wait_for(lambda: pipeline.metrics.black_frames_reported)
        stylised = pipeline.metrics.inference.count
        wait_for(lambda: pipeline.metrics.inference.count >= stylised + 3)
        result = pipeline.take()
        assert result is not None and np.isfinite(result.image).all()
        rig.black = False
        wait_for(lambda: not pipeline.metrics.black_frames_reported)
    finally:
        pipeline.stop()
    texts = [text for kind, text in calls.statuses]
    assert sum("delivers black frames" in t for t in texts) == 1 and "the picture is back" in texts[-1]
    assert not calls.errors
