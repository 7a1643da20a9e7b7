"""Recording the stylised stream to a video file that survives a crash.

- With PyAV (`pip install 'stylecam[record]'`): H.264 (libx264, veryfast, zerolatency, a keyframe
  every second) in fragmented MP4 (.mp4/.mov: empty moov + a fragment per keyframe) or Matroska
  (.mkv). Timestamps are the frames' display times, so the file plays at the speed it was seen.
  A killed app leaves a file playable up to its last complete fragment (it loses <= 1 s).
- Without PyAV: OpenCV through FFmpeg, Motion-JPEG in .avi or .mkv at a constant frame rate, late
  frames repeated so the file keeps the display's timing. A killed app leaves a file FFmpeg-based
  players read up to what FFmpeg had flushed (its 32 KiB write buffer: a few frames; no index
  needed). OpenCV's .mp4 (mp4v) writes its index at the end, so a killed app leaves an unplayable
  file: .mp4 without PyAV is refused.

Frames are H x W x 3 uint8 BGR; a frame of another size than the recording's is resized to it.
The file is written in place (no temporary name): crash safety means the partial file is there.

A full disk: each writer checks the free space of the recording's folder once per second of
video and raises DiskFull while MIN_FREE_MB are still left, so the file can be closed properly
(OpenCV's writer would otherwise drop frames without an error). A write that fails anyway
(ENOSPC, EFBIG) raises from PyAV; the fragments already written stay playable.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import shutil

import cv2
import numpy as np

from stylecam.app.outputs.video_out import OutputError, have_pyav

SUFFIXES = (".mp4", ".mov", ".mkv", ".avi")
MS = Fraction(1, 1000)
MIN_FREE_MB = 200.0
SPACE_CHECK_S = 1.0  # seconds of video between free-space checks


class DiskFull(OSError):
    """The recording's disk is (nearly) full; the message says how much is left."""


def free_mb(folder: Path) -> float:
    return shutil.disk_usage(folder).free / 2**20


class SpaceGuard:
    """Raises DiskFull from check(t) when the folder has less than MIN_FREE_MB free; looks at
    most once per SPACE_CHECK_S of frame time t (seconds)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._next_t: float | None = None

    def check(self, t: float) -> None:
        if self._next_t is not None and t < self._next_t:
            return
        self._next_t = t + SPACE_CHECK_S
        left = free_mb(self.folder)
        if left < MIN_FREE_MB:
            raise DiskFull(f"disk nearly full ({left:.0f} MB left in {self.folder}): recording stopped, "
                           "the file keeps what was recorded")


def check_record_target(path: Path, pyav: bool | None = None) -> None:
    """Raise OutputError unless a crash-safe recording can be written at `path`."""
    pyav = have_pyav() if pyav is None else pyav
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise OutputError(f"unsupported recording type {suffix or '(none)'!r}; use one of {', '.join(SUFFIXES)}")
    if suffix in (".mp4", ".mov") and not pyav:
        raise OutputError(f"recording to {suffix} needs PyAV (pip install 'stylecam[record]'); "
                          "without it record to .mkv or .avi")
    if path.is_dir():
        raise OutputError(f"recording path is a folder: {path}")
    if not path.parent.is_dir():
        raise OutputError(f"recording folder does not exist: {path.parent}")


def _even(size: tuple[int, int]) -> tuple[int, int]:
    return size[0] - size[0] % 2, size[1] - size[1] % 2


def _fit(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (image.shape[1], image.shape[0]) == size:
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


class PyAVWriter:
    """H.264 in fragmented MP4 or Matroska, timestamps in ms from the first frame."""

    name = "recorder"
    crash_safe = True

    def __init__(self, path: Path, fps: float, size: tuple[int, int]):
        import av

        self.size = _even(size)
        self.describe = f"H.264 via PyAV, {'fragmented MP4' if path.suffix.lower() in ('.mp4', '.mov') else 'Matroska'}"
        options = {"flush_packets": "1"}
        if path.suffix.lower() in (".mp4", ".mov"):
            options["movflags"] = "frag_keyframe+empty_moov+default_base_moof"
        self.container = av.open(str(path), "w", options=options)
        rate = max(1, round(fps))
        self.stream = self.container.add_stream("libx264", rate=rate)
        self.stream.width, self.stream.height = self.size
        self.stream.pix_fmt = "yuv420p"
        self.stream.time_base = MS
        self.stream.codec_context.time_base = MS
        self.stream.codec_context.options = {"preset": "veryfast", "tune": "zerolatency", "g": str(rate)}
        self._t0: float | None = None
        self._last_pts = -1
        self._av = av
        self.guard = SpaceGuard(path.parent)

    def write(self, image: np.ndarray, t: float) -> None:
        self.guard.check(t)
        if self._t0 is None:
            self._t0 = t
        pts = max(self._last_pts + 1, round((t - self._t0) * 1000))
        self._last_pts = pts
        frame = self._av.VideoFrame.from_ndarray(_fit(image, self.size), format="bgr24")
        frame.pts, frame.time_base = pts, MS
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()


class OpenCVWriter:
    """Motion-JPEG in .avi/.mkv through OpenCV's FFmpeg backend at a constant `fps`. A frame that
    comes later than its slot is repeated to fill the gap, so the file plays at the speed it was
    seen (frames never come faster than the source's rate, which `fps` is)."""

    name = "recorder"
    crash_safe = True

    def __init__(self, path: Path, fps: float, size: tuple[int, int]):
        self.size = size
        self.fps = fps
        self.frames = 0  # frames in the file, repeats included
        self._t0: float | None = None
        self.describe = "Motion-JPEG via OpenCV"
        self.writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
        if not self.writer.isOpened():
            self.writer.release()
            raise OutputError(f"cannot write video to {path}")
        self.guard = SpaceGuard(path.parent)

    def write(self, image: np.ndarray, t: float) -> None:
        """t: the frame's display time in seconds (any origin)."""
        self.guard.check(t)
        if self._t0 is None:
            self._t0 = t
        due = round((t - self._t0) * self.fps) + 1  # frames the file should hold with this one
        picture = _fit(image, self.size)
        for _ in range(max(1, due - self.frames)):
            self.writer.write(picture)
            self.frames += 1

    def close(self) -> None:
        self.writer.release()


def open_writer(path: Path, fps: float, size: tuple[int, int], pyav: bool | None = None) -> PyAVWriter | OpenCVWriter:
    """The crash-safe writer for `path`: PyAV where installed (and asked), else OpenCV MJPG."""
    path = Path(path)
    pyav = have_pyav() if pyav is None else pyav
    check_record_target(path, pyav)
    if pyav:
        try:
            return PyAVWriter(path, fps, size)
        except (OSError, ValueError) as exc:  # av.error.* derive from these
            raise OutputError(f"cannot record to {path}: {exc}") from exc
    return OpenCVWriter(path, fps, size)
