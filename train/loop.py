"""The training loop for the multi-style network: resumable, seeded; bf16 VGG only on CPUs with
native bf16 (train/precision.py).

Losses per step (weights relative to the content loss, 1.0):
  content + style   VGG16 perceptual losses on a batch of content crops (from `perceptual_from`);
                    content is the weighted sum over `content_layers` (default relu2_2 alone)
  temporal          the output for a crop vs the output for a randomly moved, noisy copy of it
  motion            real motion: the output for frame t vs the output for frame t-1 warped by the
                    input's flow, on trusted pixels, with fresh noise on both frames; with
                    `motion_painted`, frame t's output also joins the content and style losses, so
                    footage trained to be steady is trained to be painted too (without it, the dark
                    and snowy clips of the motion data were painted flat: flat is steadiest)
With `lock` "pixel" or "subpixel" (train for the run-time phase lock, engines/phase_lock.py) the
translation of the temporal loss is rounded to whole cells and the motion loss's crops are cut
along the dominant motion (train/motion.py): the network is not asked to do what the lock does.
  recurrent         the temporal path as it runs (after Chen et al. 2017): frame t-1's core
                    features warped by the flow and fused into frame t's with blend a * M (a drawn
                    per sample, M the flow's trusted share of each core cell), decoded, against
                    frame t-1's per-frame output warped (a fixed target): the decoder learns to draw
                    moved features as moved strokes, while the per-frame output keeps the style
  distill           (warm start only) the output vs the v1 teacher's (MSE), the outer ring left
                    out (the teacher's zero-padding bias is not copied); its weight falls
                    linearly to 0 at `distill_until`
With a seeded network (NetConfig.seed_period) every view cuts the seed tile at a random origin:
the moved copy of the temporal loss at the origin moved by its translation's whole cells, and
both frames of a motion pair at one origin (the crops are aligned as the lock aligns them), so
the seed stays on the scene as the run time places it (engines/stylizer.py).
With `norm_smoothing` beta > 0 the second view of the temporal and motion losses (the moved copy,
frame t) keeps beta of the first view's norm statistics, as the run-time smoothing does
(engines/temporal.py `TemporalSettings.norm_smoothing`): the losses then count what that output
still changes, not what the carried statistics already hold.
"""
from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from stylecam.engines.contract import DOWNSCALE
from stylecam.engines.network import NetConfig, Stylizer, norm_stats
from stylecam.train import losses
from stylecam.train.data import ContentCrops, image_files, read_rgb, resize_long, to_tensor
from stylecam.train.motion import MotionCrops, frame_pairs, motion_sources, read_frames, warp_cells, warp_to
from stylecam.train.precision import describe, native_bf16, perceptual_autocast
from stylecam.train.progress import Progress
from stylecam.train.vgg import VGGWeightsMissing, load_vgg

DISTILL_RING = 32  # pixels of the crop's border left out of the distillation loss


@dataclass
class TrainConfig:
    """Everything that defines a run. Weights are relative to the content loss (1.0)."""

    styles: dict[str, str]  # name -> painting path
    content_dirs: list[str]
    out_dir: str
    steps: int = 3000
    batch: int = 4
    crop: int = 256
    content_short_side: int = 384  # content images scaled so, close to a 640x480 frame's scale
    style_long_side: int = 512
    lr: float = 1e-3
    style_lr: float = 1e-2  # the per-style norm parameters learn faster, so styles separate early
    style_weight: float = 2.0
    content_layers: dict[str, float] = field(default_factory=lambda: {losses.CONTENT_LAYER: 1.0})  # VGG layer -> weight
    style_boost: dict[str, float] = field(default_factory=dict)  # name -> factor on its style loss (default 1)
    tv_weight: float = 0.0
    temporal_weight: float = 10.0
    noise: float = 0.02  # std of the noise added to moved and real-motion frames (RGB 0-1)
    motion_dirs: list[str] = field(default_factory=list)  # clips / frame folders for the motion loss
    motion_weight: float = 0.0
    motion_painted: bool = False  # frame t of the motion batch also gets the content and style losses
    motion_batch: int = 2
    motion_short_side: int = 320
    motion_frames: int = 120  # frames read from each motion source
    recurrent_weight: float = 0.0  # the temporal path's loss, on the motion batch
    recurrent_strength: tuple[float, float] = (0.5, 1.0)  # range of the strength a it is trained at
    norm_smoothing: float = 0.0  # beta in [0, 1): the second view keeps this much of the first's norm statistics
    lock: str = "off"  # train for the phase lock: "off", "pixel" or "subpixel" (motion.LOCKS, module doc)
    warm_start: str = ""  # a v1 checkpoint: initial weights and the distillation teacher
    distill_weight: float = 0.0
    distill_until: int = 0
    perceptual_from: int = 0  # steps before this train without VGG (distillation + temporal only)
    seed: int = 0
    threads: int = 2
    log_every: int = 10  # steps between progress lines when not on a terminal
    checkpoint_every: int = 50
    preview_every: int = 100
    net: NetConfig = field(default_factory=NetConfig)


def save_atomic(obj: dict, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def step_with_decay(opt: torch.optim.Optimizer, loss: torch.Tensor, step: int, steps: int) -> float:
    """One optimiser step on `loss`, the rate cut to a fifth once, at 70 % of `steps`: the state
    converters' schedule (train/stem4.py, train/distill.py). Returns the loss's value."""
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step == int(0.7 * steps):
        for group in opt.param_groups:
            group["lr"] *= 0.2
    return loss.item()


def write_state(prog: str, make: Callable[[], dict], path: Path) -> int:
    """A command's end: the checkpoint dict `make` builds saved at `path` (exit status 0), or
    its error on one line (1): for the state converters (train/stem4.py, train/distill.py)."""
    try:
        state = make()
    except (OSError, ValueError, VGGWeightsMissing) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    save_atomic(state, path)
    print(f"wrote {path}")
    return 0


def fresh_optimizer(net: Stylizer, styles: torch.Tensor) -> dict:
    """An Adam state with no moments over `net` and `styles`, grouped as `train` builds it: a
    converted state that carries it resumes there (train/stem4.py, train/distill.py)."""
    return torch.optim.Adam([{"params": net.parameters()}, {"params": [torch.nn.Parameter(styles.detach())]}]
                            ).state_dict()


def checkpoint(net: Stylizer, styles: torch.Tensor, names: list[str], cfg: TrainConfig, **extra) -> dict:
    """The dict both resuming and export read: weights, style vectors, names and configs."""
    return {"net": net.state_dict(), "styles": styles.detach().clone(), "names": list(names),
            "net_config": asdict(cfg.net), "train_config": asdict(cfg), **extra}


def preview(net: Stylizer, styles: torch.Tensor, contents: torch.Tensor) -> np.ndarray:
    """Sheet: rows = content images, first column the input, then one column per style. BGR uint8."""
    rows = []
    with torch.no_grad():
        for c in contents:
            tiles = [c] + [net.stylize(c[None], s)[0] for s in styles]
            rows.append(torch.cat(tiles, dim=2))
    sheet = (torch.cat(rows, dim=1).clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    return cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)


@dataclass
class Teacher:
    """A frozen network and its style vectors (K x S, in the student's style order)."""

    net: Stylizer
    styles: torch.Tensor


def distill_loss(y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MSE, leaving out DISTILL_RING pixels along the border."""
    r = DISTILL_RING
    return (y - target)[..., r:-r, r:-r].pow(2).mean()


def masked_mse(y: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean square difference over the pixels where valid (N x 1 x H x W) is 1."""
    return ((y - target).pow(2) * valid).sum() / (valid.sum() * y.shape[1] + 1e-8)


def pair_norms(net: Stylizer, style: torch.Tensor, beta: float) -> tuple[list, Callable[[], list]]:
    """Norm layers for two views of one scene: the first view's, and a function that gives the
    second's once the first has been decoded: with beta > 0 they keep beta of the first view's
    statistics, with beta 0 they are the plain network's. The kept statistics carry their
    gradient: they come from the same weights, so scaling a layer's weights still changes nothing
    (detached, the second view lost that invariance and training traded style for steadiness)."""
    if not beta:
        p = net.norms(style)
        return p, lambda: p
    sink: dict = {}
    first = net.smoothed_norms(style, torch.zeros_like(style), torch.zeros(1), sink)
    return first, lambda: net.smoothed_norms(style, norm_stats(sink), torch.tensor([beta]), {})


def seed_origins(net: Stylizer, n: int, gen: torch.Generator) -> torch.Tensor | None:
    """n random origins of the seed tile (n x 2 int64, x and y in cells); None without a seed."""
    period = net.config.seed_period
    return torch.randint(period // DOWNSCALE, (n, 2), generator=gen) if period else None


def motion_losses(net: Stylizer, style: torch.Tensor, batch, noise: float, gen: torch.Generator,
                  strength: tuple[float, float] | None = None, beta: float = 0.0
                  ) -> tuple[dict[str, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """On a motion batch: "motion", the per-frame output of frame t vs that of frame t-1 warped by
    the input flow, on trusted pixels; with `strength` (the range a is drawn from) also
    "recurrent", the temporal path's output for frame t against the same target; beta: frame t
    keeps that much of frame t-1's norm statistics (`pair_norms`, module doc). Also returns
    frame t's per-frame output and its input before the noise, N x 3 x H x W RGB [0, 1]."""
    prev, clean, grid, valid = batch
    noisy = lambda x: (x + torch.randn(x.shape, generator=gen) * noise).clamp(0, 1)  # noqa: E731
    prev, cur = noisy(prev), noisy(clean)
    origin = seed_origins(net, len(cur), gen)  # one for both frames: the seed stays on the scene
    p_prev, after = pair_norms(net, style, beta)
    f_prev = net.encode(prev, p_prev, origin)
    target = warp_to(net.decode(f_prev, p_prev, prev), grid)
    p = after()
    f_cur = net.encode(cur, p, origin)
    y_cur = net.decode(f_cur, p, cur)
    parts = {"motion": masked_mse(y_cur, target, valid)}
    if strength is not None:
        lo, hi = strength
        a = torch.empty(len(cur), 1, 1, 1).uniform_(lo, hi, generator=gen)
        blend = a * F.avg_pool2d(valid, DOWNSCALE)  # the trusted share of each core cell
        fused = f_cur + blend * (warp_cells(f_prev, grid) - f_cur)
        parts["recurrent"] = masked_mse(net.decode(fused, p, cur), target.detach(), valid)
    return parts, (y_cur, clean)


def step_losses(net: Stylizer, style: torch.Tensor, vgg, x: torch.Tensor, targets: dict, idx: torch.Tensor,
                cfg: TrainConfig, gen: torch.Generator, step: int, use_bf16: bool,
                teacher: Teacher | None = None, motion: MotionCrops | None = None) -> dict[str, torch.Tensor]:
    """Losses of one batch (x: N x 3 x H x W RGB [0,1], style: N x S); see the module doc."""
    n = x.shape[0]
    origin = seed_origins(net, n, gen)
    p_first, after = pair_norms(net, style, cfg.norm_smoothing)
    y = net.decode(net.encode(x, p_first, origin), p_first, x)
    parts: dict[str, torch.Tensor] = {}
    loss = torch.zeros(())
    if cfg.temporal_weight:
        theta = losses.random_motion(n, generator=gen)
        if cfg.lock != "off":  # the lock follows translation: only whole cells of it are the network's
            cells = x.shape[-1] / (2 * DOWNSCALE)  # cells per unit of normalised coordinates
            theta[:, :, 2] = torch.round(theta[:, :, 2] * cells) / cells
        moved, _ = losses.warp_affine(x, theta)
        jitter = 1 + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.06
        moved = (moved * jitter + torch.randn(moved.shape, generator=gen) * cfg.noise).clamp(0, 1)
        if origin is not None:  # the moved copy samples x at p + t: its seed moves by t's whole cells
            half = torch.tensor([x.shape[3] / (2 * DOWNSCALE), x.shape[2] / (2 * DOWNSCALE)])
            origin = origin + torch.round(theta[:, :, 2] * half).long()
        p_moved = after()
        parts["temporal"] = losses.temporal_loss(y, net.decode(net.encode(moved, p_moved, origin), p_moved, moved),
                                                 theta)
        loss = loss + cfg.temporal_weight * parts["temporal"]
    painted = [(y, x, idx)]  # outputs, their inputs and styles, for the content and style losses
    if motion is not None:
        k = min(cfg.motion_batch, n)  # the batch's first styles
        strength = cfg.recurrent_strength if cfg.recurrent_weight else None
        moving, (y_cur, cur) = motion_losses(net, style[:k], motion.batch(k), cfg.noise, gen, strength,
                                             cfg.norm_smoothing)
        parts.update(moving)
        loss = loss + cfg.motion_weight * moving["motion"]
        if "recurrent" in moving:
            loss = loss + cfg.recurrent_weight * moving["recurrent"]
        if cfg.motion_painted:
            painted.append((y_cur, cur, idx[:k]))
    if step >= cfg.perceptual_from:
        ys, xs, ids = (torch.cat(t) for t in zip(*painted))
        with perceptual_autocast(use_bf16):
            fy = vgg(ys)
            with torch.no_grad():
                fx = vgg(xs, last=losses.deepest(cfg.content_layers))  # the content target needs no deeper layer
        parts["content"] = sum(w * losses.content_loss(fy, fx, layer) for layer, w in cfg.content_layers.items())
        boost = torch.tensor([cfg.style_boost.get(name, 1.0) for name in cfg.styles])[ids]
        parts["style"] = losses.style_loss(fy, targets, ids, boost)
        loss = loss + parts["content"] + cfg.style_weight * parts["style"]
    weight = distill_weight(cfg, step)
    if teacher is not None and weight > 0:
        with torch.no_grad():
            target = teacher.net.stylize(x, teacher.styles[idx])
        parts["distill"] = distill_loss(y, target)
        loss = loss + weight * parts["distill"]
    if cfg.tv_weight:
        loss = loss + cfg.tv_weight * losses.tv_loss(y)
    return {"loss": loss, **parts}


def distill_weight(cfg: TrainConfig, step: int) -> float:
    """cfg.distill_weight, falling linearly from `perceptual_from` to 0 at `distill_until`."""
    if step >= cfg.distill_until:
        return 0.0
    if step < cfg.perceptual_from:
        return cfg.distill_weight
    return cfg.distill_weight * (cfg.distill_until - step) / max(1, cfg.distill_until - cfg.perceptual_from)


def load_teacher(path: Path, names: list[str]) -> Teacher:
    """The frozen network of a checkpoint and its style vectors in the order of `names`."""
    from stylecam.engines.checkpoint import load_bank, load_network

    bank = load_bank(path)
    missing = [n for n in names if n not in bank.names]
    if missing:
        raise ValueError(f"warm-start checkpoint {path} lacks styles: {', '.join(missing)}")
    vectors = torch.from_numpy(np.stack([bank.vector(n) for n in names]))
    return Teacher(load_network(path).requires_grad_(False), vectors)


def _adapted(state: dict, config: NetConfig, gen: torch.Generator, log) -> dict:
    """The resumed state in the layout `config` asks for: a v2 head converted to v3
    (train/guided_head.py), image detail added (train/image_detail.py), a seed input added
    (train/seed_input.py), or the residual blocks or the decoder widened (train/widen.py)."""
    from stylecam.engines.checkpoint import net_config
    from stylecam.train.guided_head import to_v3
    from stylecam.train.image_detail import add_image_detail
    from stylecam.train.seed_input import add_seed
    from stylecam.train.widen import widen_decoder, widen_residual

    saved = net_config(state["net_config"])
    if saved == config:
        return state
    if saved.residual_blocks != config.residual_blocks:
        raise ValueError(f"the checkpoint's core has {saved.residual_blocks} residual blocks, this run's "
                         f"{config.residual_blocks}: give --residual-blocks {saved.residual_blocks} (blocks are "
                         "dropped only by python -m stylecam.train.distill)")
    if saved.stem_stride != config.stem_stride:
        raise ValueError(f"the checkpoint's stem has stride {saved.stem_stride}, this run's {config.stem_stride}: "
                         "convert a stride-2 state first (python -m stylecam.train.stem4 IN OUT)")
    if saved.version == 2 and replace(saved, version=3) == config:
        log("decoder head converted from v2 to v3 (bilinear upsampling, detail from the image)")
        return to_v3(state)
    if not saved.image_detail and replace(saved, image_detail=True) == config:
        log("image detail added to the v2 head (at zero gain: the output is unchanged)")
        return add_image_detail(state)
    if not saved.seed_period and replace(saved, seed_period=config.seed_period) == config:
        log(f"seed input added, a {config.seed_period}-px tile (at zero weight: the output is unchanged)")
        return add_seed(state, config.seed_period)
    if replace(saved, decoder_width=config.decoder_width, residual_inner=config.residual_inner) != config:
        raise ValueError(f"the checkpoint's network {saved} does not match {config}: only the residual blocks "
                         "and the decoder can widen, or a v2 head become v3")
    if config.residual_inner != saved.residual_inner:
        state = widen_residual(state, config.residual_inner, gen)  # refuses to narrow
        log(f"residual blocks widened from {saved.residual_inner} to {config.residual_inner} channels (function kept)")
    if config.decoder_width != saved.decoder_width:
        state = widen_decoder(state, config.decoder_width, gen)
        log(f"decoder widened from {saved.decoder_width} to {config.decoder_width} channels (function kept)")
    return state


def motion_data(cfg: TrainConfig, gen: torch.Generator, log) -> MotionCrops | None:
    if not cfg.motion_dirs or not (cfg.motion_weight or cfg.recurrent_weight):
        return None
    pairs = []
    for source in motion_sources([Path(d) for d in cfg.motion_dirs]):
        pairs += frame_pairs(read_frames(source, cfg.motion_short_side, cfg.motion_frames))
    log(f"motion: {len(pairs)} frame pairs from {len(cfg.motion_dirs)} folder(s)")
    return MotionCrops(pairs, cfg.crop, gen, lock=cfg.lock)


def train(cfg: TrainConfig, log=print, stream=None) -> Path:
    """Run (or resume) training; returns the path of the latest checkpoint."""
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "checkpoint.pt"
    torch.set_num_threads(cfg.threads)
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    use_bf16 = native_bf16()

    vgg = load_vgg()
    names = list(cfg.styles)
    style_images = [to_tensor(resize_long(read_rgb(Path(p)), cfg.style_long_side)) for p in cfg.styles.values()]
    targets = losses.style_targets(vgg, style_images)
    data = ContentCrops.from_files(image_files([Path(d) for d in cfg.content_dirs]), cfg.content_short_side, cfg.crop, gen)
    motion = motion_data(cfg, gen, log)

    net = Stylizer(cfg.net)
    styles = torch.nn.Parameter(cfg.net.identity_style().repeat(len(names), 1))
    teacher = load_teacher(Path(cfg.warm_start), names) if cfg.warm_start else None
    if teacher is not None and not ckpt_path.exists():
        from stylecam.train.warm_start import init_from_v1

        styles.data.copy_(init_from_v1(net, teacher.net, teacher.styles))
        log(f"warm start from {cfg.warm_start}")
    opt = torch.optim.Adam([{"params": net.parameters(), "lr": cfg.lr}, {"params": [styles], "lr": cfg.style_lr}])
    step = 0
    if ckpt_path.exists():
        state = torch.load(ckpt_path, weights_only=True)
        state = _adapted(state, cfg.net, gen, log)
        net.load_state_dict(state["net"])
        styles.data.copy_(state["styles"])
        opt.load_state_dict(state["optimizer"])
        for group, lr in zip(opt.param_groups, (cfg.lr, cfg.style_lr)):
            group["lr"] = lr  # this run's rates, not the saved ones (a resume may change them)
        step = state["step"]
        gen.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        log(f"resumed from {ckpt_path} at step {step}")
    preview_contents = ContentCrops(data.images, cfg.crop, torch.Generator().manual_seed(cfg.seed + 1)).batch(4)

    progress = Progress(cfg.steps, first=step, stream=stream, every=cfg.log_every, label=describe(use_bf16))
    while step < cfg.steps:
        x = data.batch(cfg.batch)
        idx = torch.randint(len(names), (cfg.batch,), generator=gen)
        parts = step_losses(net, styles[idx], vgg, x, targets, idx, cfg, gen, step, use_bf16, teacher, motion)
        opt.zero_grad(set_to_none=True)
        parts["loss"].backward()
        opt.step()
        step += 1
        progress.update(step, " ".join(f"{k} {v.item():.4f}" for k, v in parts.items()))
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            save_atomic(checkpoint(net, styles, names, cfg, optimizer=opt.state_dict(), step=step,
                                   generator=gen.get_state(), torch_rng=torch.get_rng_state()), ckpt_path)
        if step % cfg.preview_every == 0 or step == cfg.steps:
            sheet = preview(net, styles.detach(), preview_contents)
            cv2.imwrite(str(out / "preview_latest.png"), sheet)
            cv2.imwrite(str(out / f"preview_{step:06d}.png"), sheet)
    progress.close()
    return ckpt_path


# The shipped bank: style name -> file in ../shared/data/styles (public-domain paintings).
BANK_STYLES = {
    "starry_night": "starry_night_van_gogh.jpg",
    "great_wave": "great_wave_hokusai.jpg",
    "the_scream": "the_scream_munch.jpg",
    "udnie": "udnie_picabia.jpg",
    "composition_vii": "composition_vii_kandinsky.jpg",
    "woman_with_a_hat": "woman_with_a_hat_matisse.jpg",
    "shipwreck": "shipwreck_of_the_minotaur_turner.jpg",
    "water_lilies": "water_lilies_monet_crop.jpg",
}
