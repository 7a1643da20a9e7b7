"""Adding the image-detail term to a trained v2 state (engines/network.py, `image_detail`): its
gain conv starts at zero, so the output is unchanged, and trains from there. Adam's moments of
every other parameter carry over; the new conv's parameters come after the network's others, so
only the style vectors' index moves."""
from __future__ import annotations

from dataclasses import asdict, replace

import torch

from stylecam.engines.checkpoint import net_config

FRESH = ("detail.weight", "detail.bias")


def add_image_detail(state: dict) -> dict:
    """A checkpoint of a v2 network (train/loop.checkpoint's dict, with or without the optimizer)
    with the image-detail term added at zero gain."""
    config = net_config(state["net_config"])
    if config.version != 2 or config.image_detail:
        raise ValueError(f"only a v2 network without image detail gains it, not {config}")
    net = dict(state["net"])
    net["detail.weight"] = torch.zeros(3, config.decoder_width, 3, 3)
    net["detail.bias"] = torch.zeros(3)
    added = {**state, "net": net, "net_config": asdict(replace(config, image_detail=True))}
    if "optimizer" in state:  # a training state, not a slim export checkpoint
        added["optimizer"] = _reindexed(state["optimizer"], len(FRESH))
    return added


def _reindexed(saved: dict, fresh: int) -> dict:
    """Adam's state with `fresh` new network parameters after the saved ones (group 0: the
    network, group 1: the style vectors, train/loop.py)."""
    groups = [dict(g) for g in saved["param_groups"]]
    count = len(groups[0]["params"])
    groups[0]["params"] = list(range(count + fresh))
    groups[1]["params"] = [i + fresh for i in groups[1]["params"]]
    moments = {(k + fresh if k >= count else k): entry for k, entry in saved["state"].items()}
    return {**saved, "state": moments, "param_groups": groups}
