"""What `train-style` learns from: one painting, or keyframes of a video (a painted film, or the
user's own artwork being filmed), whose Gram matrices are averaged into one style target.

Keyframes: the clip is read once at a small size; a scene starts at a frame whose mean absolute
grey difference from the one before passes `scene_cut` (0-1 of full scale), unless another frame
did so within the `min_scene` frames before it (a burst of them is flicker or fast motion, not
cuts). Every scene gets at least one keyframe and the rest go where a scene has the most frames
per keyframe, placed at the middles of equal parts of the scene. With more scenes than
keyframes, the scenes at evenly spaced times are taken, then the longest others.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from stylecam.engines.styles import StyleError

MIN_SIDE = 64
WHOLE = 0.9  # a video of fewer decodable frames than this share of those it declares is damaged


@dataclass
class StyleSource:
    """The style's images, H x W x 3 uint8 RGB: one painting, or a video's keyframes."""

    images: list[np.ndarray]
    frames: list[int] = field(default_factory=list)  # the keyframes' indices in the video; none for a painting
    scenes: int = 0  # scenes found in the video


def _too_small(shape: tuple[int, ...], path: Path) -> None:
    if min(shape[:2]) < MIN_SIDE:
        raise StyleError(f"{path} is {shape[1]}x{shape[0]}; it needs at least {MIN_SIDE} px on each side")


@contextmanager
def _quiet_stderr():
    """FFmpeg's own decoder messages (on fd 2) held back; our one-line StyleError says it instead."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "wb") as null:
        os.dup2(null.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def scene_starts(greys: list[np.ndarray], scene_cut: float = 0.15, min_scene: int = 12) -> list[int]:
    """Indices of the frames that start a scene (0 first; see the module doc); greys: small uint8 frames."""
    starts, last_jump = [0], 0
    for t in range(1, len(greys)):
        if cv2.norm(greys[t], greys[t - 1], cv2.NORM_L1) / (greys[t].size * 255.0) > scene_cut:
            if t - last_jump >= min_scene:
                starts.append(t)
            last_jump = t
    return starts


def pick_keyframes(n_frames: int, starts: list[int], count: int) -> list[int]:
    """min(count, n_frames) frame indices spread over the scenes (see the module doc), sorted."""
    scenes = list(zip(starts, [*starts[1:], n_frames]))
    if len(scenes) > count:  # the scenes at evenly spaced times, then the longest others
        times = [(j + 0.5) * n_frames / count for j in range(count)]
        chosen = {next(i for i, (s, e) in enumerate(scenes) if s <= t < e) for t in times}
        for i in sorted(range(len(scenes)), key=lambda i: scenes[i][0] - scenes[i][1]):
            if len(chosen) >= count:
                break
            chosen.add(i)
        return sorted((s + e) // 2 for i, (s, e) in enumerate(scenes) if i in chosen)
    lengths = np.array([e - s for s, e in scenes], np.float64)
    per = np.ones(len(scenes), int)  # one each, then one at a time where frames per keyframe are most
    for _ in range(count - len(scenes)):
        per[int(np.argmax(lengths / per))] += 1
    return sorted({s + int((j + 0.5) * (e - s) / k) for (s, e), k in zip(scenes, per) for j in range(k)})


def video_keyframes(path: Path, count: int = 8) -> StyleSource:
    """Up to `count` keyframes of the video; StyleError if it cannot be decoded whole or is small."""
    with _quiet_stderr():
        cap = cv2.VideoCapture(str(path))
        opened, declared, greys = cap.isOpened(), int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), []
        try:
            while True:
                ok, bgr = cap.read()
                if not ok:
                    break
                if not greys:
                    _too_small(bgr.shape, path)
                small = cv2.resize(bgr, (64, 36), interpolation=cv2.INTER_AREA)
                greys.append(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))
        finally:
            cap.release()
        if not opened:
            raise StyleError(f"cannot read painting {path}: not an image or a readable video file")
        if not greys:
            raise StyleError(f"cannot read painting {path}: nothing in it decodes (a damaged image or video?)")
        if len(greys) < WHOLE * declared:
            raise StyleError(f"cannot read painting {path}: damaged or truncated video, "
                             f"only {len(greys)} of its {declared} frames decode")
        starts = scene_starts(greys)
        wanted = pick_keyframes(len(greys), starts, count)
        cap, images = cv2.VideoCapture(str(path)), []
        try:
            for t in range(wanted[-1] + 1):
                if cap.grab() and t in wanted:
                    images.append(cv2.cvtColor(cap.retrieve()[1], cv2.COLOR_BGR2RGB))
        finally:
            cap.release()
    return StyleSource(images, wanted, len(starts))


def read_style_source(path: Path, keyframes: int = 8) -> StyleSource:
    """The painting, or up to `keyframes` keyframes of a video; the kind is told from the file's
    content, not its name. StyleError (one line) if missing, unreadable, damaged or small."""
    path = Path(path)
    if not path.is_file():
        raise StyleError(f"painting not found: {path}")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is not None:
        _too_small(image.shape, path)
        return StyleSource([cv2.cvtColor(image, cv2.COLOR_BGR2RGB)])
    return video_keyframes(path, keyframes)
