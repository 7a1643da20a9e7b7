"""The engine call overlapped with the steps around it (engines/overlap.py)."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from stylecam.engines.overlap import OverlappedStylizer
from stylecam.engines.stylizer import VideoStylizer
from stylecam.engines.temporal import TemporalSettings


class Recording:
    """The real engine, its calls' threads and end times recorded, optionally slowed or failing."""

    def __init__(self, engine, delay_s: float = 0.0, fail_on: int | None = None):
        self.engine, self.delay_s, self.fail_on = engine, delay_s, fail_on
        self.threads: list[int] = []
        self.ended: list[float] = []

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def run_smoothed(self, *args):
        self.threads.append(threading.get_ident())
        if self.fail_on is not None and len(self.threads) == self.fail_on:
            raise RuntimeError("engine failed")
        result = self.engine.run_smoothed(*args)
        time.sleep(self.delay_s)
        self.ended.append(time.perf_counter())
        return result


def overlapped(stylizer: VideoStylizer, frames: list[np.ndarray]) -> list:
    runner = OverlappedStylizer(stylizer)
    try:
        done = [runner.submit(frame, tag=i) for i, frame in enumerate(frames)]
        done.append(runner.drain())
    finally:
        runner.close()
    assert done[0] is None  # nothing ran before the first frame
    return done[1:]


def test_overlapped_calls_give_the_sequential_frames_in_order(ort_engine, bank, frames_small):
    frames = frames_small[:24]
    style = bank.vector("udnie")
    reference = VideoStylizer(ort_engine, style, TemporalSettings(), (320, 240))
    sequential = [reference.step(f) for f in frames]
    engine = Recording(ort_engine)
    results = overlapped(VideoStylizer(engine, style, TemporalSettings(), (320, 240)), frames)

    assert [tag for _, tag in results] == list(range(len(frames)))
    assert set(engine.threads) != {threading.get_ident()}  # the engine ran on the worker thread
    for (got, _), want in zip(results, sequential):
        assert got.reset == want.reset
        difference = np.abs(got.image.astype(np.int16) - want.image)
        # the same frames to float rounding (a rounding flip moves a level by 1 at a few pixels)
        assert difference.max() <= 1 and np.count_nonzero(difference) <= 1e-3 * difference.size
    assert sum(r.reset for r, _ in results) == 1  # one shot: the temporal path carried throughout


def test_the_next_frame_is_prepared_while_the_engine_runs(ort_engine, bank, frames_small):
    engine = Recording(ort_engine, delay_s=0.3)
    stylizer = VideoStylizer(engine, bank.vector("starry_night"), TemporalSettings(), (320, 240))
    prepared_at = []
    prepare = stylizer.prepare
    stylizer.prepare = lambda frame: (prepared_at.append(time.perf_counter()), prepare(frame))[1]
    overlapped(stylizer, frames_small[:3])
    # frames 1 and 2 were prepared before the engine calls of frames 0 and 1 ended
    assert prepared_at[1] < engine.ended[0] and prepared_at[2] < engine.ended[1]


def test_an_engine_failure_reaches_the_caller_and_the_runner_goes_on(ort_engine, bank, frames_small):
    engine = Recording(ort_engine, fail_on=2)
    stylizer = VideoStylizer(engine, bank.vector("the_scream"), TemporalSettings(), (320, 240))
    runner = OverlappedStylizer(stylizer)
    try:
        assert runner.submit(frames_small[0]) is None
        runner.submit(frames_small[1])  # frame 1's engine call fails on the worker
        with pytest.raises(RuntimeError, match="engine failed"):
            runner.submit(frames_small[2])
        assert not runner.busy
        stylizer.reset()
        assert runner.submit(frames_small[3], tag="again") is None
        result, tag = runner.drain()
        assert tag == "again" and result.reset and result.image.shape == (240, 320, 3)
    finally:
        runner.close()
