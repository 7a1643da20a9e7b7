"""Style thumbnails: a fixed frame of the sample clip stylised with each style (ONNX engine, no
torch), cached as PNGs in $XDG_CACHE_HOME/stylecam/thumbs keyed by the model and style vector."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import cv2
import numpy as np

from stylecam.app.live.sources import VideoFileSource
from stylecam.assets import paths
from stylecam.engines.backends import Engine
from stylecam.engines.styles import StyleBank
from stylecam.engines.stylizer import VideoStylizer
from stylecam.engines.temporal import TemporalSettings

THUMB_FRAME = 30  # a frame of the sample clip with a face and some sky
THUMB_SIZE = (192, 108)  # (width, height)


def thumbs_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "stylecam" / "thumbs"


def reference_frame() -> np.ndarray:
    """Frame THUMB_FRAME of the sample clip at THUMB_SIZE, H x W x 3 uint8 BGR."""
    for frame in VideoFileSource(paths.sample_clip()).frames():
        if frame.index == THUMB_FRAME:
            return cv2.resize(frame.image, THUMB_SIZE, interpolation=cv2.INTER_AREA)
    raise RuntimeError("the sample clip is shorter than expected")


def _model_digest(model: Path) -> str:
    return hashlib.sha1(model.read_bytes()).hexdigest()[:12]


class Thumbnails:
    """Makes and caches thumbnails; `for_bank` returns one H x W x 3 uint8 BGR image per style."""

    def __init__(self, engine: Engine, cache: Path | None = None, model: Path | None = None):
        self.engine = engine
        self.cache = cache or thumbs_dir()
        self.digest = _model_digest(model or paths.model_onnx())
        self._frame: np.ndarray | None = None
        self.made = 0  # thumbnails stylised (not from the cache) by this object
        self.cache_error: str | None = None  # why the cache could not be written, if it could not

    def _path(self, vector: np.ndarray) -> Path:
        key = hashlib.sha1(np.ascontiguousarray(vector, np.float32).tobytes()).hexdigest()[:16]
        return self.cache / f"{self.digest}-{key}-{THUMB_SIZE[0]}x{THUMB_SIZE[1]}.png"

    def one(self, vector: np.ndarray) -> np.ndarray:
        path = self._path(vector)
        if path.is_file():
            cached = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if cached is not None:
                return cached
        if self._frame is None:
            self._frame = reference_frame()
        image = VideoStylizer(self.engine, vector, TemporalSettings(strength=0.0)).step(self._frame).image
        self.made += 1
        try:
            self.cache.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.stem}.{os.getpid()}.png")
            if cv2.imwrite(str(tmp), image):
                os.replace(tmp, path)
        except OSError as exc:  # an unwritable cache only costs making thumbnails again next time
            self.cache_error = str(exc)
        return image

    def for_bank(self, bank: StyleBank) -> list[np.ndarray]:
        return [self.one(v) for v in bank.vectors]
