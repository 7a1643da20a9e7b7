"""Recording (crash-safe, both writers), the virtual camera's messages, and settings files."""
from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction

import numpy as np
import pytest

from stylecam.app.outputs.recorder import check_record_target, have_pyav, open_writer
from stylecam.app.outputs.sinks import SinkThread
from stylecam.app.outputs.video_out import AtomicVideoWriter, OutputError
from stylecam.app.outputs.virtualcam import VirtualCamera, VirtualCameraUnavailable
from stylecam.app.ui.settings import Settings, load_settings, save_settings, settings_path
from tests.conftest import SHOT_START, clip_frames, read_video

needs_pyav = pytest.mark.skipif(not have_pyav(), reason="PyAV not installed (pip install 'stylecam[record]')")


@pytest.fixture(scope="module")
def frames():
    return clip_frames(30, (320, 180), start=SHOT_START)


@pytest.mark.parametrize("suffix,pyav", [pytest.param(".mp4", True, marks=needs_pyav), (".mkv", False), (".avi", False)])
def test_recorder_writes_every_frame_in_order(tmp_path, frames, suffix, pyav):
    path = tmp_path / f"rec{suffix}"
    errors = []
    sink = SinkThread(open_writer(path, 24.0, (320, 180), pyav=pyav), lambda *e: errors.append(e))
    for i, frame in enumerate(frames):
        assert sink.submit(frame, 10.0 + i / 24)
    sink.close()
    assert not errors and sink.written == len(frames)
    back, _ = read_video(path)
    assert len(back) == len(frames)
    assert np.abs(back[10].astype(int) - frames[10]).mean() < 8  # the same picture, lossy coded


KILL_SCRIPT = """
import os, sys, time
from stylecam.app.outputs.recorder import open_writer
from stylecam.app.outputs.sinks import SinkThread
from tests.conftest import SHOT_START, clip_frames
frames = clip_frames(20, (320, 180), start=SHOT_START)
sink = SinkThread(open_writer(sys.argv[1], 24.0, (320, 180), pyav=sys.argv[2] == "1"), print)
for i in range(72):  # 3 s of video
    sink.submit(frames[i % 20], i / 24)
while sink.written < 72:
    time.sleep(0.01)
print("written", flush=True)
time.sleep(30)  # killed here, the writer never closed
"""


@pytest.mark.parametrize("suffix,pyav", [pytest.param(".mp4", True, marks=needs_pyav), (".mkv", False), (".avi", False)])
def test_a_killed_recorder_leaves_a_playable_file(tmp_path, suffix, pyav):
    path = tmp_path / f"killed{suffix}"
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(path), "1" if pyav else "0"],
                            stdout=subprocess.PIPE, text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    try:
        assert proc.stdout.readline().strip() == "written"
        time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    back, _ = read_video(path)
    # fragmented MP4 loses the fragment not yet closed (<= 1 s); MJPG what FFmpeg still buffered
    assert 48 <= len(back) <= 72, len(back)
    assert back[0].shape == (180, 320, 3)


@pytest.mark.parametrize("suffix,pyav", [pytest.param(".mp4", True, marks=needs_pyav), (".mkv", False)])
def test_recording_stops_while_the_disk_still_has_room_and_the_file_plays(tmp_path, frames, suffix, pyav, monkeypatch):
    free = {"mb": 5000.0}
    monkeypatch.setattr("stylecam.app.outputs.recorder.free_mb", lambda folder: free["mb"])
    path = tmp_path / f"full{suffix}"
    errors = []
    sink = SinkThread(open_writer(path, 24.0, (320, 180), pyav=pyav), lambda *e: errors.append(e))
    for i in range(72):  # 3 s of video; the disk "fills" after 2 s
        if i == 48:
            while sink.written < 48:
                time.sleep(0.01)
            free["mb"] = 120.0
        sink.submit(frames[i % len(frames)], i / 24)
    sink.close()
    assert len(errors) == 1 and errors[0][0] == "recorder"
    assert errors[0][1].startswith("DiskFull: disk nearly full (120 MB left in")
    back, _ = read_video(path)
    assert 48 <= len(back) <= 49, len(back)  # what came before the check, closed properly


FULL_DISK_SCRIPT = """
import resource, signal, sys
from stylecam.app.outputs.recorder import open_writer
from stylecam.app.outputs.sinks import SinkThread
import numpy as np
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))
rng = np.random.default_rng(0)
errors = []
sink = SinkThread(open_writer(sys.argv[1], 24.0, (320, 180), pyav=True), lambda *e: errors.append(e))
for i in range(240):
    sink.submit(rng.integers(0, 256, (180, 320, 3), dtype=np.uint8), i / 24)  # noise: ~50 KB a frame
sink.close()
print(len(errors), sink.written, errors[0][1] if errors else "")
"""


@needs_pyav
def test_a_write_failing_on_a_full_disk_stops_the_recording_and_keeps_what_was_written(tmp_path):
    path = tmp_path / "efbig.mp4"
    out = subprocess.run([sys.executable, "-c", FULL_DISK_SCRIPT, str(path)], capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(__file__)), timeout=120)
    count, written, message = out.stdout.strip().split(" ", 2)
    assert out.returncode == 0 and count == "1", out.stderr
    assert "File too large" in message or "Errno 27" in message, message
    assert path.stat().st_size <= 400_000
    back, _ = read_video(path)
    assert 0 < len(back) <= int(written)  # the fragments that made it play


def test_record_target_checks(tmp_path):
    with pytest.raises(OutputError, match="needs PyAV"):
        check_record_target(tmp_path / "a.mp4", pyav=False)
    with pytest.raises(OutputError, match="unsupported recording type"):
        check_record_target(tmp_path / "a.gif", pyav=True)
    with pytest.raises(OutputError, match="folder does not exist"):
        check_record_target(tmp_path / "missing" / "a.mkv", pyav=True)


def test_virtual_camera_without_the_package_says_what_to_install():
    def importer(name):
        raise ImportError(f"No module named {name!r}")

    with pytest.raises(VirtualCameraUnavailable, match=r"pip install 'stylecam\[virtualcam\]'"):
        VirtualCamera(320, 180, 30.0, importer=importer)


def test_virtual_camera_without_a_driver_says_how_to_get_one():
    """The real pyvirtualcam where installed (this machine has no v4l2loopback), else a stand-in
    that fails the way pyvirtualcam does."""
    if importlib.util.find_spec("pyvirtualcam") is not None:
        importer = None  # the real package
    else:
        class Fake:
            class PixelFormat:
                BGR = "bgr"

            class Camera:
                def __init__(self, *a, **k):
                    raise RuntimeError("'v4l2loopback' backend: No v4l2 loopback device found at /dev/video[0-99].")

        importer = lambda name: Fake  # noqa: E731
    kwargs = {"importer": importer} if importer else {}
    if importer is None and any(os.path.exists(f"/dev/video{i}") for i in range(100)):
        pytest.skip("a video device exists here; the no-driver message cannot be provoked")
    with pytest.raises(VirtualCameraUnavailable) as info:
        VirtualCamera(320, 180, 30.0, **kwargs)
    message = str(info.value)
    assert message.startswith("no virtual camera driver found")
    assert "modprobe v4l2loopback" in message and "OBS" in message


def test_settings_round_trip_in_the_xdg_config_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert settings_path() == tmp_path / "stylecam" / "settings.json"
    assert load_settings() == (Settings(), None)
    saved = Settings(source="sample", style="great_wave", style_strength=0.6, temporal=0.3, size="640x360")
    save_settings(saved)
    assert load_settings() == (saved, None)
    assert [p.name for p in (tmp_path / "stylecam").iterdir()] == ["settings.json"]  # no temp file left


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", json.dumps({"temporal": 7}), json.dumps({"size": "13x7"}),
                                     json.dumps({"style_strength": "loud"}), "\x00\xff"])
def test_corrupt_settings_fall_back_to_defaults_with_a_warning(tmp_path, monkeypatch, content):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    settings_path().parent.mkdir(parents=True)
    settings_path().write_text(content)
    settings, warning = load_settings()
    assert settings == Settings()
    assert "unusable" in warning and "using defaults" in warning


def test_unknown_settings_keys_are_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    settings_path().parent.mkdir(parents=True)
    settings_path().write_text(json.dumps({"style": "udnie", "from_a_newer_version": 1}))
    assert load_settings() == (Settings(style="udnie"), None)


def test_the_mjpg_fallback_keeps_the_display_timing_when_frames_come_slower(tmp_path, frames):
    shown = [f if i % 2 == 0 else np.ascontiguousarray(f[:, ::-1]) for i, f in enumerate(frames[:12])]
    path = tmp_path / "slow.mkv"
    writer = open_writer(path, 24.0, (320, 180), pyav=False)
    for i, frame in enumerate(shown):
        writer.write(frame, 5.0 + i / 8)  # shown at 8 fps, recorded at 24
    writer.close()
    back, fps = read_video(path)
    assert fps == pytest.approx(24.0)
    assert len(back) == writer.frames == 11 * 3 + 1  # 1.375 s at 24 fps: each later frame fills 3 slots
    source = [(k + 2) // 3 for k in range(len(back))]  # slot 0: frame 0; slots 1-3: frame 1; ...
    held = [np.abs(back[k].astype(int) - shown[i]).mean() for k, i in enumerate(source)]
    other = [np.abs(back[k].astype(int) - shown[i ^ 1]).mean() for k, i in enumerate(source)]
    assert max(held) < 8 < min(other), (max(held), min(other))


@needs_pyav
@pytest.mark.parametrize("suffix, container", [(".mp4", "mp4"), (".mkv", "matroska")])
def test_stylize_files_are_h264_at_the_quality_asked(tmp_path, frames, suffix, container):
    import av

    sizes = {}
    for crf in (12, 35):
        with AtomicVideoWriter(tmp_path / f"crf{crf}{suffix}", 24000 / 1001, (320, 180), crf) as writer:
            for image in frames:
                writer.write(image)
            assert writer.codec == f"H.264 (CRF {crf})"
            path = writer.commit()
        with av.open(str(path)) as f:
            stream = f.streams.video[0]
            assert stream.codec_context.name == "h264" and container in f.format.name
            assert stream.average_rate == Fraction(24000, 1001)
        decoded, _ = read_video(path)
        assert len(decoded) == len(frames)
        assert np.abs(decoded[10].astype(int) - frames[10]).mean() < (4 if crf == 12 else 10)
        sizes[crf] = path.stat().st_size
    assert sizes[35] < sizes[12] / 2  # the quality setting reaches the encoder


def test_without_pyav_stylize_files_fall_back_to_opencv_saying_so(tmp_path, frames):
    with AtomicVideoWriter(tmp_path / "out.mp4", 24.0, (320, 180), pyav=False) as writer:
        for image in frames:
            writer.write(image)
        assert writer.codec == "MPEG-4 Part 2 (mp4v; PyAV not installed)"
        path = writer.commit()
    decoded, fps = read_video(path)
    assert len(decoded) == len(frames) and fps == pytest.approx(24.0)
    with AtomicVideoWriter(tmp_path / "out.avi", 24.0, (320, 180)) as writer:
        assert writer.codec == "Motion-JPEG (MJPG)"
        writer.discard()
