"""Opening the shipped model and style bank for the CLI and the window."""
from __future__ import annotations

from stylecam.assets import paths
from stylecam.engines.backends import Choice, create_engine
from stylecam.engines.styles import StyleBank


def load_engine(name: str) -> Choice:
    """The named engine (see backends.ENGINE_NAMES) over the shipped model."""
    return create_engine(name, paths.model_onnx(), paths.checkpoint())


def load_bank() -> StyleBank:
    """The shipped style bank."""
    return StyleBank.load(paths.style_bank())
