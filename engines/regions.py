"""What the person and the background each show, and how the two are put together.

A region shows the stylizer's current style (CURRENT: crossfades and style keys move it), the
original picture (ORIGINAL), or a fixed style vector (S,) float32. How a frame is made:
  - both CURRENT, or the same style: one engine call, no segmentation (the whole frame);
  - one region ORIGINAL: one engine call with the other's style, then the original picture
    composited over the kept region through the feathered mask;
  - two different styles: one call of the regions graph, whose norms take a per-pixel style
    (network.Stylizer.two_styles), so two styles cost one pass, not two.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import cv2
import numpy as np

CURRENT, ORIGINAL = "current", "original"
Region = Union[str, np.ndarray]  # CURRENT, ORIGINAL or a style vector


def _is(region: Region, word: str) -> bool:
    return isinstance(region, str) and region == word


@dataclass(frozen=True, eq=False)
class Regions:
    person: Region = CURRENT
    background: Region = CURRENT

    def __post_init__(self):
        for name in ("person", "background"):
            value = getattr(self, name)
            if isinstance(value, str) and value not in (CURRENT, ORIGINAL):
                raise ValueError(f"{name} region must be {CURRENT!r}, {ORIGINAL!r} or a style vector, got {value!r}")
        if _is(self.person, ORIGINAL) and _is(self.background, ORIGINAL):
            raise ValueError("person and background both original: nothing to stylise")

    def resolve(self, current: np.ndarray) -> tuple[Region, Region]:
        """(person, background) with CURRENT replaced by the current style vector."""
        pick = lambda r: current if _is(r, CURRENT) else r  # noqa: E731
        return pick(self.person), pick(self.background)

    @property
    def whole_frame(self) -> bool:
        """True when no mask is needed (both regions show the current style)."""
        return _is(self.person, CURRENT) and _is(self.background, CURRENT)


WHOLE_FRAME = Regions()


def same_style(a: Region, b: Region) -> bool:
    return not isinstance(a, str) and not isinstance(b, str) and a.shape == b.shape and bool(np.array_equal(a, b))


def keep_original(stylised: np.ndarray, original: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """stylised, original: H x W x 3 uint8 BGR; keep: h x w float32 in [0, 1], the share of the
    original, any size (resized to H x W). Returns a new H x W x 3 uint8 BGR frame."""
    h, w = stylised.shape[:2]
    if keep.shape != (h, w):
        keep = cv2.resize(keep, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.blendLinear(original, stylised, keep, 1.0 - keep)
