"""A bank whose styles come from different states of one run with the network frozen (`stylecam
train --lr 0`): each style's vector moves on its own there, so each can keep the state that
suits it (assets/TRAINING.md, "v2VB").

    python -m stylecam.train.style_mix BASE OUT NAME=CHECKPOINT [NAME=CHECKPOINT ...]

writes OUT: BASE with each NAME's style vector taken from CHECKPOINT. Refuses a CHECKPOINT whose
network weights differ from BASE's (its vectors were trained for another network)."""
from __future__ import annotations

import sys
from pathlib import Path

import torch

from stylecam.train.loop import save_atomic


class MixError(ValueError):
    pass


def mix_styles(base: Path, out: Path, picks: dict[str, Path]) -> dict[str, int]:
    """Write `out`: `base` with picks' style vectors; returns each picked style's source step."""
    state = torch.load(base, map_location="cpu", weights_only=True)
    steps = {}
    for name, path in picks.items():
        if name not in state["names"]:
            raise MixError(f"{base} has no style {name!r}")
        other = torch.load(path, map_location="cpu", weights_only=True)
        if name not in other["names"]:
            raise MixError(f"{path} has no style {name!r}")
        if other["net"].keys() != state["net"].keys() or not all(
                torch.equal(state["net"][k], other["net"][k]) for k in state["net"]):
            raise MixError(f"{path}: its network differs from {base}'s; mix only states of a run with --lr 0")
        state["styles"][state["names"].index(name)] = other["styles"][other["names"].index(name)]
        steps[name] = int(other.get("step", 0))
    state["style_sources"] = {name: f"{Path(picks[name]).name} (step {step})" for name, step in steps.items()}
    save_atomic(state, out)
    return steps


def main(argv: list[str]) -> int:
    if len(argv) < 3 or any("=" not in a for a in argv[2:]):
        print("usage: python -m stylecam.train.style_mix BASE OUT NAME=CHECKPOINT [NAME=CHECKPOINT ...]", file=sys.stderr)
        return 2
    picks = {name: Path(path) for name, path in (a.split("=", 1) for a in argv[2:])}
    try:
        steps = mix_styles(Path(argv[0]), Path(argv[1]), picks)
    except (MixError, FileNotFoundError) as exc:
        print(f"style_mix: {exc}", file=sys.stderr)
        return 2
    for name, step in steps.items():
        print(f"{name}: from {picks[name]} (step {step})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
