"""The live pipeline without Qt: slots, crossfade, real stylisation of sample-clip frames, worker
errors, and a fake camera that is lost and comes back."""
from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from stylecam.app.camera import CameraSource, resolve_source, sample_source
from stylecam.app.pipeline import Controls, Pipeline, StyleFader
from stylecam.app.rates import RollingRate
from stylecam.app.slots import LatestSlot
from stylecam.app.sources import Frame, SourceError
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
    name, provider, precision, core_channels = "broken", "nowhere", "fp32", 48

    def run(self, *args):
        raise RuntimeError("engine fell over")


def test_a_worker_exception_is_reported_not_silent(bank):
    pipeline, calls = make_pipeline(sample_source(), BrokenEngine(), bank)
    pipeline.start()
    try:
        wait_for(lambda: calls.errors)
        wait_for(lambda: not pipeline.inference.alive)
    finally:
        pipeline.stop()
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
    monkeypatch.setattr("stylecam.app.pipeline.RECONNECT_EVERY_S", 0.1)
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
