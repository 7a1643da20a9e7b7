"""Two training states of one network layout blended in weight space: every floating-point
network weight and every style vector becomes (1 - t) A + t B (weight-space ensembling of a
fine-tuned state with the state it started from, as WiSE-FT, Wortsman et al. 2022). The shipped
bank is such a blend ("v2MB", assets/TRAINING.md).

    python -m stylecam.train.state_blend A B T OUT [NAME=T_NAME ...]

writes OUT: B's state (its step, names, optimizer and settings) with the blended weights and
vectors, NAME's vector blended at T_NAME instead of T, and without B's `style_sources`. Refuses states whose network layouts or
style names differ, and weights outside [0, 1]."""
from __future__ import annotations

import sys
from pathlib import Path

import torch

from stylecam.train.loop import save_atomic


class BlendError(ValueError):
    pass


def _weight(text: str, what: str) -> float:
    try:
        t = float(text)
    except ValueError:
        raise BlendError(f"{what}: {text!r} is not a number") from None
    if not 0.0 <= t <= 1.0:
        raise BlendError(f"{what}: {t} lies outside [0, 1]")
    return t


def blend_states(a: Path, b: Path, t: float, out: Path, own: dict[str, float] | None = None) -> None:
    """Write `out`: `b` with its network weights and style vectors (1 - t) a + t b; a style in
    `own` takes its own t."""
    own = own or {}
    sa = torch.load(a, map_location="cpu", weights_only=True)
    sb = torch.load(b, map_location="cpu", weights_only=True)
    if sa["names"] != sb["names"]:
        raise BlendError(f"{a} and {b} name different styles")
    if sa["net"].keys() != sb["net"].keys() or any(sa["net"][k].shape != sb["net"][k].shape for k in sb["net"]):
        raise BlendError(f"{a} and {b} have different network layouts")
    unknown = sorted(set(own) - set(sb["names"]))
    if unknown:
        raise BlendError(f"{b} has no style {unknown[0]!r}")
    for k, v in sb["net"].items():
        if v.is_floating_point():
            sb["net"][k] = torch.lerp(sa["net"][k], v, t)
    ts = torch.tensor([own.get(n, t) for n in sb["names"]], dtype=sb["styles"].dtype).unsqueeze(1)
    sb["styles"] = torch.lerp(sa["styles"], sb["styles"], ts)
    sb.pop("style_sources", None)  # b's vectors' provenance (style_mix) no longer describes them
    sb["blended_from"] = {"a": Path(a).name, "b": Path(b).name, "t": t, **{f"t_{n}": w for n, w in own.items()}}
    save_atomic(sb, out)


def main(argv: list[str]) -> int:
    if len(argv) < 4 or any("=" not in x for x in argv[4:]):
        print("usage: python -m stylecam.train.state_blend A B T OUT [NAME=T_NAME ...]", file=sys.stderr)
        return 2
    try:
        t = _weight(argv[2], "T")
        own = {name: _weight(value, name) for name, value in (x.split("=", 1) for x in argv[4:])}
        blend_states(Path(argv[0]), Path(argv[1]), t, Path(argv[3]), own)
    except (BlendError, FileNotFoundError) as exc:
        print(f"state_blend: {exc}", file=sys.stderr)
        return 2
    print(f"{argv[3]}: {1 - t:g} x {argv[0]} + {t:g} x {argv[1]}"
          + "".join(f", {n} at {w:g}" for n, w in own.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
