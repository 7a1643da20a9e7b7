"""Glass-to-glass latency, measured with the window's own picture.

The camera films the window. At random moments the displayed frame is replaced by white (the
flash) until a captured frame shows it; the sample ends when that camera frame, stylised, is on
screen. With times taken where Qt paints (t_flash, t_shown) and where the camera frame arrives
(t_seen):

    camera_ms         = t_seen - t_flash    display scan-out + the light's way + exposure + USB + driver
    pipeline_ms       = t_shown - t_seen    capture -> stylise -> paint (what the metrics panel shows)
    glass_to_glass_ms = t_shown - t_flash

Paint-to-paint is glass-to-glass: the display's own lag (paint -> light) delays the flash by the
same amount it delays the result, so it is counted once, as a real camera-to-eye path has it.
Camera exposure and the display's refresh are part of the figure, as they are for a user.

The probe is fed from two threads: the capture thread (`captured`, each frame's mean level) and
the GUI thread (`flash_now`, `painted`); a lock keeps its state whole.
"""
from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from stylecam.app.live.camera import Granted


@dataclass(frozen=True)
class ProbeSettings:
    """gap_s: random wait between flashes (s); timeout_s: a flash unseen this long is a miss;
    rise: how far (0-255) a frame's mean level must rise over the baseline to count as seen."""

    gap_s: tuple[float, float] = (0.5, 1.0)
    timeout_s: float = 2.0
    rise: float = 40.0
    seed: int = 0


@dataclass(frozen=True)
class LatencySample:
    """One flash: perf_counter seconds when it was painted, when the camera frame showing it
    arrived (and its index), and when that frame was painted."""

    t_flash: float
    t_seen: float
    seen_index: int
    t_shown: float

    @property
    def glass_to_glass_ms(self) -> float:
        return 1000.0 * (self.t_shown - self.t_flash)

    @property
    def camera_ms(self) -> float:
        return 1000.0 * (self.t_seen - self.t_flash)

    @property
    def pipeline_ms(self) -> float:
        return 1000.0 * (self.t_shown - self.t_seen)


class LatencyProbe:
    """Waiting -> flashing (white frames until the camera sees one) -> seen (until that frame is
    painted) -> waiting. Baseline: the median level of the frames captured in the last 0.3 s
    before the flash."""

    def __init__(self, settings: ProbeSettings = ProbeSettings(), now: float | None = None):
        self.settings = settings
        self._rng = random.Random(settings.seed)
        self._lock = threading.Lock()
        self._levels: deque[tuple[float, float]] = deque(maxlen=64)  # (t_capture, level)
        self.samples: list[LatencySample] = []
        self.flashes = 0
        self.missed = 0
        self._state = "waiting"
        self._next_at = (time.perf_counter() if now is None else now) + self._gap()
        self._t_flash: float | None = None
        self._baseline = 0.0
        self._seen: tuple[float, int] | None = None

    def _gap(self) -> float:
        return self._rng.uniform(*self.settings.gap_s)

    def flash_now(self, now: float) -> bool:
        """GUI thread, composing a displayed frame: should it be the white flash?"""
        with self._lock:
            if self._state == "waiting" and now >= self._next_at:
                recent = [level for t, level in self._levels if t >= now - 0.3] or [level for _, level in self._levels]
                self._baseline = float(np.median(recent)) if recent else 0.0
                self._state, self._t_flash = "flashing", None
                self.flashes += 1
            if self._state == "flashing" and self._t_flash is not None and now - self._t_flash > self.settings.timeout_s:
                self.missed += 1
                self._state, self._next_at = "waiting", now + self._gap()
            return self._state == "flashing"

    def painted(self, now: float, flashed: bool, index: int) -> None:
        """GUI thread: a frame (camera frame `index`, or the flash) was painted at `now`."""
        with self._lock:
            if flashed and self._state == "flashing" and self._t_flash is None:
                self._t_flash = now
            elif self._state == "seen" and not flashed and index >= self._seen[1]:
                t_seen, seen_index = self._seen
                self.samples.append(LatencySample(self._t_flash, t_seen, seen_index, now))
                self._state, self._next_at = "waiting", now + self._gap()

    def captured(self, index: int, t_capture: float, level: float) -> None:
        """Capture thread: camera frame `index` arrived at t_capture with mean level 0-255."""
        with self._lock:
            if (self._state == "flashing" and self._t_flash is not None and t_capture > self._t_flash
                    and level >= self._baseline + self.settings.rise):
                self._state, self._seen = "seen", (t_capture, index)
            elif self._state == "waiting":
                self._levels.append((t_capture, level))

    def report(self) -> dict:
        """Percentiles (ms) over the samples, and the samples themselves."""
        def pct(values: list[float]) -> dict[str, float] | None:
            if not values:
                return None
            return {f"p{q}": round(float(np.percentile(values, q)), 1) for q in (50, 95, 99)}

        with self._lock:
            samples = list(self.samples)
        return {
            "latency_ms": pct([s.glass_to_glass_ms for s in samples]),
            "samples": [{"glass_to_glass_ms": round(s.glass_to_glass_ms, 1), "camera_ms": round(s.camera_ms, 1),
                         "pipeline_ms": round(s.pipeline_ms, 1)} for s in samples],
            "flashes": self.flashes,
            "missed": self.missed,
            "camera_ms": pct([s.camera_ms for s in samples]),
            "pipeline_ms": pct([s.pipeline_ms for s in samples]),
        }


class ScreenTap:
    """What the window painted, with paint times (perf_counter s), kept for `keep_s` seconds: the
    loopback camera films it."""

    def __init__(self, keep_s: float = 3.0):
        self.keep_s = keep_s
        self._frames: deque[tuple[float, np.ndarray]] = deque()
        self._lock = threading.Lock()

    def push(self, t: float, image: np.ndarray) -> None:
        with self._lock:
            self._frames.append((t, image))
            while self._frames and self._frames[0][0] < t - self.keep_s:
                self._frames.popleft()

    def at(self, t: float) -> np.ndarray | None:
        """The last image painted at or before t, or None."""
        with self._lock:
            found = None
            for painted, image in self._frames:
                if painted > t:
                    break
                found = image
            return found


class LoopbackCamera:
    """A simulated camera filming the window: each read() (at `fps`, like a camera) returns what
    was painted `delay_s` earlier, resized to `size`; mid-grey before anything was painted."""

    reconnects = False

    def __init__(self, tap: ScreenTap, delay_s: float, fps: float = 30.0, size: tuple[int, int] = (640, 480)):
        self.tap, self.delay_s, self.fps, self.size = tap, delay_s, fps, size
        self.name = f"loopback camera ({1000 * delay_s:.0f} ms delay)"
        self.granted: Granted | None = None
        self._due = 0.0

    def open(self) -> Granted:
        self.granted = Granted(self.size[0], self.size[1], self.fps, "loopback")
        self._due = time.perf_counter()
        return self.granted

    @property
    def is_open(self) -> bool:
        return self.granted is not None

    def read(self) -> np.ndarray | None:
        delay = self._due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        now = time.perf_counter()
        self._due = max(self._due + 1.0 / self.fps, now)
        image = self.tap.at(now - self.delay_s)
        if image is None:
            return np.full((self.size[1], self.size[0], 3), 128, np.uint8)
        return cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)

    def close(self) -> None:
        self.granted = None
