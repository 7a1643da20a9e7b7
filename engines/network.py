"""The stylizer network (torch): a strided 4x4 stem, 1/8-resolution residual core,
temporal fusion of the core's output, and a decoder; many styles through conditional instance
norm, the style vector being an *input* of the graph.

Shapes (N = 1 at run time, H and W multiples of 8):
    image     N x 3 x H x W        float32 RGB in [0, 1]
    style     S (or N x S)         float32, the style's norm parameters (see `style_size`)
    prev      N x C x H/8 x W/8    the previous fused core features (zeros on a reset)
    grid      N x H/8 x W/8 x 2    sampling positions of the current cells in the previous frame,
                                   normalised to [-1, 1] (x, y), align_corners=False
    blend     N x 1 x H/8 x W/8    a * M in [0, 1]: how much of warp(prev) to keep per cell
    -> output N x 3 x H x W        float32 RGB in (0, 1)
    -> fused  N x C x H/8 x W/8    the state for the next frame

Fusion sits after the residual core, right before the decoder: a trusted cell then decodes the
same features as the previous frame did, so strokes follow the motion instead of re-rolling.
With blend = 0 the fused features equal the current ones exactly (x + 0 * d == x).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

@dataclass(frozen=True)
class NetConfig:
    """Layer widths: full/2, /4 and /8 resolution channels, and the residual block count."""

    widths: tuple[int, int, int] = (16, 32, 64)
    residual_blocks: int = 4

    @property
    def core_channels(self) -> int:
        return self.widths[2]

    def norm_channels(self) -> list[int]:
        """Channels of every conditional norm layer, in the order they read the style vector."""
        w1, w2, w3 = self.widths
        return [w1, w2, w3] + [w3] * (2 * self.residual_blocks) + [w2, w1]

    def style_size(self) -> int:
        """Length of a style vector: a scale and a shift per normalised channel."""
        return 2 * sum(self.norm_channels())

    def identity_style(self) -> torch.Tensor:
        """A neutral style vector (scale 1, shift 0 everywhere)."""
        parts = [torch.cat([torch.ones(c), torch.zeros(c)]) for c in self.norm_channels()]
        return torch.cat(parts)


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1)


def _cin(x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Conditional instance norm: normalise per channel, then the style's scale and shift."""
    return F.instance_norm(x, eps=1e-5) * scale[..., None, None] + shift[..., None, None]


class Stylizer(nn.Module):
    """Feed-forward multi-style stylizer with a recurrent temporal input (see module doc)."""

    def __init__(self, config: NetConfig = NetConfig()):
        super().__init__()
        self.config = config
        w1, w2, w3 = config.widths
        self.enc1 = nn.Conv2d(3, w1, 4, stride=2, padding=1)  # straight to H/2
        self.enc2 = _conv(w1, w2, stride=2)  # H/4
        self.enc3 = _conv(w2, w3, stride=2)  # H/8
        self.res = nn.ModuleList(
            nn.ModuleList([_conv(w3, w3), _conv(w3, w3)]) for _ in range(config.residual_blocks)
        )
        self.dec1 = _conv(w3, w2)  # after nearest x2, at H/4
        self.dec2 = _conv(w2, w1)  # after nearest x2, at H/2
        self.out = _conv(w1, 12)  # pixel-shuffled to 3 x H x W
        self._split = [c for c in config.norm_channels() for _ in (0, 1)]

    def encode(self, image: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Image N x 3 x H x W RGB [0,1] -> core features N x C x H/8 x W/8."""
        p = torch.split(style, self._split, dim=-1)
        x = F.relu(_cin(self.enc1(image), p[0], p[1]))
        x = F.relu(_cin(self.enc2(x), p[2], p[3]))
        x = F.relu(_cin(self.enc3(x), p[4], p[5]))
        k = 6
        for conv_a, conv_b in self.res:
            y = F.relu(_cin(conv_a(x), p[k], p[k + 1]))
            x = x + _cin(conv_b(y), p[k + 2], p[k + 3])
            k += 4
        return x

    def decode(self, features: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Core features -> image N x 3 x H x W RGB in (0, 1)."""
        p = torch.split(style, self._split, dim=-1)
        x = F.interpolate(features, scale_factor=2.0, mode="nearest")
        x = F.relu(_cin(self.dec1(x), p[-4], p[-3]))
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = F.relu(_cin(self.dec2(x), p[-2], p[-1]))
        return torch.sigmoid(F.pixel_shuffle(self.out(x), 2))

    def forward(
        self,
        image: torch.Tensor,
        style: torch.Tensor,
        prev: torch.Tensor,
        grid: torch.Tensor,
        blend: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.encode(image, style)
        warped = F.grid_sample(prev, grid, mode="bilinear", padding_mode="border", align_corners=False)
        fused = features + blend * (warped - features)
        return self.decode(fused, style), fused


def identity_grid(height: int, width: int) -> torch.Tensor:
    """1 x height x width x 2 grid that samples every cell at its own centre."""
    ys = (torch.arange(height, dtype=torch.float32) + 0.5) / height * 2 - 1
    xs = (torch.arange(width, dtype=torch.float32) + 0.5) / width * 2 - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy], dim=-1)[None]
