"""Frame sources: a video file (lossless, every frame in order) or a synthetic moving pattern.

Every frame is a `Frame`: H x W x 3 uint8 BGR, C-contiguous, owned by the receiver, with the
monotonic time (seconds, time.perf_counter) at which it was captured.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


class SourceError(ValueError):
    """A source that cannot be opened or yields no frames; the message names it."""


@dataclass
class Frame:
    image: np.ndarray  # H x W x 3 uint8 BGR
    index: int  # 0-based position in the source
    t_capture: float  # time.perf_counter() seconds when the frame was read or made


@dataclass(frozen=True)
class SourceInfo:
    name: str
    width: int
    height: int
    fps: float
    frame_count: int | None  # None where unknown or endless


class VideoFileSource:
    """Decodes a video file with OpenCV; checks up front that it opens and has a first frame."""

    def __init__(self, path: Path):
        path = Path(path)
        if not path.is_file():
            raise SourceError(f"input video not found: {path}")
        self.path = path
        cap = self._open()
        ok, first = cap.read()
        cap.release()
        if not ok or first is None:
            raise SourceError(f"no frames could be decoded from {path} (empty or corrupt video)")
        fps = self._fps
        count = self._count
        self.info = SourceInfo(str(path), first.shape[1], first.shape[0], fps, count)

    def _open(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            raise SourceError(f"cannot open video {self.path} (not a video, corrupt, or an unsupported codec)")
        self._fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        if not 0.0 < self._fps < 1000.0:
            self._fps = 30.0
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self._count = count if count > 0 else None
        return cap

    def frames(self) -> Iterator[Frame]:
        """Every decodable frame, in order; stops at the end of the file or the first bad frame."""
        cap = self._open()
        try:
            index = 0
            while True:
                ok, image = cap.read()
                if not ok or image is None:
                    return
                yield Frame(np.ascontiguousarray(image), index, time.perf_counter())
                index += 1
        finally:
            cap.release()


class SyntheticSource:
    """An endless moving, textured test pattern (pans, rotates and has moving discs)."""

    def __init__(self, width: int = 640, height: int = 480, fps: float = 30.0, seed: int = 0):
        self.info = SourceInfo("synthetic", width, height, fps, None)
        rng = np.random.default_rng(seed)
        big = (int(height * 1.6), int(width * 1.6))
        noise = rng.random((big[0] // 8, big[1] // 8, 3)).astype(np.float32)
        base = cv2.resize(noise, (big[1], big[0]), interpolation=cv2.INTER_CUBIC)
        canvas = np.clip(base * 200 + 30, 0, 255).astype(np.uint8)
        for _ in range(40):
            centre = (int(rng.integers(0, big[1])), int(rng.integers(0, big[0])))
            colour = tuple(int(c) for c in rng.integers(0, 255, 3))
            cv2.circle(canvas, centre, int(rng.integers(10, 60)), colour, -1, cv2.LINE_AA)
        self.canvas = canvas
        self.discs = [(rng.random(2), rng.random(2) * 0.01 + 0.002, tuple(int(c) for c in rng.integers(0, 255, 3)))
                      for _ in range(5)]

    def render(self, index: int) -> np.ndarray:
        """Frame `index` of the pattern: H x W x 3 uint8 BGR."""
        w, h = self.info.width, self.info.height
        t = index / self.info.fps
        angle = 4.0 * np.sin(t * 0.7)
        cx = self.canvas.shape[1] / 2 + 0.15 * w * np.sin(t * 0.9)
        cy = self.canvas.shape[0] / 2 + 0.12 * h * np.cos(t * 0.6)
        m = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
        m[0, 2] -= cx - w / 2
        m[1, 2] -= cy - h / 2
        image = cv2.warpAffine(self.canvas, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        for start, speed, colour in self.discs:
            x = (start[0] + speed[0] * index) % 1.0
            y = (start[1] + speed[1] * index) % 1.0
            cv2.circle(image, (int(x * w), int(y * h)), max(4, h // 12), colour, -1, cv2.LINE_AA)
        return image

    def frames(self) -> Iterator[Frame]:
        index = 0
        while True:
            yield Frame(self.render(index), index, time.perf_counter())
            index += 1


def open_source(spec: str, size: tuple[int, int] | None = None):
    """'synthetic' (at `size`, default 640x480) or a video file path."""
    if spec == "synthetic":
        w, h = size or (640, 480)
        return SyntheticSource(w, h)
    return VideoFileSource(Path(spec))
