"""Writing a stylised video safely: to a temporary name beside the target, renamed on success.

.mp4/.mov/.m4v/.mkv are H.264 (libx264, yuv420p, quality as a CRF) through PyAV when it is
installed; otherwise, and for .avi, OpenCV's encoders: MPEG-4 Part 2 (mp4v), which softens fine
brushwork, or Motion-JPEG.
"""
from __future__ import annotations

import importlib.util
import os
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

FOURCC = {".mp4": "mp4v", ".mov": "mp4v", ".m4v": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}
H264_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv")
DEFAULT_CRF = 18  # x264 constant rate factor: 0 lossless .. 51 worst; ~18 looks lossless


def have_pyav() -> bool:
    return importlib.util.find_spec("av") is not None


class OutputError(ValueError):
    """The output cannot be written where or how it was asked."""


def check_target(target: Path) -> None:
    """Raise OutputError unless a video can be written at target (type, folder, permissions)."""
    if target.is_dir():
        raise OutputError(f"output path is a folder: {target}")
    suffix = target.suffix.lower()
    if suffix not in FOURCC:
        raise OutputError(f"unsupported output type {suffix or '(none)'!r}; use one of {', '.join(FOURCC)}")
    if not target.parent.is_dir():
        raise OutputError(f"output folder does not exist: {target.parent}")
    if not os.access(target.parent, os.W_OK):
        raise OutputError(f"output folder is not writable: {target.parent}")


def check_crf(crf: int) -> None:
    if not 0 <= crf <= 51:
        raise OutputError(f"--quality must be an H.264 CRF in 0..51, got {crf}")


class H264File:
    """H.264 at a constant frame rate through PyAV; the container follows the file's suffix."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int], crf: int):
        import av

        self._av = av
        fmt = {".mkv": "matroska", ".mov": "mov"}.get(path.suffix.lower(), "mp4")
        self.container = av.open(str(path), "w", format=fmt)
        self.stream = self.container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        self.stream.width, self.stream.height = size
        self.stream.pix_fmt = "yuv420p"
        self.stream.codec_context.options = {"crf": str(crf), "preset": "medium"}

    def write(self, image: np.ndarray) -> None:
        for packet in self.stream.encode(self._av.VideoFrame.from_ndarray(image, format="bgr24")):
            self.container.mux(packet)

    def release(self) -> None:
        if self.container is None:
            return
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()
        self.container = None


class OpenCVFile:
    """OpenCV's FFmpeg writer with the suffix's fourcc (FOURCC)."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int]):
        self.writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*FOURCC[path.suffix.lower()]), fps, size)
        if not self.writer.isOpened():
            self.writer.release()
            raise OSError("OpenCV's writer did not open")

    def write(self, image: np.ndarray) -> None:
        self.writer.write(image)

    def release(self) -> None:
        self.writer.release()


class AtomicVideoWriter:
    """Frames (H x W x 3 uint8 BGR, all one size) go to `.NAME.partial.EXT`; `commit()` renames it
    to the target, `discard()` deletes it. Use as a context manager: an exception discards.
    `codec` says what was written, e.g. "H.264 (CRF 18)" or "MPEG-4 Part 2 (mp4v; PyAV not installed)".
    crf: H.264 quality, 0-51; pyav: None uses PyAV where installed."""

    def __init__(self, target: Path, fps: float, size: tuple[int, int], crf: int = DEFAULT_CRF,
                 pyav: bool | None = None):
        target = Path(target)
        check_target(target)
        check_crf(crf)
        self.target = target
        self.partial = target.with_name(f".{target.stem}.partial{target.suffix}")
        self.size = size
        self.frames = 0
        suffix = target.suffix.lower()
        pyav = have_pyav() if pyav is None else pyav
        fallback = "MPEG-4 Part 2 (mp4v" if FOURCC[suffix] == "mp4v" else "Motion-JPEG (MJPG"
        even = size[0] % 2 == 0 and size[1] % 2 == 0
        try:
            if suffix in H264_SUFFIXES and pyav and even:
                self.file, self.codec = H264File(self.partial, fps, size, crf), f"H.264 (CRF {crf})"
            else:
                why = ("" if suffix not in H264_SUFFIXES else "; PyAV not installed" if not pyav
                       else "; odd frame size")
                self.file, self.codec = OpenCVFile(self.partial, fps, size), f"{fallback}{why})"
        except (OSError, ValueError) as exc:  # av.error.* derive from these
            self.partial.unlink(missing_ok=True)
            raise OutputError(f"cannot write video to {target}: {exc}") from exc

    def write(self, image: np.ndarray) -> None:
        if (image.shape[1], image.shape[0]) != self.size:
            raise OutputError(f"frame size {image.shape[1]}x{image.shape[0]} != video size {self.size[0]}x{self.size[1]}")
        self.file.write(image)
        self.frames += 1

    def commit(self) -> Path:
        self.file.release()
        os.replace(self.partial, self.target)
        return self.target

    def discard(self) -> None:
        self.file.release()
        self.partial.unlink(missing_ok=True)

    def __enter__(self) -> AtomicVideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.discard()
