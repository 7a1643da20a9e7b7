"""`stylecam` (no subcommand): the live window, interactive or scripted.

prepare() checks every option and opens the engine, bank and source before any window exists, so
bad input fails with one line (cli.main.UsageError and friends). run() then runs the window until it
is closed or `duration` seconds pass, and returns the run's own measured figures.
"""
from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from stylecam.app.live.camera import CameraRequest, resolve_source
from stylecam.app.live.metrics import ThreadCpuAccount, rss_mb, seconds_since_process_start
from stylecam.app.outputs.recorder import check_record_target
from stylecam.app.ui.settings import SIZES, Settings, load_settings, save_settings, settings_path
from stylecam.engines.host import cpu_class


@dataclass(frozen=True)
class LiveOptions:
    """The command line of the window; None = from the saved settings."""

    source: str | None = None
    style: str | None = None
    size: str | None = None  # 'WxH', 'source' or 'auto'
    engine: str = "auto"
    record: Path | None = None
    duration: float | None = None  # seconds, then quit
    metrics_json: Path | None = None
    kiosk: bool = False
    cycle: float | None = None  # seconds per style
    output_window: bool = False
    virtual_camera: bool = False
    person_style: str | None = None  # a style name or index, 'original', or None: the saved regions
    background_style: str | None = None
    cycle_regions: bool = False  # kiosk: the regions mode steps after each full round of styles


def _bank_signature() -> tuple:
    """Changes when the shipped bank or a user style file (from `train-style`) changes."""
    from stylecam.assets import paths
    from stylecam.engines.styles import user_styles_dir

    files = [paths.style_bank(), *sorted(user_styles_dir().glob("*.npz"))]
    return tuple((str(f), f.stat().st_mtime_ns) for f in files if f.exists())


def prepare(options: LiveOptions):
    """Validate and open everything; returns a SessionSetup. Raises the CLI's bad-input errors."""
    from stylecam.app.cli.loading import load_bank, load_engine, load_segmenter
    from stylecam.app.cli.main import UsageError, parse_size, region_choice
    from stylecam.app.live.regions import window_mode
    from stylecam.app.ui.session import SessionSetup

    if options.duration is not None and not 0 < options.duration <= 86400:
        raise UsageError(f"--duration must be in (0, 86400] seconds, got {options.duration}")
    if options.cycle is not None and not 0.5 <= options.cycle <= 3600:
        raise UsageError(f"--cycle must be in [0.5, 3600] seconds, got {options.cycle}")
    if options.cycle is not None and not options.kiosk:
        raise UsageError("--cycle needs --kiosk")
    if options.cycle_regions and not options.kiosk:
        raise UsageError("--cycle-regions needs --kiosk")
    if options.metrics_json is not None and not Path(options.metrics_json).parent.is_dir():
        raise UsageError(f"--metrics-json folder does not exist: {Path(options.metrics_json).parent}")
    if options.record is not None:
        check_record_target(Path(options.record))
    settings, warning = load_settings()
    if warning:
        print(f"stylecam: warning: {warning}", file=sys.stderr)
    size_name = options.size or settings.size
    size = None if size_name in ("source", "auto") else parse_size(size_name)
    if size_name not in SIZES:
        size_name = f"{size[0]}x{size[1]}"
    bank = load_bank()
    style = bank.names[bank.index(options.style)] if options.style is not None else settings.style
    style = style if style in bank.names else bank.names[0]
    regions, second = settings.regions, settings.second_style
    if options.person_style is not None or options.background_style is not None:
        regions, style, named = window_mode(region_choice(options.person_style, options.background_style, bank), style)
        second = named or second
    spec = options.source or settings.source
    resolved = resolve_source(spec, CameraRequest())
    choice = load_engine(options.engine)
    settings = Settings(source=spec, style=style, style_strength=settings.style_strength, temporal=settings.temporal,
                        size=size_name if size_name in SIZES else settings.size, capture_dir=settings.capture_dir,
                        regions=regions, second_style=second if second in bank.names else "")
    cycle = options.cycle if options.cycle is not None else (8.0 if options.kiosk else None)
    return SessionSetup(choice=choice, bank=bank, source=resolved.source, source_spec=spec, notice=resolved.notice,
                        settings=settings, size=size, auto_size=size_name == "auto", kiosk=options.kiosk, cycle_s=cycle,
                        record=Path(options.record) if options.record else None,
                        output_window=options.output_window, virtual_camera=options.virtual_camera,
                        keep_all_latencies=options.duration is not None, segmenter=load_segmenter(),
                        cycle_regions=options.cycle_regions)


class RunRecorder:
    """Samples the figures a scripted run reports: RSS each sample, and CPU by kind of thread
    (capture = the capture thread + FFmpeg's decoder threads 'av:*'; display = the GUI thread;
    inference = the inference thread; other = ONNX Runtime's pool, Qt's helpers) from the first
    frame shown to the end."""

    def __init__(self, session, launched: float):
        self.session = session
        self.launched = launched
        self.gui_thread = threading.get_native_id()
        self.rss: list[tuple[float, float]] = []
        self.cpu = ThreadCpuAccount(self._classify)
        self.first: dict | None = None
        self.end: dict | None = None
        session.on_shutdown = self.finish

    def _classify(self, tid: int, name: str) -> str:
        m = self.session.metrics
        if tid == m.capture_thread_id or name.startswith("av:"):
            return "capture"
        if tid == self.gui_thread:
            return "display"
        if tid in (m.inference_thread_id, m.engine_thread_id):
            return "inference"
        return "other"

    def sample(self) -> None:
        if self.end is not None:
            return
        m = self.session.metrics
        now = time.perf_counter()
        value = rss_mb()
        if value is not None:
            self.rss.append((now - self.launched, value))
        if m.first_display is not None:
            self.cpu.sample()
            if self.first is None:
                self.first = self._counters(now)

    def finish(self) -> None:
        """Called before the threads stop: the last sample."""
        self.sample()
        self.end = self._counters(time.perf_counter())

    def _counters(self, now: float) -> dict:
        m = self.session.metrics
        return {"t": now, "cpu": dict(self.cpu.seconds), "process_cpu": time.process_time(),
                "captured": m.capture.count, "stylised": m.inference.count, "shown": m.display.count}

    def report(self) -> dict:
        s, m = self.session, self.session.metrics
        end = self.end or self._counters(time.perf_counter())
        first = self.first or end
        wall = max(end["t"] - first["t"], 1e-9)
        snap = m.snapshot()
        engine = s.setup.choice.engine
        rss = [v for t, v in self.rss]
        warm = [v for t, v in self.rss if t >= 10.0] or rss
        from_start = seconds_since_process_start()
        first_at = m.first_display
        report = {
            "measured_s": round(wall, 2),
            "cpu": cpu_class(),
            "source": s.pipeline.source.name,
            "source_granted": s.pipeline.source.granted.describe() if s.pipeline.source.granted else None,
            "size": s.settings.size,
            "style": s.bank.names[s.style_index],
            "engine": engine.name, "provider": engine.provider, "precision": engine.precision, "graph": engine.graph,
            "processing_size": "x".join(map(str, snap.processing_size)) if snap.processing_size else None,
            "size_steps": [{"t_s": round(t - self.launched, 2), "size": f"{w}x{h}"} for t, (w, h) in m.size_steps],
            "fps": {k: round((end[c] - first[c]) / wall, 2)
                    for k, c in (("capture", "captured"), ("inference", "stylised"), ("display", "shown"))},
            "fps_last_2s": {"capture": snap.capture_fps, "inference": snap.inference_fps,
                            "display": snap.display_fps},
            "latency_ms": {"capture_to_display": m.latency.percentiles((50, 95, 99), whole_run=True),
                           "capture_to_ready": m.ready_latency.percentiles((50, 95, 99), whole_run=True)},
            "regions": s.regions_choice().describe(s.bank, s.bank.names[s.style_index]),
            "stages_ms": {"engine": m.engine_ms.percentiles((50, 95), whole_run=True),
                          "segment": m.segment_ms.percentiles((50, 95), whole_run=True),
                          "stylizer_overhead": m.overhead_ms.percentiles((50, 95), whole_run=True)},
            "frames": {"captured": end["captured"], "stylised": end["stylised"], "shown": end["shown"]},
            "dropped": {"capture": snap.dropped_capture, "display": snap.dropped_display},
            "first_frame_s": {
                "from_launch": round(first_at - self.launched, 3) if first_at else None,
                "from_process_start": (round(from_start - (time.perf_counter() - first_at), 3)
                                       if first_at and from_start is not None else None)},
            "cpu_percent_of_one_core": {
                **{kind: round(100 * (end["cpu"].get(kind, 0.0) - first["cpu"].get(kind, 0.0)) / wall, 1)
                   for kind in ("capture", "display", "inference", "other")},
                "whole_process": round(100 * (end["process_cpu"] - first["process_cpu"]) / wall, 1)},
            "rss_mb": {"after_warmup": round(warm[0], 1) if warm else None,
                       "end": round(rss[-1], 1) if rss else None, "max": round(max(rss), 1) if rss else None},
            "recordings": s.outputs.recordings,
            "errors": s.errors,
            "stage_failures": dict(m.stage_failures),
        }
        cpu = report["cpu_percent_of_one_core"]
        cpu["capture_plus_display"] = round(cpu["capture"] + cpu["display"], 1)
        if warm:
            report["rss_mb"]["growth_after_warmup_percent"] = round(100 * (rss[-1] - warm[0]) / warm[0], 2)
        return report


def run(options: LiveOptions, setup=None, app=None) -> tuple[int, dict]:
    """Run the window. Returns (exit code, measured figures). 0 unless a stage or sink failed
    during a scripted (--duration) run (stages restart, but a scripted run says it happened)."""
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    from stylecam.app.cli.loading import load_bank
    from stylecam.app.ui.session import LiveSession
    from stylecam.app.ui.thumbnails import Thumbnails

    launched = time.perf_counter()
    setup = setup or prepare(options)
    app = app or QApplication.instance() or QApplication(sys.argv[:1])
    if setup.notice:
        print(f"stylecam: {setup.notice}", file=sys.stderr)
    print(f"stylecam: {setup.choice.describe()}", file=sys.stderr)
    session = LiveSession(setup, Thumbnails(setup.choice.engine), bank_loader=load_bank, bank_signature=_bank_signature)
    recorder = RunRecorder(session, launched)
    sampler = QTimer()
    sampler.timeout.connect(recorder.sample)
    sampler.start(200)
    if options.duration is not None:
        QTimer.singleShot(int(options.duration * 1000), session.finish)
    session.start()
    app.exec()
    sampler.stop()
    session.shutdown()
    report = recorder.report()
    try:
        save_settings(session.settings, settings_path())
    except OSError as exc:  # the run itself went fine; the old settings file is left as it was
        print(f"stylecam: warning: settings not saved to {settings_path()}: {exc.strerror or exc}", file=sys.stderr)
    if options.metrics_json is not None:
        Path(options.metrics_json).write_text(json.dumps(report, indent=2) + "\n")
    for error in session.errors:
        print(f"stylecam: {error}", file=sys.stderr)
    failed = options.duration is not None and bool(session.errors)
    return (1 if failed else 0), report
