"""A progress line for training: a bar with metrics and ETA on a terminal, plain lines in logs."""
from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Call update(step, text) after each step; steps count from `first` (a resumed run).
    `label` (for example the precision) leads every line."""

    def __init__(self, total: int, first: int = 0, stream: TextIO | None = None, every: int = 10, label: str = ""):
        self.total, self.first = total, first
        self.label = f"{label} " if label else ""
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every = every
        self.started = time.perf_counter()

    def update(self, step: int, text: str) -> None:
        done = step - self.first
        rate = (time.perf_counter() - self.started) / max(done, 1)
        eta = rate * (self.total - step)
        if self.tty:
            filled = int(24 * step / max(self.total, 1))
            self.stream.write(f"\r{self.label}[{'#' * filled}{'-' * (24 - filled)}] {step}/{self.total} {text} "
                              f"{rate:.2f} s/step ETA {eta / 60:.1f} min ")
        elif step % self.every == 0 or step == self.total:
            self.stream.write(f"{self.label}step {step}/{self.total} {text} | {rate:.2f} s/step, ETA {eta / 60:.1f} min\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
