"""`stylecam bench`: per-stage timings of the stylizer over a source, after a warm-up.

Latency here is capture -> result ready: from the moment a frame is decoded (or rendered) to the
moment its stylised image is ready, with frames fed back to back. FPS is measured frames over the
measured wall time (decoding included). The stages run in turn (`VideoStylizer.step`), which the
per-stage times and the overhead need; then the same number of frames runs as the live window
and `stylize` run them, each engine call overlapped with the next frame's preparation and the
last one's finishing (engines/overlap.py): "overlapped" in the report. Its latency is that of
frames fed back to back, each waiting for the running engine call; the live window takes each
frame just in time for the engine (its own latency: `stylecam --metrics-json`).
"""
from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from importlib import metadata

import numpy as np

from stylecam.app.live.metrics import rss_mb
from stylecam.app.live.sources import VideoFileSource, open_source
from stylecam.engines.backends import Choice
from stylecam.engines.host import cpu_class
from stylecam.engines.overlap import OverlappedStylizer
from stylecam.engines.regions import WHOLE_FRAME, Plan, Regions
from stylecam.engines.segmenter import PersonSegmenter
from stylecam.engines.stylizer import STAGES, VideoStylizer
from stylecam.engines.temporal import TemporalSettings


@dataclass(frozen=True)
class BenchSettings:
    source: str  # a video path or "synthetic"
    size: tuple[int, int]  # (width, height) processed and output
    frames: int  # measured frames, after the warm-up
    warmup: int
    temporal: TemporalSettings
    style_index: int
    regions: Regions = WHOLE_FRAME
    regions_text: str = "whole frame"  # for the report


def _looping_frames(source):
    """Frames forever: file sources restart at their end (the stylizer sees a scene cut)."""
    while True:
        got = False
        for frame in source.frames():
            got = True
            yield frame
        if not got or not isinstance(source, VideoFileSource):
            return


def _pct(values: list[float], qs=(50, 95, 99)) -> dict[str, float]:
    arr = np.asarray(values, dtype=np.float64)
    return {f"p{q}": round(float(np.percentile(arr, q)), 3) for q in qs}


def run_bench(settings: BenchSettings, choice: Choice, style: np.ndarray,
              segmenter: PersonSegmenter | None = None) -> dict:
    """Run warm-up + measured frames and return the report (the JSON contract). segmenter:
    needed for settings.regions other than the whole frame."""
    source = open_source(settings.source, settings.size)
    stylizer = VideoStylizer(choice.engine, style, settings.temporal, settings.size, segmenter)
    stylizer.set_regions(settings.regions)
    stages: dict[str, list[float]] = {name: [] for name in (*STAGES, "total", "overhead")}
    latency: list[float] = []
    rss_at_100 = None
    frames = _looping_frames(source)
    for _ in range(settings.warmup):
        stylizer.step(next(frames).image)
    started = time.perf_counter()
    for i in range(settings.frames):
        frame = next(frames)
        result = stylizer.step(frame.image)
        latency.append(1000.0 * (time.perf_counter() - frame.t_capture))
        for name in STAGES:
            stages[name].append(getattr(result.times, name))
        stages["total"].append(result.times.total)
        stages["overhead"].append(result.times.overhead)
        if i == 99:
            rss_at_100 = rss_mb()
    wall = time.perf_counter() - started
    import onnxruntime  # either build, onnxruntime or onnxruntime-gpu

    return {
        "fps": round(settings.frames / wall, 2),
        "latency_ms": _pct(latency),
        "overlapped": _overlapped(settings, choice, style, segmenter, frames),
        "stages_ms": {name: _pct(v, (50, 95)) for name, v in stages.items()},
        "engine": choice.engine.name,
        "provider": choice.engine.provider,
        "precision": choice.engine.precision,
        "graph": choice.engine.graph + (" regions" if settings.regions.plan is Plan.TWO_STYLES else ""),
        "engine_notes": choice.notes,
        "size": f"{settings.size[0]}x{settings.size[1]}",
        "frames": settings.frames,
        "warmup": settings.warmup,
        "temporal": settings.temporal.strength,
        "phase_lock": phase_lock_text(settings.temporal),
        "style": settings.style_index,
        "regions": settings.regions_text,
        "source": settings.source,
        "rss_mb": {"after_100": rss_at_100, "end": rss_mb()},
        "machine": {"cpus": os.cpu_count(), "processor": platform.machine(), "cpu_class": cpu_class(),
                    "onnxruntime": onnxruntime.__version__, "openvino": _version("openvino")},
    }


def _version(distribution: str) -> str:
    """An installed package's version, or "not installed"."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _overlapped(settings: BenchSettings, choice: Choice, style: np.ndarray, segmenter: PersonSegmenter | None,
                frames) -> dict:
    """The measured frames again with the engine calls overlapped: FPS, the time between results
    (ms) and latency (capture -> result ready, ms)."""
    stylizer = VideoStylizer(choice.engine, style, settings.temporal, settings.size, segmenter)
    stylizer.set_regions(settings.regions)
    runner = OverlappedStylizer(stylizer)
    latency: list[float] = []
    ready: list[float] = []

    def collect(done) -> None:
        if done is not None:
            ready.append(time.perf_counter())
            latency.append(1000.0 * (ready[-1] - done[1]))

    try:
        for _ in range(settings.warmup):
            runner.submit(next(frames).image)
        runner.drain()
        started = time.perf_counter()
        for _ in range(settings.frames):
            frame = next(frames)
            collect(runner.submit(frame.image, frame.t_capture))
        collect(runner.drain())
    finally:
        runner.close()
    wall = time.perf_counter() - started
    return {"fps": round(settings.frames / wall, 2), "frame_ms": _pct(list(1000.0 * np.diff(ready)), (50, 95)),
            "latency_ms": _pct(latency)}


def phase_lock_text(temporal) -> str:
    """"on" (whole and sub-pixel), "pixel" (whole pixels only) or "off" (also at temporal 0)."""
    if not (temporal.phase_lock and temporal.strength > 0):
        return "off"
    return "on" if temporal.subpixel else "pixel"


def summary_lines(report: dict) -> list[str]:
    lat = report["latency_ms"]
    lines = [f"engine {report['engine']} on {report['provider']}, graph {report['graph']} {report['precision']}, "
             f"CPU {report['machine']['cpu_class']}, "
             f"{report['size']}, {report['frames']} frames, temporal {report['temporal']} "
             f"(phase lock {report['phase_lock']}), {report['regions']}",
             f"throughput {report['fps']:.1f} fps; latency p50 {lat['p50']:.2f} ms, p95 {lat['p95']:.2f} ms, "
             f"p99 {lat['p99']:.2f} ms (stages in turn)"]
    over = report["overlapped"]
    lines.append(f"overlapped (engine calls as the window runs them): {over['fps']:.1f} fps, "
                 f"a frame every {over['frame_ms']['p50']:.2f} ms (p50), latency fed back to back "
                 f"p50 {over['latency_ms']['p50']:.2f} ms, p95 {over['latency_ms']['p95']:.2f} ms")
    for name, v in report["stages_ms"].items():
        lines.append(f"  {name:<12} p50 {v['p50']:8.2f} ms   p95 {v['p95']:8.2f} ms")
    return lines
