"""Per-pixel work on an image split into two bands of rows, one done on a helper thread while the
caller's thread does the other. The pipeline's steps around the engine call (the frame into the
engine's input, the output shifted by the phase lock's fraction and back to uint8) run when the
engine leaves both cores idle; the OpenCV and numpy calls they make release the GIL, so two bands
take about two thirds of one's time (docs/design-notes.md, "Pipeline costs"). `aside` runs one job
on the same helper beside the caller's own work (the frame's conversion beside the flow).
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

MIN_ROWS = 64  # fewer rows than this run in one band: the hand-over would cost more than it saves


class RowBands:
    """Runs work(band, r0, r1) over rows [0, rows) in two bands at once (band 0 on the caller's
    thread, band 1 on a helper thread started at the first call)."""

    def __init__(self):
        self._helper: ThreadPoolExecutor | None = None

    @staticmethod
    def spans(rows: int) -> list[tuple[int, int]]:
        """The bands' (r0, r1) rows, band 0 first: one band under MIN_ROWS rows, else two."""
        return [(0, rows)] if rows < MIN_ROWS else [(0, rows // 2), (rows // 2, rows)]

    def aside(self, work: Callable[[], None]) -> Future:
        """Starts work() on the helper thread, beside whatever the caller does next (the helper
        is free again once the returned future is done)."""
        return self._pool().submit(work)

    def _pool(self) -> ThreadPoolExecutor:
        if self._helper is None:
            self._helper = ThreadPoolExecutor(1, thread_name_prefix="stylecam-band")
        return self._helper

    def run(self, work: Callable[[int, int, int], None], rows: int) -> None:
        """Returns when every band is done; an exception in any is raised here."""
        (r0, r1), *others = self.spans(rows)
        if not others:
            work(0, r0, r1)
            return
        other = self._pool().submit(work, 1, *others[0])
        try:
            work(0, r0, r1)
        finally:
            other.result()
