"""The seed a seeded network paints flat areas from (network.NetConfig.seed_period), without torch:
the tile itself, and the seeded graph's image input that the host writes (contract.py).

A seeded graph takes its stem's whole input: the RGB image and the tile cut at the cell under its
top-left cell, reflected by STEM_PAD pixels each way (as the stem's reflection padding would). The
host writes the RGB planes each frame and the seed planes only when the cut moves, so the graph
has no gather, no concatenation and no pad to run at full resolution: the seeded graph then takes
about the unseeded one's time (docs/design-notes.md, "Texture where the picture is flat").
"""
from __future__ import annotations

import numpy as np

from stylecam.engines.contract import DOWNSCALE, SEED_CHANNELS, STEM_PAD


def seed_tile(period: int, seed: int = 7) -> np.ndarray:
    """SEED_CHANNELS x period x period float32: periodic white noise low-passed by a Gaussian of
    1 px (channel 0) and 3 px (channel 1), each then at mean 0 and std 1. Fixed by `seed`: a
    trained network paints from this very tile."""
    rng = np.random.default_rng(seed)
    f = np.fft.fftfreq(period)
    bands = []
    for sigma in (1.0, 3.0)[:SEED_CHANNELS]:
        g = np.exp(-2 * (np.pi * sigma) ** 2 * (f[:, None] ** 2 + f[None, :] ** 2))
        t = np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal((period, period))) * g))
        bands.append((t - t.mean()) / t.std())
    return np.stack(bands).astype(np.float32)


def _reflect_ring(planes: np.ndarray) -> None:
    """Fill the STEM_PAD-pixel ring of planes (... x H+2 x W+2) by reflecting its interior (edge
    pixel not repeated, as torch's "reflect" padding)."""
    planes[..., 0, :] = planes[..., 2, :]
    planes[..., -1, :] = planes[..., -3, :]
    planes[..., :, 0] = planes[..., :, 2]
    planes[..., :, -1] = planes[..., :, -3]


class StemInput:
    """The seeded graph's image input, 1 x (3 + SEED_CHANNELS) x (H + 2) x (W + 2) float32, kept
    between frames. `rgb(h, w)` is the view of its interior the RGB image ([0, 1]) goes into;
    `finish(origin)` reflects the ring and writes the tile cut at origin ((x, y) cells of
    DOWNSCALE pixels, any integers) where the cut or the size changed."""

    def __init__(self, tile: np.ndarray):
        self.tile = tile
        self.buffer = np.empty((1, 3 + SEED_CHANNELS, 2 * STEM_PAD, 2 * STEM_PAD), np.float32)
        self._rgb = self.buffer[:, :3, STEM_PAD:-STEM_PAD, STEM_PAD:-STEM_PAD]
        self._wrapped: np.ndarray | None = None  # the tile repeated to cover any cut of this size
        self._cut: tuple[int, int] | None = None  # (x, y) pixels of the tile the seed planes hold

    def rgb(self, height: int, width: int) -> np.ndarray:
        """1 x 3 x height x width view to write the image into (reallocated on a new size)."""
        if self._rgb.shape[2:] != (height, width):
            self.buffer = np.empty((1, 3 + SEED_CHANNELS, height + 2 * STEM_PAD, width + 2 * STEM_PAD), np.float32)
            self._rgb = self.buffer[:, :3, STEM_PAD:-STEM_PAD, STEM_PAD:-STEM_PAD]
            period = self.tile.shape[1]
            reps = (1, -(-height // period) + 1, -(-width // period) + 1)
            self._wrapped = np.tile(self.tile, reps)
            self._cut = None
        return self._rgb

    def finish(self, origin: tuple[int, int] | None) -> np.ndarray:
        """The whole input, its RGB interior as last written: the ring reflected and the seed
        planes cut at origin (None: (0, 0))."""
        h, w = self._rgb.shape[2:]
        period = self.tile.shape[1]
        x, y = ((DOWNSCALE * c) % period for c in (origin or (0, 0)))
        if self._cut != (x, y):
            seed = self.buffer[0, 3:]
            seed[:, STEM_PAD:-STEM_PAD, STEM_PAD:-STEM_PAD] = self._wrapped[:, y:y + h, x:x + w]
            _reflect_ring(seed)
            self._cut = (x, y)
        _reflect_ring(self.buffer[0, :3])
        return self.buffer


def stem_input(image: np.ndarray, tile: np.ndarray, origin: tuple[int, int] | None) -> np.ndarray:
    """The stem input of one 1 x 3 x H x W RGB image in a new array (StemInput, for one call)."""
    stem = StemInput(tile)
    stem.rgb(image.shape[2], image.shape[3])[...] = image
    return stem.finish(origin)
