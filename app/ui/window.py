"""The main window: video, style strip, controls and metrics; keys; booth (kiosk) behaviour; and
the clean output window (video only) for screen capture.

Keys: 1-9 / Left / Right style (crossfade), Space original/stylised, S side by side,
F fullscreen, R record, P snapshot PNG, O output window, V virtual camera, M regions mode (whole
frame, background only, person only, two styles), Esc leave fullscreen.
In kiosk mode only style keys, Space, S and M work, and Esc must be pressed twice within 2 s to leave.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QCloseEvent, QKeyEvent
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QVBoxLayout, QWidget

from stylecam.app.ui.panels import ControlsPanel, MetricsPanel, StyleStrip
from stylecam.app.ui.video_view import VideoView

if TYPE_CHECKING:
    from stylecam.app.ui.session import LiveSession

ESC_WINDOW_S = 2.0
ERROR_SHOWN_MS = 10_000  # how long the status bar shows an error a stage recovered from
STYLE_KEYS = {getattr(Qt.Key, f"Key_{n}"): n - 1 for n in range(1, 10)}
KIOSK_KEYS = {*STYLE_KEYS, Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Space, Qt.Key.Key_S, Qt.Key.Key_M,
              Qt.Key.Key_Escape}


class OutputWindow(QWidget):
    """Video only, no chrome: for screen capture and streaming software. Keys go to the session."""

    def __init__(self, session: LiveSession):
        super().__init__(None, Qt.WindowType.Window | Qt.WindowType.FramelessWindowHint)
        self.setWindowTitle("stylecam output")
        self.session = session
        self.view = VideoView(parent=self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.resize(640, 360)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_O):
            self.session.outputs.toggle_output_window()
        else:
            self.session.window.keyPressEvent(event)


class MainWindow(QMainWindow):
    def __init__(self, session: LiveSession, kiosk: bool, cameras: list[str]):
        super().__init__()
        self.session = session
        self.kiosk = kiosk
        self._error_card = False
        self.allow_close = not kiosk
        self._esc_armed_at = -1e9
        self.setWindowTitle("stylecam")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.view = VideoView(on_painted=session.on_painted)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #5a1d1d; color: white; padding: 6px;")
        self.banner.hide()
        self.hint = QLabel("Press Esc again to leave", self.view)
        self.hint.setStyleSheet("background: rgba(0,0,0,160); color: white; padding: 10px; border-radius: 6px;")
        self.hint.hide()
        self.strip = StyleStrip()
        self.strip.setWrapping(False)
        self.strip.setFixedHeight(112)
        self.controls = ControlsPanel(cameras)
        self.metrics = MetricsPanel()
        self.source_label = QLabel()
        self.source_label.setWordWrap(True)

        video_column = QVBoxLayout()
        video_column.setContentsMargins(0, 0, 0, 0)
        video_column.addWidget(self.banner)
        video_column.addWidget(self.view, 1)
        video_column.addWidget(self.strip)
        self.side = QWidget()
        self.side.setFixedWidth(300)
        side = QVBoxLayout(self.side)
        side.addWidget(self.source_label)
        side.addWidget(self.controls)
        side.addWidget(self.metrics, 1)
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(4, 4, 4, 4)
        row.addLayout(video_column, 1)
        row.addWidget(self.side)
        self.setCentralWidget(central)
        self.resize(1180, 660)

        self.strip.style_chosen.connect(session.select_style)
        self.controls.style_strength.connect(lambda v: session.set_control(style_strength=v))
        self.controls.temporal.connect(lambda v: session.set_control(temporal=v))
        self.controls.source_chosen.connect(session.set_source)
        self.controls.size_chosen.connect(session.set_size)
        self.controls.regions_chosen.connect(session.set_regions_mode)
        self.controls.second_style_chosen.connect(session.set_second_style)
        if kiosk:
            self.enter_kiosk()

    def enter_kiosk(self) -> None:
        """Fullscreen, video only, no cursor."""
        for widget in (self.side, self.strip, self.banner):
            widget.hide()
        self.statusBar().hide()
        self.centralWidget().layout().setContentsMargins(0, 0, 0, 0)
        self.setCursor(Qt.CursorShape.BlankCursor)
        self.showFullScreen()

    def show_error(self, text: str, lasting: bool) -> None:
        """lasting: something stopped for good (a sink: the banner stays). Otherwise a stage that
        restarts by itself: the status bar says so for ERROR_SHOWN_MS, and in kiosk mode a card
        covers the picture until the next frame arrives (`frame_arrived`)."""
        if lasting and not self.kiosk:
            self.banner.setText(text)
            self.banner.show()
        if not lasting and self.kiosk:
            self.view.set_card("One moment please", "The picture will be back shortly")
            self._error_card = True
        self.statusBar().showMessage(text, 0 if lasting else ERROR_SHOWN_MS)

    def frame_arrived(self) -> None:
        """A new frame is ready: an error card put up by show_error goes."""
        if self._error_card:
            self._error_card = False
            self.view.set_card(None)

    def show_status(self, text: str, ms: int = 0) -> None:
        self.statusBar().showMessage(text, ms)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = Qt.Key(event.key())
        if event.isAutoRepeat() and key not in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            return
        if self.kiosk and key not in KIOSK_KEYS:
            return
        s = self.session
        if key in STYLE_KEYS:
            s.select_style(STYLE_KEYS[key])
        elif key == Qt.Key.Key_Left:
            s.step_style(-1)
        elif key == Qt.Key.Key_Right:
            s.step_style(+1)
        elif key == Qt.Key.Key_Space:
            s.toggle_original()
        elif key == Qt.Key.Key_S:
            s.toggle_side_by_side()
        elif key == Qt.Key.Key_F:
            self.showNormal() if self.isFullScreen() else self.showFullScreen()
        elif key == Qt.Key.Key_R:
            s.outputs.toggle_recording()
        elif key == Qt.Key.Key_P:
            s.outputs.snapshot()
        elif key == Qt.Key.Key_O:
            s.outputs.toggle_output_window()
        elif key == Qt.Key.Key_V:
            s.outputs.toggle_virtual_camera()
        elif key == Qt.Key.Key_M:
            s.cycle_regions()
        elif key == Qt.Key.Key_Escape:
            self._escape()
        else:
            super().keyPressEvent(event)

    def _escape(self) -> None:
        if not self.kiosk:
            if self.isFullScreen():
                self.showNormal()
            return
        now = time.monotonic()
        if now - self._esc_armed_at <= ESC_WINDOW_S:
            self.session.finish()
            return
        self._esc_armed_at = now
        self.hint.adjustSize()
        self.hint.move((self.view.width() - self.hint.width()) // 2, self.view.height() - self.hint.height() - 40)
        self.hint.show()
        QTimer.singleShot(int(ESC_WINDOW_S * 1000), self.hint.hide)

    def closeEvent(self, event: QCloseEvent) -> None:
        """In kiosk mode a close from the window manager (or a visitor's key chord) is refused."""
        if not self.allow_close:
            event.ignore()
            return
        self.session.shutdown()
        event.accept()
