"""`stylecam stylize`: every frame of a video file, in order, to a new video file."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stylecam.app.live.sources import SourceError, VideoFileSource
from stylecam.app.outputs.video_out import DEFAULT_CRF, AtomicVideoWriter
from stylecam.engines.backends import Engine
from stylecam.engines.overlap import OverlappedStylizer
from stylecam.engines.regions import WHOLE_FRAME, Regions
from stylecam.engines.segmenter import PersonSegmenter
from stylecam.engines.stylizer import Stylized, VideoStylizer
from stylecam.engines.temporal import TemporalSettings


@dataclass(frozen=True)
class StylizeJob:
    source: Path
    output: Path
    style: np.ndarray  # the style vector
    temporal: TemporalSettings
    size: tuple[int, int] | None  # (width, height) of the output; None keeps the input's
    crf: int = DEFAULT_CRF  # H.264 quality, 0 (lossless) .. 51 (worst)
    regions: Regions = WHOLE_FRAME  # with `style` as the current style


@dataclass(frozen=True)
class StylizeSummary:
    frames: int
    fps: float  # the video's frame rate (same as the input's)
    seconds: float  # wall time
    size: tuple[int, int]
    output: Path
    codec: str  # e.g. "H.264 (CRF 18)"

    def line(self) -> str:
        rate = self.frames / self.seconds if self.seconds > 0 else 0.0
        return (f"stylized {self.frames} frames ({self.size[0]}x{self.size[1]} @ {self.fps:.2f} fps) "
                f"in {self.seconds:.1f} s ({rate:.1f} frames/s) -> {self.output}, {self.codec}")


def _progress(done: int, total: int | None, started: float) -> None:
    elapsed = time.perf_counter() - started
    rate = done / elapsed if elapsed > 0 else 0.0
    if total:
        filled = int(30 * min(done, total) / total)
        bar = "#" * filled + "-" * (30 - filled)
        sys.stderr.write(f"\r[{bar}] {done}/{total} frames {rate:5.1f} fps")
    else:
        sys.stderr.write(f"\r{done} frames {rate:5.1f} fps")
    sys.stderr.flush()


def stylize(job: StylizeJob, source: VideoFileSource, engine: Engine, show_progress: bool,
            segmenter: PersonSegmenter | None = None) -> StylizeSummary:
    """Stylise every frame of source into job.output; the file appears only when all are written.
    segmenter: needed for job.regions other than the whole frame. Each frame's engine call runs
    while the next frame is prepared and the last one finished (engines/overlap.py)."""
    info = source.info
    size = job.size or (info.width, info.height)
    stylizer = VideoStylizer(engine, job.style, job.temporal, size, segmenter)
    stylizer.set_regions(job.regions)
    runner = OverlappedStylizer(stylizer)
    started = time.perf_counter()

    def write(done: tuple[Stylized, None] | None) -> None:
        if done is None:
            return
        writer.write(done[0].image)
        if show_progress and (writer.frames % 5 == 0 or writer.frames == info.frame_count):
            _progress(writer.frames, info.frame_count, started)

    with AtomicVideoWriter(job.output, info.fps, size, job.crf) as writer:
        try:
            for frame in source.frames():
                write(runner.submit(frame.image))
            write(runner.drain())
        finally:
            runner.close()
        if show_progress:
            sys.stderr.write("\n")
        if writer.frames == 0:
            raise SourceError(f"no frames could be decoded from {job.source}")
        frames = writer.frames
        writer.commit()
    return StylizeSummary(frames, info.fps, time.perf_counter() - started, size, job.output, writer.codec)
