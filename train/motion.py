"""Real motion for the temporal loss: consecutive frames of video clips and frame folders, with the
flow between them (DIS, MEDIUM preset) and the pixels it can be trusted on (engines/stability's
occlusion test), as random aligned crops.

A pair is (prev, cur, flow, valid): cur(x) ~ prev(x + flow(x)) where valid(x) = 1.

Locked crops (MotionCrops(lock="pixel" or "subpixel")) train the network for what the run-time phase
lock leaves to it: prev is cut out where the pair's dominant motion (engines/phase_lock.dominant_motion)
takes cur's crop, to the whole pixel, so the motion most of the picture shares is the lock's. With
"pixel" the loss still asks the strokes to follow the fraction of a pixel left over; with "subpixel"
the grid also leaves that fraction out, as the sub-pixel lock (engines/subpixel.py) moves the output
by it at run time: the network is asked to hold its strokes still on its grid while the content
moves by the fraction, which its 8-pixel stride can do (moving them by a fraction it cannot)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from stylecam.engines.contract import DOWNSCALE
from stylecam.engines.phase_lock import dominant_motion
from stylecam.engines.stability import valid_mask
from stylecam.train.data import IMAGE_SUFFIXES, resize_short

VIDEO_SUFFIXES = {".mp4", ".mkv", ".avi", ".mov", ".webm"}
LOCKS = ("off", "pixel", "subpixel")  # what the motion crops leave to the run-time phase lock


@dataclass
class MotionPair:
    prev: np.ndarray  # H x W x 3 uint8 RGB
    cur: np.ndarray  # H x W x 3 uint8 RGB
    flow: np.ndarray  # H x W x 2 float32, cur -> prev, pixels
    valid: np.ndarray  # H x W float32 in {0, 1}
    motion: tuple[float, float] = (0.0, 0.0)  # (x, y) pixels of the dominant motion, cur -> prev; (0, 0) if none

    @property
    def lock(self) -> tuple[int, int]:
        """The dominant motion to the whole pixel."""
        return int(round(self.motion[0])), int(round(self.motion[1]))


def read_frames(source: Path, short_side: int, limit: int) -> list[np.ndarray]:
    """Up to `limit` consecutive frames (RGB uint8, scaled to `short_side`) of a video file or a
    folder of numbered images."""
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)[:limit]
        return [resize_short(cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB), short_side) for p in files]
    cap = cv2.VideoCapture(str(source))
    frames = []
    while len(frames) < limit:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(resize_short(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), short_side))
    cap.release()
    return frames


def frame_pairs(frames: list[np.ndarray], gaps: tuple[int, ...] = (1, 2), every: int = 2,
                scene_cut: float = 0.15, min_valid: float = 0.5) -> list[MotionPair]:
    """Pairs (t - gap, t) every `every` frames, skipping scene cuts and pairs whose flow is
    trusted on less than `min_valid` of the frame."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    greys = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    pairs = []
    for gap in gaps:
        for t in range(gap, len(frames), every):
            a, b = greys[t], greys[t - gap]
            if cv2.norm(a, b, cv2.NORM_L1) / (a.size * 255.0) > scene_cut:
                continue
            flow = dis.calc(a, b, None)  # cur -> prev
            valid = valid_mask(flow, dis.calc(b, a, None))
            if valid.mean() >= min_valid:
                motion = dominant_motion(flow, (valid * 255).astype(np.uint8), (1.0, 1.0))
                motion = (0.0, 0.0) if motion is None else (float(motion[0]), float(motion[1]))
                pairs.append(MotionPair(frames[t - gap], frames[t], flow, valid, motion))
    return pairs


def motion_sources(folders: list[Path]) -> list[Path]:
    """Video files and frame folders (folders holding images) under `folders`, sorted."""
    found = set()
    for folder in folders:
        for root, _, files in os.walk(folder, followlinks=True):
            for name in files:
                suffix = Path(name).suffix.lower()
                if suffix in VIDEO_SUFFIXES:
                    found.add(Path(root) / name)
                elif suffix in IMAGE_SUFFIXES:
                    found.add(Path(root))
    return sorted(found)


class MotionCrops:
    """Random aligned square crops of motion pairs, as torch tensors. lock: "off"; "pixel": prev's
    crop moved by the pair's whole-pixel lock where the frame leaves room for it; "subpixel": that,
    and the grid leaves the rest of the dominant motion out too (module doc)."""

    def __init__(self, pairs: list[MotionPair], crop: int, generator: torch.Generator, lock: str = "off"):
        if lock not in LOCKS:
            raise ValueError(f"lock must be one of {', '.join(LOCKS)}, got {lock!r}")
        pairs = [p for p in pairs if min(p.cur.shape[:2]) >= crop]
        if not pairs:
            raise ValueError(f"no motion pairs of at least {crop} px")
        self.pairs, self.crop, self.gen, self.lock = pairs, crop, generator, lock

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """prev, cur (N x 3 x c x c RGB [0,1]), grid (N x c x c x 2, where each cur pixel lies in
        prev, less the dominant motion's fraction of a pixel with lock "subpixel", normalised for
        grid_sample with align_corners=False) and valid (N x 1 x c x c)."""
        c = self.crop
        prevs, curs, grids, valids = [], [], [], []
        for _ in range(n):
            p = self.pairs[int(torch.randint(len(self.pairs), (1,), generator=self.gen))]
            h, w = p.cur.shape[:2]
            room = abs(p.lock[0]) <= w - c and abs(p.lock[1]) <= h - c
            lx, ly = p.lock if self.lock != "off" and room else (0, 0)
            mx, my = p.motion if self.lock == "subpixel" and room else (lx, ly)  # left out of the grid
            y = max(0, -ly) + int(torch.randint(h - c - abs(ly) + 1, (1,), generator=self.gen))
            x = max(0, -lx) + int(torch.randint(w - c - abs(lx) + 1, (1,), generator=self.gen))
            sl = (slice(y, y + c), slice(x, x + c))
            prevs.append(p.prev[y + ly:y + ly + c, x + lx:x + lx + c])
            curs.append(p.cur[sl])
            flow = p.flow[sl]
            xs, ys = np.meshgrid(np.arange(c, dtype=np.float32), np.arange(c, dtype=np.float32))
            # where the crop's pixel lands in the crop of prev; outside the crop is not valid
            tx, ty = xs + flow[..., 0] - lx, ys + flow[..., 1] - ly
            inside = (tx >= 0) & (tx <= c - 1) & (ty >= 0) & (ty <= c - 1)
            gx, gy = tx - (mx - lx), ty - (my - ly)
            grids.append(np.stack([(gx + 0.5) / c * 2 - 1, (gy + 0.5) / c * 2 - 1], axis=-1))
            valids.append(p.valid[sl] * inside)
        to = lambda a: torch.from_numpy(np.ascontiguousarray(np.stack(a)))  # noqa: E731
        prev = to(prevs).permute(0, 3, 1, 2).float().div_(255)
        cur = to(curs).permute(0, 3, 1, 2).float().div_(255)
        return prev, cur, to(grids).float(), to(valids).float()[:, None]


def warp_to(image: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Sample N x C x H x W `image` (prev) at `grid` (from MotionCrops.batch): prev seen from cur."""
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=False)


def warp_cells(features: torch.Tensor, grid: torch.Tensor, cell: int = DOWNSCALE) -> torch.Tensor:
    """Frame t-1's N x C x H/cell x W/cell features sampled where each cell of frame t lies in it:
    `grid` (from MotionCrops.batch) averaged over each cell, as temporal.warp_state resamples
    the core state at run time (bilinear, edges replicated)."""
    cells = F.avg_pool2d(grid.permute(0, 3, 1, 2), cell).permute(0, 2, 3, 1)
    return warp_to(features, cells)
