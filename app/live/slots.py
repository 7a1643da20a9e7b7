"""A one-deep, newest-wins hand-over between two threads.

The producer never waits: a `put` over an item nobody took replaces it and counts a drop. The
consumer waits (with a timeout) for the next item. Used between capture -> inference and
inference -> display, where latency matters more than completeness.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    """Holds at most one item; `dropped` counts items replaced before anyone took them."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self.dropped = 0

    def put(self, item: T) -> None:
        with self._cond:
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._cond.notify()

    def take(self, timeout: float | None = None, until: Callable[[], bool] | None = None) -> T | None:
        """The newest item (removing it), waiting up to `timeout` seconds; None if none came.
        timeout=None does not wait. `until`: stop waiting early once it returns True (checked
        when the wait starts and on each `wake`)."""
        with self._cond:
            if self._item is None and timeout:
                self._cond.wait_for(lambda: self._item is not None or (until is not None and until()), timeout)
            item, self._item = self._item, None
            return item

    def wake(self) -> None:
        """Have a waiting `take` check its `until` again."""
        with self._cond:
            self._cond.notify_all()

    def clear(self) -> None:
        with self._cond:
            self._item = None
