"""Training images: content crops and style images as RGB float tensors in [0, 1]."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def read_rgb(path: Path) -> np.ndarray:
    """Image file -> H x W x 3 uint8 RGB; ValueError with the path if it cannot be decoded."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read image: {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def resize_short(image: np.ndarray, short: int) -> np.ndarray:
    h, w = image.shape[:2]
    s = short / min(h, w)
    return cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def resize_long(image: np.ndarray, long: int) -> np.ndarray:
    h, w = image.shape[:2]
    s = long / max(h, w)
    return cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """H x W x 3 uint8 RGB -> 1 x 3 x H x W float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).float().div_(255)[None]


def image_files(folders: list[Path]) -> list[Path]:
    files = sorted(p for d in folders for p in Path(d).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"no images under {', '.join(map(str, folders))}")
    return files


class ContentCrops:
    """Random square crops (with horizontal flips) of RGB images held in memory."""

    def __init__(self, images: list[np.ndarray], crop: int, generator: torch.Generator):
        if not images:
            raise ValueError("no content images")
        smallest = min(min(i.shape[:2]) for i in images)
        if smallest < crop:
            raise ValueError(f"content image side {smallest} < crop {crop}")
        self.images = images
        self.crop = crop
        self.gen = generator

    @classmethod
    def from_files(cls, files: list[Path], short_side: int, crop: int, generator: torch.Generator) -> ContentCrops:
        return cls([resize_short(read_rgb(p), short_side) for p in files], crop, generator)

    def batch(self, n: int) -> torch.Tensor:
        """N x 3 x crop x crop float32 RGB in [0, 1]."""
        out = []
        for _ in range(n):
            img = self.images[int(torch.randint(len(self.images), (1,), generator=self.gen))]
            h, w = img.shape[:2]
            y = int(torch.randint(h - self.crop + 1, (1,), generator=self.gen))
            x = int(torch.randint(w - self.crop + 1, (1,), generator=self.gen))
            patch = img[y : y + self.crop, x : x + self.crop]
            if torch.rand(1, generator=self.gen) < 0.5:
                patch = patch[:, ::-1]
            out.append(to_tensor(patch))
        return torch.cat(out)
