"""Cameras by name: which cameras this machine has, what formats and rates each offers, and the
OpenCV capture backend used per OS.

Names come from QtMultimedia (`QMediaDevices.videoInputs()`) on every OS. Where QtMultimedia
cannot load (on Linux it needs libpulse.so.0), Linux falls back to the names the V4L2 drivers
give in /sys/class/video4linux, without formats. Capture itself stays on OpenCV (see camera.py).
"""
from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2

SYSFS_V4L = Path("/sys/class/video4linux")


@dataclass(frozen=True)
class CameraFormat:
    """One mode a camera offers: size in pixels, frame rate range in frames/s, pixel format."""

    width: int
    height: int
    min_fps: float
    max_fps: float
    pixel_format: str

    def describe(self) -> str:
        rate = f"{self.max_fps:g}" if self.min_fps in (0, self.max_fps) else f"{self.min_fps:g}-{self.max_fps:g}"
        return f"{self.width}x{self.height} @ {rate} fps {self.pixel_format}".rstrip()


@dataclass(frozen=True)
class CameraInfo:
    """A camera: its name, what OpenCV opens (an index, or /dev/videoN on Linux), its modes."""

    name: str
    device: int | str
    formats: tuple[CameraFormat, ...] = ()


@dataclass
class CameraList:
    """The cameras found, how they were listed ('QtMultimedia' or 'V4L2 sysfs'), and why a
    better way was not used ('' if none was passed over)."""

    cameras: list[CameraInfo] = field(default_factory=list)
    via: str = ""
    note: str = ""


class ListingUnavailable(RuntimeError):
    """A way of listing cameras that does not work here; the message says why."""


def _device_for(qt_id: str, position: int) -> int | str:
    """Linux Qt ids are device paths (/dev/video0); elsewhere OpenCV's index follows Qt's order."""
    return qt_id if re.fullmatch(r"/dev/video\d+", qt_id) else position


def qt_cameras() -> list[CameraInfo]:
    """Cameras from QtMultimedia, with every format's size, rate range and pixel format."""
    from PyQt6.QtCore import QCoreApplication, QLoggingCategory

    QLoggingCategory.setFilterRules("qt.multimedia.*=false")  # its optional-library probing notes
    try:
        from PyQt6.QtMultimedia import QMediaDevices
    except ImportError as exc:  # e.g. "libpulse.so.0: cannot open shared object file"
        raise ListingUnavailable(f"QtMultimedia does not load: {exc}") from exc
    app = QCoreApplication.instance() or QCoreApplication([])  # QMediaDevices needs one alive
    cameras = []
    for position, dev in enumerate(QMediaDevices.videoInputs()):
        formats = tuple(CameraFormat(f.resolution().width(), f.resolution().height(), round(f.minFrameRate(), 2),
                                     round(f.maxFrameRate(), 2), f.pixelFormat().name.removeprefix("Format_"))
                        for f in dev.videoFormats())
        qt_id = bytes(dev.id()).decode(errors="replace")
        cameras.append(CameraInfo(dev.description(), _device_for(qt_id, position), formats))
    app.processEvents()
    return cameras


def sysfs_cameras(root: Path = SYSFS_V4L) -> list[CameraInfo]:
    """Linux capture nodes with the driver's name (/sys/class/video4linux/videoN/name); nodes
    whose index is not 0 (metadata nodes of the same camera) are left out."""
    cameras = []
    for node in sorted(root.glob("video[0-9]*"), key=lambda p: int(p.name[5:])):
        index = node / "index"
        if index.is_file() and index.read_text().strip() not in ("", "0"):
            continue
        name_file = node / "name"
        name = name_file.read_text().strip() if name_file.is_file() else node.name
        cameras.append(CameraInfo(name, f"/dev/{node.name}"))
    return cameras


def enumerate_cameras(qt: Callable[[], list[CameraInfo]] = qt_cameras,
                      sysfs: Callable[[], list[CameraInfo]] = sysfs_cameras,
                      platform: str = sys.platform) -> CameraList:
    """QtMultimedia's list; on Linux the V4L2 names where QtMultimedia does not load."""
    try:
        return CameraList(qt(), "QtMultimedia")
    except ListingUnavailable as exc:
        if platform.startswith("linux"):
            return CameraList(sysfs(), "V4L2 sysfs (names only)", str(exc))
        return CameraList([], "none", str(exc))


def find_camera(spec: str, cameras: list[CameraInfo]) -> CameraInfo | None:
    """The camera whose name equals `spec` (case-insensitive), else the only one containing it."""
    key = spec.strip().casefold()
    exact = [c for c in cameras if c.name.casefold() == key]
    if exact:
        return exact[0]
    partial = [c for c in cameras if key and key in c.name.casefold()]
    return partial[0] if len(partial) == 1 else None


def capture_backends(platform: str = sys.platform) -> list[tuple[int, str]]:
    """OpenCV capture APIs to try, in order, with their names: V4L2 on Linux; DirectShow then
    Media Foundation on Windows (DirectShow opens in well under a second and honours MJPG, MSMF
    can take seconds to open); AVFoundation on macOS."""
    if platform.startswith("linux"):
        return [(cv2.CAP_V4L2, "V4L2")]
    if platform.startswith("win"):
        return [(cv2.CAP_DSHOW, "DirectShow"), (cv2.CAP_MSMF, "Media Foundation")]
    if platform == "darwin":
        return [(cv2.CAP_AVFOUNDATION, "AVFoundation")]
    return [(cv2.CAP_ANY, "OpenCV default")]
