"""The engine call of one frame overlapped with the steps around it for the next and the last.

On two cores the engine leaves part of both idle (ONNX Runtime's threads wait between its many
small operators), and the steps around it (the frame into the engine's input, the flow, the
output back to uint8: VideoStylizer.prepare and .finish) took 13-15 % of its time on top of it.
Here the engine phase (VideoStylizer.run_engine) runs on a worker thread, and while it runs the
caller's thread prepares the next frame and finishes the last: the same frames come out, in the
same order (a frame's result is returned by the next `submit`, or by `drain` when no frame
follows). docs/design-notes.md, "Overlapped engine calls", has the measurements.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import numpy as np

from stylecam.engines.stylizer import Prepared, Ran, Stylized, VideoStylizer


@dataclass
class _Running:
    future: Future[Ran]
    prepared: Prepared
    tag: Any
    started: float  # perf_counter seconds the engine call was handed to the worker


class OverlappedStylizer:
    """Drives a VideoStylizer with its engine calls on a worker thread. `tag`s travel with their
    frames (the caller's bookkeeping: capture times, indices). on_engine_done: called (on the
    worker thread) as each engine call ends. Call `close()` when done."""

    def __init__(self, stylizer: VideoStylizer, on_engine_done: Callable[[], None] | None = None):
        self.stylizer = stylizer
        self.on_engine_done = on_engine_done
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="stylecam-engine")
        self._running: _Running | None = None

    @property
    def busy(self) -> bool:
        """A frame's engine call is running or its result has not been collected."""
        return self._running is not None

    @property
    def running_since(self) -> float | None:
        """perf_counter seconds the running engine call started; None when none runs."""
        return self._running.started if self._running is not None else None

    def wait(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for the running engine call (if any) to end."""
        if self._running is not None and timeout > 0:
            wait([self._running.future], timeout)

    def engine_done(self) -> bool:
        """The running engine call (if any) has ended: `drain` returns without waiting for it."""
        return self._running is not None and self._running.future.done()

    def worker_thread_id(self) -> int:
        """The native id of the thread the engine calls run on."""
        return self._worker.submit(threading.get_native_id).result()

    def submit(self, frame: np.ndarray, tag: Any = None) -> tuple[Stylized, Any] | None:
        """Prepare `frame` (H x W x 3 uint8 BGR) while the last frame's engine call runs, start its
        own, and finish the last frame meanwhile. Returns the last frame's result and tag (None
        when no frame was running). An engine failure is raised here (or by `drain`)."""
        prepared = self.stylizer.prepare(frame)
        last, self._running = self._running, None
        ran = last.future.result() if last is not None else None
        future = self._worker.submit(self.stylizer.run_engine, prepared)
        if self.on_engine_done is not None:
            future.add_done_callback(lambda _: self.on_engine_done())
        self._running = _Running(future, prepared, tag, time.perf_counter())
        if last is None:
            return None
        return self.stylizer.finish(last.prepared, ran), last.tag

    def drain(self) -> tuple[Stylized, Any] | None:
        """The running frame's result and tag, waiting for its engine call; None if none runs."""
        last, self._running = self._running, None
        if last is None:
            return None
        return self.stylizer.finish(last.prepared, last.future.result()), last.tag

    def discard(self) -> None:
        """Wait for a running engine call and drop its frame (its failure too), e.g. before a reset."""
        last, self._running = self._running, None
        if last is not None:
            last.future.exception()

    def close(self) -> None:
        self.discard()
        self._worker.shutdown(wait=True)
