"""Shared fixtures: real frames from the bundled sample clip, the shipped bank and engines."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from stylecam.app.cli.loading import load_bank, load_engine
from stylecam.app.live.sources import VideoFileSource
from stylecam.assets import paths


os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # real Qt widgets, drawn off screen: no display needed

V1_CHECKPOINT = Path(__file__).resolve().parents[1] / "checkpoints" / "v1_bank_checkpoint.pt"  # v2's teacher
V2_UNSEEDED = V1_CHECKPOINT.with_name("v2VB4_mixed_checkpoint.pt")  # the bank shipped before the seed input
SHOT_START = 21  # frames 21-64 of the sample clip are one shot (cuts after frames 20 and 64)


def clip_frames(count: int, size: tuple[int, int] | None = None, start: int = 0) -> list[np.ndarray]:
    """Consecutive frames of the sample clip (H x W x 3 uint8 BGR), optionally resized to (w, h)."""
    frames = []
    for frame in VideoFileSource(paths.sample_clip()).frames():
        if frame.index < start:
            continue
        image = frame.image if size is None else cv2.resize(frame.image, size, interpolation=cv2.INTER_AREA)
        frames.append(image)
        if len(frames) == count:
            break
    return frames


@pytest.fixture(scope="session")
def frames_small() -> list[np.ndarray]:
    """40 consecutive real frames (one continuous shot) at 320x180 (height not a multiple of 8)."""
    return clip_frames(40, (320, 180), start=SHOT_START)


@pytest.fixture(scope="session")
def bank():
    return load_bank()


@pytest.fixture(scope="session")
def ort_engine():
    return load_engine("ort-cpu").engine


def write_clip(path, frames: list[np.ndarray], fps: float = 24.0) -> None:
    """Write frames to an .mp4 (mp4v) for end-to-end runs."""
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for f in frames:
        writer.write(f)
    writer.release()


def read_video(path) -> tuple[list[np.ndarray], float]:
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()
    return frames, fps
