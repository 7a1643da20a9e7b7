"""`stylecam` without a subcommand: scripted runs of the real window, and bad input."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from stylecam.app.cli.main import main
from stylecam.app.ui.settings import Settings, save_settings
from stylecam.engines.host import cpu_class
from tests.conftest import read_video


@pytest.fixture
def xdg(tmp_path, monkeypatch):
    env = {name: str(tmp_path / name.lower()) for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.mark.parametrize("argv,needle", [
    (["--size", "33x33"], "--size 33x33: width and height must be even"),
    (["--size", "big"], "--size must look like 640x480"),
    (["--duration", "-1"], "--duration must be in"),
    (["--cycle", "2"], "--cycle needs --kiosk"),
    (["--kiosk", "--cycle", "0"], "--cycle must be in"),
    (["--source", "/no/such/clip.mp4"], "not a camera, 'sample', 'synthetic' or an existing video file"),
    (["--style", "no_such_style"], "unknown style 'no_such_style'"),
    (["--style", "99"], "style index 99 out of range"),
    (["--record", "out.gif"], "unsupported recording type '.gif'"),
    (["--record", "/no/such/folder/out.mkv"], "recording folder does not exist"),
    (["--metrics-json", "/no/such/folder/m.json"], "--metrics-json folder does not exist"),
])
def test_bad_window_input_is_one_line_and_exit_2(argv, needle, xdg, capsys):
    assert main(["--source", "sample", "--duration", "1", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("stylecam: error: ") and needle in err[0], err


def test_scripted_run_records_and_reports_its_own_figures(tmp_path, xdg):
    """The console entry in a fresh process: window + pipeline for 4 s on the sample clip,
    recording; the JSON holds the window's figures, the recording what was shown, no torch."""
    report_path, video = tmp_path / "run.json", tmp_path / "run.mp4"
    code = ("import sys; from stylecam.app.cli.main import main; "
            f"rc = main(['--source', 'sample', '--size', '320x180', '--style', 'great_wave', '--duration', '4', "
            f"'--record', {str(video)!r}, '--metrics-json', {str(report_path)!r}]); "
            "assert 'torch' not in sys.modules, 'torch imported'; sys.exit(rc)")
    env = {**os.environ, **xdg, "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    report = json.loads(report_path.read_text())
    assert report["source"] == "sample clip" and report["style"] == "great_wave" and report["size"] == "320x180"
    assert report["engine"] == "openvino" and report["provider"] == "CPU" and not report["errors"]
    assert report["cpu"] == cpu_class() != "unknown"  # the figures name the host class
    fps = report["fps"]
    assert 0 < fps["display"] <= fps["capture"] * 1.2 and 0 < fps["inference"] <= 30
    lat = report["latency_ms"]["capture_to_display"]
    assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"]
    assert 0 < report["first_frame_s"]["from_launch"] < 60
    assert report["frames"]["shown"] >= 10
    assert report["rss_mb"]["end"] > 50
    assert set(report["cpu_percent_of_one_core"]) >= {"capture", "display", "capture_plus_display"}
    frames, _ = read_video(video)
    recorded = report["recordings"][0]
    assert recorded["path"] == str(video) and recorded["frames_dropped"] == 0
    assert abs(len(frames) - report["frames"]["shown"]) <= 2, (len(frames), report["frames"])
    settings = json.loads((tmp_path / "xdg_config_home" / "stylecam" / "settings.json").read_text())
    assert settings["style"] == "great_wave" and settings["source"] == "sample"


ENTRY = "import sys; from stylecam.app.cli.main import main; sys.exit(main(sys.argv[1:]))"


def run_window(argv: list[str], xdg: dict) -> subprocess.CompletedProcess:
    """The window in a fresh process (a QApplication that ran exec() is not reused by other tests)."""
    env = {**os.environ, **xdg, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-c", ENTRY, *argv], capture_output=True, text=True,
                          env=env, timeout=120)


def test_settings_carry_the_last_choices_into_the_next_run(tmp_path, xdg):
    save_settings(Settings(source="sample", style="udnie", style_strength=0.5, temporal=0.2, size="320x180"))
    report_path = tmp_path / "m.json"
    run = run_window(["--duration", "1.5", "--metrics-json", str(report_path)], xdg)
    assert run.returncode == 0, run.stderr
    report = json.loads(report_path.read_text())
    assert (report["source"], report["style"], report["size"]) == ("sample clip", "udnie", "320x180")


def test_corrupt_settings_warn_and_the_window_still_runs(tmp_path, xdg):
    path = tmp_path / "xdg_config_home" / "stylecam" / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text("{ this is not json")
    run = run_window(["--source", "sample", "--size", "320x180", "--duration", "1"], xdg)
    assert run.returncode == 0, run.stderr
    assert "stylecam: warning: settings file" in run.stderr and "using defaults" in run.stderr
    assert json.loads(path.read_text())["source"] == "sample"  # rewritten whole on exit


def test_an_unwritable_settings_folder_warns_and_the_run_succeeds(tmp_path, xdg):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the config folder should be")
    run = run_window(["--source", "sample", "--size", "320x180", "--duration", "1"],
                     {**xdg, "XDG_CONFIG_HOME": str(blocker)})
    assert run.returncode == 0, run.stderr
    assert f"stylecam: warning: settings not saved to {blocker / 'stylecam' / 'settings.json'}" in run.stderr
    assert blocker.read_text() == "a file where the config folder should be"


def test_latency_test_on_the_loopback_camera_measures_its_delay_plus_the_pipeline(tmp_path, xdg):
    """The simulated camera films the window 120 ms late at 30 fps, so each flash reaches a camera
    frame 120 to 120 + 33 ms after it was painted (+ a little scheduling slack); glass-to-glass is
    that plus the pipeline's capture -> paint time, which may exceed the run's own capture ->
    display p50 by up to one engine run (a frame that arrives while the engine is busy waits)."""
    report_path = tmp_path / "latency.json"
    run = run_window(["latency-test", "--loopback", "--loopback-delay", "120", "--duration", "8",
                      "--size", "320x240", "--json", str(report_path)], xdg)
    assert run.returncode == 0, run.stderr
    report = json.loads(report_path.read_text())
    assert report["source"] == "loopback camera (120 ms delay)"
    assert len(report["samples"]) >= 4 and report["missed"] == 0
    for s in report["samples"]:
        assert 120 <= s["camera_ms"] <= 120 + 1000 / 30 + 15, s
        assert s["glass_to_glass_ms"] == pytest.approx(s["camera_ms"] + s["pipeline_ms"], abs=0.2)
    lat, stages = report["latency_ms"], report["stages_ms"]
    assert lat["p50"] <= lat["p95"] <= lat["p99"]
    expected = 120 + stages["capture_to_display"]["p50"]
    assert expected - 15 <= lat["p50"] <= expected + 1000 / 30 + stages["engine"]["p95"] + 15, (lat, stages)
    assert "glass-to-glass  p50" in run.stdout and "flashes" in run.stdout


def test_latency_test_without_a_camera_says_to_use_loopback(xdg):
    run = run_window(["latency-test", "--source", "/dev/video9", "--duration", "2"], xdg)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1].startswith("stylecam: error: latency-test needs a camera pointed at the window")
