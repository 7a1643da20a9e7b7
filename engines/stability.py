"""Temporal-stability measures of a stylised sequence (numpy + OpenCV only).

warping_error: E_warp of Lai et al. 2018 on the *output*, with flow and occlusions from the
*input*: forward flow f (t -> t+1) and backward flow b (t+1 -> t) by DIS (MEDIUM preset); a pixel
is excluded where |f + b(x+f)|^2 > 0.01 (|f|^2 + |b(x+f)|^2) + 0.5, at motion boundaries
(|grad f_x|^2 + |grad f_y|^2 > 0.01 |f|^2 + 0.002), or where x+f leaves the frame;
E = sum M ||O_t - O_{t+1}(x+f)||^2 / sum M with RGB in [0, 1], averaged over frame pairs.
sharpness: mean variance of the Laplacian of the grey image.
"""
from __future__ import annotations

import cv2
import numpy as np


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def warp_by_flow(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """image (H x W x C) sampled at x + flow(x), bilinear, edges replicated; flow H x W x 2 float32 (x, y) pixels."""
    h, w = flow.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(image, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def valid_mask(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """H x W float32 in {0, 1}: 1 where the forward flow is trusted (not occluded, no boundary)."""
    b_at = warp_by_flow(backward, forward)
    lhs = np.sum((forward + b_at) ** 2, axis=-1)
    occluded = lhs > 0.01 * (np.sum(forward**2, -1) + np.sum(b_at**2, -1)) + 0.5
    gu = np.gradient(forward[..., 0])
    gv = np.gradient(forward[..., 1])
    grad = gu[0] ** 2 + gu[1] ** 2 + gv[0] ** 2 + gv[1] ** 2
    boundary = grad > 0.01 * np.sum(forward**2, -1) + 0.002
    h, w = forward.shape[:2]
    xs, ys = np.meshgrid(np.arange(w), np.arange(h))
    tx, ty = xs + forward[..., 0], ys + forward[..., 1]
    outside = (tx < 0) | (tx > w - 1) | (ty < 0) | (ty > h - 1)
    return (~(occluded | boundary | outside)).astype(np.float32)


class PairFlows:
    """Forward/backward flows and masks of consecutive input frames, computed once and reused
    for every output sequence made from those inputs."""

    def __init__(self, inputs: list[np.ndarray], scene_cut: float = 0.15):
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self.pairs: list[tuple[int, np.ndarray, np.ndarray]] = []  # (t, forward flow, mask)
        greys = [_grey(f) for f in inputs]
        for t in range(len(greys) - 1):
            a, b = greys[t], greys[t + 1]
            if cv2.norm(a, b, cv2.NORM_L1) / (a.size * 255.0) > scene_cut:
                continue  # a cut: no correspondence to measure
            forward = dis.calc(a, b, None)
            backward = dis.calc(b, a, None)
            self.pairs.append((t, forward, valid_mask(forward, backward)))

    def warping_error(self, outputs: list[np.ndarray]) -> float:
        """Mean E_warp over the usable pairs; outputs are H x W x 3 uint8 BGR, same size as inputs."""
        errors = []
        for t, forward, mask in self.pairs:
            cur = outputs[t].astype(np.float32) / 255.0
            nxt = warp_by_flow(outputs[t + 1].astype(np.float32) / 255.0, forward)
            err = np.sum((cur - nxt) ** 2, axis=-1)
            errors.append(float(np.sum(mask * err) / max(np.sum(mask), 1.0)))
        if not errors:
            raise ValueError("no usable frame pairs (every pair is a scene cut)")
        return float(np.mean(errors))


def sharpness(image: np.ndarray) -> float:
    """Variance of the Laplacian of the grey image (H x W x 3 uint8 BGR)."""
    return float(cv2.Laplacian(_grey(image), cv2.CV_64F).var())
