"""The live window with real widgets (offscreen Qt), real ONNX sessions and real sample-clip
frames: frames shown, keys, metrics, recording, snapshots, camera loss, kiosk behaviour."""
from __future__ import annotations

import time

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from stylecam.app.live.camera import CameraSource, sample_source
from stylecam.app.ui.session import LiveSession, SessionSetup
from stylecam.app.ui.settings import Settings
from stylecam.app.ui.thumbnails import Thumbnails
from stylecam.app.ui.video_view import ViewMode
from stylecam.engines.backends import Choice
from stylecam.engines.styles import StyleBank
from stylecam.engines.stylizer import VideoStylizer
from stylecam.engines.temporal import TemporalSettings
from tests.conftest import read_video
from tests.fake_camera import FakeCameraRig

SIZE = (320, 180)


@pytest.fixture(scope="session")
def thumbs_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("thumbs")


@pytest.fixture
def make_session(qtbot, tmp_path, monkeypatch, ort_engine, bank, thumbs_cache):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    sessions = []

    def make(source=None, **setup) -> LiveSession:
        settings = setup.pop("settings", Settings(capture_dir=str(tmp_path)))
        choice = setup.pop("choice", Choice(ort_engine))
        s = SessionSetup(choice=choice, bank=bank, source=source or sample_source(),
                         source_spec="sample", notice=None, settings=settings, size=SIZE, **setup)
        session = LiveSession(s, Thumbnails(ort_engine, cache=thumbs_cache), bank_loader=setup_bank_loader(tmp_path),
                              bank_signature=lambda: tuple(sorted(p.name for p in (tmp_path / "data").rglob("*.npz"))))
        qtbot.addWidget(session.window)
        sessions.append(session)
        session.start()
        return session

    def setup_bank_loader(root):
        def load():
            from stylecam.engines.styles import merged, user_styles_dir

            return merged(bank, user_styles_dir(), warn=print)
        return load

    yield make
    for session in sessions:
        session.finish()
        session.shutdown()


def shown_after(qtbot, session, count: int = 1, timeout: int = 20000) -> None:
    """Wait until `count` more frames have been painted."""
    target = session.window.view.painted + count
    qtbot.waitUntil(lambda: session.window.view.painted >= target, timeout=timeout)


def stylise(engine, vector, image):
    return VideoStylizer(engine, vector, TemporalSettings(strength=0.0)).step(image).image


def test_window_starts_on_the_sample_clip_with_thumbnails(qtbot, make_session, bank):
    session = make_session()
    shown_after(qtbot, session, 1)
    win = session.window
    assert win.isVisible()
    assert "sample clip" in win.source_label.text()
    assert win.strip.count() == len(bank.names) and not win.strip.item(0).icon().isNull()


def test_frames_are_stylised_and_a_style_key_switches_with_the_image(qtbot, make_session, ort_engine, bank, tmp_path):
    session = make_session(settings=Settings(temporal=0.0, capture_dir=str(tmp_path)))  # each frame on its own
    shown_after(qtbot, session, 3)
    first = session.last_shown
    assert first.image.shape == (180, 320, 3)
    assert np.abs(first.image.astype(int) - first.original).mean() > 10  # stylised, not the camera picture
    np.testing.assert_array_equal(session.window.view.frame, first.image)

    qtbot.keyClick(session.window, Qt.Key.Key_4)
    assert session.style_index == 3 and session.window.strip.currentRow() == 3
    time.sleep(0.4)  # past the 0.3 s crossfade
    shown_after(qtbot, session, 3)
    now = session.last_shown
    assert now.style_index == 3
    old_style = stylise(ort_engine, bank.vectors[0], now.original)
    new_style = stylise(ort_engine, bank.vectors[3], now.original)
    to_new = np.abs(now.image.astype(int) - new_style).mean()
    to_old = np.abs(now.image.astype(int) - old_style).mean()
    assert to_new < 1.0 < to_old, (to_new, to_old)

    qtbot.keyClick(session.window, Qt.Key.Key_Right)
    qtbot.keyClick(session.window, Qt.Key.Key_Right)
    qtbot.keyClick(session.window, Qt.Key.Key_Left)
    assert session.style_index == 4


def test_space_shows_the_original_and_s_side_by_side(qtbot, make_session):
    session = make_session()
    shown_after(qtbot, session, 1)
    qtbot.keyClick(session.window, Qt.Key.Key_Space)
    assert session.mode is ViewMode.ORIGINAL
    shown_after(qtbot, session, 2)
    np.testing.assert_array_equal(session.window.view.frame, session.last_shown.original)
    qtbot.keyClick(session.window, Qt.Key.Key_S)
    shown_after(qtbot, session, 2)
    assert session.window.view.frame.shape == (180, 640, 3)
    np.testing.assert_array_equal(session.window.view.frame[:, 320:], session.last_shown.image)


def test_metrics_panel_updates_with_plausible_values(qtbot, make_session):
    session = make_session()
    shown_after(qtbot, session, 1)
    qtbot.waitUntil(lambda: bool(session.window.metrics.lines) and session.metrics.display.count >= 30,
                    timeout=20000)
    session.refresh_metrics()
    snap = session.metrics.snapshot()
    assert snap.capture_fps > 1 and snap.capture_fps <= 26  # the clip plays at 24 fps
    assert 0 < snap.display_fps <= snap.capture_fps * 1.2
    assert 0 < snap.latency_ms["p50"] <= snap.latency_ms["p95"] < 5000
    assert 0 < snap.engine_ms["p50"] < 5000
    text = session.window.metrics.text()
    assert "capture" in text and "display" in text and "fps" in text and "p95" in text
    assert "onnxruntime on CPUExecutionProvider" in text  # the engine the session was given


def test_recording_holds_the_frames_shown(qtbot, make_session, tmp_path):
    session = make_session()
    shown_after(qtbot, session, 1)
    qtbot.keyClick(session.window, Qt.Key.Key_R)
    assert session.outputs.recorder is not None
    start = session.metrics.display.count
    shown_after(qtbot, session, 30)
    qtbot.keyClick(session.window, Qt.Key.Key_R)
    shown_count = session.metrics.display.count - start
    assert session.outputs.recorder is None and len(session.outputs.recordings) == 1
    path = session.outputs.recordings[0]["path"]
    frames, _ = read_video(path)
    assert abs(len(frames) - shown_count) <= 2, (len(frames), shown_count)
    assert frames[0].shape == (180, 320, 3)


def test_a_full_disk_stops_the_recording_with_a_message_and_the_window_runs_on(qtbot, make_session, monkeypatch):
    free = {"mb": 5000.0}
    monkeypatch.setattr("stylecam.app.outputs.recorder.free_mb", lambda folder: free["mb"])
    session = make_session()
    shown_after(qtbot, session, 1)
    qtbot.keyClick(session.window, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: session.outputs.recorder.written >= 30, timeout=20000)
    free["mb"] = 50.0
    qtbot.waitUntil(lambda: session.window.banner.isVisible(), timeout=5000)
    assert session.window.banner.text().startswith("recorder stopped: DiskFull: disk nearly full (50 MB left")
    written = session.outputs.recorder.written
    shown_after(qtbot, session, 10)  # the window runs on
    qtbot.keyClick(session.window, Qt.Key.Key_R)
    frames, _ = read_video(session.outputs.recordings[0]["path"])
    assert len(frames) == written and session.outputs.recordings[0]["frames_written"] == written


def test_p_saves_a_png_snapshot_of_the_screen(qtbot, make_session, tmp_path):
    import cv2

    session = make_session()
    shown_after(qtbot, session, 1)
    qtbot.keyClick(session.window, Qt.Key.Key_P)
    pngs = list(tmp_path.glob("stylecam-*.png"))
    assert len(pngs) == 1
    assert cv2.imread(str(pngs[0])).shape == (180, 320, 3)


def test_lost_camera_shows_a_card_and_resumes(qtbot, make_session, monkeypatch):
    monkeypatch.setattr("stylecam.app.live.pipeline.RECONNECT_EVERY_S", 0.1)
    rig = FakeCameraRig()
    session = make_session(CameraSource(0, opener=rig.open))
    shown_after(qtbot, session, 2)
    rig.unplug()
    qtbot.waitUntil(lambda: session.window.view.card is not None, timeout=10000)
    assert "Reconnecting" in session.window.view.card[0]
    rig.plug()
    qtbot.waitUntil(lambda: session.window.view.card is None, timeout=10000)
    shown_after(qtbot, session, 3)
    assert not session.errors


def test_kiosk_cycles_styles_and_only_double_escape_leaves(qtbot, make_session):
    session = make_session(kiosk=True, cycle_s=0.5)
    win = session.window
    qtbot.waitUntil(lambda: win.isVisible(), timeout=5000)
    assert win.isFullScreen() and not win.side.isVisible() and not win.strip.isVisible()
    seen = {session.style_index}
    qtbot.waitUntil(lambda: seen.add(session.style_index) or len(seen) >= 3, timeout=10000)
    for key in (Qt.Key.Key_Q, Qt.Key.Key_F, Qt.Key.Key_R, Qt.Key.Key_P, Qt.Key.Key_O):
        qtbot.keyClick(win, key)
    win.close()  # a window manager's close, Alt+F4
    qtbot.keyClick(win, Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier)
    assert win.isVisible() and win.isFullScreen() and session.outputs.recorder is None and not session.closed
    qtbot.keyClick(win, Qt.Key.Key_Escape)
    assert win.isVisible() and win.hint.isVisible()
    qtbot.keyClick(win, Qt.Key.Key_Escape)
    assert not win.isVisible() and session.closed


def test_a_style_key_storm_during_crossfades_settles_on_the_last_style(qtbot, make_session, bank):
    session = make_session()
    shown_after(qtbot, session, 1)
    keys = [Qt.Key.Key_Right] * 150 + [Qt.Key.Key_3, Qt.Key.Key_Left, Qt.Key.Key_Left]  # held down, then more
    for i, key in enumerate(keys):
        qtbot.keyClick(session.window, key)
        if i % 10 == 0:
            qtbot.wait(5)  # frames keep coming between the auto-repeats
    expected = 0  # key 3 picks index 2, then two steps left
    assert session.style_index == expected
    qtbot.waitUntil(lambda: session.last_shown is not None and session.last_shown.style_index == expected,
                    timeout=10000)
    qtbot.wait(400)  # past the last 0.3 s crossfade
    fader = session.pipeline.inference.fader
    np.testing.assert_array_equal(fader.vector(time.perf_counter()), bank.vectors[expected])
    shown_after(qtbot, session, 2)
    assert session.pipeline.inference.alive and not session.errors


def test_sliders_are_rate_limited_before_the_worker(qtbot, make_session):
    session = make_session()
    controls = session.window.controls
    for value in range(0, 101, 2):
        controls.strength_slider.setValue(value)
    assert controls.strength_limiter.delivered == 1  # the first at once, the rest held back
    qtbot.waitUntil(lambda: session.pipeline.controls.get()[0].style_strength == 1.0, timeout=2000)
    assert controls.strength_limiter.delivered == 2
    assert session.settings.style_strength == 1.0


def test_a_stopped_sink_shows_a_lasting_banner(qtbot, make_session):
    session = make_session()
    session.signals.error.emit("recorder", "OSError: No space left on device")
    qtbot.waitUntil(lambda: session.window.banner.isVisible(), timeout=2000)
    assert "recorder stopped: OSError: No space left on device" in session.window.banner.text()
    assert session.errors == ["recorder stopped: OSError: No space left on device"]


class FlakyEngine:
    """The real engine, raising on the calls numbered in `failing` (1-based)."""

    def __init__(self, engine, failing: set[int]):
        self.engine, self.failing, self.calls = engine, failing, 0
        for attr in ("name", "provider", "precision", "graph", "core_channels"):
            setattr(self, attr, getattr(engine, attr))

    def run(self, *inputs):
        self.calls += 1
        if self.calls in self.failing:
            raise RuntimeError("engine fell over")
        return self.engine.run(*inputs)


@pytest.mark.parametrize("kiosk", [False, True])
def test_an_engine_failing_mid_run_restarts_inference_and_shows_once(qtbot, make_session, ort_engine, kiosk):
    engine = FlakyEngine(ort_engine, failing={6, 7, 8})
    session = make_session(choice=Choice(engine), kiosk=kiosk)
    cards = []
    session.window.view.set_card = lambda title, detail="": cards.append(title) or type(session.window.view).set_card(
        session.window.view, title, detail)
    qtbot.waitUntil(lambda: session.metrics.stage_failures.get("inference") == 3, timeout=20000)
    shown_after(qtbot, session, 3)  # frames flow again
    assert session.pipeline.inference.alive and engine.calls > 8
    assert len(session.errors) == 1  # three failures, shown once
    assert session.errors[0].startswith("inference failed and restarted: RuntimeError: engine fell over")
    assert not session.window.banner.isVisible()
    if kiosk:
        assert "One moment please" in cards and cards[-1] is None and session.window.view.card is None  # covered, uncovered
    else:
        assert "engine fell over" in session.window.statusBar().currentMessage()
        session.refresh_metrics()
        assert "errors    3 (survived)" in session.window.metrics.text()


def test_styles_added_by_train_style_appear_without_restart(qtbot, make_session, bank, tmp_path):
    session = make_session()
    folder = tmp_path / "data" / "stylecam" / "styles"
    folder.mkdir(parents=True)
    StyleBank(("my_painting",), bank.vectors[2:3] * 0.9).save(folder / "my_painting.npz")
    session.check_bank()
    assert session.window.strip.count() == len(bank.names) + 1
    session.select_style(len(bank.names))
    # frames already in flight when the key was pressed still show the old style
    qtbot.waitUntil(lambda: session.last_shown is not None and session.last_shown.style_index == len(bank.names),
                    timeout=10000)


def test_v_without_a_virtual_camera_driver_says_so_in_the_window(qtbot, make_session):
    session = make_session()
    qtbot.keyClick(session.window, Qt.Key.Key_V)
    message = session.window.statusBar().currentMessage()
    assert session.outputs.virtualcam is None
    assert "virtual camera" in message and ("v4l2loopback" in message or "stylecam[virtualcam]" in message)


def test_o_opens_a_chromeless_output_window_with_the_stylised_video(qtbot, make_session):
    session = make_session()
    shown_after(qtbot, session, 1)
    qtbot.keyClick(session.window, Qt.Key.Key_O)
    out = session.outputs.output_window
    assert out is not None and out.isVisible()
    assert out.windowFlags() & Qt.WindowType.FramelessWindowHint
    shown_after(qtbot, session, 3)
    np.testing.assert_array_equal(out.view.frame, session.window.view.frame)
    qtbot.keyClick(session.window, Qt.Key.Key_Space)  # the main window's view mode applies to both
    shown_after(qtbot, session, 2)
    np.testing.assert_array_equal(out.view.frame, session.last_shown.original)
    qtbot.keyClick(out, Qt.Key.Key_Escape)  # Esc in the output window closes only that window
    assert session.outputs.output_window is None and not out.isVisible()
    assert session.window.isVisible() and not session.closed
    shown_after(qtbot, session, 2)


def test_the_file_picker_plays_the_chosen_video_and_refuses_a_corrupt_one(qtbot, make_session, monkeypatch, tmp_path):
    from tests.conftest import SHOT_START, clip_frames, write_clip

    mirrored = [np.ascontiguousarray(f[:, ::-1]) for f in clip_frames(60, SIZE, start=SHOT_START)]
    movie = tmp_path / "mirrored.mp4"
    write_clip(movie, mirrored)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video" * 20)
    chosen = [str(broken), str(movie)]
    monkeypatch.setattr("stylecam.app.ui.panels.QFileDialog.getOpenFileName",
                        lambda *args, **kwargs: (chosen.pop(0), "Videos"))
    session = make_session()
    shown_after(qtbot, session, 1)
    box = session.window.controls.source_box
    file_item = box.findData("")

    box.activated.emit(file_item)  # the corrupt file: a message, and the sample clip plays on
    assert session.source_spec == "sample"
    assert "broken.mp4" in session.window.statusBar().currentMessage()
    shown_after(qtbot, session, 2)

    box.activated.emit(file_item)
    assert session.source_spec == str(movie) and "mirrored.mp4" in session.window.source_label.text()
    assert box.currentData() == str(movie)
    shown_after(qtbot, session, 5)
    original = session.last_shown.original.astype(int)
    to_file = min(np.abs(original - f).mean() for f in mirrored)
    to_sample = min(np.abs(original - f[:, ::-1]).mean() for f in mirrored)
    assert to_file < 10.0 < to_sample, (to_file, to_sample)  # mp4v loses a few levels
    assert session.settings.source == str(movie)


@pytest.fixture(scope="module")
def segmenter():
    from stylecam.app.cli.loading import load_segmenter

    return load_segmenter()


def test_m_cycles_the_regions_modes_and_the_person_stays_original(qtbot, make_session, segmenter, bank):
    """M steps whole -> background only -> person only -> two styles -> whole; in 'background
    only' the actor is shown as filmed, in 'two styles' the background takes the second style."""
    session = make_session(segmenter=segmenter)
    win = session.window
    shown_after(qtbot, session, 2)
    modes = []
    for _ in range(4):
        qtbot.keyClick(win, Qt.Key.Key_M)
        modes.append(session.settings.regions)
        assert session.pipeline.controls.get()[0].regions.whole_frame == (session.settings.regions == "whole")
        assert win.controls.regions_box.currentData() == session.settings.regions
    assert modes == ["background", "person", "two", "whole"]
    assert session.settings.second_style == bank.names[1]  # the style after the selected one, kept
    assert win.controls.second_box.currentData() == bank.names[1]

    qtbot.keyClick(win, Qt.Key.Key_M)  # background only
    import cv2

    def person_shot():  # the clip opens on a shot without people; wait for the actor's
        r = session.last_shown
        if r is None or r.times.segment == 0:
            return None
        person = cv2.resize(segmenter(r.original), (r.image.shape[1], r.image.shape[0]))
        return (r, person) if (person > 0.95).mean() > 0.02 else None

    def kept_as_filmed() -> bool:  # the steadied mask takes a few frames to reach a new person
        shot = person_shot()
        if shot is None:
            return False
        result, person = shot
        diff = np.abs(result.image.astype(np.int16) - result.original.astype(np.int16)).mean(axis=2)
        return diff[person > 0.98].mean() < 8.0 and diff[person < 0.02].mean() > 25.0

    qtbot.waitUntil(kept_as_filmed, timeout=30000)
    session.refresh_metrics()
    assert any(line.startswith("regions   Background only") for line in win.metrics.lines)
    assert any(line.startswith("segment   p50") for line in win.metrics.lines)


def test_regions_persist_and_the_panel_picks_the_background_style(qtbot, make_session, segmenter, bank, tmp_path):
    from stylecam.app.cli.live import LiveOptions, prepare
    from stylecam.app.ui.settings import load_settings, save_settings

    session = make_session(segmenter=segmenter)
    session.window.controls.regions_chosen.emit("two")
    session.window.controls.second_style_chosen.emit(bank.names[4])
    regions = session.pipeline.controls.get()[0].regions
    assert np.array_equal(regions.background, bank.vectors[4]) and regions.person == "current"
    save_settings(session.settings)
    saved, warning = load_settings()
    assert warning is None and (saved.regions, saved.second_style) == ("two", bank.names[4])
    setup = prepare(LiveOptions(source="sample"))  # the next run starts where this one ended
    assert (setup.settings.regions, setup.settings.second_style) == ("two", bank.names[4])
    setup = prepare(LiveOptions(source="sample", person_style="original", background_style=bank.names[2]))
    assert (setup.settings.regions, setup.settings.style) == ("background", bank.names[2])


def test_kiosk_cycling_steps_the_regions_mode_after_each_round(qtbot, make_session, segmenter, bank):
    session = make_session(kiosk=True, cycle_s=0.5, cycle_regions=True, segmenter=segmenter)
    qtbot.waitUntil(lambda: session.settings.regions == "background", timeout=len(bank.names) * 500 + 8000)
    assert session.style_index == 0


def test_without_a_segmenter_regions_stay_the_whole_frame(qtbot, make_session):
    session = make_session(settings=Settings(regions="background"))
    assert session.settings.regions == "whole" and not session.window.controls.regions_box.isEnabled()
    qtbot.keyClick(session.window, Qt.Key.Key_M)
    assert session.settings.regions == "whole"
    assert "segmenter" in session.window.statusBar().currentMessage()


def test_two_styles_from_saved_settings_fix_the_background_style_at_start(qtbot, make_session, segmenter, bank):
    session = make_session(settings=Settings(regions="two"), segmenter=segmenter)
    assert session.settings.second_style == bank.names[1]
    session.select_style(3)  # another selected style leaves the background's as it was
    assert session.second_style() == bank.names[1]
    assert np.array_equal(session.pipeline.controls.get()[0].regions.background, bank.vectors[1])
