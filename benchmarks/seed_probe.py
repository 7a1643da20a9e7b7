"""Probe: does a scene-anchored seed input let v2 paint texture where the picture is flat?

v2 is a convolutional network with reflection padding, trained to ignore input noise (its
steadiness), so on an evenly lit wall it has nothing to paint from and paints it flat
(`benchmarks/per_frame_texture.py`: the wall above a person at 0.06-0.72 of v1's texture). v1
painted there from amplified noise, which is what flickered. The probe gives the network two more
input channels: a fixed periodic noise tile (period P pixels, band-limited at 1 and 3 px, unit
std; seed.seed_tile) placed in *scene* coordinates. At run time the phase lock would place it (the canvas
offset follows the scene's whole-pixel travel), so its texture would travel with a pan. In
training it moves with the whole-cell translation of the temporal loss's moved copy and is the
same for both crops of a real-motion pair (which the sub-pixel lock aligns). Its stem weights
start at zero, so the network starts as it was.

    train ARM: the shipped bank's checkpoint trained STEPS steps with v2LS phase 2's losses
               (content, style x 10 with its boosts, temporal 800, motion 1200, lock subpixel),
               ARM "plain" (the control) or "seed"; one thread, a fixed data order.
    eval NAME=CKPT...: per style, the Gram style loss on the eval photos, the wall's texture over
               v1's (and with the seed zeroed), the Sintel snow clip's texture, and the motion
               loss on held-out Tears of Steel pairs with the seed fixed to the scene.

    python benchmarks/seed_probe.py train seed --steps 200 --period 64 --out /tmp/seed64.pt
    python benchmarks/seed_probe.py eval start=checkpoints/v2VB3_mixed_checkpoint.pt plain=/tmp/plain.pt seed=/tmp/seed64.pt

The seed input is now part of the network (NetConfig.seed_period) and of `stylecam train
--seed-period`; this probe keeps its fixed 600-step comparison and its evaluation (`eval` reads any
checkpoint, seeded or not). Its results in docs/design-notes.md were taken with the tile placed at
any pixel; it now places it at whole cells, as the network does.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from per_frame_texture import WALL, plain_wall, texture  # noqa: E402
from v1_engine import V1_STYLES, V1Engine  # noqa: E402
from phase_lock import PER_FRAME, outputs  # noqa: E402

from stylecam.app.cli.train import EVAL_PHOTOS  # noqa: E402
from stylecam.engines.checkpoint import net_config  # noqa: E402
from stylecam.engines.contract import DOWNSCALE  # noqa: E402
from stylecam.engines.network import Stylizer  # noqa: E402
from stylecam.engines.stability import sharpness  # noqa: E402
from stylecam.engines.styles import StyleBank  # noqa: E402
from stylecam.train import losses  # noqa: E402
from stylecam.train.data import ContentCrops, image_files, read_rgb, resize_long, to_tensor  # noqa: E402
from stylecam.train.evaluate import read_clip  # noqa: E402
from stylecam.train.loop import BANK_STYLES, masked_mse  # noqa: E402
from stylecam.train.motion import MotionCrops, frame_pairs, motion_sources, read_frames, warp_to  # noqa: E402
from stylecam.train.precision import native_bf16, perceptual_autocast  # noqa: E402
from stylecam.train.seed_input import add_seed  # noqa: E402
from stylecam.train.vgg import load_vgg  # noqa: E402

START = Path("checkpoints/v2VB3_mixed_checkpoint.pt")
BOOST = {"great_wave": 1.5, "udnie": 1.3, "shipwreck": 1.2}  # v2LS phase 2's
WEIGHTS = {"style": 10.0, "temporal": 800.0, "motion": 1200.0}
NOISE = 0.02


class Probe:
    """A network, its style vectors and names; seeded or not (NetConfig.seed_period)."""

    def __init__(self, net: Stylizer, styles: torch.Tensor, names: list[str]):
        self.net, self.styles, self.names = net, styles, names

    @property
    def seeded(self) -> bool:
        return bool(self.net.config.seed_period)

    def run(self, x: torch.Tensor, style: torch.Tensor, offsets: list[tuple[int, int]], on: bool = True) -> torch.Tensor:
        """x (N x 3 x H x W) stylised with the tile cut at each item's (x, y) scene offset, cells
        (zeroed with on=False)."""
        p = self.net.norms(style)
        if not self.seeded:
            return self.net.decode(self.net.encode(x, p), p, x)
        tile = self.net.seed
        self.net.seed = tile * float(on)
        try:
            return self.net.decode(self.net.encode(x, p, torch.tensor(offsets)), p, x)
        finally:
            self.net.seed = tile


def load(path: Path) -> Probe:
    state = torch.load(path, weights_only=True)
    net = Stylizer(net_config(state["net_config"]))
    net.load_state_dict(state["net"])
    return Probe(net.eval(), state["styles"], list(state["names"]))


def train(arm: str, steps: int, period: int, out: Path, data: Path, motion_dir: Path) -> None:
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    state = torch.load(START, weights_only=True)
    if arm == "seed":
        state = add_seed(state, period)
    net = Stylizer(net_config(state["net_config"]))
    net.load_state_dict(state["net"])
    names = list(state["names"])
    styles = torch.nn.Parameter(state["styles"].clone())
    opt = torch.optim.Adam([{"params": net.parameters(), "lr": 1e-3}, {"params": [styles], "lr": 2e-3}])
    opt.load_state_dict(state["optimizer"])
    probe = Probe(net, styles, names)
    vgg, bf16 = load_vgg(), native_bf16()
    targets = losses.style_targets(vgg, [to_tensor(resize_long(read_rgb(data / "styles" / BANK_STYLES[n]), 512))
                                         for n in names])
    content = ContentCrops.from_files(image_files([data / "content"]), 384, 256, gen)
    pairs = [p for src in motion_sources([motion_dir]) for p in frame_pairs(read_frames(src, 320, 120))]
    motion = MotionCrops(pairs, 256, gen, lock="subpixel")
    tile_cells = period // DOWNSCALE
    offsets = lambda n: [(int(torch.randint(tile_cells, (1,), generator=gen)),  # noqa: E731
                          int(torch.randint(tile_cells, (1,), generator=gen))) for _ in range(n)]
    started = time.time()
    for step in range(1, steps + 1):
        x = content.batch(4)
        idx = torch.randint(len(names), (4,), generator=gen)
        off = offsets(4)
        y = probe.run(x, styles[idx], off)
        with perceptual_autocast(bf16):
            fy = vgg(y)
            with torch.no_grad():
                fx = vgg(x, last=losses.deepest({losses.CONTENT_LAYER: 1.0}))
        boost = torch.tensor([BOOST.get(n, 1.0) for n in names])[idx]
        parts = {"content": losses.content_loss(fy, fx), "style": losses.style_loss(fy, targets, idx, boost)}
        theta = losses.random_motion(4, generator=gen)
        cells = x.shape[-1] / (2 * DOWNSCALE)  # the lock follows translation: whole cells of it only
        theta[:, :, 2] = torch.round(theta[:, :, 2] * cells) / cells
        moved, _ = losses.warp_affine(x, theta)
        jitter = 1 + (torch.rand(4, 1, 1, 1, generator=gen) - 0.5) * 0.06
        moved = (moved * jitter + torch.randn(moved.shape, generator=gen) * NOISE).clamp(0, 1)
        # the moved copy samples x at p + t: its seed is the tile moved the same whole cells
        shifts = [(round(float(theta[i, 0, 2]) * cells), round(float(theta[i, 1, 2]) * cells)) for i in range(4)]
        moved_off = [(ox + dx, oy + dy) for (ox, oy), (dx, dy) in zip(off, shifts)]
        parts["temporal"] = losses.temporal_loss(y, probe.run(moved, styles[idx], moved_off), theta)
        prev, cur, grid, valid = motion.batch(2)
        prev, cur = ((a + torch.randn(a.shape, generator=gen) * NOISE).clamp(0, 1) for a in (prev, cur))
        pair_off = offsets(2)  # the lock aligned the crops: one scene offset for both
        target = warp_to(probe.run(prev, styles[idx[:2]], pair_off), grid)
        parts["motion"] = masked_mse(probe.run(cur, styles[idx[:2]], pair_off), target, valid)
        loss = parts["content"] + sum(WEIGHTS[k] * parts[k] for k in WEIGHTS)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 10 == 0:
            print(f"{arm} step {step} " + " ".join(f"{k} {v.item():.5f}" for k, v in parts.items())
                  + f" | {(time.time() - started) / step:.2f} s/step", flush=True)
    torch.save({"net": net.state_dict(), "styles": styles.detach(), "names": names, "net_config": state["net_config"]},
               out)


def to_bgr(t: torch.Tensor) -> np.ndarray:
    return cv2.cvtColor((t[0].permute(1, 2, 0).clamp(0, 1).numpy() * 255).round().astype(np.uint8), cv2.COLOR_RGB2BGR)


def rgb(bgr: np.ndarray) -> torch.Tensor:
    return to_tensor(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def evaluate(models: dict[str, Path], data: Path, sheet: Path | None) -> dict:
    torch.set_num_threads(2)
    probes = {name: load(path) for name, path in models.items()}
    names = next(iter(probes.values())).names
    vgg, bf16 = load_vgg(), native_bf16()
    targets = losses.style_targets(vgg, [to_tensor(resize_long(read_rgb(data / "styles" / BANK_STYLES[n]), 512))
                                         for n in names])
    photos = [rgb(cv2.resize(cv2.imread(str(data / p)), (640, 480))) for p in EVAL_PHOTOS]
    wall_bgr = plain_wall(data)
    v1, v1_bank = V1Engine(), StyleBank.load(V1_STYLES)
    v1_wall = {n: texture(outputs(v1, v1_bank.vector(n), [wall_bgr], PER_FRAME), WALL) for n in names}
    wall = rgb(wall_bgr)
    snow = [rgb(f[:352]) for f in read_clip(data / "video" / "clips" / "sintel_excerpt_640x360.mp4", 60)[::6]]
    pairs = frame_pairs(read_frames(data / "video" / "clips" / "tears_of_steel_excerpt_640x360.mp4", 320, 120))
    report, cells = {}, []
    with torch.no_grad():
        for label, probe in probes.items():
            row = {}
            for i, name in enumerate(names):
                style = probe.styles[i:i + 1]
                style_loss = []
                for photo in photos:
                    with perceptual_autocast(bf16):
                        fy = vgg(probe.run(photo, style, [(0, 0)]))
                    style_loss.append(float(losses.style_loss(fy, targets, torch.tensor([i]), torch.ones(1))))
                painted = to_bgr(probe.run(wall, style, [(0, 0)]))
                row[name] = {"style_loss": round(float(np.mean(style_loss)), 5),
                             "wall_vs_v1": round(texture([painted], WALL) / v1_wall[name], 3),
                             "snow_texture": round(float(np.mean([sharpness(to_bgr(probe.run(f, style, [(0, 0)])))
                                                                  for f in snow])), 1)}
                if probe.seeded:
                    off = to_bgr(probe.run(wall, style, [(0, 0)], on=False))
                    row[name]["wall_vs_v1_seed_off"] = round(texture([off], WALL) / v1_wall[name], 3)
                if name in ("great_wave", "starry_night", "the_scream"):
                    cells.append((name, cv2.resize(painted, (320, 240))))
            crops, errors = MotionCrops(pairs, 256, torch.Generator().manual_seed(5), lock="subpixel"), []
            for b in range(12):
                prev, cur, grid, valid = crops.batch(4)
                period = (probe.net.config.seed_period or 64) // DOWNSCALE  # in cells
                off = [((b * 13) % period, (b * 29) % period)]
                outs = [torch.cat([probe.run(frames[j:j + 1], probe.styles[(b % 2) * 4 + j:(b % 2) * 4 + j + 1], off)
                                   for j in range(4)]) for frames in (prev, cur)]
                errors.append(float(masked_mse(outs[1], warp_to(outs[0], grid), valid)))
            row["tos_motion_mse"] = float(np.mean(errors))
            report[label] = row
            print(label, json.dumps(row), file=sys.stderr, flush=True)
    if sheet:  # rows great_wave, starry_night, the_scream; a column per model
        rows = [np.hstack([c for n, c in cells if n == name]) for name in ("great_wave", "starry_night", "the_scream")]
        cv2.imwrite(str(sheet), np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return report


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("arm", choices=("plain", "seed"))
    t.add_argument("--steps", type=int, default=200)
    t.add_argument("--period", type=int, default=64, help="the seed tile's period, pixels (a multiple of 8)")
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--motion", type=Path, default=Path("/tmp/motion_train"),
                   help="folder of clips / frame folders for the motion loss (as `stylecam train --motion`; "
                        "assets/TRAINING.md says which)")
    e = sub.add_parser("eval")
    e.add_argument("models", nargs="+", help="NAME=CHECKPOINT")
    e.add_argument("--sheet", type=Path, help="the wall painted by each model (jpg)")
    e.add_argument("--json", type=Path)
    args = p.parse_args()
    if args.command == "train":
        train(args.arm, args.steps, args.period, args.out, args.data, args.motion)
        return 0
    report = evaluate(dict(m.split("=", 1) for m in args.models), args.data, args.sheet)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
