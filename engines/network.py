"""The stylizer network (torch): a strided 4x4 stem, 1/8-resolution residual core, temporal
fusion of the core's output, and a decoder; many styles through conditional instance norm, the
style vector being an *input* of the graph.

Shapes (N = 1 at run time, H and W multiples of 8):
    image     N x 3 x H x W        float32 RGB in [0, 1]
    style     S (or N x S)         float32, the style's norm parameters (see `style_size`)
    prev      N x H/8 x W/8 x C    the previous fused core features (channels last), already warped
                                   to this frame by the flow (temporal.warp_state); zeros on a reset
    blend     N x 1 x H/8 x W/8    a * M in [0, 1]: how much of prev to keep per cell
    -> output N x 3 x H x W        float32 RGB in (0, 1)
    -> fused  N x H/8 x W/8 x C    the state for the next frame (channels last)

Fusion sits after the residual core, right before the decoder: a trusted cell then decodes the
same features as the previous frame did, so strokes follow the motion instead of re-rolling.
With blend = 0 the fused features equal the current ones exactly (x + 0 * d == x).

Two layouts (NetConfig.version):
  v2 (shipped): reflection padding everywhere (no position bias at the frame border), residual
     blocks that narrow to `residual_inner` channels, and a decoder that ends at 1/4 resolution
     (1x1 reduce at 1/8, nearest x2, two 3x3 convs, a 3x3 conv to 48 channels pixel-shuffled x4).
     About 4.4 K multiply-adds per output pixel.
  v1: zero padding, full-width residual blocks, a decoder that ends at 1/2 resolution (nearest x2
     + conv, twice, then a conv to 12 channels pixel-shuffled x2). About 8.1 K per pixel. Kept to
     read the v1 checkpoint (the teacher v2 was warm-started from, and the comparison in the docs).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class NetConfig:
    """Layer widths at 1/2, 1/4 and 1/8 resolution, the residual block count and inner width, the
    layout version (see the module doc) and, in v2, the width of the decoder's last norm layer
    (the features the output conv paints each 4x4 block from)."""

    widths: tuple[int, int, int] = (16, 32, 64)
    residual_blocks: int = 4
    residual_inner: int = 32
    version: int = 2
    decoder_width: int = 16

    @classmethod
    def v1(cls) -> NetConfig:
        return cls(widths=(16, 32, 64), residual_blocks=4, residual_inner=64, version=1)

    @property
    def core_channels(self) -> int:
        return self.widths[2]

    @property
    def padding(self) -> str:
        return "reflect" if self.version >= 2 else "zeros"

    def norm_channels(self) -> list[int]:
        """Channels of every conditional norm layer, in the order they read the style vector."""
        w1, w2, w3 = self.widths
        core = [self.residual_inner, w3] * self.residual_blocks
        decoder = [w2, w2, self.decoder_width] if self.version >= 2 else [w2, w1]
        return [w1, w2, w3] + core + decoder

    def style_size(self) -> int:
        """Length of a style vector: a scale and a shift per normalised channel."""
        return 2 * sum(self.norm_channels())

    def identity_style(self) -> torch.Tensor:
        """A neutral style vector (scale 1, shift 0 everywhere)."""
        parts = [torch.cat([torch.ones(c), torch.zeros(c)]) for c in self.norm_channels()]
        return torch.cat(parts)


def _cin(x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Conditional instance norm: normalise per channel, then the style's scale and shift."""
    return F.instance_norm(x, eps=1e-5) * scale[..., None, None] + shift[..., None, None]


class Stylizer(nn.Module):
    """Feed-forward multi-style stylizer with a recurrent temporal input (see module doc)."""

    def __init__(self, config: NetConfig = NetConfig()):
        super().__init__()
        self.config = config
        w1, w2, w3 = config.widths
        pad = config.padding

        def conv(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
            return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, padding_mode=pad)

        self.enc1 = nn.Conv2d(3, w1, 4, stride=2, padding=1, padding_mode=pad)  # straight to H/2
        self.enc2 = conv(w1, w2, stride=2)  # H/4
        self.enc3 = conv(w2, w3, stride=2)  # H/8
        inner = config.residual_inner
        self.res = nn.ModuleList(nn.ModuleList([conv(w3, inner), conv(inner, w3)])
                                 for _ in range(config.residual_blocks))
        if config.version >= 2:
            self.reduce = nn.Conv2d(w3, w2, 1)  # at H/8
            self.dec1 = conv(w2, w2)  # after nearest x2, at H/4
            self.dec2 = conv(w2, config.decoder_width)  # H/4
            self.out = conv(config.decoder_width, 48)  # pixel-shuffled x4 to 3 x H x W
        else:
            self.dec1 = conv(w3, w2)  # after nearest x2, at H/4
            self.dec2 = conv(w2, w1)  # after nearest x2, at H/2
            self.out = conv(w1, 12)  # pixel-shuffled x2 to 3 x H x W
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
        if self.config.version >= 2:
            x = F.relu(_cin(self.reduce(features), p[-6], p[-5]))
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = F.relu(_cin(self.dec1(x), p[-4], p[-3]))
            x = F.relu(_cin(self.dec2(x), p[-2], p[-1]))
            return torch.sigmoid(F.pixel_shuffle(self.out(x), 4))
        x = F.interpolate(features, scale_factor=2.0, mode="nearest")
        x = F.relu(_cin(self.dec1(x), p[-4], p[-3]))
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = F.relu(_cin(self.dec2(x), p[-2], p[-1]))
        return torch.sigmoid(F.pixel_shuffle(self.out(x), 2))

    def stylize(self, image: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Per-frame stylisation (no temporal state): image -> image, both N x 3 x H x W RGB."""
        return self.decode(self.encode(image, style), style)

    def forward(self, image: torch.Tensor, style: torch.Tensor, prev: torch.Tensor,
                blend: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.encode(image, style)
        fused = features + blend * (prev.permute(0, 3, 1, 2) - features)
        return self.decode(fused, style), fused.permute(0, 2, 3, 1)
