"""Perceptual, total-variation and temporal-stability losses. Images are RGB in [0, 1]."""
from __future__ import annotations

import torch
import torch.nn.functional as F

CONTENT_LAYER = "relu2_2"
STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")  # also every layer VGGFeatures returns, in order


def deepest(layers) -> str:
    """The last of `layers` (names from STYLE_LAYERS) in VGG's order: how far a target must run."""
    return max(layers, key=STYLE_LAYERS.index)


def gram(features: torch.Tensor) -> torch.Tensor:
    """N x C x H x W -> N x C x C Gram matrices, normalised by H*W, in float32."""
    n, c, h, w = features.shape
    f = features.float().reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (h * w)


def style_targets(vgg, style_images: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    """Gram targets stacked per layer: {layer: K x C x C}, one row per style image (1 x 3 x H x W)."""
    grams: dict[str, list[torch.Tensor]] = {layer: [] for layer in STYLE_LAYERS}
    with torch.no_grad():
        for image in style_images:
            feats = vgg(image)
            for layer in STYLE_LAYERS:
                grams[layer].append(gram(feats[layer])[0])
    return {layer: torch.stack(g) for layer, g in grams.items()}


def content_loss(out_feats: dict, content_feats: dict, layer: str = CONTENT_LAYER) -> torch.Tensor:
    """MSE at one VGG layer (default the content layer), normalised by the target's mean square
    (scale-free)."""
    target = content_feats[layer].float()
    diff = out_feats[layer].float() - target
    return diff.pow(2).mean() / (target.pow(2).mean() + 1e-8)


def style_loss(out_feats: dict, targets: dict[str, torch.Tensor], style_idx: torch.Tensor,
               weights: torch.Tensor | None = None) -> torch.Tensor:
    """Per-layer Gram MSE, each normalised by the target Gram's mean square, summed over layers;
    the batch mean, each sample weighted by `weights` (N) where given."""
    total = torch.zeros(len(style_idx), dtype=torch.float32)
    for layer in STYLE_LAYERS:
        target = targets[layer][style_idx]
        diff = gram(out_feats[layer]) - target
        total = total + diff.pow(2).mean(dim=(1, 2)) / target.pow(2).mean(dim=(1, 2))
    return (total if weights is None else total * weights).mean()


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels."""
    dx = (image[..., :, 1:] - image[..., :, :-1]).abs().mean()
    dy = (image[..., 1:, :] - image[..., :-1, :]).abs().mean()
    return dx + dy


def random_motion(n: int, max_shift: float = 0.03, max_rot_deg: float = 2.0, max_zoom: float = 0.03,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """N x 2 x 3 affine matrices (normalised coordinates) for small random camera motion."""
    r = lambda lo, hi: torch.empty(n).uniform_(lo, hi, generator=generator)  # noqa: E731
    angle = torch.deg2rad(r(-max_rot_deg, max_rot_deg))
    zoom = 1 + r(-max_zoom, max_zoom)
    tx, ty = r(-max_shift, max_shift) * 2, r(-max_shift, max_shift) * 2
    cos, sin = torch.cos(angle) * zoom, torch.sin(angle) * zoom
    return torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)


def warp_affine(image: torch.Tensor, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Warp N x C x H x W by affine grids; also return the N x 1 x H x W mask of valid pixels."""
    grid = F.affine_grid(theta, list(image.shape), align_corners=False)
    warped = F.grid_sample(image, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    ones = torch.ones_like(image[:, :1])
    valid = F.grid_sample(ones, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return warped, (valid > 0.999).float()


def temporal_loss(out: torch.Tensor, out_moved: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Output for a frame, warped by the known motion, against the output for the moved frame."""
    warped, valid = warp_affine(out, theta)
    return ((warped - out_moved).pow(2) * valid).sum() / (valid.sum() * out.shape[1] + 1e-8)
