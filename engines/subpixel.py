"""Sub-pixel shifts of whole images by a windowed sinc (Lanczos, 4 lobes: 8 taps per axis), for the
phase lock's shift (phase_lock.py): the output is moved by the fraction of a pixel the scene has
moved past the canvas offset, so the strokes travel with the scene between whole pixels.

Why these taps: a shift of half a pixel cannot keep the finest texture (the Nyquist frequency
cancels), and a short filter loses more than that. Measured on Tears of Steel (docs/benchmarks.md):
the 4-tap cubic (Keys, a = -0.5) kept 0.69-0.72 of the moving sharpness, Lanczos with 3 lobes
0.87-0.89, with 4 lobes 0.90-0.95. Two 1-D passes of cv2.filter2D over the three float planes cost
about 0.8-1.0 ms at 640x480 alone (1.7 ms in the alternating pipeline benchmark): less than
cv2.sepFilter2D's one pass.

A shift under SKIP_PX along an axis is not filtered (no cost, no softening): a still camera keeps
its exact frames.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

SKIP_PX = 0.02
LOBES = 4


def taps(t: float) -> tuple[np.ndarray, int] | None:
    """Weights and anchor for cv2.filter2D that sample each pixel at x + t (|t| < 1; pixels): 2 *
    LOBES float32 weights for the pixels floor(t) - LOBES + 1 .. floor(t) + LOBES around x,
    summing to 1. Under SKIP_PX None."""
    if abs(t) < SKIP_PX:
        return None
    i0 = math.floor(t)
    w = np.array([_lanczos(k - (t - i0)) for k in range(-LOBES + 1, LOBES + 1)])  # at the taps' distances
    return (w / w.sum()).astype(np.float32), LOBES - 1 - i0


def _lanczos(d: float) -> float:
    """sinc(d) sinc(d / LOBES), in scalar math: numpy's sinc on 8 values costs ten times more."""
    if d == 0.0:
        return 1.0
    x = math.pi * d
    return math.sin(x) * math.sin(x / LOBES) * LOBES / (x * x)


def passes(shift: tuple[float, float]) -> list[tuple[np.ndarray, tuple[int, int]]]:
    """The 1-D cv2.filter2D passes (kernel, anchor) that move content by `shift` (x, y pixels, each
    under one): one per axis at or over SKIP_PX, so none, one or two."""
    out = []
    x, y = taps(-shift[0]), taps(-shift[1])
    if x is not None:
        out.append((x[0][None], (x[1], 0)))
    if y is not None:
        out.append((y[0][:, None], (0, y[1])))
    return out


def shifted_plane(plane: np.ndarray, filters: list[tuple[np.ndarray, tuple[int, int]]], scratch: np.ndarray,
                  out: np.ndarray) -> np.ndarray:
    """One H x W float32 plane through `filters` (from passes): written to `out` (H x W float32;
    `scratch` the same, for the pass between) and returned, or `plane` itself for no filters."""
    for i, (kernel, anchor) in enumerate(filters):
        plane = cv2.filter2D(plane, -1, kernel, dst=out if i == len(filters) - 1 else scratch, anchor=anchor,
                             borderType=cv2.BORDER_REFLECT_101)
    return plane
