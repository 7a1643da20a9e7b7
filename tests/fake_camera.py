"""A fake camera for tests: a CaptureDevice (the part of cv2.VideoCapture a CameraSource uses)
serving real frames of the sample clip at a fixed rate, which a test can unplug and plug back,
stall (the next read blocks), switch to another frame size, or make deliver black frames."""
from __future__ import annotations

import threading
import time

import cv2
import numpy as np

from tests.conftest import SHOT_START, clip_frames


class FakeCameraRig:
    """The 'USB port': `plugged` decides whether the device opens and reads. Records every
    property set on the devices it opened."""

    def __init__(self, size: tuple[int, int] = (320, 180), fps: float = 25.0, count: int = 24,
                 grant: tuple[int, int] | None = None):
        self.frames = clip_frames(count, size, start=SHOT_START)
        self.fps = fps
        self.grant = grant
        self.plugged = threading.Event()
        self.plugged.set()
        self.props: dict[int, float] = {}
        self.opened = 0
        self.stall_s = 0.0  # the next read on any device blocks this long
        self.black = False
        self.released = 0

    def unplug(self) -> None:
        self.plugged.clear()

    def plug(self) -> None:
        self.plugged.set()

    def stall(self, seconds: float) -> None:
        self.stall_s = seconds

    def open(self, device: int | str) -> FakeCapture:
        self.opened += 1
        return FakeCapture(self)


class FakeCapture:
    def __init__(self, rig: FakeCameraRig):
        self.rig = rig
        self.open = rig.plugged.is_set()
        self.index = 0
        self.next_due = time.perf_counter()

    def isOpened(self) -> bool:
        return self.open

    def set(self, prop: int, value: float) -> bool:
        self.rig.props[prop] = value
        return True

    def get(self, prop: int) -> float:
        if prop == cv2.CAP_PROP_FPS:
            return self.rig.fps
        if prop == cv2.CAP_PROP_FOURCC:
            return float(cv2.VideoWriter_fourcc(*"MJPG"))
        return self.rig.props.get(prop, 0.0)

    def read(self) -> tuple[bool, np.ndarray | None]:
        delay = self.next_due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        self.next_due = max(self.next_due + 1.0 / self.rig.fps, time.perf_counter())
        if self.rig.stall_s:
            stall, self.rig.stall_s = self.rig.stall_s, 0.0
            time.sleep(stall)
        if not (self.open and self.rig.plugged.is_set()):
            self.open = False
            return False, None
        frame = self.rig.frames[self.index % len(self.rig.frames)]
        self.index += 1
        if self.rig.grant:
            frame = cv2.resize(frame, self.rig.grant)
        return True, np.zeros_like(frame) if self.rig.black else frame.copy()

    def release(self) -> None:
        self.open = False
        self.rig.released += 1
