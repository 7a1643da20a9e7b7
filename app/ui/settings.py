"""The window's settings, kept between runs as JSON in the user config dir
($XDG_CONFIG_HOME/stylecam/settings.json, ~/.config/... by default).

Saved atomically (a temporary file beside it, then renamed). A file that cannot be read or does
not hold valid settings gives the defaults and a warning; unknown keys are ignored.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from stylecam.app.live.regions import MODES

SIZES = ("auto", "source", "320x180", "480x270", "640x360", "640x480", "960x540", "1280x720")


@dataclass(frozen=True)
class Settings:
    """source: 'auto', 'sample', 'synthetic', a camera index, /dev/videoN or a camera's name, or
    a video path.
    style: a style name. style_strength, temporal: [0, 1]. size: one of SIZES ('source' = the
    source's own size; 'auto' = the source's size, processed smaller while the CPU cannot keep up
    with the camera). capture_dir: where snapshots and recordings go ('' = the current folder).
    regions: one of regions.MODES; second_style: the background's style name in 'two' ('' = the
    style after the selected one)."""

    source: str = "auto"
    style: str = ""
    style_strength: float = 1.0
    temporal: float = 0.8
    size: str = "auto"
    capture_dir: str = ""
    regions: str = "whole"
    second_style: str = ""

    def __post_init__(self):
        for name in ("source", "style", "size", "capture_dir", "regions", "second_style"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a string")
        for name in ("style_strength", "temporal"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
        if self.size not in SIZES:
            raise ValueError(f"size must be one of {', '.join(SIZES)}, got {self.size!r}")
        if self.regions not in MODES:
            raise ValueError(f"regions must be one of {', '.join(MODES)}, got {self.regions!r}")


def settings_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "stylecam" / "settings.json"


def load_settings(path: Path | None = None) -> tuple[Settings, str | None]:
    """The saved settings and None, or the defaults and a one-line warning saying why."""
    path = path or settings_path()
    if not path.exists():
        return Settings(), None
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        known = {f.name for f in fields(Settings)}
        return Settings(**{k: v for k, v in data.items() if k in known}), None
    except (OSError, ValueError, TypeError) as exc:
        return Settings(), f"settings file {path} is unusable ({exc}); using defaults"


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write atomically; returns the path written."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(asdict(settings), f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
