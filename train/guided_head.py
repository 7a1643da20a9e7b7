"""Converting a v2 training state to the v3 layout (engines/network.py): the encoder, core, decoder
convs, norm layers and style vectors carry over unchanged; only the output head is new.

v2's output conv paints each 4x4 block from 16 phase channels per colour (pixel shuffle). v3's
colour logits L start as the mean of each colour's 16 (so they give v2's block-mean logits,
resized bilinearly instead of repeated) and its gains A start at zero (no detail from the image
yet). Adam starts afresh for the new head; every other parameter keeps its moments, so the rest
trains on from where it was.
"""
from __future__ import annotations

from dataclasses import asdict, replace

import torch

from stylecam.engines.checkpoint import net_config
from stylecam.engines.network import Stylizer

FRESH = {"out.weight", "out.bias"}  # the head's parameters, new in v3


def _head(out_weight: torch.Tensor, out_bias: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """v3's out conv from v2's (48 = 3 colours x 16 phases): L the phase mean, A zero."""
    cin = out_weight.shape[1]
    logits_w = out_weight.reshape(3, 16, cin, 3, 3).mean(dim=1)
    logits_b = out_bias.reshape(3, 16).mean(dim=1)
    return torch.cat([logits_w, torch.zeros(3, cin, 3, 3)]), torch.cat([logits_b, torch.zeros(3)])


def to_v3(state: dict) -> dict:
    """A checkpoint of a v2 network (train/loop.checkpoint's dict, with or without the optimizer), as v3."""
    config = net_config(state["net_config"])
    if config.version != 2:
        raise ValueError(f"only a v2 network converts to v3, not v{config.version}")
    new_config = replace(config, version=3)
    net = dict(state["net"])
    net["out.weight"], net["out.bias"] = _head(net["out.weight"], net["out.bias"])

    converted = {**state, "net": net, "net_config": asdict(new_config)}
    if "optimizer" in state:  # a training state, not a slim export checkpoint
        converted["optimizer"] = _optimizer(state["optimizer"], config)
    return converted


def _optimizer(saved: dict, config) -> dict:
    """Adam's state without the head's moments (v3 has v2's parameters in the same order; only
    the head's shape differs, and it starts afresh)."""
    names = [n for n, _ in Stylizer(config).named_parameters()] + ["styles"]
    moments = {k: entry for k, entry in saved["state"].items() if names[k] not in FRESH}
    return {**saved, "state": moments}
