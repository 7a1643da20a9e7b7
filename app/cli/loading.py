"""Opening the shipped model and style bank for the CLI and the window."""
from __future__ import annotations

import sys
from pathlib import Path

from stylecam.assets import paths
from stylecam.engines.backends import Choice, create_engine
from stylecam.engines.segmenter import PersonSegmenter
from stylecam.engines.styles import StyleBank, merged, user_styles_dir


def load_engine(name: str) -> Choice:
    """The named engine (see backends.ENGINE_NAMES) over the shipped model and regions graph."""
    return create_engine(name, paths.model_onnx(), paths.checkpoint(), paths.regions_onnx())


def load_segmenter() -> PersonSegmenter:
    """The shipped person segmenter (for regions)."""
    return PersonSegmenter(paths.segmenter_onnx())


def load_bank() -> StyleBank:
    """The shipped style bank followed by the user's own styles (from `train-style`);
    unusable user files are skipped with a warning on stderr."""
    return merged(StyleBank.load(paths.style_bank()), user_styles_dir(),
                  warn=lambda m: print(f"stylecam: warning: {m}", file=sys.stderr))


def style_thumbnail(name: str) -> Path | None:
    """The picture of a style's painting (shipped, or the user's from `train-style`), if any."""
    shipped = paths.style_thumbnail(name)
    if shipped is not None:
        return shipped
    user = user_styles_dir() / f"{name}.jpg"
    return user if user.is_file() else None
