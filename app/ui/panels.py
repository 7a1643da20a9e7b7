"""The window's side panels: style strip, metrics, sliders and pickers. Controls take no keyboard
focus, so the window's keys (1-9, arrows, space...) always reach the window."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PyQt6.QtCore import QObject, QSize, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QIcon, QImage, QPixmap
from PyQt6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QLabel, QListView, QListWidget,
                             QListWidgetItem, QSlider, QVBoxLayout, QWidget)

from stylecam.app.live.metrics import MetricsSnapshot
from stylecam.app.live.regions import MODE_LABELS, MODES
from stylecam.app.ui.settings import SIZES

SLIDER_RATE_MS = 100  # slider changes reach the inference thread at most this often
THUMB_W, THUMB_H = 112, 63


class RateLimiter(QObject):
    """Delivers the first value at once, then at most one (the latest) per interval."""

    def __init__(self, interval_ms: int, deliver: Callable[[object], None], parent: QObject | None = None):
        super().__init__(parent)
        self.deliver = deliver
        self.delivered = 0
        self._pending: list = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._flush)

    def push(self, value: object) -> None:
        self._pending = [value]
        if not self._timer.isActive():
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            value, self._pending = self._pending[0], []
            self.deliver(value)
            self.delivered += 1
            self._timer.start()


def bgr_pixmap(image: np.ndarray, width: int, height: int) -> QPixmap:
    """A pixmap of an H x W x 3 uint8 BGR image scaled to (width, height) keeping aspect."""
    image = np.ascontiguousarray(image)
    q = QImage(image.data, image.shape[1], image.shape[0], 3 * image.shape[1], QImage.Format.Format_BGR888)
    return QPixmap.fromImage(q.copy()).scaled(width, height, Qt.AspectRatioMode.KeepAspectRatio,
                                              Qt.TransformationMode.SmoothTransformation)


class StyleStrip(QListWidget):
    """Thumbnails of the styles, numbered 1-9 for the keys; a click picks a style."""

    style_chosen = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setIconSize(QSize(THUMB_W, THUMB_H))
        self.setSpacing(4)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.itemClicked.connect(lambda item: self.style_chosen.emit(self.row(item)))

    def set_styles(self, names: tuple[str, ...], thumbs: list[np.ndarray]) -> None:
        current = self.currentRow()
        self.clear()
        for i, (name, thumb) in enumerate(zip(names, thumbs)):
            label = f"{i + 1} {name}" if i < 9 else name
            item = QListWidgetItem(QIcon(bgr_pixmap(thumb, THUMB_W, THUMB_H)), label.replace("_", " "))
            item.setToolTip(name)
            self.addItem(item)
        if 0 <= current < self.count():
            self.setCurrentRow(current)

    def show_current(self, index: int) -> None:
        self.blockSignals(True)
        self.setCurrentRow(index)
        self.blockSignals(False)


class MetricsPanel(QLabel):
    """The live figures as text, refreshed by the window about twice a second."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setStyleSheet("font-family: monospace;")
        self.setWordWrap(True)
        self.lines: list[str] = []

    def show_metrics(self, m: MetricsSnapshot, engine: str, auto: bool = False, regions: str | None = None) -> None:
        """engine: what runs (backend, provider, graph, precision); auto: the size is chosen by
        --size auto, so the processing size shown may be below the output size; regions: the
        regions mode's label, or None for the whole frame (no segment stage)."""
        lat = m.latency_ms
        eng = m.engine_ms
        seg = m.segment_ms
        self.lines = [
            f"capture   {m.capture_fps:5.1f} fps",
            f"inference {m.inference_fps:5.1f} fps",
            f"display   {m.display_fps:5.1f} fps",
            "latency   " + (f"p50 {lat['p50']:.0f} ms  p95 {lat['p95']:.0f} ms" if lat else "-"),
            "engine    " + (f"p50 {eng['p50']:.1f} ms" if eng else "-"),
            *([f"regions   {regions}", "segment   " + (f"p50 {seg['p50']:.1f} ms" if seg else "-")] if regions else []),
            "size      " + ("x".join(map(str, m.processing_size)) if m.processing_size else "-") + (" (auto)" if auto else ""),
            f"dropped   {m.dropped} ({m.dropped_capture} capture, {m.dropped_display} display)",
            *([f"errors    {m.failures} (survived)"] if m.failures else []),
            engine,
        ]
        self.setText("\n".join(self.lines))


class ControlsPanel(QWidget):
    """Sliders (style strength, temporal strength, 0-100 %), source and output-size pickers.
    Signals carry floats in [0, 1], a source spec, or a size name from settings.SIZES."""

    style_strength = pyqtSignal(float)
    temporal = pyqtSignal(float)
    source_chosen = pyqtSignal(str)
    size_chosen = pyqtSignal(str)
    regions_chosen = pyqtSignal(str)  # one of regions.MODES
    second_style_chosen = pyqtSignal(str)  # a style name

    def __init__(self, cameras: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        form = QFormLayout()
        self.strength_slider = self._slider(form, "Style strength")
        self.temporal_slider = self._slider(form, "Temporal")
        self.strength_limiter = RateLimiter(SLIDER_RATE_MS, lambda v: self.style_strength.emit(v), self)
        self.temporal_limiter = RateLimiter(SLIDER_RATE_MS, lambda v: self.temporal.emit(v), self)
        self.strength_slider.valueChanged.connect(lambda v: self.strength_limiter.push(v / 100.0))
        self.temporal_slider.valueChanged.connect(lambda v: self.temporal_limiter.push(v / 100.0))

        self.source_box = QComboBox()
        self.source_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.source_box.addItem("Sample clip", "sample")
        for name in cameras:
            self.source_box.addItem(name, name)
        self.source_box.addItem("Synthetic pattern", "synthetic")
        self.source_box.addItem("Video file...", "")
        self.source_box.activated.connect(self._source_activated)
        form.addRow("Source", self.source_box)

        self.size_box = QComboBox()
        self.size_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for size in SIZES:
            self.size_box.addItem(size, size)
        self.size_box.activated.connect(lambda i: self.size_chosen.emit(self.size_box.itemData(i)))
        form.addRow("Output size", self.size_box)

        self.regions_box = QComboBox()
        self.regions_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for mode in MODES:
            self.regions_box.addItem(MODE_LABELS[mode], mode)
        self.regions_box.activated.connect(lambda i: self.regions_chosen.emit(self.regions_box.itemData(i)))
        form.addRow("Regions (M)", self.regions_box)
        self.second_box = QComboBox()
        self.second_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.second_box.activated.connect(lambda i: self.second_style_chosen.emit(self.second_box.itemData(i)))
        form.addRow("Background style", self.second_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)

    @staticmethod
    def _slider(form: QFormLayout, label: str) -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(0, 100)
        slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        form.addRow(label, slider)
        return slider

    def set_values(self, style_strength: float, temporal: float, source: str, size: str) -> None:
        """Show values without emitting them."""
        for widget, value in ((self.strength_slider, style_strength), (self.temporal_slider, temporal)):
            widget.blockSignals(True)
            widget.setValue(round(100 * value))
            widget.blockSignals(False)
        self.show_source(source)
        self.size_box.setCurrentIndex(max(0, self.size_box.findData(size)))

    def set_styles(self, names: tuple[str, ...]) -> None:
        """The styles the background may take in 'two styles'."""
        self.second_box.clear()
        for name in names:
            self.second_box.addItem(name, name)

    def show_regions(self, mode: str, second_style: str, enabled: bool | None = None) -> None:
        """Show the regions mode and the second style (used in 'two' only) without emitting."""
        self.regions_box.setCurrentIndex(max(0, self.regions_box.findData(mode)))
        self.second_box.setCurrentIndex(max(0, self.second_box.findData(second_style)))
        self.second_box.setEnabled(mode == "two")
        if enabled is not None:
            self.regions_box.setEnabled(enabled)

    def show_source(self, spec: str) -> None:
        index = self.source_box.findData(spec)
        if index < 0 and spec not in ("auto", ""):
            self.source_box.insertItem(self.source_box.count() - 1, spec.rsplit("/", 1)[-1], spec)
            index = self.source_box.findData(spec)
        if index >= 0:
            self.source_box.setCurrentIndex(index)

    def _source_activated(self, index: int) -> None:
        spec = self.source_box.itemData(index)
        if spec == "":
            spec, _ = QFileDialog.getOpenFileName(self, "Play a video file", "", "Videos (*.mp4 *.mkv *.avi *.mov)")
            if not spec:
                return
        self.source_chosen.emit(spec)
