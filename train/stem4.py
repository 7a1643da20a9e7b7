"""A trained v2 state converted to `stem_stride` 4 (engines/network.py): one 8x8 stride-4 conv in
place of the 4x4 stride-2 stem, its norm layer and the 3x3 stride-2 conv after it. The new conv,
and each style's scale and shift for the norm layer after it, are regressed onto the old two
layers' features (after that norm's ReLU, at 1/4 resolution) on random crops of content pictures,
a random style each step; everything after them is kept. The loss is each picture's mean squared
error over its features' mean square, averaged (0: the old features exactly; a dark picture's
small features count as much as a bright one's).

    python -m stylecam.train.stem4 IN OUT [--steps 2000] [--content DIR ...]

writes OUT: IN's network and bank in the new layout, with a fresh optimizer state: `stylecam
export --checkpoint OUT -o DIR` exports it, and `stylecam train --stem-stride 4` resumes from a
copy of it at OUT_DIR/checkpoint.pt (IN's random generator states carry over where IN has them)."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from stylecam.engines.checkpoint import net_config
from stylecam.engines.network import Stylizer
from stylecam.train.data import ContentCrops, image_files
from stylecam.train.loop import fresh_optimizer, step_with_decay, write_state

# the content folders under ../shared/data/content regressed on (not kodak or the Tears of Steel
# frames, which hold the eval photos: app/cli/train.EVAL_PHOTOS)
TRAIN_CONTENT = ("coco_train2017_cc", "coco_val2017_cc", "frames_big_buck_bunny", "frames_caminandes")
SHORT_SIDE, CROP = 384, 256  # as `stylecam train` cuts its content crops


def convert(state: dict, crops: ContentCrops, steps: int, batch: int = 8, lr: float = 2e-3,
            log: Callable[[str], None] = print) -> tuple[dict, list[float]]:
    """The converted checkpoint dict and the loss of every step; crops draws the pictures (and,
    with its generator, the seed's cut and the style of each step)."""
    config = net_config(state["net_config"])
    if config.version != 2 or config.stem_stride != 2:
        raise ValueError(f"only a v2 network with the stride-2 stem converts, not {config}")
    gen = crops.gen
    old = Stylizer(config)
    old.load_state_dict(state["net"])
    old.eval().requires_grad_(False)
    new_config = replace(config, stem_stride=4)
    new = Stylizer(new_config)
    kept = {k: v for k, v in state["net"].items() if not k.startswith(("enc1.", "enc2."))}
    missing, unexpected = new.load_state_dict(kept, strict=False)
    assert not unexpected and sorted(missing) == ["enc1.bias", "enc1.weight"], (missing, unexpected)

    styles = state["styles"].float()
    w1, w2 = config.widths[:2]
    scale = torch.nn.Parameter(styles[:, 2 * w1:2 * w1 + w2].clone())  # the old second norm layer's
    shift = torch.nn.Parameter(styles[:, 2 * w1 + w2:2 * (w1 + w2)].clone())
    opt = torch.optim.Adam([*new.enc1.parameters(), scale, shift], lr=lr)
    losses = []
    for step in range(steps):
        image = crops.batch(batch)
        if config.seed_period:  # the seed cut anywhere
            image = old.stem_input(image, torch.randint(0, 1 << 10, (batch, 2), generator=gen))
        k = int(torch.randint(len(styles), (1,), generator=gen))
        p = old.norms(styles[k])
        with torch.no_grad():
            target = F.relu(p[1](old.enc2(F.relu(p[0](old.enc1(image))))))
        got = F.relu(F.instance_norm(new.enc1(image), eps=1e-5) * scale[k, :, None, None] + shift[k, :, None, None])
        per_picture = (got - target).pow(2).mean((1, 2, 3)) / target.pow(2).mean((1, 2, 3)).clamp_min(1e-6)
        loss = per_picture.mean()  # each picture's error relative to its own features: dark ones count as much
        losses.append(step_with_decay(opt, loss, step, steps))
        if step % 250 == 0 or step == steps - 1:
            log(f"step {step}/{steps} relative feature error {np.mean(losses[-50:]):.4f}")
    new_styles = torch.cat([scale.detach(), shift.detach(), styles[:, 2 * (w1 + w2):]], 1)
    converted = {k: state[k] for k in ("names", "train_config", "step", "generator", "torch_rng") if k in state}
    converted.update(net=new.state_dict(), styles=new_styles, net_config=asdict(new_config),
                     optimizer=fresh_optimizer(new, new_styles),  # Adam afresh: training resumes
                     converted=f"train/stem4.py, {steps} steps, final relative feature error "
                               f"{np.mean(losses[-50:]):.4f}")
    return converted, losses


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m stylecam.train.stem4", description=__doc__.split("\n\n")[0])
    ap.add_argument("source", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--content", type=Path, nargs="+",
                    default=[Path("../shared/data/content") / d for d in TRAIN_CONTENT])
    args = ap.parse_args(argv)

    def make() -> dict:
        state = torch.load(args.source, map_location="cpu", weights_only=True)
        crops = ContentCrops.from_files(image_files(args.content), SHORT_SIDE, CROP, torch.Generator().manual_seed(0))
        torch.manual_seed(0)  # the new stem's starting weights
        return convert(state, crops, args.steps)[0]

    return write_state("stem4", make, args.out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
