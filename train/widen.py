"""Widening a v2 network without changing what it computes, so a trained bank gains capacity and
trains on from there: the decoder's end (widen_decoder) and the residual blocks' inner width
(widen_residual, below).

The decoder (Net2WiderNet, Chen et al. 2016): its last conv (`dec2`) gets extra output channels,
each a copy of an existing channel: the same filter, and in every style the same norm scale and
shift. Instance norm maps a copy to the same activation as its original, so the output conv
(`out`) sees that activation twice; its weights for the pair are split in two halves, w/2 + e and
w/2 - e, which sum to w: the output is unchanged, and the +-e (random, small) lets the two copies
learn apart. Adam's moments go along with their parameters (scaled where the split halves a
gradient), so training goes on from where it was.
"""
from __future__ import annotations

from dataclasses import asdict, replace

import torch

from stylecam.engines.checkpoint import net_config
from stylecam.engines.network import Stylizer

SPLIT_NOISE = 0.01  # e's std, relative to the std of out's weights


def _style_index(config, copies: torch.Tensor) -> torch.Tensor:
    """Index into the old style vector that builds the new one (the last norm layer widened)."""
    old = config.decoder_width
    size = config.style_size()
    head = torch.arange(size - 2 * old)
    scale, shift = size - 2 * old, size - old
    channels = torch.cat([torch.arange(old), copies])
    return torch.cat([head, scale + channels, shift + channels])


def widen_decoder(state: dict, width: int, generator: torch.Generator) -> dict:
    """A training state (train/loop.checkpoint's dict, optimizer included) whose v2 decoder ends
    `width` channels wide instead of its config's `decoder_width` (at most twice as wide)."""
    config = net_config(state["net_config"])
    old = config.decoder_width
    if config.version < 2 or not old < width <= 2 * old:
        raise ValueError(f"cannot widen a v{config.version} decoder from {old} to {width} channels")
    copies = torch.randperm(old, generator=generator)[: width - old]  # the channels copied, once each
    rows = torch.cat([torch.arange(old), copies])
    net = dict(state["net"])
    net["dec2.weight"], net["dec2.bias"] = net["dec2.weight"][rows], net["dec2.bias"][rows]
    w = net["out.weight"]
    noise = torch.randn(w[:, copies].shape, generator=generator) * SPLIT_NOISE * float(w.std())
    half = w[:, copies] / 2
    widened = w.clone()
    widened[:, copies] = half + noise
    net["out.weight"] = torch.cat([widened, half - noise], dim=1)
    style_rows = _style_index(config, copies)

    new_config = replace(config, decoder_width=width)
    names = [n for n, _ in Stylizer(new_config).named_parameters()]
    halved = torch.zeros(width, dtype=torch.bool)  # the channels that now feed `out` through w/2
    halved[copies] = True
    halved[old:] = True
    moments = {}
    for key, entry in state["optimizer"]["state"].items():
        name = names[key] if key < len(names) else "styles"
        moments[key] = {k: v if k == "step" else _widen_moment(name, k, v, rows, copies, style_rows, halved)
                        for k, v in entry.items()}
    optimizer = {**state["optimizer"], "state": moments}
    return {**state, "net": net, "styles": state["styles"][:, style_rows], "optimizer": optimizer,
            "net_config": asdict(new_config)}


def _widen_moment(name: str, kind: str, value: torch.Tensor, rows: torch.Tensor, copies: torch.Tensor,
                  style_rows: torch.Tensor, halved: torch.Tensor) -> torch.Tensor:
    """An Adam moment (kind "exp_avg" or "exp_avg_sq") laid out as its widened parameter. A copy's
    gradient equals its original's. For `out` that is the old gradient (the activations are
    equal); a copied channel's `dec2` filter and norm now feed `out` through w/2, so their gradient
    halves, and their moments are scaled as a halved gradient would have made them (m x 1/2,
    v x 1/4)."""
    scale = torch.where(halved, 0.5 if kind == "exp_avg" else 0.25, 1.0)
    if name in ("dec2.weight", "dec2.bias"):
        return value[rows] * scale.reshape(-1, *[1] * (value.dim() - 1))
    if name == "out.weight":
        return torch.cat([value, value[:, copies]], dim=1)
    if name == "styles":
        widened = value[:, style_rows].clone()
        widened[:, -2 * len(halved):] *= torch.cat([scale, scale])
        return widened
    return value  # every other layer


def widen_residual(state: dict, inner: int, generator: torch.Generator) -> dict:
    """A training state whose residual blocks narrow to `inner` channels instead of its config's
    `residual_inner` (more, at most the core's width), computing the same. Each block's first conv
    gets new filters (random, as a fresh conv's), their norm channels the neutral style (scale 1,
    shift 0) in every style, and the block's second conv zero weights from them: the new channels
    add nothing until training grows those weights (their gradient is not zero, since the new
    activations are). Adam's moments for the new entries start at zero."""
    config = net_config(state["net_config"])
    old = config.residual_inner
    if config.version < 2 or not old < inner <= config.core_channels:
        raise ValueError(f"cannot widen the residual blocks of a v{config.version} network "
                         f"from {old} to {inner} channels")
    new_config = replace(config, residual_inner=inner)
    extra, core = inner - old, config.core_channels
    net = dict(state["net"])
    fresh = {}  # parameter name -> (dim, the values appended along it)
    for b in range(config.residual_blocks):
        first, second = f"res.{b}.0", f"res.{b}.1"
        bound = (core * 9) ** -0.5  # a fresh conv's init (kaiming uniform, a = sqrt(5))
        filters = (torch.rand(extra, core, 3, 3, generator=generator) * 2 - 1) * bound
        fresh[f"{first}.weight"] = (0, filters)
        fresh[f"{first}.bias"] = (0, torch.zeros(extra))
        fresh[f"{second}.weight"] = (1, torch.zeros(core, extra, 3, 3))
    for name, (dim, values) in fresh.items():
        net[name] = torch.cat([net[name], values.to(net[name].dtype)], dim=dim)

    # the style vector: per norm layer its scales then its shifts (network.Stylizer.norms)
    widened_layers = {3 + 2 * b for b in range(config.residual_blocks)}  # each block's inner norm

    def grown(vectors: torch.Tensor, neutral: bool) -> torch.Tensor:
        parts, at = [], 0
        for layer, c in enumerate(config.norm_channels()):
            scale, shift = vectors[:, at:at + c], vectors[:, at + c:at + 2 * c]
            at += 2 * c
            if layer in widened_layers:
                pad = vectors.new_zeros(len(vectors), extra)
                scale, shift = torch.cat([scale, pad + (1.0 if neutral else 0.0)], 1), torch.cat([shift, pad], 1)
            parts += [scale, shift]
        return torch.cat(parts, dim=1)

    names = [n for n, _ in Stylizer(new_config).named_parameters()]
    moments = {}
    for key, entry in state["optimizer"]["state"].items():
        name = names[key] if key < len(names) else "styles"
        moments[key] = {k: v if k == "step" else _grown_moment(v, fresh.get(name), name == "styles", grown)
                        for k, v in entry.items()}
    optimizer = {**state["optimizer"], "state": moments}
    return {**state, "net": net, "styles": grown(state["styles"], neutral=True), "optimizer": optimizer,
            "net_config": asdict(new_config)}


def _grown_moment(value: torch.Tensor, fresh: tuple[int, torch.Tensor] | None, styles: bool, grown) -> torch.Tensor:
    """An Adam moment laid out as its widened parameter, zero for the new entries."""
    if styles:
        return grown(value, neutral=False)
    if fresh is None:
        return value
    dim, values = fresh
    return torch.cat([value, torch.zeros_like(values, dtype=value.dtype)], dim=dim)
