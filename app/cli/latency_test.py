"""`stylecam latency-test`: the live window, flashing (app/live/latency.py), for `duration` seconds;
then glass-to-glass percentiles, the camera and pipeline parts, and the stage times.

With `--loopback` the camera is simulated: it films the window's own output `delay_ms` late, so
the figure must come out as that delay plus the pipeline's capture -> paint time (a check of the
method, runnable anywhere, also off screen). Settings are neither read for the source nor saved.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from stylecam.app.live.latency import LatencyProbe, LoopbackCamera, ProbeSettings, ScreenTap


@dataclass(frozen=True)
class LatencyTestOptions:
    source: str = "auto"  # a camera: index, /dev/videoN or name
    loopback: bool = False
    delay_ms: float = 100.0  # the loopback camera's delay
    duration: float = 20.0  # seconds
    size: str = "640x480"
    style: str | None = None
    engine: str = "auto"
    rise: float = ProbeSettings.rise
    json: Path | None = None


def run_latency_test(options: LatencyTestOptions) -> tuple[int, dict]:
    """Run the test; returns (exit code: 0, or 1 when no flash was seen, and the report)."""
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    from stylecam.app.cli.live import LiveOptions, prepare
    from stylecam.app.cli.main import UsageError
    from stylecam.app.ui.session import LiveSession
    from stylecam.app.ui.thumbnails import Thumbnails
    from stylecam.engines.host import cpu_class

    if not 1.0 <= options.duration <= 3600:
        raise UsageError(f"--duration must be in [1, 3600] seconds, got {options.duration}")
    if not 0.0 <= options.delay_ms <= 2000:
        raise UsageError(f"--loopback-delay must be in [0, 2000] ms, got {options.delay_ms}")
    if options.json is not None and not Path(options.json).parent.is_dir():
        raise UsageError(f"--json folder does not exist: {Path(options.json).parent}")
    setup = prepare(LiveOptions(source="synthetic" if options.loopback else options.source, style=options.style,
                                size=options.size, engine=options.engine, duration=options.duration))
    if not options.loopback and setup.notice:  # no camera opened: a flash would never be seen
        raise UsageError(f"latency-test needs a camera pointed at the window ({setup.notice.split(';')[0]}); "
                         "or use --loopback")
    probe = LatencyProbe(ProbeSettings(rise=options.rise))
    tap = ScreenTap() if options.loopback else None
    source = LoopbackCamera(tap, options.delay_ms / 1000.0, size=setup.size or (640, 480)) if tap else setup.source
    setup = replace(setup, source=source, notice=None, probe=probe, tap=tap, auto_size=False)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    session = LiveSession(setup, Thumbnails(setup.choice.engine))
    QTimer.singleShot(int(options.duration * 1000), session.finish)
    started = time.perf_counter()
    session.start()
    app.exec()
    session.shutdown()
    m = session.metrics
    report = {
        **probe.report(),
        "source": source.name,
        "loopback_delay_ms": options.delay_ms if options.loopback else None,
        "duration_s": round(time.perf_counter() - started, 1),
        "stages_ms": {"engine": m.engine_ms.percentiles((50, 95), whole_run=True),
                      "stylizer_overhead": m.overhead_ms.percentiles((50, 95), whole_run=True),
                      "capture_to_display": m.latency.percentiles((50, 95, 99), whole_run=True)},
        "engine": setup.choice.describe().split(";")[0],
        "cpu": cpu_class(),
        "errors": session.errors,
    }
    if options.json is not None:
        Path(options.json).write_text(json.dumps(report, indent=2) + "\n")
    return (0 if report["samples"] else 1), report


def summary_lines(report: dict) -> list[str]:
    lat, cam, pipe = report["latency_ms"], report["camera_ms"], report["pipeline_ms"]
    stages = report["stages_ms"]
    fmt = lambda p: f"p50 {p['p50']:.0f} / p95 {p['p95']:.0f} / p99 {p['p99']:.0f} ms" if p else "-"  # noqa: E731
    lines = [f"latency-test: {report['source']}, {report['engine']}, CPU {report['cpu']}",
             f"flashes {report['flashes']}, seen {len(report['samples'])}, missed {report['missed']}",
             f"glass-to-glass  {fmt(lat)}",
             f"  camera        {fmt(cam)}   (display -> camera -> frame arrives)",
             f"  pipeline      {fmt(pipe)}   (frame arrives -> stylised frame painted)",
             f"engine p50 {stages['engine']['p50']:.1f} ms" if stages["engine"] else "engine -"]
    if not report["samples"]:
        lines.append("no flash was seen: point the camera at the window (whole video area in view), "
                     "or lower --rise")
    return lines
