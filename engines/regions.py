"""What the person and the background each show, and how the two are put together.

A region shows the stylizer's current style (CURRENT: crossfades and style keys move it), the
original picture (ORIGINAL), or a fixed style vector (S,) float32. How a frame is made:
  - both CURRENT: one engine call, no segmentation (the whole frame); two regions that happen to
    have the same style (a crossfade reaching the other's) also take one call;
  - one region ORIGINAL: one engine call with the other's style, then the original picture
    composited over the kept region through the feathered mask;
  - two different styles: one call of the regions graph, whose norms take a per-pixel style
    (network.Stylizer.two_styles), so two styles cost one pass, not two.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from typing import Union

import cv2
import numpy as np

CURRENT, ORIGINAL = "current", "original"
Region = Union[str, np.ndarray]  # CURRENT, ORIGINAL or a style vector


def _is(region: Region, word: str) -> bool:
    return isinstance(region, str) and region == word


class Plan(Enum):
    """How a frame of given Regions is made (see the module doc)."""

    WHOLE_FRAME = "whole frame"
    KEEP_PERSON = "person original"
    KEEP_BACKGROUND = "background original"
    TWO_STYLES = "two styles"


@dataclass(frozen=True, eq=False)
class Regions:
    """What each region shows; `plan` says how a frame is made (worked out once per Regions)."""

    person: Region = CURRENT
    background: Region = CURRENT

    def __post_init__(self):
        for name in ("person", "background"):
            value = getattr(self, name)
            if isinstance(value, str) and value not in (CURRENT, ORIGINAL):
                raise ValueError(f"{name} region must be {CURRENT!r}, {ORIGINAL!r} or a style vector, got {value!r}")
        if _is(self.person, ORIGINAL) and _is(self.background, ORIGINAL):
            raise ValueError("person and background both original: nothing to stylise")

    @cached_property
    def plan(self) -> Plan:
        if _is(self.person, ORIGINAL):
            return Plan.KEEP_PERSON
        if _is(self.background, ORIGINAL):
            return Plan.KEEP_BACKGROUND
        return Plan.WHOLE_FRAME if _is(self.person, CURRENT) and _is(self.background, CURRENT) else Plan.TWO_STYLES

    @property
    def whole_frame(self) -> bool:
        """True when no mask is needed (both regions show the current style)."""
        return self.plan is Plan.WHOLE_FRAME

    def styles(self, current: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The style vectors of one frame, CURRENT being `current`: (the one style, None) where
        one pass paints everything stylised, else (the person's, the background's) for the
        regions graph."""
        pick = lambda r: current if _is(r, CURRENT) else r  # noqa: E731
        if self.plan is Plan.KEEP_PERSON:
            return pick(self.background), None
        if self.plan in (Plan.KEEP_BACKGROUND, Plan.WHOLE_FRAME):
            return pick(self.person), None
        person, background = pick(self.person), pick(self.background)
        return (person, None) if np.array_equal(person, background) else (person, background)


WHOLE_FRAME = Regions()


class OriginalKeeper:
    """Composites the original picture over a kept region. The full-size weight maps are reused
    across frames (fresh multi-MB arrays cost page faults every frame)."""

    def __init__(self):
        self._weights: tuple[np.ndarray, np.ndarray] | None = None

    def step(self, stylised: np.ndarray, original: np.ndarray, keep: np.ndarray,
             padded_hw: tuple[int, int]) -> np.ndarray:
        """stylised, original: H x W x 3 uint8 BGR (the top-left of the padded frame, padded_hw =
        (PH, PW)); keep: the share of the original over the padded frame at any size, float32 in
        [0, 1]. Returns a new H x W x 3 uint8 BGR frame."""
        ph, pw = padded_hw
        h, w = stylised.shape[:2]
        if self._weights is None or self._weights[0].shape != (ph, pw):
            self._weights = (np.empty((ph, pw), np.float32), np.empty((ph, pw), np.float32))
        share, rest = self._weights
        cv2.resize(keep, (pw, ph), dst=share, interpolation=cv2.INTER_LINEAR)
        cv2.subtract(1.0, share, dst=rest)
        return cv2.blendLinear(original, stylised, share[:h, :w], rest[:h, :w])
