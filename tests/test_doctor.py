"""`stylecam doctor`, cameras by name (listing, matching, the source picker) and the display check."""
from __future__ import annotations

import json
from importlib import metadata

import cv2
import onnxruntime as ort
import pytest

from stylecam.app.cli.main import main
from stylecam.app.live.camera import resolve_source
from stylecam.app.live.cameras import (CameraFormat, CameraInfo, ListingUnavailable, capture_backends,
                                       enumerate_cameras, find_camera, sysfs_cameras)
from stylecam.app.live.sources import SourceError
from stylecam.app.ui.display import display_status
from stylecam.engines.host import cpu_class
from tests.fake_camera import FakeCameraRig

C920 = CameraInfo("HD Pro Webcam C920", "/dev/video0", (CameraFormat(1920, 1080, 5, 30, "MJPG"),
                                                         CameraFormat(640, 480, 30, 30, "YUYV")))
OBS = CameraInfo("OBS Virtual Camera", "/dev/video4")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """Settings, user styles and caches under tmp_path; no display."""
    for key, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"), ("XDG_CACHE_HOME", "cache")):
        monkeypatch.setenv(key, str(tmp_path / sub))
    for key in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(key, raising=False)
    return tmp_path


def test_doctor_json_reports_what_runs_here(home, capsys):
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["versions"]["onnxruntime"] == ort.__version__
    assert report["versions"]["openvino"] == metadata.version("openvino")
    assert report["versions"]["opencv"].startswith(cv2.__version__.split(".")[0])
    assert report["onnxruntime_providers"] == ort.get_available_providers()
    assert report["cpu"]["class"] == cpu_class()
    engine = report["engine"]
    assert engine["graph"] == "stylecam v2 seeded" and engine["precision"] == "fp32"
    assert engine["engine"] == "openvino" and engine["provider"] == "CPU"  # no GPU here
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        assert any(note.startswith("ort-cuda: CUDAExecutionProvider is not in this onnxruntime build")
                   for note in engine["passed_over"])
    assert report["paths"]["settings"] == str(home / "config" / "stylecam" / "settings.json")
    assert report["paths"]["user styles"] == str(home / "data" / "stylecam" / "styles")
    assert report["display"] == {"available": False, "reason": display_status().reason}
    assert report["cameras"]["captured_by"] == ["OpenCV V4L2"]


def test_doctor_text_names_engine_cameras_and_display(home, capsys):
    assert main(["doctor"]) == 0
    text = capsys.readouterr().out
    assert "Engine (--engine auto)\n  openvino on CPU, graph stylecam v2 seeded fp32" in text
    assert "Cameras (listed by" in text
    assert "Display\n  none: no DISPLAY or WAYLAND_DISPLAY" in text
    assert f"class {cpu_class()}" in text


def test_doctor_lists_each_camera_with_its_modes(home):
    from stylecam.app.cli.doctor import collect, lines
    from stylecam.app.live.cameras import CameraList

    text = "\n".join(lines(collect(CameraList([C920, OBS], "QtMultimedia"))))
    assert "'HD Pro Webcam C920' -> --source /dev/video0\n      1920x1080 @ 5-30 fps MJPG\n      640x480 @ 30 fps YUYV" in text
    assert "'OBS Virtual Camera' -> --source /dev/video4\n      formats: not listed" in text


def test_sysfs_lists_capture_nodes_with_driver_names(tmp_path):
    for node, name, index in (("video0", "HD Pro Webcam C920", "0"), ("video1", "HD Pro Webcam C920", "1"),
                              ("video10", "OBS Virtual Camera", "0")):
        (tmp_path / node).mkdir()
        (tmp_path / node / "name").write_text(name + "\n")
        (tmp_path / node / "index").write_text(index + "\n")
    found = sysfs_cameras(tmp_path)
    assert [(c.name, c.device) for c in found] == [("HD Pro Webcam C920", "/dev/video0"),
                                                  ("OBS Virtual Camera", "/dev/video10")]


def test_listing_falls_back_to_sysfs_on_linux_only():
    def broken():
        raise ListingUnavailable("QtMultimedia does not load: libpulse.so.0")

    linux = enumerate_cameras(broken, lambda: [OBS], "linux")
    assert (linux.cameras, linux.via) == ([OBS], "V4L2 sysfs (names only)") and "libpulse" in linux.note
    windows = enumerate_cameras(broken, lambda: [OBS], "win32")
    assert windows.cameras == [] and "libpulse" in windows.note
    qt = enumerate_cameras(lambda: [C920], lambda: [OBS], "linux")
    assert (qt.cameras, qt.via, qt.note) == ([C920], "QtMultimedia", "")


def test_find_camera_by_exact_or_unique_partial_name():
    cams = [C920, OBS, CameraInfo("HD Webcam", 2)]
    assert find_camera("obs virtual camera", cams) is OBS
    assert find_camera("C920", cams) is C920
    assert find_camera("hd webcam", cams).device == 2  # exact beats the partial match in C920's name
    assert find_camera("HD", cams) is None  # ambiguous
    assert find_camera("Logitech Brio", cams) is None


def test_source_by_camera_name_opens_that_device():
    rig = FakeCameraRig()
    opened = []
    resolved = resolve_source("c920", opener=lambda d: opened.append(d) or rig.open(d), cameras=lambda: [C920, OBS])
    try:
        assert opened == ["/dev/video0"]
        assert resolved.notice is None
        assert resolved.source.name == "HD Pro Webcam C920 (/dev/video0)"
    finally:
        resolved.source.close()


def test_unknown_camera_name_is_bad_input_listing_the_cameras():
    with pytest.raises(SourceError, match=r"not a camera.*cameras: 'HD Pro Webcam C920', 'OBS Virtual Camera'"):
        resolve_source("Logitech Brio", cameras=lambda: [C920, OBS])


def test_capture_backend_per_os():
    assert [n for _, n in capture_backends("linux")] == ["V4L2"]
    assert [a for a, _ in capture_backends("win32")] == [cv2.CAP_DSHOW, cv2.CAP_MSMF]
    assert capture_backends("darwin") == [(cv2.CAP_AVFOUNDATION, "AVFoundation")]


def test_display_status():
    assert not display_status({}, "linux").available
    assert display_status({"DISPLAY": ":0"}, "linux").reason == "DISPLAY=:0"
    assert display_status({"QT_QPA_PLATFORM": "offscreen"}, "linux").available
    assert display_status({}, "darwin").available


def test_source_picker_offers_cameras_by_name(qtbot):
    from stylecam.app.ui.panels import ControlsPanel

    panel = ControlsPanel([C920.name, OBS.name])
    qtbot.addWidget(panel)
    labels = [panel.source_box.itemText(i) for i in range(panel.source_box.count())]
    assert labels[:3] == ["Sample clip", "HD Pro Webcam C920", "OBS Virtual Camera"]
    with qtbot.waitSignal(panel.source_chosen) as signal:
        panel.source_box.activated.emit(2)
    assert signal.args == ["OBS Virtual Camera"]
