"""The live session: wires the pipeline, the windows and the outputs together on the GUI thread.

The pipeline's threads reach the GUI only through Qt signals (queued to this thread): a nudge that
a result is ready, status changes of the source, and stage errors.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import QApplication

from stylecam.app.live.camera import CameraRequest, LiveSource, resolve_source
from stylecam.app.live.cameras import enumerate_cameras
from stylecam.app.live.latency import LatencyProbe, ScreenTap
from stylecam.app.live.metrics import PipelineMetrics
from stylecam.app.live.pipeline import RESTARTING_STAGES, Controls, Pipeline, Result
from stylecam.app.live.regions import MODE_LABELS, MODES, RegionChoice
from stylecam.app.live.sources import SourceError
from stylecam.app.ui.output_control import OutputControl
from stylecam.app.ui.settings import Settings
from stylecam.app.ui.video_view import ViewMode, compose
from stylecam.app.ui.window import MainWindow
from stylecam.engines.backends import Choice
from stylecam.engines.segmenter import PersonSegmenter
from stylecam.engines.styles import StyleBank

METRICS_EVERY_MS = 500
BANK_CHECK_EVERY_MS = 3000


class PipelineSignals(QObject):
    result_ready = pyqtSignal()
    status = pyqtSignal(str, str)  # kind ('live' | 'reconnecting'), text
    error = pyqtSignal(str, str)  # stage or sink name, message


@dataclass
class SessionSetup:
    """Everything a session starts from (validated before any window opens)."""

    choice: Choice
    bank: StyleBank
    source: LiveSource
    source_spec: str
    notice: str | None  # e.g. "no camera: ...; playing the bundled sample clip"
    settings: Settings
    size: tuple[int, int] | None
    auto_size: bool = False
    kiosk: bool = False
    cycle_s: float | None = None
    cycle_regions: bool = False  # kiosk cycling also steps the regions mode after each round of styles
    segmenter: PersonSegmenter | None = None  # for regions; None: the whole frame only
    record: Path | None = None
    output_window: bool = False
    virtual_camera: bool = False
    keep_all_latencies: bool = False
    request: CameraRequest = CameraRequest()
    probe: LatencyProbe | None = None  # latency-test: flashes the display, watches the camera
    tap: ScreenTap | None = None  # latency-test --loopback: what was painted, for the simulated camera


class LiveSession(QObject):
    """Owns the pipeline, the main window and the outputs (`outputs`: recording, virtual camera,
    output window, snapshots). `errors` collects every reported failure."""

    def __init__(self, setup: SessionSetup, thumbnails, bank_loader=None, bank_signature=None):
        super().__init__()
        self.setup = setup
        self.settings = setup.settings
        self.bank = setup.bank
        self.thumbnails = thumbnails
        self.bank_loader, self.bank_signature = bank_loader, bank_signature
        self._bank_sig = bank_signature() if bank_signature else None
        self.mode = ViewMode.STYLIZED
        self.errors: list[str] = []
        self.outputs = OutputControl(self)
        self.source_spec = setup.source_spec
        self.closed = False
        self.on_shutdown = None  # called before the threads stop (a scripted run's last sample)
        self._nudged = False
        style = self.bank.names.index(self.settings.style) if self.settings.style in self.bank.names else 0
        self.style_index = style

        self.signals = PipelineSignals()
        self.signals.result_ready.connect(self._show_result, Qt.ConnectionType.QueuedConnection)
        self.signals.status.connect(self._on_status, Qt.ConnectionType.QueuedConnection)
        self.signals.error.connect(self.on_error, Qt.ConnectionType.QueuedConnection)
        self.metrics = PipelineMetrics(keep_all=setup.keep_all_latencies)
        if setup.segmenter is None:
            self.settings = replace(self.settings, regions="whole")
        if self.settings.regions == "two":  # the background's style is fixed from the start
            self.settings = replace(self.settings, second_style=self.second_style())
        controls = Controls(style, self.settings.style_strength, self.settings.temporal, setup.size, setup.auto_size,
                            self.regions_choice().regions(self.bank))
        self.pipeline = Pipeline(setup.source, setup.choice.engine, self.bank.vectors, controls,
                                 on_result=self._nudge, on_status=self.signals.status.emit,
                                 on_error=self.signals.error.emit, metrics=self.metrics,
                                 on_frame=setup.probe.captured if setup.probe else None, segmenter=setup.segmenter)

        self.window = MainWindow(self, setup.kiosk, [c.name for c in enumerate_cameras().cameras])
        self.window.strip.set_styles(self.bank.names, thumbnails.for_bank(self.bank))
        self.window.strip.show_current(style)
        self.window.controls.set_values(self.settings.style_strength, self.settings.temporal,
                                        setup.source_spec, self.settings.size)
        self.window.controls.set_styles(self.bank.names)
        self.window.controls.show_regions(self.settings.regions, self.second_style(),
                                          enabled=setup.segmenter is not None)
        self._describe_source(setup.source, setup.notice)
        self.last_shown: Result | None = None

        self.metrics_timer = QTimer(self)
        self.metrics_timer.timeout.connect(self.refresh_metrics)
        self.bank_timer = QTimer(self)
        self.bank_timer.timeout.connect(self.check_bank)
        self.cycle_timer = QTimer(self)
        self.cycle_timer.timeout.connect(self._cycle)

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        if not self.setup.kiosk:
            self.window.show()
        self.pipeline.start()
        self.metrics_timer.start(METRICS_EVERY_MS)
        if self.bank_loader is not None:
            self.bank_timer.start(BANK_CHECK_EVERY_MS)
        if self.setup.cycle_s:
            self.cycle_timer.start(int(self.setup.cycle_s * 1000))
        if self.setup.record:
            self.outputs.start_recording(self.setup.record)
        if self.setup.output_window:
            self.outputs.toggle_output_window()
        if self.setup.virtual_camera:
            self.outputs.toggle_virtual_camera()

    def finish(self) -> None:
        """Leave (also from kiosk mode): close the windows and stop everything."""
        self.window.allow_close = True
        self.window.close()

    def shutdown(self) -> None:
        """Stop the threads, close the sinks (the recording is finalised), once."""
        if self.closed:
            return
        self.closed = True
        if self.on_shutdown is not None:
            self.on_shutdown()
        for timer in (self.metrics_timer, self.bank_timer, self.cycle_timer):
            timer.stop()
        self.pipeline.stop()
        self.outputs.close()
        self.settings = replace(self.settings, style=self.bank.names[self.style_index])
        QApplication.instance().quit()

    # --- frames ----------------------------------------------------------------------------
    def _nudge(self) -> None:
        """Inference thread: a result is waiting. One queued signal at a time."""
        if not self._nudged:
            self._nudged = True
            self.signals.result_ready.emit()

    def _show_result(self) -> None:
        self._nudged = False
        result = self.pipeline.take()
        if result is None or self.closed:
            return
        self.window.frame_arrived()
        image = compose(result.image, result.original, self.mode)
        flash = self.setup.probe is not None and self.setup.probe.flash_now(time.perf_counter())
        if flash:
            image = np.full_like(image, 255)
        self.window.view.set_frame(image, (result, flash))
        self.outputs.show(image)
        self.metrics.display_skipped = self.window.view.skipped

    def on_painted(self, token: tuple[Result, bool]) -> None:
        """The main view painted this result (or, flashed, the latency test's white frame in its
        place): it was shown; sinks get the stylised frame."""
        now = time.perf_counter()
        result, flashed = token
        if self.setup.probe is not None:
            self.setup.probe.painted(now, flashed, result.index)
        if self.setup.tap is not None:
            self.setup.tap.push(now, self.window.view.frame)
        self.metrics.record_display(result.t_capture, now)
        self.last_shown = result
        self.outputs.submit(result.image, now)

    # --- controls --------------------------------------------------------------------------
    def select_style(self, index: int) -> None:
        if not 0 <= index < len(self.bank.names):
            return
        self.style_index = index
        self.pipeline.controls.update(style_index=index)
        self.window.strip.show_current(index)
        self.window.show_status(f"style {index + 1}: {self.bank.names[index]}", 2000)

    def step_style(self, delta: int) -> None:
        self.select_style((self.style_index + delta) % len(self.bank.names))

    def _cycle(self) -> None:
        """Kiosk cycling: the next style and, with cycle_regions, after a round the next mode."""
        self.step_style(+1)
        if self.setup.cycle_regions and self.style_index == 0:
            self.cycle_regions()

    # --- regions ---------------------------------------------------------------------------
    def second_style(self) -> str:
        """The background's style in 'two styles': the saved one, else the one after the selected."""
        names = self.bank.names
        return self.settings.second_style if self.settings.second_style in names else \
            names[(self.style_index + 1) % len(names)]

    def regions_choice(self) -> RegionChoice:
        return RegionChoice.for_mode(self.settings.regions, self.second_style())

    def _apply_regions(self) -> None:
        if self.settings.regions == "two" and self.settings.second_style not in self.bank.names:
            self.settings = replace(self.settings, second_style=self.second_style())  # fixed from now on
        choice = self.regions_choice()
        self.pipeline.controls.update(regions=choice.regions(self.bank))
        self.window.controls.show_regions(self.settings.regions, self.second_style())
        self.window.show_status(f"regions: {MODE_LABELS[self.settings.regions]} "
                                f"({choice.describe(self.bank, self.bank.names[self.style_index])})", 3000)

    def set_regions_mode(self, mode: str) -> None:
        """One of regions.MODES; the whole frame only where no segmenter could be loaded."""
        if self.setup.segmenter is None and mode != "whole":
            self.window.show_status("regions need the person segmenter, which did not load", 4000)
            return
        self.settings = replace(self.settings, regions=mode)
        self._apply_regions()

    def cycle_regions(self) -> None:
        self.set_regions_mode(MODES[(MODES.index(self.settings.regions) + 1) % len(MODES)])

    def set_second_style(self, name: str) -> None:
        if name in self.bank.names:
            self.settings = replace(self.settings, second_style=name)
            self._apply_regions()

    def set_control(self, **changes) -> None:
        """style_strength / temporal in [0, 1] (already rate-limited by the sliders)."""
        self.pipeline.controls.update(**changes)
        self.settings = replace(self.settings, **changes)

    def set_size(self, name: str) -> None:
        from stylecam.app.cli.main import parse_size

        size = None if name in ("source", "auto") else parse_size(name)
        self.pipeline.controls.update(size=size, auto_size=name == "auto")
        self.settings = replace(self.settings, size=name)

    def set_source(self, spec: str) -> None:
        try:
            resolved = resolve_source(spec, self.setup.request)
        except SourceError as exc:
            self.window.show_status(str(exc))
            self.window.controls.show_source(self.source_spec)  # the picker goes back to what plays
            return
        self.source_spec = spec
        self.window.controls.show_source(spec)
        self.pipeline.set_source(resolved.source)
        self.settings = replace(self.settings, source=spec)
        self._describe_source(resolved.source, resolved.notice)

    def toggle_original(self) -> None:
        self.mode = ViewMode.STYLIZED if self.mode is ViewMode.ORIGINAL else ViewMode.ORIGINAL
        self.window.show_status(f"showing {self.mode.value}", 1500)

    def toggle_side_by_side(self) -> None:
        self.mode = ViewMode.STYLIZED if self.mode is ViewMode.SIDE_BY_SIDE else ViewMode.SIDE_BY_SIDE
        self.window.show_status(f"showing {self.mode.value}", 1500)

    # --- status ----------------------------------------------------------------------------
    def _describe_source(self, source: LiveSource, notice: str | None) -> None:
        text = f"Source: {source.name}"
        if source.granted:
            text += f" ({source.granted.describe()})"
        if notice:
            text += f"\n{notice}"
            self.window.show_status(notice)
        self.window.source_label.setText(text)

    def _on_status(self, kind: str, text: str) -> None:
        if kind == "reconnecting":
            self.window.view.set_card("Reconnecting to the camera...", "The picture will be back in a moment")
        else:
            self.window.view.set_card(None)
            self._describe_source(self.pipeline.source, None)
        self.window.show_status(text)

    def on_error(self, stage: str, message: str) -> None:
        """A pipeline stage failed and restarts by itself, or a sink stopped. Each distinct error
        is shown and kept once; the metrics count repeats."""
        restarts = stage in RESTARTING_STAGES
        text = f"{stage} failed and restarted: {message}" if restarts else f"{stage} stopped: {message}"
        if text in self.errors:
            return
        self.errors.append(text)
        self.window.show_error(text, lasting=not restarts)

    def refresh_metrics(self) -> None:
        regions = None if self.settings.regions == "whole" else MODE_LABELS[self.settings.regions]
        engine = self.setup.choice.describe().split(";")[0]
        if self.settings.regions == "two":
            engine += " (two styles: its regions graph)"
        self.window.metrics.show_metrics(self.metrics.snapshot(), engine,
                                         auto=self.pipeline.controls.get()[0].auto_size, regions=regions)

    def check_bank(self) -> None:
        """Styles added with `train-style` appear without a restart."""
        signature = self.bank_signature()
        if signature == self._bank_sig:
            return
        self._bank_sig = signature
        bank = self.bank_loader()
        if bank.names == self.bank.names:
            return
        self.bank = bank
        self.window.strip.set_styles(bank.names, self.thumbnails.for_bank(bank))
        self.window.controls.set_styles(bank.names)
        self.window.controls.show_regions(self.settings.regions, self.second_style())
        self.pipeline.inference.set_vectors(bank.vectors)
        self.style_index = min(self.style_index, len(bank.names) - 1)
        self.window.strip.show_current(self.style_index)
        self.window.show_status(f"style bank now has {len(bank.names)} styles", 4000)
