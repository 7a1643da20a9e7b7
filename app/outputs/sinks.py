"""A sink on its own thread: the GUI hands it frames without waiting; it writes them in order.

Frames are H x W x 3 uint8 BGR with their display time (time.perf_counter() seconds). When the
writer falls behind by more than `depth` frames, new frames are dropped and counted, so the GUI
never blocks. A writer error is reported through `on_error(name, message)` and ends the sink.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Protocol

import numpy as np


class FrameWriter(Protocol):
    name: str

    def write(self, image: np.ndarray, t: float) -> None: ...
    def close(self) -> None: ...


_END = object()


class SinkThread:
    """Feeds one FrameWriter from a bounded queue on a thread of its own."""

    def __init__(self, writer: FrameWriter, on_error: Callable[[str, str], None], depth: int = 120):
        self.writer = writer
        self.on_error = on_error
        self.written = 0
        self.dropped = 0
        self.failed: str | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, name=f"stylecam-{writer.name}", daemon=True)
        self._thread.start()

    def submit(self, image: np.ndarray, t: float) -> bool:
        """Queue a frame (the caller must not modify it afterwards); False if it was dropped."""
        if self.failed is not None:
            return False
        try:
            self._queue.put_nowait((image, t))
        except queue.Full:
            self.dropped += 1
            return False
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, close the writer, join the thread."""
        self._queue.put(_END)
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is _END:
                    break
                if self.failed is None:
                    self.writer.write(*item)
                    self.written += 1
        except Exception as exc:  # reported to the window; later frames are refused
            self.failed = f"{type(exc).__name__}: {exc}"
            self.on_error(self.writer.name, self.failed)
            self._drain()
        finally:
            self._close_writer()

    def _drain(self) -> None:
        while self._queue.get() is not _END:
            pass

    def _close_writer(self) -> None:
        try:
            self.writer.close()
        except Exception as exc:  # reported, unless it follows the write error already reported
            if self.failed is None:
                self.on_error(self.writer.name, f"closing failed: {type(exc).__name__}: {exc}")
