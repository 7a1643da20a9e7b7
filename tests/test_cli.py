"""The headless CLI end to end on real footage, and every kind of bad input."""
from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

import pytest

from stylecam.app.cli.main import main
from stylecam.app.outputs.video_out import have_pyav
from tests.conftest import SHOT_START, clip_frames, read_video, write_clip


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory):
    """12 real frames of the sample clip at 320x180, 24 fps."""
    path = tmp_path_factory.mktemp("clips") / "short.mp4"
    write_clip(path, clip_frames(12, (320, 180), start=SHOT_START), fps=24.0)
    return path


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("stylecam: error: ")
    return err[0]


def test_stylize_keeps_count_fps_and_size(short_clip, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    assert main(["stylize", str(short_clip), "-o", str(out), "--style", "great_wave", "--temporal", "0.7"]) == 0
    frames, fps = read_video(out)
    assert len(frames) == 12
    assert fps == pytest.approx(24.0, abs=0.01)
    assert frames[0].shape == (180, 320, 3)
    summary = capsys.readouterr().out
    assert "stylized 12 frames" in summary and "24.00 fps" in summary
    assert summary.rstrip().endswith("H.264 (CRF 18)" if have_pyav() else "MPEG-4 Part 2 (mp4v; PyAV not installed)")
    assert not list(tmp_path.glob(".*partial*"))


def test_stylize_resizes_and_changes_the_image(short_clip, tmp_path):
    out = tmp_path / "small.avi"
    assert main(["stylize", str(short_clip), "-o", str(out), "--size", "160x96", "--style", "2"]) == 0
    frames, _ = read_video(out)
    assert len(frames) == 12 and frames[0].shape == (96, 160, 3)
    import cv2

    source = cv2.resize(clip_frames(1, (320, 180), start=SHOT_START)[0], (160, 96))
    assert abs(frames[0].astype(int) - source).mean() > 10  # stylised, not a copy


def test_console_script_smoke(short_clip, tmp_path):
    out = tmp_path / "smoke.mp4"
    run = subprocess.run(["stylecam", "stylize", str(short_clip), "-o", str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "stylized 12 frames" in run.stdout and out.is_file()
    assert "engine openvino on CPU" in run.stderr  # auto's choice on a host without a GPU


def test_app_runtime_never_imports_torch_or_qt(short_clip, tmp_path):
    code = ("import sys; from stylecam.app.cli.main import main; "
            f"rc = main(['stylize', {str(short_clip)!r}, '-o', {str(tmp_path / 'x.mp4')!r}]); "
            "assert rc == 0; bad = [m for m in ('torch', 'PyQt6') if m in sys.modules]; "
            "assert not bad, bad")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_styles_lists_the_bank(capsys, bank):
    assert main(["styles"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(bank.names) >= 1
    assert lines[0].split() == ["0", bank.names[0]]


def test_bench_json_contract(tmp_path):
    path = tmp_path / "bench.json"
    assert main(["bench", "--source", "synthetic", "--size", "160x120", "--frames", "6", "--warmup", "2",
                 "--temporal", "0.5", "--json", str(path)]) == 0
    report = json.loads(path.read_text())
    for key in ("fps", "latency_ms", "stages_ms", "engine", "provider", "size", "frames", "temporal"):
        assert key in report
    assert report["frames"] == 6 and report["size"] == "160x120" and report["temporal"] == 0.5
    assert report["engine"] == "openvino" and report["provider"] == "CPU" and report["precision"] == "fp32"
    assert report["machine"]["openvino"] == metadata.version("openvino")  # which runtime build gave the figures
    lat = report["latency_ms"]
    assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"]
    for stage in ("preprocess", "flow", "engine", "postprocess", "total"):
        assert 0 <= report["stages_ms"][stage]["p50"] <= report["stages_ms"][stage]["p95"]
    assert report["fps"] > 0
    assert report["phase_lock"] == "on"  # the default: whole and sub-pixel
    over = report["overlapped"]  # the same frames as the window runs them
    assert over["fps"] > 0 and 0 < over["frame_ms"]["p50"] <= over["frame_ms"]["p95"]
    assert 0 < over["latency_ms"]["p50"] <= over["latency_ms"]["p95"]


@pytest.mark.parametrize("lock, temporal, reported", [("pixel", "0.5", "pixel"), ("off", "0.5", "off"), ("on", "0", "off")])
def test_bench_says_which_phase_lock_ran(lock, temporal, reported, tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert main(["bench", "--source", "synthetic", "--size", "160x120", "--frames", "4", "--warmup", "1",
                 "--temporal", temporal, "--phase-lock", lock, "--json", str(path)]) == 0
    assert json.loads(path.read_text())["phase_lock"] == reported
    assert f"(phase lock {reported})" in capsys.readouterr().out


def test_bench_on_a_clip_loops_past_its_end(short_clip, tmp_path):
    path = tmp_path / "bench.json"
    assert main(["bench", "--source", str(short_clip), "--size", "320x180", "--frames", "20", "--warmup", "1",
                 "--json", str(path)]) == 0
    assert json.loads(path.read_text())["frames"] == 20


@pytest.mark.parametrize("make_input, message", [
    (lambda d: d / "missing.mp4", "input video not found"),
    (lambda d: (d / "corrupt.mp4").write_bytes(b"\x00garbage" * 500) and d / "corrupt.mp4", "corrupt"),
    (lambda d: (d / "empty.mp4").write_bytes(b"") or d / "empty.mp4", "corrupt"),
    (lambda d: (d / "text.mp4").write_text("not a video\n") and d / "text.mp4", "corrupt"),
])
def test_bad_input_file(make_input, message, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    assert main(["stylize", str(make_input(tmp_path)), "-o", str(out)]) == 2
    assert message in error_line(capsys)
    assert not out.exists() and not list(tmp_path.glob(".*partial*"))


def test_zero_frame_video(tmp_path, capsys):
    import cv2

    empty = tmp_path / "zero.avi"
    cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"MJPG"), 24, (64, 64)).release()
    out = tmp_path / "out.mp4"
    assert main(["stylize", str(empty), "-o", str(out)]) == 2
    assert "no frames" in error_line(capsys) or "cannot open" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--style", "no_such_style"], "unknown style 'no_such_style'"),
    (["--style", "99"], "style index 99 out of range"),
    (["--style", "-1"], "style index -1 out of range"),
    (["--size", "641x480"], "must be even"),
    (["--size", "0x0"], "out of range"),
    (["--size", "100000x5"], "out of range"),
    (["--size", "big"], "must look like 640x480"),
    (["--temporal", "2"], "--temporal must be in [0, 1]"),
    (["--quality", "52"], "--quality must be an H.264 CRF in 0..51"),
])
def test_bad_options(args, message, short_clip, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    assert main(["stylize", str(short_clip), "-o", str(out), *args]) == 2
    assert message in error_line(capsys)
    assert not out.exists()


@pytest.mark.parametrize("target, message", [
    ("no_such_dir/out.mp4", "output folder does not exist"),
    (".", "output path is a folder"),
    ("out.xyz", "unsupported output type"),
])
def test_unwritable_output(target, message, short_clip, tmp_path, capsys):
    assert main(["stylize", str(short_clip), "-o", str(tmp_path / target)]) == 2
    assert message in error_line(capsys)


def test_failure_keeps_an_existing_output(tmp_path, capsys):
    out = tmp_path / "keep.mp4"
    out.write_bytes(b"an earlier result")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"junk" * 100)
    assert main(["stylize", str(bad), "-o", str(out)]) == 2
    assert out.read_bytes() == b"an earlier result"


def test_unknown_and_unavailable_engines(short_clip, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["stylize", str(short_clip), "-o", str(tmp_path / "o.mp4"), "--engine", "warp-drive"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'warp-drive'" in capsys.readouterr().err
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("CUDA is available here; the unavailable-engine path is not reachable")
    assert main(["stylize", str(short_clip), "-o", str(tmp_path / "o.mp4"), "--engine", "ort-cuda"]) == 2
    assert "CUDAExecutionProvider is not in this onnxruntime build" in error_line(capsys)
    assert not (tmp_path / "o.mp4").exists()


def test_window_without_a_display_is_a_clear_error(monkeypatch, capsys):
    if not sys.platform.startswith("linux"):
        pytest.skip("the display check is for Linux (X11/Wayland)")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert main(["--duration", "1"]) == 2
    assert "no display to open the window on" in error_line(capsys)


def test_stylize_keeps_the_person_original_and_bench_times_the_segment_stage(short_clip, tmp_path, capsys):
    import numpy as np

    out = tmp_path / "regions.mp4"
    assert main(["stylize", str(short_clip), "-o", str(out), "--person-style", "original", "--style", "udnie"]) == 0
    assert "regions: person original, background udnie" in capsys.readouterr().err
    frames, _ = read_video(out)
    originals = clip_frames(12, (320, 180), start=SHOT_START)
    actor = (slice(60, 160), slice(88, 108))  # the actor stands at 27-34 % of the width
    street = (slice(60, 160), slice(210, 320))
    diff = np.abs(frames[-1].astype(np.int16) - originals[-1].astype(np.int16))
    assert diff[actor].mean() < 10.0 and diff[street].mean() > 25.0  # (the codec adds a little)

    path = tmp_path / "bench.json"
    assert main(["bench", "--size", "160x120", "--frames", "4", "--warmup", "1", "--json", str(path),
                 "--person-style", "great_wave", "--background-style", "udnie"]) == 0
    report = json.loads(path.read_text())
    assert report["regions"] == "person great_wave, background udnie"
    assert report["graph"] == "stylecam v2 seeded regions"
    assert report["stages_ms"]["segment"]["p50"] > 0


@pytest.mark.parametrize("args, message", [
    (["--person-style", "original", "--background-style", "original"], "nothing to stylise"),
    (["--background-style", "no_such_style"], "unknown style 'no_such_style'"),
])
def test_bad_region_options(args, message, short_clip, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    assert main(["stylize", str(short_clip), "-o", str(out), *args]) == 2
    assert message in error_line(capsys)
    assert not out.exists()
