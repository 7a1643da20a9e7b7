"""The live pipeline's figures: per-stage FPS, capture -> display latency, drops, CPU and memory.

Definitions (docs/benchmarks.md, "Live window"): FPS per stage over a rolling 2 s window;
latency = display time - capture time of the frame shown (ms); drops = frames captured but never
stylised + results made but never shown. CPU seconds are per thread (time.thread_time()).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from stylecam.app.live.rates import LatencyWindow, RollingRate


def rss_mb() -> float | None:
    """Resident set size of this process in MiB (Linux), None elsewhere."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return None


def seconds_since_process_start() -> float | None:
    """Wall seconds since this process was started (Linux /proc, 10 ms resolution), else None."""
    try:
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def thread_cpu_seconds() -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) of each thread of this process by native id, with the thread's
    kernel name (FFmpeg's decoder threads are named 'av:...'). Linux only; {} elsewhere."""
    out: dict[int, tuple[str, float]] = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:  # the thread ended meanwhile
            continue
        head, tail = stat.rsplit(")", 1)
        fields = tail.split()
        out[int(tid)] = (head.split("(", 1)[1], (int(fields[11]) + int(fields[12])) / tick)
    return out


class ThreadCpuAccount:
    """CPU seconds per kind of thread, accumulated from repeated samples of thread_cpu_seconds()
    (threads come and go: FFmpeg restarts its decoder threads when a clip loops). classify(tid,
    name) -> a kind; a thread's CPU after its last sample before it ended is not counted."""

    def __init__(self, classify):
        self.classify = classify
        self.seconds: dict[str, float] = {}
        self._last: dict[int, tuple[str, float]] = {}

    def sample(self) -> None:
        now = thread_cpu_seconds()
        for tid, (name, cpu) in now.items():
            before = self._last.get(tid)
            if before is not None and before[0] == name:
                kind = self.classify(tid, name)
                self.seconds[kind] = self.seconds.get(kind, 0.0) + cpu - before[1]
        self._last = now


@dataclass
class MetricsSnapshot:
    """What the metrics panel shows: FPS per stage, latency (ms), drop counts."""

    capture_fps: float
    inference_fps: float
    display_fps: float
    latency_ms: dict[str, float] | None  # capture -> display, recent window: p50, p95
    engine_ms: dict[str, float] | None  # engine stage of the stylizer: p50, p95
    segment_ms: dict[str, float] | None  # the person mask of regions (frames that made one): p50, p95
    dropped_capture: int  # captured, never stylised
    dropped_display: int  # stylised, never shown
    frames_shown: int
    processing_size: tuple[int, int] | None = None  # (w, h) the network runs at
    failures: int = 0  # stage failures survived (each restarted the stage)

    @property
    def dropped(self) -> int:
        return self.dropped_capture + self.dropped_display


@dataclass
class PipelineMetrics:
    """Written by the stages (each field by one thread), read by the GUI."""

    keep_all: bool = False  # keep every latency for whole-run percentiles (scripted runs)
    capture: RollingRate = field(default_factory=RollingRate)
    inference: RollingRate = field(default_factory=RollingRate)
    display: RollingRate = field(default_factory=RollingRate)
    latency: LatencyWindow = field(init=False)
    ready_latency: LatencyWindow = field(init=False)
    engine_ms: LatencyWindow = field(init=False)
    overhead_ms: LatencyWindow = field(init=False)
    segment_ms: LatencyWindow = field(init=False)  # only frames that made a person mask
    capture_thread_id: int | None = None  # native ids of the stage threads (for CPU accounting)
    inference_thread_id: int | None = None
    engine_thread_id: int | None = None  # the inference stage's engine calls (engines/overlap.py)
    slots: tuple = ()  # the LatestSlots whose drops count (capture -> inference, inference -> display)
    first_display: float | None = None  # perf_counter time of the first frame shown
    processing_size: tuple[int, int] | None = None  # (w, h) the last frame was stylised at
    size_steps: list = field(default_factory=list)  # (perf_counter time, (w, h)) of each auto-size change
    display_skipped: int = 0  # results taken by the GUI but replaced before they were painted
    stage_failures: dict[str, int] = field(default_factory=dict)  # stage name -> failures (each restarted it)
    stalls: int = 0  # camera reads the watchdog found blocked (each reconnected)
    black_frames_reported: bool = False  # the source is delivering black frames right now

    def __post_init__(self):
        self.latency = LatencyWindow(keep_all=self.keep_all)
        self.ready_latency = LatencyWindow(keep_all=self.keep_all)
        self.engine_ms = LatencyWindow(keep_all=self.keep_all)
        self.overhead_ms = LatencyWindow(keep_all=self.keep_all)
        self.segment_ms = LatencyWindow(keep_all=self.keep_all)

    def record_result(self, result) -> None:
        """Inference thread: a result is ready."""
        self.inference.tick(result.t_ready)
        self.ready_latency.add(1000.0 * (result.t_ready - result.t_capture))
        self.engine_ms.add(result.times.engine)
        self.overhead_ms.add(result.times.overhead)
        if result.times.segment > 0.0:
            self.segment_ms.add(result.times.segment)

    def record_display(self, t_capture: float, now: float | None = None) -> None:
        """GUI thread: the frame captured at t_capture is now on screen."""
        now = time.perf_counter() if now is None else now
        if self.first_display is None:
            self.first_display = now
        self.display.tick(now)
        self.latency.add(1000.0 * (now - t_capture))

    def snapshot(self, now: float | None = None) -> MetricsSnapshot:
        now = time.perf_counter() if now is None else now
        frames, results = self.slots if self.slots else (None, None)
        return MetricsSnapshot(
            capture_fps=round(self.capture.rate(now), 2),
            inference_fps=round(self.inference.rate(now), 2),
            display_fps=round(self.display.rate(now), 2),
            latency_ms=self.latency.percentiles(),
            engine_ms=self.engine_ms.percentiles(),
            segment_ms=self.segment_ms.percentiles(),
            dropped_capture=frames.dropped if frames else 0,
            dropped_display=(results.dropped if results else 0) + self.display_skipped,
            frames_shown=self.display.count,
            processing_size=self.processing_size,
            failures=sum(self.stage_failures.values()),
        )
