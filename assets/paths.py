"""Locations of the shipped files inside the installed package (no network, no ../shared)."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

MODEL_ONNX = "stylecam.onnx"  # the network graph, style and temporal state as inputs
MODEL_REGIONS_ONNX = "stylecam_regions.onnx"  # the same network with two styles and a region map as inputs
SEGMENTER_ONNX = "segmenter.onnx"  # person segmentation (MediaPipe selfie segmentation, converted)
CHECKPOINT = "stylecam.pt"  # the same weights for torch (export, torch engine, training warm start)
STYLE_BANK = "styles.npz"  # names + style vectors
SAMPLE_CLIP = "sample_tears_of_steel_640x360.mp4"


def asset(name: str) -> Path:
    return Path(str(files("stylecam.assets") / name))


def model_onnx() -> Path:
    return asset(MODEL_ONNX)


def regions_onnx() -> Path:
    return asset(MODEL_REGIONS_ONNX)


def segmenter_onnx() -> Path:
    return asset(SEGMENTER_ONNX)


def checkpoint() -> Path:
    return asset(CHECKPOINT)


def style_bank() -> Path:
    return asset(STYLE_BANK)


def sample_clip() -> Path:
    return asset(SAMPLE_CLIP)


def style_thumbnail(name: str) -> Path | None:
    """A small picture of a shipped style's painting (BGR JPEG), or None if there is none."""
    path = asset(f"thumbs/{name}.jpg")
    return path if path.is_file() else None
