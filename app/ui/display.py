"""Whether Qt has somewhere to draw the window (it aborts the process when it has not)."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class DisplayStatus:
    available: bool
    reason: str  # e.g. "DISPLAY=:0", "QT_QPA_PLATFORM=offscreen", "no DISPLAY or WAYLAND_DISPLAY"


def display_status(environ: dict[str, str] | None = None, platform: str = sys.platform) -> DisplayStatus:
    """Linux needs an X11 or Wayland display, or a Qt platform chosen by QT_QPA_PLATFORM;
    Windows and macOS always have one."""
    env = os.environ if environ is None else environ
    if not platform.startswith("linux"):
        return DisplayStatus(True, f"{platform} desktop")
    for key in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "DISPLAY"):
        if env.get(key):
            return DisplayStatus(True, f"{key}={env[key]}")
    return DisplayStatus(False, "no DISPLAY or WAYLAND_DISPLAY, and QT_QPA_PLATFORM unset")
