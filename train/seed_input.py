"""Adding the seed input to a trained v2 state (engines/network.py, `seed_period`): the stem's
weights for the new input channels start at zero, so the output is unchanged, and train from
there. The stem weight keeps its place among the parameters, so Adam's state stays indexed as it
was; the new channels get a first moment of 0 and the stem's mean second moment, so their first
steps are not learning-rate sized (with a second moment of 0 they would be)."""
from __future__ import annotations

from dataclasses import asdict, replace

import torch

from stylecam.engines.checkpoint import net_config
from stylecam.engines.contract import SEED_CHANNELS
from stylecam.engines.network import Stylizer

STEM = "enc1.weight"


def add_seed(state: dict, period: int) -> dict:
    """A checkpoint of a v2 network without a seed (train/loop.checkpoint's dict, with or without
    the optimizer) with a seed tile of `period` pixels added at zero weight."""
    config = net_config(state["net_config"])
    if config.version != 2 or config.seed_period or period <= 0:
        raise ValueError(f"only a v2 network without a seed gains one (period > 0), not {config} (period {period})")
    net = dict(state["net"])
    stem = net[STEM]
    net[STEM] = torch.cat([stem, stem.new_zeros(stem.shape[0], SEED_CHANNELS, *stem.shape[2:])], 1)
    added = {**state, "net": net, "net_config": asdict(replace(config, seed_period=period))}
    if "optimizer" in state:  # a training state, not a slim export checkpoint
        index = [name for name, _ in Stylizer(config).named_parameters()].index(STEM)
        moments = dict(state["optimizer"]["state"])
        entry = dict(moments[index])
        for key in ("exp_avg", "exp_avg_sq"):
            old = entry[key]
            fill = old.mean() if key == "exp_avg_sq" else 0.0
            entry[key] = torch.cat([old, old.new_full((old.shape[0], SEED_CHANNELS, *old.shape[2:]), fill)], 1)
        moments[index] = entry
        added["optimizer"] = {**state["optimizer"], "state": moments}
    return added
