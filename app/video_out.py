"""Writing a stylised video safely: to a temporary name beside the target, renamed on success."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

FOURCC = {".mp4": "mp4v", ".mov": "mp4v", ".m4v": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}


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


class AtomicVideoWriter:
    """Frames (H x W x 3 uint8 BGR, all one size) go to `.NAME.partial.EXT`; `commit()` renames it
    to the target, `discard()` deletes it. Use as a context manager: an exception discards."""

    def __init__(self, target: Path, fps: float, size: tuple[int, int]):
        target = Path(target)
        check_target(target)
        self.target = target
        self.partial = target.with_name(f".{target.stem}.partial{target.suffix}")
        self.size = size
        self.frames = 0
        self.writer = cv2.VideoWriter(str(self.partial), cv2.VideoWriter_fourcc(*FOURCC[target.suffix.lower()]), fps, size)
        if not self.writer.isOpened():
            self.writer.release()
            self.partial.unlink(missing_ok=True)
            raise OutputError(f"cannot write video to {target}")

    def write(self, image: np.ndarray) -> None:
        if (image.shape[1], image.shape[0]) != self.size:
            raise OutputError(f"frame size {image.shape[1]}x{image.shape[0]} != video size {self.size[0]}x{self.size[1]}")
        self.writer.write(image)
        self.frames += 1

    def commit(self) -> Path:
        self.writer.release()
        os.replace(self.partial, self.target)
        return self.target

    def discard(self) -> None:
        self.writer.release()
        self.partial.unlink(missing_ok=True)

    def __enter__(self) -> AtomicVideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.discard()
