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

Two styles in one pass (`two_styles`, exported as the regions graph), with `region`
(N x 1 x H/4 x W/4 in [0, 1]; 1 paints with `style`, 0 with `style_b`) resampled to each norm
layer's resolution as m: every norm layer gives y = y_b + m * (y_a - y_b), where y_a normalises
with the statistics of region a (weighted by m) and applies style's scale and shift, and y_b
likewise with 1 - m and style_b. Per-region statistics matter: with the whole frame's, a small
region painted in one style inside a large one in another came out a pale mix of the two. A
region of all ones gives the one-style output (to rounding).

Layouts (NetConfig.version):
  v2 (shipped): reflection padding everywhere (no position bias at the frame border), residual
     blocks that narrow to `residual_inner` channels, and a decoder that ends at 1/4 resolution
     (1x1 reduce at 1/8, nearest x2, two 3x3 convs, a 3x3 conv to 48 channels pixel-shuffled x4).
     About 4.4 K multiply-adds per output pixel.
  v3: v2 with a decoder that follows sub-pixel motion. v2 draws its texture on its 8- and 4-pixel
     grids (nearest upsampling, pixel shuffle), so content moved by 2 px is redrawn, not moved
     (benchmarks/shift_probe.py). v3 upsamples bilinearly throughout and takes the finest detail
     from the input itself: the last 1/4 conv gives colour logits L (3) and gains A (3), both
     resized bilinearly x4, and output = sigmoid(L + A * image), colour by colour. The x4
     resize is written as a fixed depthwise 3x3 conv per output phase and a depth-to-space
     (bilinear_phases; docs/design-notes.md says why). Same norm layers and style vector as v2
     (a v2 bank converts: train/guided_head.py).
  v2 with `image_detail` (not shipped; a probe): v2's head, plus detail from the input at gains
     painted at 1/4: output = sigmoid(v2's logits + A * image), A a 3x3 conv of the last 1/4
     features resized bilinearly x4 as in v3. Detail taken from the image moves with the picture
     by any fraction of a pixel. A trained v2 state gains it with A = 0 (train/image_detail.py).
  v2 with `seed_period` P > 0: a seed to paint from where the picture is flat. SEED_CHANNELS
     more stem inputs carry a fixed periodic noise tile (`seed_tile`: P x P, P a multiple of 8,
     band-limited at 1 and 3 px, unit std), cut at `origin` (N x 2 int64, x and y in core cells
     of 8 px: the tile cell under the image's top-left cell, any integer, taken mod P/8; whole
     cells because the run time moves the grid by whole cells, the phase lock). The run time
     places it on the scene (engines/stylizer.py), so texture painted from it travels with a
     pan. The exported graph takes the stem's whole input, the image and the cut tile reflected
     by a pixel, which the host writes (`stem_input`, engines/seed.py): a gather, concatenation
     and pad at full resolution in the graph cost 3-7 % of its time.
     Without it, a convolutional network trained not to answer input noise paints an even wall
     flat (docs/design-notes.md, "Texture where the picture is flat"). A trained v2 state gains it
     with zero weights for the new inputs (train/seed_input.py); v3 has the same stem and seed.
  v2 with `stem_stride` 4 (not shipped; a candidate): the 4x4 stride-2 stem, its norm layer and
     the 3x3 stride-2 conv after it replaced by one 8x8 stride-4 conv to widths[1] (the two
     convs' composition has that shape and reach), so nothing runs at 1/2 resolution: 1.1x
     faster in ONNX Runtime (docs/design-notes.md, "Engine profile on the Intel Xeon with AMX").
     The style vector loses the stem's norm layer. A trained stride-2 state converts by
     regressing the new stem onto the old two layers' features (train/stem4.py).
  v2 with `residual_kernel` 1 (not shipped: distilled from the shipped state it flickered 2-3x
     on snow): each residual block's first conv 1x1 instead of 3x3 (the second stays 3x3), 1.14x
     faster in ONNX Runtime at 640x480 (docs/design-notes.md, "Distillation into a cheaper
     layout"). A trained state converts by least squares of the new convs onto the old ones'
     outputs (train/distill.pointwise_blocks).
  v1: zero padding, full-width residual blocks, a decoder that ends at 1/2 resolution (nearest x2
     + conv, twice, then a conv to 12 channels pixel-shuffled x2). About 8.1 K per pixel. Kept to
     read the v1 checkpoint (the teacher v2 was warm-started from, and the comparison in the docs).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from stylecam.engines.contract import DOWNSCALE, SEED_CHANNELS, STEM_PAD
from stylecam.engines.seed import seed_tile


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
    image_detail: bool = False  # v2 only: detail from the input at gains painted at 1/4 (module doc)
    seed_period: int = 0  # v2 and v3: the seed tile's period, pixels (module doc); 0: no seed input
    stem_stride: int = 2  # v2: 2 (4x4 stride-2 stem, then a 3x3 stride-2 conv) or 4 (one 8x8 stride-4 conv; module doc)
    residual_kernel: int = 3  # v2: each residual block's first conv, 3x3 or 1x1 (module doc)

    @classmethod
    def v1(cls) -> NetConfig:
        return cls(widths=(16, 32, 64), residual_blocks=4, residual_inner=64, version=1)

    @property
    def graph_name(self) -> str:
        """What the window, `stylecam bench` and the graph's metadata call it, e.g. "stylecam v2 seeded"."""
        return f"stylecam v{self.version}" + (" seeded" if self.seed_period else "")

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
        return [w1, w2, w3][self.encoder_skip:] + core + decoder

    def norm_scales(self) -> list[int]:
        """Each conditional norm layer's downscale from the input (2, 4 or 8), in the order of
        `norm_channels`."""
        core = [8, 8] * self.residual_blocks
        decoder = [8, 4, 4] if self.version >= 2 else [4, 2]
        return [2, 4, 8][self.encoder_skip:] + core + decoder

    @property
    def encoder_skip(self) -> int:
        """Encoder layers the stem skips: 1 with `stem_stride` 4 (no layer at 1/2 resolution)."""
        return 1 if self.stem_stride == 4 else 0

    def style_size(self) -> int:
        """Length of a style vector: a scale and a shift per normalised channel."""
        return 2 * sum(self.norm_channels())

    def identity_style(self) -> torch.Tensor:
        """A neutral style vector (scale 1, shift 0 everywhere)."""
        parts = [torch.cat([torch.ones(c), torch.zeros(c)]) for c in self.norm_channels()]
        return torch.cat(parts)


Norm = Callable[[torch.Tensor], torch.Tensor]  # one conditional norm layer with its style applied


def bilinear_phases(factor: int) -> torch.Tensor:
    """factor^2 x 1 x 3 x 3 filters: output phase (i, j) of a bilinear resize by `factor` (pixel
    centres aligned, as F.interpolate with align_corners=False), from the 3x3 cells around it."""
    taps = torch.zeros(factor, 3)
    for i in range(factor):
        o = (i + 0.5) / factor - 0.5  # the phase's offset from its cell centre, in cells
        taps[i, 0], taps[i, 1], taps[i, 2] = max(-o, 0.0), 1.0 - abs(o), max(o, 0.0)
    return (taps[:, None, :, None] * taps[None, :, None, :]).reshape(factor * factor, 1, 3, 3)


def upsample(x: torch.Tensor, phases: torch.Tensor) -> torch.Tensor:
    """x resized bilinearly by the factor `phases` was made for (bilinear_phases): equal to
    F.interpolate(..., mode="bilinear", align_corners=False), edges replicated."""
    c, factor = x.shape[1], int(round(phases.shape[0] ** 0.5))
    y = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), phases.repeat(c, 1, 1, 1), groups=c)
    return F.pixel_shuffle(y, factor)


def _cin(x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Conditional instance norm: normalise per channel, then the style's scale and shift."""
    return F.instance_norm(x, eps=1e-5) * scale + shift


def _smoothed_cin(x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, last_mean: torch.Tensor,
                  last_var: torch.Tensor, beta: torch.Tensor, layer: int, sink: dict) -> torch.Tensor:
    """`_cin` with statistics smoothed over frames: this frame's per-channel mean and variance moved
    towards the last frame's (`last_*`) by beta (0: this frame's alone, which is `_cin` to
    rounding); the statistics used go into sink[layer] for the next frame (N x C each; C for one
    frame without gradients). scale, shift and last_* are the style's and the statistics' slices
    for this layer (N x C or C). Without gradients and for one frame (inference, export) the
    normalisation is one F.batch_norm with them (BatchNormalization): on OpenVINO, the CPU engine,
    at 640x480 1.07x the graph with a LayerNormalization per layer for the statistics (which
    OpenVINO splits into a normalisation and two reductions), on ONNX Runtime 0.95x. The variance
    as E[x^2] - mean^2 (ReduceL2) ran 1.08x / 1.00x but lost 20-40 levels of the output on flat
    frames to cancellation (docs/design-notes.md, "Norm statistics for OpenVINO")."""
    mean = x.mean(dim=(2, 3))
    d = x - mean[..., None, None]
    var = (d * d).mean(dim=(2, 3))
    mean = mean + beta * (last_mean - mean)
    var = var + beta * (last_var - var)
    if x.shape[0] == 1 and not torch.is_grad_enabled():
        c = x.shape[1]
        mean, var = mean.reshape(c), var.reshape(c)
        sink[layer] = (mean, var)
        return F.batch_norm(x, mean, var, scale.reshape(c), shift.reshape(c), False, 0.0, 1e-5)
    sink[layer] = (mean, var)
    gain = scale[..., None, None] * torch.rsqrt(var[..., None, None] + 1e-5)
    return x * gain + (shift[..., None, None] - mean[..., None, None] * gain)


def _region_cin(x: torch.Tensor, scale_a: torch.Tensor, shift_a: torch.Tensor, scale_b: torch.Tensor,
                shift_b: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """y_b + m * (y_a - y_b) (see the module doc), as x * gain + bias with per-pixel gain and bias;
    region a's statistics are weighted by m (N x 1 x h x w), region b's by 1 - m."""
    mean = partial(torch.mean, dim=(2, 3), keepdim=True)
    x2 = x * x
    share_a = mean(m)
    share_b = 1.0 - share_a
    sum_a, sq_a = mean(x * m), mean(x2 * m)  # region a's sums (as shares of the frame)
    mu_a, mu_b = sum_a / (share_a + 1e-6), (mean(x) - sum_a) / (share_b + 1e-6)
    var_a = sq_a / (share_a + 1e-6) - mu_a * mu_a
    var_b = (mean(x2) - sq_a) / (share_b + 1e-6) - mu_b * mu_b
    gain_a = torch.rsqrt(var_a.clamp(min=0.0) + 1e-5) * scale_a
    gain_b = torch.rsqrt(var_b.clamp(min=0.0) + 1e-5) * scale_b
    bias_a, bias_b = shift_a - mu_a * gain_a, shift_b - mu_b * gain_b
    return x * (gain_b + m * (gain_a - gain_b)) + (bias_b + m * (bias_a - bias_b))


class Stylizer(nn.Module):
    """Feed-forward multi-style stylizer with a recurrent temporal input (see module doc)."""

    def __init__(self, config: NetConfig = NetConfig()):
        super().__init__()
        self.config = config
        w1, w2, w3 = config.widths
        pad = config.padding

        def conv(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
            return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, padding_mode=pad)

        if config.seed_period and (config.version < 2 or config.seed_period % DOWNSCALE):
            raise ValueError(f"seed_period is a v2 and v3 option, a multiple of {DOWNSCALE} pixels")
        if config.stem_stride not in (2, 4) or (config.stem_stride == 4 and config.version != 2):
            raise ValueError(f"stem_stride is 2, or 4 in v2 (got {config.stem_stride}, v{config.version})")
        channels_in = 3 + SEED_CHANNELS if config.seed_period else 3
        if config.stem_stride == 4:  # straight to H/4, reaching as far as the two convs it stands for
            self.enc1 = nn.Conv2d(channels_in, w2, 8, stride=4, padding=2 if config.seed_period else 3,
                                  padding_mode=pad)
        elif config.seed_period:  # the stem's input comes padded (stem_input)
            self.enc1 = nn.Conv2d(channels_in, w1, 4, stride=2)
        else:
            self.enc1 = nn.Conv2d(3, w1, 4, stride=2, padding=1, padding_mode=pad)  # straight to H/2
        if config.stem_stride == 2:
            self.enc2 = conv(w1, w2, stride=2)  # H/4
        self.enc3 = conv(w2, w3, stride=2)  # H/8
        if config.residual_kernel not in (1, 3) or (config.residual_kernel == 1 and config.version != 2):
            raise ValueError(f"residual_kernel is 3, or 1 in v2 (got {config.residual_kernel}, v{config.version})")
        inner = config.residual_inner
        first = conv if config.residual_kernel == 3 else lambda cin, cout: nn.Conv2d(cin, cout, 1)
        self.res = nn.ModuleList(nn.ModuleList([first(w3, inner), conv(inner, w3)])
                                 for _ in range(config.residual_blocks))
        if config.version >= 2:
            self.reduce = nn.Conv2d(w3, w2, 1)  # at H/8
            self.dec1 = conv(w2, w2)  # after x2, at H/4
            self.dec2 = conv(w2, config.decoder_width)  # H/4
        if config.version == 2:
            self.out = conv(config.decoder_width, 48)  # pixel-shuffled x4 to 3 x H x W
        elif config.version >= 3:
            self.out = conv(config.decoder_width, 6)  # L and A, at H/4
            self.register_buffer("phases4", bilinear_phases(4), persistent=False)
        else:
            self.dec1 = conv(w3, w2)  # after nearest x2, at H/4
            self.dec2 = conv(w2, w1)  # after nearest x2, at H/2
            self.out = conv(w1, 12)  # pixel-shuffled x2 to 3 x H x W
        if config.image_detail:  # registered last: a trained v2 state's parameters keep their order
            if config.version != 2:
                raise ValueError("image_detail is a v2 option")
            self.detail = conv(config.decoder_width, 3)
            self.register_buffer("phases4", bilinear_phases(4), persistent=False)
        if config.seed_period:
            self.register_buffer("seed", torch.from_numpy(seed_tile(config.seed_period)), persistent=False)
        self._split = [c for c in config.norm_channels() for _ in (0, 1)]

    def norms(self, style: torch.Tensor) -> list[Norm]:
        """A style vector (S or N x S) as each norm layer's function."""
        p = torch.split(style, self._split, dim=-1)
        return [partial(_cin, scale=p[i][..., None, None], shift=p[i + 1][..., None, None])
                for i in range(0, len(p), 2)]

    def smoothed_norms(self, style: torch.Tensor, stats: torch.Tensor, beta: torch.Tensor, sink: dict) -> list[Norm]:
        """Norm layers whose statistics are smoothed over frames (`_smoothed_cin`): stats (S, laid out
        as a style vector with each layer's per-channel mean and variance in place of its scale and
        shift) are the last frame's, beta (1) how much of them to keep; each layer's go into sink."""
        p, last = torch.split(style, self._split, dim=-1), torch.split(stats, self._split, dim=-1)
        return [partial(_smoothed_cin, scale=p[i], shift=p[i + 1], last_mean=last[i], last_var=last[i + 1], beta=beta,
                        layer=i // 2, sink=sink)
                for i in range(0, len(p), 2)]

    def region_norms(self, style: torch.Tensor, style_b: torch.Tensor, region: torch.Tensor) -> list[Norm]:
        """Norm layers painting `style` where region (N x 1 x H/4 x W/4 in [0, 1]) is 1 and
        `style_b` where it is 0 (see the module doc)."""
        at = {4: region, 8: F.avg_pool2d(region, 2),
              2: F.interpolate(region, scale_factor=2.0, mode="bilinear", align_corners=False)}
        pa, pb = torch.split(style, self._split, dim=-1), torch.split(style_b, self._split, dim=-1)
        return [partial(_region_cin, scale_a=pa[2 * i][..., None, None], shift_a=pa[2 * i + 1][..., None, None],
                        scale_b=pb[2 * i][..., None, None], shift_b=pb[2 * i + 1][..., None, None], m=at[s])
                for i, s in enumerate(self.config.norm_scales())]

    def seed_at(self, origin: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """The seed tile cut at each origin (N x 2 int64, x and y in cells of 8 px; module doc) to
        N x SEED_CHANNELS x height x width (multiples of 8): runs of 8 columns, then rows."""
        period, k, cell = self.config.seed_period, SEED_CHANNELS, DOWNSCALE
        runs = self.seed.reshape(k, period, period // cell, cell)
        rows, cols = torch.arange(height), torch.arange(width // cell)
        return torch.stack([runs.index_select(2, (cols + o[0]) % (period // cell)).reshape(k, period, width)
                            .index_select(1, (rows + cell * o[1]) % period) for o in origin])

    def stem_input(self, image: torch.Tensor, origin: torch.Tensor | None = None) -> torch.Tensor:
        """A seeded network's stem input (contract.py): image N x 3 x H x W RGB [0,1] and the seed
        cut at origin (`seed_at`; None: at 0), reflected by STEM_PAD each way."""
        if origin is None:
            origin = torch.zeros(image.shape[0], 2, dtype=torch.int64)
        seeded = torch.cat([image, self.seed_at(origin, image.shape[2], image.shape[3])], 1)
        return F.pad(seeded, (STEM_PAD,) * 4, mode="reflect")

    def encode(self, image: torch.Tensor, p: list[Norm], origin: torch.Tensor | None = None) -> torch.Tensor:
        """Image N x 3 x H x W RGB [0,1] -> core features N x C x H/8 x W/8. A seeded network also
        takes its whole stem input (`stem_input`, which holds the cut: origin is then unused) in
        place of the image; else origin says where the seed tile is cut (`seed_at`, cells; None: at 0)."""
        if self.config.seed_period and image.shape[1] == 3:
            image = self.stem_input(image, origin)
        x = F.relu(p[0](self.enc1(image)))
        k = 1
        if self.config.stem_stride == 2:
            x = F.relu(p[1](self.enc2(x)))
            k = 2
        x = F.relu(p[k](self.enc3(x)))
        k += 1
        for conv_a, conv_b in self.res:
            y = F.relu(p[k](conv_a(x)))
            x = x + p[k + 1](conv_b(y))
            k += 2
        return x

    def decode(self, features: torch.Tensor, p: list[Norm], image: torch.Tensor) -> torch.Tensor:
        """Core features (and, in v3, the image they came from, or its stem input) -> image
        N x 3 x H x W RGB in (0, 1)."""
        version = self.config.version
        if image.shape[1] != 3:  # a seeded stem input: its RGB interior
            image = image[:, :3, STEM_PAD:-STEM_PAD, STEM_PAD:-STEM_PAD]
        if version >= 2:
            x = F.relu(p[-3](self.reduce(features)))
            if version == 2:
                x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            else:
                x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
            x = F.relu(p[-2](self.dec1(x)))
            x = F.relu(p[-1](self.dec2(x)))
            if version == 2:
                logits = F.pixel_shuffle(self.out(x), 4)
                if self.config.image_detail:
                    logits = logits + upsample(self.detail(x), self.phases4) * image
                return torch.sigmoid(logits)
            heads = self.out(x)
            logits, gains = (upsample(h, self.phases4) for h in (heads[:, :3], heads[:, 3:]))
            return torch.sigmoid(logits + gains * image)
        x = F.interpolate(features, scale_factor=2.0, mode="nearest")
        x = F.relu(p[-2](self.dec1(x)))
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = F.relu(p[-1](self.dec2(x)))
        return torch.sigmoid(F.pixel_shuffle(self.out(x), 2))

    def stylize(self, image: torch.Tensor, style: torch.Tensor, origin: torch.Tensor | None = None) -> torch.Tensor:
        """Per-frame stylisation (no temporal state): image -> image, both N x 3 x H x W RGB."""
        p = self.norms(style)
        return self.decode(self.encode(image, p, origin), p, image)

    def step(self, image: torch.Tensor, p: list[Norm], prev: torch.Tensor, blend: torch.Tensor,
             origin: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One temporal step with the given norms: (output, fused state), shapes in the module doc."""
        features = self.encode(image, p, origin)
        fused = features + blend * (prev.permute(0, 3, 1, 2) - features)
        return self.decode(fused, p, image), fused.permute(0, 2, 3, 1)

    def forward(self, image: torch.Tensor, style: torch.Tensor, prev: torch.Tensor, blend: torch.Tensor,
                origin: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        return self.step(image, self.norms(style), prev, blend, origin)

    def smoothed(self, image: torch.Tensor, style: torch.Tensor, prev: torch.Tensor, blend: torch.Tensor,
                 stats: torch.Tensor, beta: torch.Tensor,
                 origin: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """`forward` with the norm statistics smoothed over frames (`smoothed_norms`; N = 1): also
        returns the statistics used (S), the next frame's `stats`. beta = 0 is `forward` to rounding."""
        sink: dict = {}
        output, fused = self.step(image, self.smoothed_norms(style, stats, beta, sink), prev, blend, origin)
        return output, fused, norm_stats(sink)[0]

    def two_styles(self, image: torch.Tensor, style: torch.Tensor, style_b: torch.Tensor, region: torch.Tensor,
                   prev: torch.Tensor, blend: torch.Tensor,
                   origin: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """`forward` with `style` where region is 1 and `style_b` where it is 0 (see the module doc)."""
        return self.step(image, self.region_norms(style, style_b, region), prev, blend, origin)


def norm_stats(sink: dict) -> torch.Tensor:
    """The statistics `smoothed_norms` put in its sink as N x S, laid out like a style vector."""
    parts = [t for layer in sorted(sink) for t in sink[layer]]
    return torch.cat(parts, dim=-1).reshape(-1, sum(t.shape[-1] for t in parts))


class SmoothedGraph(nn.Module):
    """`Stylizer.smoothed` as a module's forward, for export as the one-style graph."""

    def __init__(self, net: Stylizer):
        super().__init__()
        self.net = net

    def forward(self, image, style, prev, blend, norm_stats, norm_beta):
        return self.net.smoothed(image, style, prev, blend, norm_stats, norm_beta)


class TwoStyleGraph(nn.Module):
    """`Stylizer.two_styles` as a module's forward, for export as the regions graph."""

    def __init__(self, net: Stylizer):
        super().__init__()
        self.net = net

    def forward(self, image, style, style_b, region, prev, blend):
        return self.net.two_styles(image, style, style_b, region, prev, blend)
