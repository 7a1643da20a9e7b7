"""The latency probe's state machine and the loopback camera, on exact times."""
from __future__ import annotations

import numpy as np
import pytest

from stylecam.app.live.latency import LatencyProbe, LoopbackCamera, ProbeSettings, ScreenTap


def test_a_flash_seen_by_the_camera_and_then_shown_is_one_sample():
    probe = LatencyProbe(ProbeSettings(gap_s=(0.5, 0.5), rise=40), now=0.0)
    for i, t in enumerate((0.1, 0.2, 0.3, 0.4)):
        probe.captured(i, t, 60.0)  # the baseline: a dim picture
        assert not probe.flash_now(t)
    assert probe.flash_now(0.5)  # due: the displayed frame turns white
    probe.painted(0.51, flashed=True, index=3)
    probe.captured(4, 0.55, 80.0)  # a rise of 20: not the flash
    assert probe.flash_now(0.56)  # still white until the camera sees it
    probe.painted(0.57, flashed=True, index=4)  # a later white frame: the flash began at 0.51
    probe.captured(5, 0.64, 220.0)  # seen in camera frame 5
    assert not probe.flash_now(0.65)
    probe.painted(0.66, flashed=False, index=4)  # an older frame: not yet
    probe.painted(0.74, flashed=False, index=5)
    [sample] = probe.samples
    assert sample.camera_ms == pytest.approx(130.0)
    assert sample.pipeline_ms == pytest.approx(100.0)
    assert sample.glass_to_glass_ms == pytest.approx(230.0)
    report = probe.report()
    assert report["latency_ms"] == {"p50": 230.0, "p95": 230.0, "p99": 230.0}
    assert (report["flashes"], report["missed"]) == (1, 0)
    assert not probe.flash_now(0.75) and probe.flash_now(1.24)  # the next one after the gap


def test_a_flash_the_camera_never_sees_is_a_miss():
    probe = LatencyProbe(ProbeSettings(gap_s=(0.5, 0.5), timeout_s=1.0), now=0.0)
    assert probe.flash_now(0.5)
    probe.painted(0.5, flashed=True, index=0)
    probe.captured(1, 0.9, 10.0)
    assert probe.flash_now(1.4)
    assert not probe.flash_now(1.6)  # timed out
    assert probe.report()["missed"] == 1 and probe.report()["latency_ms"] is None


def test_the_loopback_camera_returns_what_was_painted_its_delay_ago():
    tap = ScreenTap()
    camera = LoopbackCamera(tap, delay_s=0.0, fps=1000.0, size=(64, 48))
    granted = camera.open()
    assert (granted.width, granted.height, granted.fourcc) == (64, 48, "loopback")
    assert (camera.read() == 128).all()  # nothing painted yet: grey
    tap.push(0.0, np.full((96, 128, 3), 7, np.uint8))
    image = camera.read()
    assert image.shape == (48, 64, 3) and (image == 7).all()
    assert tap.at(-1.0) is None
