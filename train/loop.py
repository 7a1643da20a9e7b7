"""The training loop for the multi-style network: resumable, seeded, bf16 VGG on CPU."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from stylecam.engines.network import NetConfig, Stylizer
from stylecam.train import losses
from stylecam.train.data import ContentCrops, image_files, read_rgb, resize_long, to_tensor
from stylecam.train.progress import Progress
from stylecam.train.vgg import load_vgg


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
    tv_weight: float = 0.0
    temporal_weight: float = 10.0
    noise: float = 0.02  # std of the noise added to the moved frame (RGB 0-1)
    seed: int = 0
    threads: int = 2
    checkpoint_every: int = 50
    preview_every: int = 100
    net: NetConfig = field(default_factory=NetConfig)


def save_atomic(obj: dict, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def checkpoint(net: Stylizer, styles: torch.Tensor, names: list[str], cfg: TrainConfig, **extra) -> dict:
    """The dict both resuming and export read: weights, style vectors, names and configs."""
    return {"net": net.state_dict(), "styles": styles.detach().clone(), "names": list(names),
            "net_config": asdict(cfg.net), "train_config": asdict(cfg), **extra}


def preview(net: Stylizer, styles: torch.Tensor, contents: torch.Tensor) -> np.ndarray:
    """Sheet: rows = content images, first column the input, then one column per style. BGR uint8."""
    rows = []
    with torch.no_grad():
        for c in contents:
            tiles = [c]
            for s in styles:
                tiles.append(net.decode(net.encode(c[None], s), s)[0])
            rows.append(torch.cat(tiles, dim=2))
    sheet = (torch.cat(rows, dim=1).clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    return cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)


def step_losses(net: Stylizer, style: torch.Tensor, vgg, x: torch.Tensor, targets: dict, idx: torch.Tensor,
                cfg: TrainConfig, gen: torch.Generator) -> dict[str, torch.Tensor]:
    """Losses of one batch (x: N x 3 x H x W RGB [0,1], style: N x S): content, style and the
    temporal loss between the output for x and for a randomly moved, noisy copy of x."""
    n = x.shape[0]
    theta = losses.random_motion(n, generator=gen)
    moved, _ = losses.warp_affine(x, theta)
    jitter = 1 + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.06
    moved = (moved * jitter + torch.randn(moved.shape, generator=gen) * cfg.noise).clamp(0, 1)
    y = net.decode(net.encode(x, style), style)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        fy = vgg(y)
        with torch.no_grad():
            fx = vgg(x)
    parts = {"content": losses.content_loss(fy, fx), "style": losses.style_loss(fy, targets, idx)}
    if cfg.temporal_weight:
        y_moved = net.decode(net.encode(moved, style), style)
        parts["temporal"] = losses.temporal_loss(y, y_moved, theta)
    loss = parts["content"] + cfg.style_weight * parts["style"] + cfg.temporal_weight * parts.get("temporal", 0.0)
    if cfg.tv_weight:
        loss = loss + cfg.tv_weight * losses.tv_loss(y)
    return {"loss": loss, **parts}


def train(cfg: TrainConfig, log=print, stream=None) -> Path:
    """Run (or resume) training; returns the path of the latest checkpoint."""
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "checkpoint.pt"
    torch.set_num_threads(cfg.threads)
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)

    vgg = load_vgg()
    names = list(cfg.styles)
    style_images = [to_tensor(resize_long(read_rgb(Path(p)), cfg.style_long_side)) for p in cfg.styles.values()]
    targets = losses.style_targets(vgg, style_images)
    data = ContentCrops.from_files(image_files([Path(d) for d in cfg.content_dirs]), cfg.content_short_side, cfg.crop, gen)

    net = Stylizer(cfg.net)
    styles = torch.nn.Parameter(cfg.net.identity_style().repeat(len(names), 1))
    opt = torch.optim.Adam([{"params": net.parameters(), "lr": cfg.lr}, {"params": [styles], "lr": cfg.style_lr}])
    step = 0
    if ckpt_path.exists():
        state = torch.load(ckpt_path, weights_only=True)
        net.load_state_dict(state["net"])
        styles.data.copy_(state["styles"])
        opt.load_state_dict(state["optimizer"])
        step = state["step"]
        gen.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        log(f"resumed from {ckpt_path} at step {step}")
    preview_contents = ContentCrops(data.images, cfg.crop, torch.Generator().manual_seed(cfg.seed + 1)).batch(4)

    progress = Progress(cfg.steps, first=step, stream=stream)
    while step < cfg.steps:
        x = data.batch(cfg.batch)
        idx = torch.randint(len(names), (cfg.batch,), generator=gen)
        parts = step_losses(net, styles[idx], vgg, x, targets, idx, cfg, gen)
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
