"""`--size auto`: the processing size steps down when inference falls behind the camera and back
up when there is room, so a slow CPU keeps camera rate at a lower resolution. The output keeps
its size (the stylised frame is scaled back up), so the display, recordings and the virtual
camera never see a size change.

Sizes are the output size times LADDER (640x480 -> 512x384 -> 448x336 -> 384x288 -> 320x240),
widths rounded to multiples of 8 and heights to even numbers. Times are perf_counter seconds;
processing times and frame intervals are milliseconds."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

LADDER = (1.0, 0.8, 0.7, 0.6, 0.5)


@dataclass(frozen=True)
class AutoSizePolicy:
    """behind_s: how long the mean processing time must exceed `behind` times the camera's frame
    interval before a step down: then inference keeps under 1 / behind of the camera's rate. The
    mean, not the median: just behind the camera, most results still come one frame interval apart
    and every tenth or so two, so the median sits at the interval while a tenth of the frames is
    lost. Each time counts up to `clip` frame intervals, so a stall of a few frames (a compile, a
    hiccup) does not step down alone. room_s: how long the 90th percentile, scaled to the next size
    up by area, must fit in `headroom` of the frame interval before a step up. cooldown_s: no step
    within this long of the last one (the new size's times must be seen first)."""

    behind_s: float = 3.0
    behind: float = 1.03
    clip: float = 3.0
    room_s: float = 6.0
    headroom: float = 0.75
    cooldown_s: float = 2.0


def ladder(top: tuple[int, int]) -> list[tuple[int, int]]:
    """The sizes auto may use for an output of `top` (w, h), largest first, without repeats."""
    w, h = top
    sizes: list[tuple[int, int]] = []
    for f in LADDER:
        size = (max(8, round(w * f / 8) * 8), max(2, round(h * f / 2) * 2)) if f < 1 else (w, h)
        if size not in sizes:
            sizes.append(size)
    return sizes


class AutoSize:
    """Chooses the processing size for an output of size `top` from observed processing times."""

    def __init__(self, top: tuple[int, int], policy: AutoSizePolicy = AutoSizePolicy()):
        self.sizes = ladder(top)
        self.policy = policy
        self.level = 0
        self.steps = 0  # size changes so far
        self._times: deque[tuple[float, float]] = deque()
        self._since = -1e9  # when the current size was taken

    @property
    def size(self) -> tuple[int, int]:
        return self.sizes[self.level]

    def _area(self, level: int) -> int:
        w, h = self.sizes[level]
        return w * h

    def observe(self, now: float, processing_ms: float, frame_interval_ms: float | None) -> bool:
        """One processed frame. frame_interval_ms: the camera's (1000 / capture FPS), None while
        unknown. Returns True when the size changed (the caller reprocesses at `size` next)."""
        p = self.policy
        self._times.append((now, processing_ms))
        while self._times and now - self._times[0][0] > max(p.behind_s, p.room_s):
            self._times.popleft()
        if not frame_interval_ms or now - self._since < p.cooldown_s:
            return False
        if self._covered(now, p.behind_s) and self.level + 1 < len(self.sizes):
            recent = np.minimum(self._recent(now, p.behind_s), p.clip * frame_interval_ms)
            if float(np.mean(recent)) > p.behind * frame_interval_ms:
                return self._go(self.level + 1, now)
        if self._covered(now, p.room_s) and self.level > 0:
            scaled = np.percentile(self._recent(now, p.room_s), 90) * self._area(self.level - 1) / self._area(self.level)
            if scaled < p.headroom * frame_interval_ms:
                return self._go(self.level - 1, now)
        return False

    def _recent(self, now: float, span: float) -> list[float]:
        return [ms for t, ms in self._times if now - t <= span]

    def _covered(self, now: float, span: float) -> bool:
        """Frames at this size have been seen for at least `span` seconds."""
        return now - self._since >= span and bool(self._times) and now - self._times[0][0] >= 0.9 * span

    def _go(self, level: int, now: float) -> bool:
        self.level = level
        self.steps += 1
        self._since = now
        self._times.clear()
        return True
