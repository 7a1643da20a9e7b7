"""Rolling measurements for the live pipeline: event rates and latency percentiles.

Times are time.perf_counter() seconds; latencies are milliseconds. Each object is written by one
thread and read by others; the lock keeps reads consistent.
"""
from __future__ import annotations

import threading
from collections import deque

import numpy as np


class RollingRate:
    """Events per second over the last `window` seconds."""

    def __init__(self, window: float = 2.0):
        self.window = window
        self._times: deque[float] = deque()
        self._lock = threading.Lock()
        self.count = 0  # all events since creation

    def tick(self, now: float) -> None:
        with self._lock:
            self._times.append(now)
            self.count += 1
            while self._times and now - self._times[0] > self.window:
                self._times.popleft()

    def rate(self, now: float) -> float:
        """Events/s: the events within the window over the span they cover (0 with < 2 events)."""
        with self._lock:
            times = [t for t in self._times if now - t <= self.window]
        if len(times) < 2:
            return 0.0
        span = max(now - times[0], times[-1] - times[0])
        return (len(times) - 1) / span if span > 0 else 0.0


class LatencyWindow:
    """The last `size` latencies (ms), for percentiles; `all_values` keeps every one if asked
    (scripted runs report percentiles over the whole run)."""

    def __init__(self, size: int = 300, keep_all: bool = False):
        self._recent: deque[float] = deque(maxlen=size)
        self._all: list[float] | None = [] if keep_all else None
        self._lock = threading.Lock()

    def add(self, ms: float) -> None:
        with self._lock:
            self._recent.append(ms)
            if self._all is not None:
                self._all.append(ms)

    def percentiles(self, qs=(50, 95), whole_run: bool = False) -> dict[str, float] | None:
        """{'p50': ms, ...} over the recent window (or the whole run), None before any value."""
        with self._lock:
            values = list(self._all if whole_run and self._all is not None else self._recent)
        if not values:
            return None
        arr = np.asarray(values, dtype=np.float64)
        return {f"p{q}": round(float(np.percentile(arr, q)), 2) for q in qs}
