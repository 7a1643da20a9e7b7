"""Widening a v2 network's decoder end without changing what it computes (Net2WiderNet, Chen et
al. 2016), so a trained bank gains capacity where texture is painted and trains on from there.

The decoder's last conv (`dec2`) gets extra output channels, each a copy of an existing channel:
the same filter, and in every style the same norm scale and shift. Instance norm maps a copy to
the same activation as its original, so the output conv (`out`) sees that activation twice; its
weights for the pair are split in two halves, w/2 + e and w/2 - e, which sum to w: the output is
unchanged, and the +-e (random, small) lets the two copies learn apart. Adam's moments go along
with their parameters (scaled where the split halves a gradient), so training goes on from where
it was.
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
