"""Adding the seed input to a trained v2 state (engines/network.py, `seed_period`): the stem's
weights for the new input channels start at zero, so the output is unchanged, and train from
there. The stem weight keeps its place among the parameters, so Adam's state stays indexed as it
was; the new channels get a first moment of 0 and the stem's mean second moment, so their first
steps are not learning-rate sized (with a second moment of 0 they would be).

`scale_seed` turns a trained seed up or down: its stem weights times a gain, as if the tile were
that much stronger. Where the picture is flat the network paints from the seed alone, so a gain
over 1 paints more there (docs/design-notes.md, "Texture where the picture is flat"):

    python -m stylecam.train.seed_input IN OUT GAIN
"""
from __future__ import annotations

import sys
from dataclasses import asdict, replace
from pathlib import Path

import torch

from stylecam.engines.checkpoint import net_config
from stylecam.engines.contract import SEED_CHANNELS
from stylecam.engines.network import Stylizer
from stylecam.train.loop import save_atomic

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
        index = _stem_index(config)
        moments = dict(state["optimizer"]["state"])
        entry = dict(moments[index])
        for key in ("exp_avg", "exp_avg_sq"):
            old = entry[key]
            fill = old.mean() if key == "exp_avg_sq" else 0.0
            entry[key] = torch.cat([old, old.new_full((old.shape[0], SEED_CHANNELS, *old.shape[2:]), fill)], 1)
        moments[index] = entry
        added["optimizer"] = {**state["optimizer"], "state": moments}
    return added


def _stem_index(config) -> int:
    return [name for name, _ in Stylizer(config).named_parameters()].index(STEM)


def scale_seed(state: dict, gain: float) -> dict:
    """A seeded checkpoint whose stem reads the seed `gain` (> 0) times as strongly: the seed
    channels' weights times gain. Adam's moments for them follow (the gradient of a weight scaled
    by g is 1/g of the old one), so training can resume from it."""
    config = net_config(state["net_config"])
    if not config.seed_period or not gain > 0:
        raise ValueError(f"only a seeded network's seed can be scaled, by a gain > 0 (got {gain}, {config})")
    net = dict(state["net"])
    stem = net[STEM].clone()
    stem[:, 3:] *= gain
    scaled = {**state, "net": {**net, STEM: stem}}
    index = _stem_index(config)
    if "optimizer" in state and index in state["optimizer"]["state"]:
        moments = dict(state["optimizer"]["state"])
        entry = dict(moments[index])
        for key, power in (("exp_avg", 1), ("exp_avg_sq", 2)):
            entry[key] = entry[key].clone()
            entry[key][:, 3:] /= gain ** power
        moments[index] = entry
        scaled["optimizer"] = {**state["optimizer"], "state": moments}
    return scaled


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m stylecam.train.seed_input IN OUT GAIN", file=sys.stderr)
        return 2
    try:
        state = torch.load(argv[0], map_location="cpu", weights_only=True)
        save_atomic(scale_seed(state, float(argv[2])), Path(argv[1]))
    except (ValueError, FileNotFoundError) as exc:
        print(f"seed_input: {exc}", file=sys.stderr)
        return 2
    print(f"{argv[1]}: {argv[0]} with its seed's stem weights times {float(argv[2]):g}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
