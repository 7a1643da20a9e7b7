"""Live frame sources for the window: a camera (newest frame wins), or a file or pattern played
in a loop at its own frame rate.

Each source has open() / read() / close(). read() returns an H x W x 3 uint8 BGR frame, or None
when a camera is lost (the capture stage then reconnects). Cameras are opened with a one-frame
driver buffer and MJPG where the driver offers it; the granted size and rate are read back.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from stylecam.app.live.cameras import CameraInfo, capture_backends, enumerate_cameras, find_camera
from stylecam.app.live.sources import SourceError, SyntheticSource, VideoFileSource
from stylecam.assets import paths


class CameraUnavailable(RuntimeError):
    """A camera that does not open or gives no frame; the message names it."""


class CaptureDevice(Protocol):
    """The part of cv2.VideoCapture a camera source uses (a fake one stands in for tests)."""

    def isOpened(self) -> bool: ...
    def set(self, prop: int, value: float) -> bool: ...
    def get(self, prop: int) -> float: ...
    def read(self) -> tuple[bool, np.ndarray | None]: ...
    def release(self) -> None: ...


Opener = Callable[[int | str], CaptureDevice]


def open_capture(device: int | str) -> CaptureDevice:
    """cv2.VideoCapture through this OS's capture API (cameras.capture_backends): the first that
    opens, else the last one tried (not opened)."""
    cap = None
    for api, _ in capture_backends():
        cap = cv2.VideoCapture(device, api)
        if cap.isOpened():
            return cap
        cap.release()
    return cap


@dataclass(frozen=True)
class CameraRequest:
    """What is asked of a camera: size in pixels and frames per second."""

    width: int = 640
    height: int = 480
    fps: float = 30.0


@dataclass(frozen=True)
class Granted:
    """What a source actually delivers: size in pixels, frames/s, pixel format (fourcc)."""

    width: int
    height: int
    fps: float
    fourcc: str

    def describe(self) -> str:
        return f"{self.width}x{self.height} @ {self.fps:.0f} fps {self.fourcc}".rstrip()


def camera_device(spec: str) -> int | str | None:
    """'0' -> 0, '/dev/video2' -> '/dev/video2'; anything else -> None (not a camera)."""
    if spec.isdigit():
        return int(spec)
    if re.fullmatch(r"/dev/video\d+", spec):
        return spec
    return None


def _fourcc_text(value: float) -> str:
    code = int(value)
    text = "".join(chr((code >> 8 * i) & 0xFF) for i in range(4))
    return text if text.isprintable() and text.strip() else ""


class CameraSource:
    """A camera by index or device path. The driver keeps at most one frame, so a read returns the
    newest; the capture stage hands only the newest onward too."""

    reconnects = True

    def __init__(self, device: int | str, request: CameraRequest = CameraRequest(), opener: Opener = open_capture,
                 name: str = ""):
        self.device = device
        self.request = request
        self.opener = opener
        self.label = name
        self.name = f"{name} ({device})" if name else f"camera {device}"
        self.granted: Granted | None = None
        self._cap: CaptureDevice | None = None

    def open(self) -> Granted:
        """Open and configure the camera and read one frame; raises CameraUnavailable."""
        self.close()
        cap = self.opener(self.device)
        if not cap.isOpened():
            cap.release()
            raise CameraUnavailable(f"{self.name} did not open")
        r = self.request
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))  # ignored where not offered
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, r.width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, r.height)
        cap.set(cv2.CAP_PROP_FPS, r.fps)
        ok, first = cap.read()
        if not ok or first is None:
            cap.release()
            raise CameraUnavailable(f"{self.name} opened but gave no frame")
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.granted = Granted(first.shape[1], first.shape[0], fps if 0 < fps < 1000 else r.fps,
                               _fourcc_text(cap.get(cv2.CAP_PROP_FOURCC)))
        self._cap = cap
        return self.granted

    def fresh(self) -> CameraSource:
        """The same camera as a new, unopened source (this one may be stuck in a read)."""
        return CameraSource(self.device, self.request, self.opener, self.label)

    @property
    def is_open(self) -> bool:
        return self._cap is not None

    def read(self) -> np.ndarray | None:
        """The newest frame, or None if the camera is lost."""
        if self._cap is None:
            return None
        ok, image = self._cap.read()
        if not ok or image is None:
            return None
        return np.ascontiguousarray(image)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class LoopingSource:
    """A video file or the synthetic pattern, played endlessly at its own frame rate: read()
    sleeps until the next frame is due, so it behaves like a camera."""

    reconnects = False

    def __init__(self, source: VideoFileSource | SyntheticSource, name: str):
        self.source = source
        self.name = name
        info = source.info
        self.granted = Granted(info.width, info.height, info.fps, "file" if info.frame_count else "synthetic")
        self.period = 1.0 / info.fps
        self._frames = None
        self._due = 0.0

    def open(self) -> Granted:
        self._frames = self._loop()
        self._due = time.perf_counter()
        return self.granted

    def _loop(self):
        while True:
            got = False
            for frame in self.source.frames():
                got = True
                yield frame.image
            if not got:
                return

    @property
    def is_open(self) -> bool:
        return self._frames is not None

    def read(self) -> np.ndarray | None:
        if self._frames is None:
            return None
        delay = self._due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        now = time.perf_counter()
        self._due = max(self._due + self.period, now - self.period)  # no burst after a stall
        return next(self._frames, None)

    def close(self) -> None:
        if self._frames is not None:
            self._frames.close()
            self._frames = None


LiveSource = CameraSource | LoopingSource


def sample_source() -> LoopingSource:
    return LoopingSource(VideoFileSource(paths.sample_clip()), "sample clip")


@dataclass
class Resolved:
    """The source to play and, where it is not what was asked, a line saying why."""

    source: LiveSource
    notice: str | None = None


def resolve_source(spec: str, request: CameraRequest = CameraRequest(), opener: Opener = open_capture,
                   cameras: Callable[[], list[CameraInfo]] = lambda: enumerate_cameras().cameras) -> Resolved:
    """'auto' (camera 0, else the sample clip), 'sample', 'synthetic', a camera index, /dev/videoN
    or a camera's name (the sample clip if it does not open, saying so), or a video file (looped).
    A missing or undecodable file, or a name no camera has, raises SourceError."""
    device = camera_device(spec) if spec != "auto" else 0
    name = ""
    if device is None and spec not in ("sample", "synthetic") and not Path(spec).is_file():
        found = cameras()
        match = find_camera(spec, found)
        if match is None:
            names = ", ".join(repr(c.name) for c in found) or "none found"
            raise SourceError(f"--source: not a camera, 'sample', 'synthetic' or an existing video file: {spec} "
                              f"(cameras: {names})")
        device, name = match.device, match.name
    if device is not None:
        camera = CameraSource(device, request, opener, name)
        try:
            camera.open()
        except CameraUnavailable as exc:
            return Resolved(sample_source(), f"no camera: {exc}; playing the bundled sample clip")
        return Resolved(camera)
    if spec == "sample":
        return Resolved(sample_source())
    if spec == "synthetic":
        return Resolved(LoopingSource(SyntheticSource(request.width, request.height, request.fps), "synthetic"))
    path = Path(spec)
    return Resolved(LoopingSource(VideoFileSource(path), path.name))
