"""A bank whose styles come from different states of one run with the network frozen (`stylecam
train --lr 0`): each style's vector moves on its own there, so each can keep the state that
suits it, or a blend of two states (assets/TRAINING.md, "v2VB", "v2SE mixed").

    python -m stylecam.train.style_mix BASE OUT NAME=CHECKPOINT[@WEIGHT][,CHECKPOINT@WEIGHT ...] ...

writes OUT: BASE with each NAME's style vector taken from CHECKPOINT, or the weighted sum of
several states' vectors (weights in [0, 1] summing to 1; `udnie=A@0.3,B@0.7` is 0.3 A + 0.7 B).
Refuses a CHECKPOINT whose network weights differ from BASE's (its vectors were trained for
another network)."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import torch

from stylecam.train.loop import save_atomic


class MixError(ValueError):
    pass


Sources = tuple[tuple[Path, float], ...]  # (checkpoint, weight) pairs, weights summing to 1


def parse_sources(spec: str) -> Sources:
    """`A` or `A@0.3,B@0.7` -> ((A, 1.0),) or ((A, 0.3), (B, 0.7))."""
    sources = []
    for part in spec.split(","):
        path, _, weight = part.partition("@")
        try:
            sources.append((Path(path), float(weight) if weight else 1.0))
        except ValueError:
            raise MixError(f"{part!r}: the weight after @ must be a number") from None
    if any(not 0.0 <= w <= 1.0 for _, w in sources) or not math.isclose(sum(w for _, w in sources), 1.0, abs_tol=1e-6):
        raise MixError(f"{spec!r}: weights must lie in [0, 1] and sum to 1")
    return tuple(sources)


def mix_styles(base: Path, out: Path, picks: dict[str, Sources]) -> dict[str, tuple[int, ...]]:
    """Write `out`: `base` with each picked style's vector the weighted sum of its sources'
    vectors; returns each picked style's source steps."""
    state = torch.load(base, map_location="cpu", weights_only=True)
    steps = {}
    for name, sources in picks.items():
        if name not in state["names"]:
            raise MixError(f"{base} has no style {name!r}")
        vector = torch.zeros_like(state["styles"][0])
        for path, weight in sources:
            other = torch.load(path, map_location="cpu", weights_only=True)
            if name not in other["names"]:
                raise MixError(f"{path} has no style {name!r}")
            if other["net"].keys() != state["net"].keys() or not all(
                    torch.equal(state["net"][k], other["net"][k]) for k in state["net"]):
                raise MixError(f"{path}: its network differs from {base}'s; mix only states of a run with --lr 0")
            vector += weight * other["styles"][other["names"].index(name)]
            steps[name] = steps.get(name, ()) + (int(other.get("step", 0)),)
        state["styles"][state["names"].index(name)] = vector
    state["style_sources"] = {
        name: " + ".join(f"{w:g} x {Path(p).name} (step {s})" for (p, w), s in zip(picks[name], steps[name]))
        for name in picks}
    save_atomic(state, out)
    return steps


def main(argv: list[str]) -> int:
    if len(argv) < 3 or any("=" not in a for a in argv[2:]):
        print("usage: python -m stylecam.train.style_mix BASE OUT NAME=CHECKPOINT[@WEIGHT][,CHECKPOINT@WEIGHT ...] ...",
              file=sys.stderr)
        return 2
    try:
        picks = {name: parse_sources(spec) for name, spec in (a.split("=", 1) for a in argv[2:])}
        mix_styles(Path(argv[0]), Path(argv[1]), picks)
    except (MixError, FileNotFoundError) as exc:
        print(f"style_mix: {exc}", file=sys.stderr)
        return 2
    state = torch.load(argv[1], map_location="cpu", weights_only=True)
    for name, source in state["style_sources"].items():
        print(f"{name}: {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
