"""The video widget: shows an H x W x 3 uint8 BGR frame scaled to fit with its aspect kept, or a
calm text card (reconnecting, errors) in its place. Painting reports each new frame shown."""
from __future__ import annotations

from collections.abc import Callable
from enum import Enum

import numpy as np
from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QImage, QPainter
from PyQt6.QtWidgets import QSizePolicy, QWidget

BACKGROUND = QColor(12, 12, 14)


class ViewMode(Enum):
    STYLIZED = "stylized"
    ORIGINAL = "original"
    SIDE_BY_SIDE = "side by side"


def compose(stylized: np.ndarray, original: np.ndarray, mode: ViewMode) -> np.ndarray:
    """The image to show for a mode: the stylised frame, the original, or both side by side
    (original left). Inputs and output H x W x 3 uint8 BGR."""
    if mode is ViewMode.ORIGINAL:
        return original
    if mode is ViewMode.SIDE_BY_SIDE:
        return np.hstack((original, stylized))
    return stylized


def fit_rect(image_w: int, image_h: int, box_w: int, box_h: int) -> QRectF:
    """The largest rectangle of the image's aspect centred in the box (pixels)."""
    scale = min(box_w / image_w, box_h / image_h)
    w, h = image_w * scale, image_h * scale
    return QRectF((box_w - w) / 2, (box_h - h) / 2, w, h)


class VideoView(QWidget):
    """on_painted(token) is called after a new frame is painted, with the token given to
    set_frame (the window passes the frame's capture time)."""

    def __init__(self, on_painted: Callable[[object], None] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 90)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.on_painted = on_painted
        self.frame: np.ndarray | None = None  # kept alive: the QImage shares its memory
        self._image: QImage | None = None
        self._token: object = None
        self._unpainted = False
        self.card: tuple[str, str] | None = None
        self.skipped = 0  # frames replaced before they were painted
        self.painted = 0

    def set_frame(self, frame: np.ndarray, token: object = None) -> None:
        """Show this frame (H x W x 3 uint8 BGR, C-contiguous) from the next paint on."""
        if self._unpainted:
            self.skipped += 1
        self.frame = np.ascontiguousarray(frame)
        h, w = self.frame.shape[:2]
        self._image = QImage(self.frame.data, w, h, 3 * w, QImage.Format.Format_BGR888)
        self._token = token
        self._unpainted = True
        self.update()

    def set_card(self, title: str | None, detail: str = "") -> None:
        """Show a text card instead of the video (None hides it)."""
        self.card = None if title is None else (title, detail)
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self.card is not None:
            self._paint_card(painter)
        elif self._image is not None:
            target = fit_rect(self._image.width(), self._image.height(), self.width(), self.height())
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, target.width() < self._image.width())
            painter.drawImage(target, self._image)
        painter.end()
        if self._unpainted and self.card is None and self._image is not None:
            self._unpainted = False
            self.painted += 1
            if self.on_painted is not None:
                self.on_painted(self._token)

    def _paint_card(self, painter: QPainter) -> None:
        title, detail = self.card
        painter.setPen(QColor(225, 225, 230))
        font = QFont(self.font())
        font.setPointSizeF(max(14.0, self.height() / 22))
        painter.setFont(font)
        box = self.rect().adjusted(20, 0, -20, -self.height() // 10)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, title)
        if detail:
            font.setPointSizeF(max(10.0, self.height() / 45))
            painter.setFont(font)
            painter.setPen(QColor(150, 150, 160))
            box = self.rect().adjusted(20, self.height() // 6, -20, 0)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, detail)
