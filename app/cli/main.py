"""The `stylecam` command: subcommands with lazy imports (export never imports Qt, the app never
imports torch). Bad input ends with one line on stderr and exit code 2."""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

EXIT_BAD_INPUT = 2
MAX_SIDE = 4096


class UsageError(ValueError):
    """Bad input the user can fix; printed as one line."""


def parse_size(text: str) -> tuple[int, int]:
    """'WxH' -> (W, H); both even and in [32, 4096]."""
    m = re.fullmatch(r"\s*(\d{1,6})\s*[xX]\s*(\d{1,6})\s*", text or "")
    if not m:
        raise UsageError(f"--size must look like 640x480, got {text!r}")
    w, h = int(m.group(1)), int(m.group(2))
    if not (32 <= w <= MAX_SIDE and 32 <= h <= MAX_SIDE):
        raise UsageError(f"--size {w}x{h} out of range: each side must be 32..{MAX_SIDE}")
    if w % 2 or h % 2:
        raise UsageError(f"--size {w}x{h}: width and height must be even (video encoders need it)")
    return w, h


def parse_strength(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise UsageError(f"--temporal must be in [0, 1], got {value}")
    return value


def _temporal(value: float, phase_lock: str = "on"):
    from stylecam.engines.temporal import TemporalSettings

    return TemporalSettings(strength=parse_strength(value), phase_lock=phase_lock != "off", subpixel=phase_lock == "on")


def add_phase_lock_arg(parser) -> None:
    parser.add_argument("--phase-lock", choices=("on", "pixel", "off"), default="on",
                        help="keep the scene on the network's 8-pixel grid while the camera moves: on (the "
                             "default) also between whole pixels, pixel to whole pixels only; with the "
                             "temporal path only")


def add_region_args(parser, dest_prefix: str = "") -> None:
    """--person-style / --background-style (NAME, index or 'original'; unnamed: the --style)."""
    for region in ("person", "background"):
        parser.add_argument(f"--{region}-style", dest=f"{dest_prefix}{region}_style",
                            help=f"what the {region} shows: a style name or index, or 'original' (the picture "
                                 f"as it is); default: the --style, as the rest of the frame")


def region_choice(person: str | None, background: str | None, bank):
    """The RegionChoice of the two options, checked against the bank (one-line errors)."""
    from stylecam.app.live.regions import RegionChoice
    from stylecam.engines.regions import CURRENT, ORIGINAL

    def value(text: str | None) -> str:
        if text is None:
            return CURRENT
        return ORIGINAL if text.strip().lower() == ORIGINAL else bank.names[bank.index(text)]

    choice = RegionChoice(value(person), value(background))
    if choice.person == choice.background == ORIGINAL:
        raise UsageError("--person-style and --background-style are both 'original': nothing to stylise")
    return choice


def _segmenter_for(choice):
    from stylecam.app.cli.loading import load_segmenter

    return None if choice.mode == "whole" else load_segmenter()


def cmd_styles(args) -> int:
    from stylecam.app.cli.loading import load_bank

    bank = load_bank()
    for i, name in enumerate(bank.names):
        print(f"{i:2d}  {name}")
    return 0


def cmd_stylize(args) -> int:
    from stylecam.app.cli.loading import load_bank, load_engine
    from stylecam.app.cli.stylize import StylizeJob, stylize
    from stylecam.app.live.sources import VideoFileSource
    from stylecam.app.outputs.video_out import check_crf, check_target
    from stylecam.assets import paths

    size = parse_size(args.size) if args.size else None
    temporal = _temporal(args.temporal, args.phase_lock)
    style = load_bank().vector(args.style)
    output = Path(args.output)
    check_target(output)
    check_crf(args.quality)
    bank = load_bank()
    regions = region_choice(args.person_style, args.background_style, bank)
    path = Path(args.input) if args.input else paths.sample_clip()
    source = VideoFileSource(path)
    choice = load_engine(args.engine)
    if not args.input:
        print(f"no input given: using the bundled sample clip {path.name}", file=sys.stderr)
    print(f"{choice.describe()}; regions: {regions.describe(bank, bank.names[bank.index(args.style)])}",
          file=sys.stderr)
    job = StylizeJob(path, output, style, temporal, size, args.quality, regions.regions(bank))
    summary = stylize(job, source, choice.engine, sys.stderr.isatty(), _segmenter_for(regions))
    print(summary.line())
    return 0


def cmd_bench(args) -> int:
    from stylecam.app.cli.bench import BenchSettings, run_bench, summary_lines
    from stylecam.app.cli.loading import load_bank, load_engine

    size = parse_size(args.size)
    if args.frames < 1 or args.warmup < 0:
        raise UsageError("--frames must be >= 1 and --warmup >= 0")
    bank = load_bank()
    index = bank.index(args.style)
    regions = region_choice(args.person_style, args.background_style, bank)
    choice = load_engine(args.engine)
    if args.json and not Path(args.json).parent.is_dir():
        raise UsageError(f"--json folder does not exist: {Path(args.json).parent}")
    temporal = _temporal(args.temporal, args.phase_lock)
    settings = BenchSettings(args.source, size, args.frames, args.warmup, temporal, index,
                             regions.regions(bank), regions.describe(bank, bank.names[index]))
    report = run_bench(settings, choice, bank.vectors[index], _segmenter_for(regions))
    print("\n".join(summary_lines(report)))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


def cmd_doctor(args) -> int:
    from stylecam.app.cli.doctor import collect, lines

    report = collect()
    print(json.dumps(report, indent=2) if args.json else "\n".join(lines(report)))
    return 0


def cmd_latency_test(args) -> int:
    from stylecam.app.cli.latency_test import LatencyTestOptions, run_latency_test, summary_lines
    from stylecam.app.ui.display import display_status

    if not display_status().available:
        raise UsageError("latency-test shows a window: run it in a desktop session, or with --loopback and "
                         "QT_QPA_PLATFORM=offscreen")
    options = LatencyTestOptions(source=args.source, loopback=args.loopback, delay_ms=args.loopback_delay,
                                 duration=args.duration, size=args.size, style=args.style, engine=args.engine,
                                 rise=args.rise, json=Path(args.json) if args.json else None)
    code, report = run_latency_test(options)
    print("\n".join(summary_lines(report)))
    return code


def cmd_export(args) -> int:
    from stylecam.app.live.sources import VideoFileSource
    from stylecam.assets import paths
    from stylecam.export.onnx_export import export

    clip = VideoFileSource(paths.sample_clip())
    frames = []
    for frame in clip.frames():
        if frame.index % 4 == 0:
            frames.append(frame.image[:352, :632])  # multiples of 8, not square
        if len(frames) == args.parity_frames:
            break
    report = export(Path(args.checkpoint), Path(args.output), frames)
    print(f"exported {report.styles} styles to {report.onnx_path}, {report.regions_path}, {report.bank_path}, "
          f"{report.checkpoint_path}; "
          f"onnx.checker passed; parity torch vs onnxruntime on {report.frames} real frames: "
          f"max abs diff {report.max_abs_diff:.2e}")
    return 0


def cmd_window(args) -> int:
    """The live window (the default command); scripted with --duration / --metrics-json."""
    from stylecam.app.ui.display import display_status

    if not display_status().available:
        raise UsageError("no display to open the window on: run it in a desktop session, set "
                         "QT_QPA_PLATFORM=offscreen, or use `stylecam stylize` for headless output")
    from stylecam.app.cli.live import LiveOptions, run

    options = LiveOptions(source=args.win_source, style=args.win_style, size=args.win_size, engine=args.win_engine,
                          record=Path(args.record) if args.record else None, duration=args.duration,
                          metrics_json=Path(args.metrics_json) if args.metrics_json else None,
                          kiosk=args.kiosk, cycle=args.cycle, output_window=args.output_window,
                          virtual_camera=args.virtual_camera, person_style=args.win_person_style,
                          background_style=args.win_background_style, cycle_regions=args.cycle_regions)
    code, _ = run(options)
    return code


def build_parser() -> argparse.ArgumentParser:
    from stylecam.engines.backends import ENGINE_NAMES  # numpy + cv2 only

    p = argparse.ArgumentParser(prog="stylecam", description="Real-time style transfer for video. Without a "
                                "subcommand: the live window (keys: 1-9/arrows style, Space original, S side by "
                                "side, F fullscreen, R record, P snapshot, O output window, V virtual camera).")
    p.set_defaults(func=cmd_window)
    w = p.add_argument_group("live window")
    w.add_argument("--source", dest="win_source", help="'auto' (camera 0, else the sample clip), a camera index or "
                   "/dev/videoN, 'sample', 'synthetic' or a video file (looped); default: the last used")
    w.add_argument("--style", dest="win_style", help="style name or 0-based index; default: the last used")
    w.add_argument("--size", dest="win_size", help="output WxH, 'source', or 'auto' (the source's size, processed smaller while the CPU "
                   "falls behind the camera); default: the last used, first 'auto'")
    w.add_argument("--engine", dest="win_engine", default="auto", choices=ENGINE_NAMES)
    w.add_argument("--record", help="record the stylised stream to this file (.mp4/.mov need PyAV; .mkv, .avi)")
    w.add_argument("--duration", type=float, help="quit after this many seconds")
    w.add_argument("--metrics-json", help="write the run's measured figures here as JSON when it ends")
    w.add_argument("--kiosk", action="store_true", help="booth mode: fullscreen, no controls, Esc twice to leave")
    w.add_argument("--cycle", type=float, help="with --kiosk: seconds per style (default 8)")
    w.add_argument("--cycle-regions", action="store_true",
                   help="with --kiosk: step the regions mode (whole, background only, person only, two styles) "
                        "after each round of styles")
    w.add_argument("--output-window", action="store_true", help="also open the clean output window (video only)")
    w.add_argument("--virtual-camera", action="store_true", help="send the stylised stream to a virtual camera")
    add_region_args(w, dest_prefix="win_")
    sub = p.add_subparsers(dest="command")

    s = sub.add_parser("styles", help="list the style bank")
    s.set_defaults(func=cmd_styles)

    s = sub.add_parser("stylize", help="stylise every frame of a video file")
    s.add_argument("input", nargs="?", help="input video (default: the bundled sample clip)")
    s.add_argument("-o", "--output", default="stylized.mp4", help="output video (.mp4, .avi, .mkv, .mov)")
    s.add_argument("--style", default="0", help="style name or 0-based index (see `stylecam styles`)")
    s.add_argument("--temporal", type=float, default=0.8, help="temporal strength a in [0, 1]; 0 = per frame")
    add_phase_lock_arg(s)
    s.add_argument("--size", help="output WxH (default: the input's size)")
    s.add_argument("--quality", type=int, default=18, help="H.264 CRF, 0 (lossless) .. 51 (worst); default 18. "
                   "H.264 needs PyAV ('.[record]'); without it .mp4 is MPEG-4 Part 2 (mp4v)")
    s.add_argument("--engine", default="auto", choices=ENGINE_NAMES)
    add_region_args(s)
    s.set_defaults(func=cmd_stylize)

    s = sub.add_parser("bench", help="measure per-stage latency and throughput")
    s.add_argument("--source", default="synthetic", help="a video file or 'synthetic'")
    s.add_argument("--size", default="640x480", help="processing and output WxH")
    s.add_argument("--frames", type=int, default=300, help="measured frames (after the warm-up)")
    s.add_argument("--warmup", type=int, default=20)
    s.add_argument("--engine", default="auto", choices=ENGINE_NAMES)
    s.add_argument("--temporal", type=float, default=0.8)
    add_phase_lock_arg(s)
    s.add_argument("--style", default="0")
    s.add_argument("--json", help="write the report here as JSON")
    add_region_args(s)
    s.set_defaults(func=cmd_bench)

    s = sub.add_parser("doctor", help="what will run here and why: versions, CPU, engine, cameras, paths, display")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.set_defaults(func=cmd_doctor)

    s = sub.add_parser("latency-test", help="glass-to-glass latency: point the camera at the window; it flashes")
    s.add_argument("--source", default="auto", help="the camera: index, /dev/videoN or name (default camera 0)")
    s.add_argument("--loopback", action="store_true", help="a simulated camera filming the window's own output")
    s.add_argument("--loopback-delay", type=float, default=100.0, help="the simulated camera's delay in ms")
    s.add_argument("--duration", type=float, default=20.0, help="seconds (a flash every 0.5-1 s)")
    s.add_argument("--size", default="640x480", help="processing and display WxH")
    s.add_argument("--style", help="style name or index (default: the last used)")
    s.add_argument("--engine", default="auto", choices=ENGINE_NAMES)
    s.add_argument("--rise", type=float, default=40.0, help="brightness rise (0-255) that counts as the flash seen")
    s.add_argument("--json", help="write the report here as JSON")
    s.set_defaults(func=cmd_latency_test)

    s = sub.add_parser("export", help="torch checkpoint -> ONNX + style bank, checked against torch")
    s.add_argument("--checkpoint", required=True, help="training checkpoint (.pt)")
    s.add_argument("-o", "--output", required=True, help="folder for stylecam.onnx, styles.npz, stylecam.pt")
    s.add_argument("--parity-frames", type=int, default=6)
    s.set_defaults(func=cmd_export)

    from stylecam.app.cli.train import add_training_commands

    add_training_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    # FFmpeg's own log lines ("moov atom not found") would add to our one-line errors.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")  # V4L2 probing warnings when no camera exists
    from stylecam.app.live.sources import SourceError
    from stylecam.app.outputs.video_out import OutputError
    from stylecam.engines.backends import EngineUnavailable
    from stylecam.engines.styles import StyleError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (UsageError, SourceError, OutputError, StyleError, EngineUnavailable, FileNotFoundError) as exc:
        print(f"stylecam: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("stylecam: interrupted", file=sys.stderr)
        return 130
