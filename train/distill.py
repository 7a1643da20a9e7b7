"""A trained v2 state taught to a cheaper layout by distillation: the student (a state in the new
layout, e.g. from `python -m stylecam.train.stem4`, or the teacher itself with residual blocks
dropped by `drop_blocks`, layers narrowed by `narrow` or the blocks' first convs made 1x1 by
`pointwise_blocks`) trained, all its weights and style vectors, to give the teacher's core
features and output, per frame and in motion: the targets are the teacher's pictures, not the
style and temporal losses the teacher was trained on and traded against each other.

Per step: random crops of content pictures (the seed cut anywhere, a random style per picture),
each picture's core-feature error over their mean square plus its output error over the output's
variance, and optionally `texture_weight` times the error of the amount of fine detail, cell by
cell (`texture_error`), and `gram_weight` times the error of its VGG Gram matrices
(`gram_error`): a squared error alone blurs the strokes a student cannot place exactly. With
motion pairs (train/motion.py, cut along the dominant motion as the sub-pixel lock leaves them,
noise added, one seed cut per pair), also each frame's output error and, times `motion_weight`,
the error of the change from frame t-1's output (warped by the flow) to frame t's against the
teacher's change, on trusted pixels; optionally `noise_weight` times the error of the change a
second noise draw on the crops makes, against the teacher's (a student answering noise more
strongly flickers more on snow: benchmarks/noise_sensitivity.py). 0.1-0.3 s a step on 2 cores;
2-3 s with the Gram term.

    python -m stylecam.train.distill TEACHER START OUT --steps 4000 [--drop-block I ...]
        [--residual-inner N] [--decoder-width N] [--pointwise]
        [--motion DIR ...] [--motion-weight 10] [--texture-weight 1] [--gram-weight 3] [--noise-weight 100]
        [--content DIR ...]

writes OUT every 250 steps and at the end: START's layout (less the dropped blocks) with the
trained weights and vectors and Adam afresh, which `stylecam export --checkpoint OUT` exports and
`stylecam train --residual-blocks N` (and the layout's other flags) trains on."""
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
from stylecam.engines.contract import DOWNSCALE
from stylecam.engines.network import Stylizer
from stylecam.train.data import ContentCrops, image_files
from stylecam.train.losses import STYLE_LAYERS, gram
from stylecam.train.loop import fresh_optimizer, save_atomic, step_with_decay, write_state
from stylecam.train.motion import MotionCrops, frame_pairs, motion_sources, read_frames, warp_to
from stylecam.train.stem4 import CROP, SHORT_SIDE, TRAIN_CONTENT
from stylecam.train.vgg import load_vgg

SAVE_EVERY = 250  # steps


def drop_blocks(state: dict, blocks: list[int]) -> dict:
    """`state` (a checkpoint dict) without the residual blocks at `blocks` (0-based), their
    weights and their norm layers' entries in every style vector; Adam afresh (`fresh_optimizer`)."""
    config = net_config(state["net_config"])
    if not blocks or not all(0 <= b < config.residual_blocks for b in blocks):
        raise ValueError(f"blocks to drop must be among 0-{config.residual_blocks - 1}, got {blocks}")
    kept = [b for b in range(config.residual_blocks) if b not in blocks]
    net = {}
    for key, value in state["net"].items():
        if key.startswith("res."):
            _, block, rest = key.split(".", 2)
            if int(block) not in kept:
                continue
            key = f"res.{kept.index(int(block))}.{rest}"
        net[key] = value
    first = 3 - config.encoder_skip  # the encoder's norm layers, then two per block (NetConfig.norm_channels)
    layers = [i for i in range(len(config.norm_channels()))
              if not first <= i < first + 2 * config.residual_blocks or (i - first) // 2 in kept]
    bounds = np.cumsum([0] + [2 * c for c in config.norm_channels()])
    columns = torch.cat([torch.arange(int(bounds[i]), int(bounds[i + 1])) for i in layers])
    new_config = replace(config, residual_blocks=len(kept))
    styles = state["styles"][:, columns].clone()
    return {**state, "net": net, "styles": styles, "net_config": asdict(new_config),
            "optimizer": fresh_optimizer(Stylizer(new_config), styles)}


def _relu_power(scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """E[relu(scale * n + shift)^2] for n ~ N(0, 1): the mean square of a conditional norm
    layer's output after its ReLU (its input normalised to mean 0, variance 1), elementwise."""
    s = scale.abs().clamp_min(1e-8)
    t = shift / s
    return (s * s + shift * shift) * torch.special.ndtr(t) + shift * s * torch.exp(-0.5 * t * t) / (2 * torch.pi) ** 0.5


def narrow(state: dict, residual_inner: int | None = None, decoder_width: int | None = None) -> dict:
    """`state` (a v2 checkpoint dict) with its residual blocks' inner layers `residual_inner`
    channels wide and its decoder's last layer `decoder_width` wide (None: as they are): the
    channels kept are those that carry the most power into the next conv, their norm output's
    mean square over the bank's styles (`_relu_power`) times the squared norm of the next conv's
    weights for them; their weights, biases and style entries are kept as they were, in order.
    Adam afresh (`fresh_optimizer`). The student then learns the rest from the teacher."""
    config = net_config(state["net_config"])
    inner, width = residual_inner or config.residual_inner, decoder_width or config.decoder_width
    if config.version != 2 or config.image_detail or not (0 < inner <= config.residual_inner
                                                          and 0 < width <= config.decoder_width):
        raise ValueError(f"narrowing takes a v2 network without image detail to at most its widths "
                         f"(inner {config.residual_inner}, decoder {config.decoder_width}), got {inner} and {width}")
    channels = config.norm_channels()
    bounds = np.cumsum([0] + [2 * c for c in channels])
    first = 3 - config.encoder_skip
    # norm layer -> (channels to keep, the conv before it, the conv after it)
    layers = {first + 2 * b: (inner, f"res.{b}.0", f"res.{b}.1") for b in range(config.residual_blocks)}
    layers[len(channels) - 1] = (width, "dec2", "out")
    net, styles = dict(state["net"]), state["styles"]
    columns = []
    for layer, c in enumerate(channels):
        at = int(bounds[layer])
        keep = torch.arange(c)
        if layer in layers:
            k, before, after = layers[layer]
            power = _relu_power(styles[:, at:at + c], styles[:, at + c:at + 2 * c]).mean(0)
            keep = (power * net[f"{after}.weight"].pow(2).sum((0, 2, 3))).argsort(descending=True)[:k].sort().values
            net[f"{before}.weight"], net[f"{before}.bias"] = net[f"{before}.weight"][keep], net[f"{before}.bias"][keep]
            net[f"{after}.weight"] = net[f"{after}.weight"][:, keep]
        columns += [at + keep, at + c + keep]
    new_config = replace(config, residual_inner=inner, decoder_width=width)
    styles = styles[:, torch.cat(columns)].clone()
    return {**state, "net": net, "styles": styles, "net_config": asdict(new_config),
            "optimizer": fresh_optimizer(Stylizer(new_config), styles)}


def pointwise_blocks(state: dict, images: torch.Tensor) -> dict:
    """`state` (a v2 checkpoint dict with 3x3 residual blocks) with each block's first conv 1x1
    (`NetConfig.residual_kernel` 1): per block, the least-squares fit of the 3x3 conv's output
    (bias included) from its input at the same pixel, over the blocks' inputs when `images` (N x
    3 x H x W RGB [0, 1], or a seeded network's stem inputs; `Stylizer.encode`) are painted in
    every style of the bank; everything else kept. Adam afresh (`fresh_optimizer`). The student then learns the
    rest from the teacher."""
    config = net_config(state["net_config"])
    if config.version != 2 or config.residual_kernel != 3:
        raise ValueError(f"only a v2 network with 3x3 residual blocks converts, not {config}")
    net = Stylizer(config)
    net.load_state_dict(state["net"])
    net.eval()
    inputs: list[list[torch.Tensor]] = [[] for _ in net.res]
    hooks = [block[0].register_forward_pre_hook(lambda _, args, b=b: inputs[b].append(args[0]))
             for b, block in enumerate(net.res)]
    with torch.no_grad():
        for style in state["styles"]:
            net.encode(images, net.norms(style.float()))
    for hook in hooks:
        hook.remove()
    weights = dict(state["net"])
    for b, block in enumerate(net.res):
        x = torch.cat(inputs[b])
        with torch.no_grad():
            y = block[0](x)
        design = torch.cat([x.permute(0, 2, 3, 1).reshape(-1, x.shape[1]), torch.ones(x[:, :1].numel(), 1)], 1)
        fit = torch.linalg.lstsq(design.double(), y.permute(0, 2, 3, 1).reshape(-1, y.shape[1]).double()).solution
        weights[f"res.{b}.0.weight"] = fit[:-1].T.float()[:, :, None, None].contiguous()
        weights[f"res.{b}.0.bias"] = fit[-1].float().contiguous()
    new_config = replace(config, residual_kernel=1)
    return {**state, "net": weights, "net_config": asdict(new_config),
            "optimizer": fresh_optimizer(Stylizer(new_config), state["styles"])}


def _relative(got: torch.Tensor, target: torch.Tensor, scale: torch.Tensor, valid: torch.Tensor | None = None
              ) -> torch.Tensor:
    """Each picture's mean squared error (on `valid` pixels) over its `scale` (N): N values."""
    error = (got - target).pow(2)
    if valid is None:
        return error.mean((1, 2, 3)) / scale
    return (error * valid).sum((1, 2, 3)) / (valid.sum((1, 2, 3)) * error.shape[1]).clamp_min(1.0) / scale


def texture_energy(image: torch.Tensor) -> torch.Tensor:
    """N x 3 x H x W -> N x 1 x H/8 x W/8: the mean square of the image less its 3x3 mean (its
    fine detail, the texture a squared error blurs away), over each 8x8 cell, the channels summed."""
    detail = image - F.avg_pool2d(F.pad(image, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    return F.avg_pool2d(detail.pow(2).sum(1, keepdim=True), DOWNSCALE)


def texture_error(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Each picture's error of the texture energy's square root, cell by cell, over the target's
    mean energy (N): the detail's amount kept where it is, whatever its exact strokes."""
    got, want = texture_energy(output), texture_energy(target)
    return (got.clamp_min(1e-8).sqrt() - want.clamp_min(1e-8).sqrt()).pow(2).mean((1, 2, 3)) / \
        want.mean((1, 2, 3)).clamp_min(1e-6)


def gram_error(vgg, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Each picture's squared error of the VGG Gram matrices of `output` against `target`'s, over
    their squared norm, summed over the style layers (train/losses.STYLE_LAYERS): the painting's
    statistics the style loss measures, whatever the exact strokes. N values."""
    got = vgg(output)
    with torch.no_grad():
        want = vgg(target)
    error = torch.zeros(len(output))
    for layer in STYLE_LAYERS:
        g, t = gram(got[layer]), gram(want[layer])
        error = error + (g - t).pow(2).sum((1, 2)) / t.pow(2).sum((1, 2)).clamp_min(1e-12)
    return error


def _motion_errors(teacher: Stylizer, student: Stylizer, teacher_styles: torch.Tensor, styles: torch.Tensor,
                   batch, noise: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """On motion pairs (MotionCrops.batch), a random style each: both frames' output errors
    (2N, over the output's variance) and the error of the change to frame t (N, on trusted
    pixels, over frame t's variance)."""
    prev, cur, grid, valid = batch
    n = len(cur)
    pair = (torch.cat([prev, cur]) + torch.randn(2 * n, *cur.shape[1:], generator=gen) * noise).clamp(0, 1)
    if teacher.config.seed_period:  # one cut for both frames: the seed stays on the scene
        pair = teacher.stem_input(pair, torch.randint(0, 1 << 10, (n, 2), generator=gen).repeat(2, 1))
    k = torch.randint(len(styles), (n,), generator=gen).repeat(2)
    with torch.no_grad():
        pt = teacher.norms(teacher_styles[k])
        target = teacher.decode(teacher.encode(pair, pt), pt, pair)
    ps = student.norms(styles[k])
    output = student.decode(student.encode(pair, ps), ps, pair)
    scale = target.var((1, 2, 3)).clamp_min(1e-4)
    change = output[n:] - warp_to(output[:n], grid)
    target_change = target[n:] - warp_to(target[:n], grid)
    return _relative(output, target, scale), _relative(change, target_change, scale[n:], valid)


def distill(student_state: dict, teacher_state: dict, crops: ContentCrops, steps: int, batch: int = 4,
            lr: float = 1e-4, motion: MotionCrops | None = None, motion_weight: float = 10.0, noise: float = 0.02,
            texture_weight: float = 0.0, gram_weight: float = 0.0, vgg=None, noise_weight: float = 0.0,
            log: Callable[[str], None] = print, save: Callable[[dict], None] | None = None
            ) -> tuple[dict, list[float]]:
    """The student's checkpoint dict after `steps` of distillation (module doc) and the loss of
    every step; `save` gets the dict every SAVE_EVERY steps. Adam at `lr` (the style vectors at
    10x), x0.2 at 70 %."""
    teacher = Stylizer(net_config(teacher_state["net_config"]))
    teacher.load_state_dict(teacher_state["net"])
    teacher.eval().requires_grad_(False)
    student = Stylizer(net_config(student_state["net_config"]))
    student.load_state_dict(student_state["net"])
    if student.config.core_channels != teacher.config.core_channels:
        raise ValueError("the student's core must be as wide as the teacher's (the features are compared)")
    teacher_styles = teacher_state["styles"].float()
    styles = torch.nn.Parameter(student_state["styles"].float().clone())
    opt = torch.optim.Adam([{"params": student.parameters()}, {"params": [styles], "lr": 10 * lr}], lr=lr)
    gen, seeded, losses = crops.gen, teacher.config.seed_period > 0, []

    def inputs(images: torch.Tensor, origins: torch.Tensor) -> torch.Tensor:
        return teacher.stem_input(images, origins) if seeded else images

    def snapshot() -> dict:
        note = f"train/distill.py, {len(losses)} steps, loss {np.mean(losses[-50:]):.4f}"
        return {**student_state, "net": student.state_dict(), "styles": styles.detach().clone(),
                "optimizer": fresh_optimizer(student, styles), "distilled": note}

    for step in range(steps):
        image = inputs(crops.batch(batch), torch.randint(0, 1 << 10, (batch, 2), generator=gen))
        k = torch.randint(len(styles), (batch,), generator=gen)
        with torch.no_grad():
            pt = teacher.norms(teacher_styles[k])
            target_features = teacher.encode(image, pt)
            target = teacher.decode(target_features, pt, image)
        ps = student.norms(styles[k])
        features = student.encode(image, ps)
        output = student.decode(features, ps, image)
        feature_error = _relative(features, target_features, target_features.pow(2).mean((1, 2, 3)))
        output_error = _relative(output, target, target.var((1, 2, 3)).clamp_min(1e-4))
        texture = texture_error(output, target)
        grams = gram_error(vgg, output, target) if gram_weight else torch.zeros(1)
        loss = (feature_error + output_error + texture_weight * texture + gram_weight * grams).mean()
        noise_error = torch.zeros(1)
        if noise_weight:  # the same crops with another noise draw: the change noise makes, against the teacher's
            noisy = image.clone()  # noise on the picture, not on a seeded stem input's seed planes
            noisy[:, :3] = (image[:, :3] + torch.randn(image[:, :3].shape, generator=gen) * noise).clamp(0, 1)
            with torch.no_grad():
                target_change = teacher.decode(teacher.encode(noisy, pt), pt, noisy) - target
            change = student.decode(student.encode(noisy, ps), ps, noisy) - output
            noise_error = _relative(change, target_change, target.var((1, 2, 3)).clamp_min(1e-4))
            loss = loss + noise_weight * noise_error.mean()
        change_error = torch.zeros(1)
        if motion is not None:
            frames_error, change_error = _motion_errors(teacher, student, teacher_styles, styles, motion.batch(2),
                                                        noise, gen)
            loss = loss + frames_error.mean() + motion_weight * change_error.mean()
        losses.append(step_with_decay(opt, loss, step, steps))
        if step % 50 == 0 or step == steps - 1:
            log(f"distill step {step}/{steps} loss {np.mean(losses[-50:]):.4f} (features "
                f"{feature_error.mean().item():.4f}, output {output_error.mean().item():.4f}, "
                f"texture {texture.mean().item():.4f}, gram {grams.mean().item():.4f}, "
                f"change {change_error.mean().item():.4f}, noise {noise_error.mean().item():.4f})")
        if save is not None and (step + 1) % SAVE_EVERY == 0:
            save(snapshot())
    return snapshot(), losses


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m stylecam.train.distill", description=__doc__.split("\n\n")[0])
    ap.add_argument("teacher", type=Path, help="the trained state to copy")
    ap.add_argument("start", type=Path, help="the student's starting state (its layout is the new one)")
    ap.add_argument("out", type=Path)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--drop-block", type=int, action="append", default=[],
                    help="a residual block (0-based) of START to drop first; repeatable")
    ap.add_argument("--residual-inner", type=int, help="narrow START's residual blocks' inner layers to this width")
    ap.add_argument("--decoder-width", type=int, help="narrow START's decoder's last layer to this width")
    ap.add_argument("--pointwise", action="store_true",
                    help="make START's residual blocks' first convs 1x1 (`pointwise_blocks`)")
    ap.add_argument("--motion", type=Path, nargs="+", default=[], help="clips and frame folders for the motion term")
    ap.add_argument("--motion-weight", type=float, default=10.0)
    ap.add_argument("--texture-weight", type=float, default=0.0,
                    help="the texture energy term's weight (`texture_error`)")
    ap.add_argument("--gram-weight", type=float, default=0.0,
                    help="the VGG Gram term's weight (`gram_error`; needs VGG16)")
    ap.add_argument("--noise-weight", type=float, default=0.0,
                    help="the noise term's weight: the output's change when the picture gets noise, "
                         "against the teacher's")
    ap.add_argument("--content", type=Path, nargs="+",
                    default=[Path("../shared/data/content") / d for d in TRAIN_CONTENT])
    args = ap.parse_args(argv)

    def make() -> dict:
        teacher = torch.load(args.teacher, map_location="cpu", weights_only=True)
        student = torch.load(args.start, map_location="cpu", weights_only=True)
        if args.drop_block:
            student = drop_blocks(student, args.drop_block)
        if args.residual_inner or args.decoder_width:
            student = narrow(student, args.residual_inner, args.decoder_width)
        gen = torch.Generator().manual_seed(0)
        crops = ContentCrops.from_files(image_files(args.content), SHORT_SIDE, CROP, gen)
        if args.pointwise:
            student = pointwise_blocks(student, crops.batch(8))
        pairs = [p for source in motion_sources(args.motion) for p in frame_pairs(read_frames(source, 320, 120))]
        motion = MotionCrops(pairs, CROP, gen, lock="subpixel") if args.motion else None
        return distill(student, teacher, crops, args.steps, motion=motion, motion_weight=args.motion_weight,
                       texture_weight=args.texture_weight, gram_weight=args.gram_weight,
                       vgg=load_vgg() if args.gram_weight else None, noise_weight=args.noise_weight,
                       save=lambda state: save_atomic(state, args.out))[0]

    return write_state("distill", make, args.out)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
