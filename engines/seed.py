"""The seed a seeded network paints flat areas from (network.NetConfig.seed_period), without torch:
the tile itself, and the engine's image input that the host writes (contract.py), seeded or not.

A seeded graph takes its stem's whole input: the RGB image and the tile cut at the cell under its
top-left cell, reflected by STEM_PAD pixels each way (as the stem's reflection padding would). The
host writes the RGB planes each frame and the seed planes only when the cut moves, so the graph
has no gather, no concatenation and no pad to run at full resolution: the seeded graph then takes
about the unseeded one's time (docs/design-notes.md, "Texture where the picture is flat").
"""
from __future__ import annotations

from collections.abc import Callable

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


def _one_band(work: Callable[[int, int, int], None], rows: int) -> None:
    work(0, 0, rows)


def _reflected(i: np.ndarray, n: int) -> np.ndarray:
    """Indices i into [0, n) reflected at both ends, the edge not repeated (OpenCV's
    BORDER_REFLECT_101, torch's "reflect"), for any i."""
    if n == 1:
        return np.zeros_like(i)
    i = np.abs(i) % (2 * (n - 1))
    return np.where(i >= n, 2 * (n - 1) - i, i)


class StemInput:
    """The engine's image input, kept between frames: 1 x (3 + seed planes) x (H + 2 pad) x
    (W + 2 pad) float32, where H x W is the canvas (the frame with `margin` pixels added each
    way, phase_lock.py; margin 0: the frame itself). A seeded graph's stem input (tile given, pad
    STEM_PAD) holds the RGB image and the tile cut at the cell under its top-left cell, reflected by
    STEM_PAD each way; without a tile it is the RGB image alone (pad 0).

    `rgb(h, w, margin)` is where the frame's RGB ([0, 1]) goes: the same memory at every canvas
    offset, so the frame can be written before the offset is known (the stylizer converts it
    while the flow runs). `finish(origin, offset)` returns the whole input for the frame at
    `offset` on the canvas: a view of one buffer, starting where that offset puts the frame, with
    the canvas and stem rings reflected around it and the tile cut at origin ((x, y) cells of
    DOWNSCALE pixels, any integers) where the cut or the view moved; its steps `reflect`,
    `cut_seed` and `view` can be called one by one (the seed's cut beside other work).

    Between one plane's frame rows and the next plane's the buffer holds margin + 2 pad rows, and
    between one frame row and the next margin + 2 pad pixels: the rings of either side, however
    the offset splits them."""

    def __init__(self, tile: np.ndarray | None):
        self.tile = tile
        self.pad = STEM_PAD if tile is not None else 0
        self.planes = 3 + (tile.shape[0] if tile is not None else 0)
        self._buffer = np.empty(0, np.float32)
        self._geometry: tuple[int, int, int] | None = None  # (h, w, margin) of the frame and canvas
        self._rgb = np.empty((1, 3, 0, 0), np.float32)
        self._wrapped: np.ndarray | None = None  # the tile repeated to cover any cut of this size
        self._rings: dict[tuple[int, int], tuple] = {}  # per offset: the ring pixels and their sources
        self._cut: tuple | None = None  # (x, y) pixels of the tile and the offset of the view the seed planes hold

    def rgb(self, height: int, width: int, margin: int = 0) -> np.ndarray:
        """1 x 3 x height x width view to write the frame into (reallocated on a new geometry)."""
        if self._geometry != (height, width, margin):
            rows, cols = (n + margin + 2 * self.pad for n in (height, width))
            self._buffer = np.empty(self.planes * rows * cols + margin * (cols + 1), np.float32)
            whole = self._buffer[:self.planes * rows * cols].reshape(1, self.planes, rows, cols)
            first = margin + self.pad  # the frame's first row and column in the view of offset (0, 0)
            self._rgb = whole[:, :3, first:first + height, first:first + width]
            self._geometry = (height, width, margin)
            self._rings = {}
            self._cut = None
            if self.tile is not None:
                period = self.tile.shape[1]
                reps = (1, -(-(height + margin) // period) + 1, -(-(width + margin) // period) + 1)
                self._wrapped = np.tile(self.tile, reps)
        return self._rgb

    def finish(self, origin: tuple[int, int] | None, offset: tuple[int, int] = (0, 0),
               split: Callable[[Callable[[int, int, int], None], int], None] = _one_band) -> np.ndarray:
        """The whole input with the frame (as last written to `rgb`) at offset (x, y pixels, each
        in [0, margin]; (0, 0) without a margin) on the canvas: `reflect`, `cut_seed`, `view`."""
        self.reflect(offset)
        self.cut_seed(origin, offset, split)
        return self.view(offset)

    def view(self, offset: tuple[int, int]) -> np.ndarray:
        """The input for the frame at `offset`: a view of the buffer, starting where the offset
        puts the frame."""
        (h, w, margin), pad, (ox, oy) = self._geometry, self.pad, offset
        rows, cols = h + margin + 2 * pad, w + margin + 2 * pad
        start = (margin - oy) * cols + (margin - ox)
        return self._buffer[start:start + self.planes * rows * cols].reshape(1, self.planes, rows, cols)

    def reflect(self, offset: tuple[int, int]) -> None:
        """The RGB planes' canvas and stem rings around the frame at `offset`, reflected."""
        (h, w, margin), pad, (ox, oy) = self._geometry, self.pad, offset
        if offset not in self._rings:
            rows, cols = h + margin + 2 * pad, w + margin + 2 * pad
            self._rings[offset] = (self._ring(rows, pad + oy, h, h + margin), self._ring(cols, pad + ox, w, w + margin))
        (ring_rows, from_rows), (ring_cols, from_cols) = self._rings[offset]
        rgb = self.view(offset)[0, :3]
        frame_rows = rgb[:, pad + oy:pad + oy + h]
        frame_rows[:, :, ring_cols] = frame_rows[:, :, from_cols]
        rgb[:, ring_rows] = rgb[:, from_rows]

    def cut_seed(self, origin: tuple[int, int] | None, offset: tuple[int, int],
                 split: Callable[[Callable[[int, int, int], None], int], None] = _one_band) -> None:
        """The seed planes of the view at `offset`, the tile cut at origin (None: (0, 0)), where
        the cut or the view moved (the view moves with the offset); nothing without a tile. It
        touches neither the frame nor the rings, so it may run beside `reflect`. split(work, n):
        runs work(band, r0, r1) over rows [0, n) (bands.RowBands.run: in two threads)."""
        if self.tile is None:
            return
        (h, w, margin), pad, period = self._geometry, self.pad, self.tile.shape[1]
        x, y = ((DOWNSCALE * c) % period for c in (origin or (0, 0)))
        if self._cut == (x, y, offset):
            return
        seed, wrapped = self.view(offset)[0, 3:], self._wrapped

        def cut(_band: int, r0: int, r1: int) -> None:
            seed[:, pad + r0:pad + r1, pad:-pad] = wrapped[:, y + r0:y + r1, x:x + w + margin]

        split(cut, h + margin)
        _reflect_ring(seed)
        self._cut = (x, y, offset)

    def _ring(self, length: int, first: int, frame: int, canvas: int) -> tuple[np.ndarray, np.ndarray]:
        """Along one axis of the view (`length` pixels, the frame's `frame` from `first`, inside a
        canvas of `canvas` from `pad`): the ring's indices and the frame's they reflect (the canvas
        reflecting the frame, the stem's pad the canvas)."""
        j = np.arange(length)
        source = first + _reflected(_reflected(j - self.pad, canvas) + self.pad - first, frame)
        ring = j[(j < first) | (j >= first + frame)]
        return ring, source[ring]


def stem_input(image: np.ndarray, tile: np.ndarray, origin: tuple[int, int] | None) -> np.ndarray:
    """The stem input of one 1 x 3 x H x W RGB image in a new array (StemInput, for one call)."""
    stem = StemInput(tile)
    stem.rgb(image.shape[2], image.shape[3])[...] = image
    return stem.finish(origin)
