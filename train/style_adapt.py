"""`stylecam train-style`: a new style from one painting or from a video (its keyframes' style
statistics averaged, style_source.py), learning only its norm parameters (one style vector) on
the shipped, frozen network. Content comes from the bundled sample clip (plus any folders
given), so it needs no dataset."""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from stylecam.engines.checkpoint import bank_style_weight, load_bank, load_network
from stylecam.engines.styles import StyleBank, StyleError
from stylecam.train import losses
from stylecam.train.data import ContentCrops, image_files, read_rgb, resize_long, resize_short, to_tensor
from stylecam.train.loop import preview, seed_origins
from stylecam.train.precision import describe, native_bf16, perceptual_autocast
from stylecam.train.progress import Progress
from stylecam.train.style_source import read_style_source
from stylecam.train.vgg import load_vgg

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_]{0,39}")


@dataclass
class AdaptConfig:
    steps: int = 300
    batch: int = 4
    crop: int = 256
    content_short_side: int = 384
    style_long_side: int = 512
    lr: float = 2e-2
    style_weight: float | None = None  # None: the weight the shipped bank was trained with
    seed: int = 0
    threads: int = 2
    preview_every: int = 25
    pool: int = 64  # content crops whose VGG features are computed once
    keyframes: int = 8  # from a video: frames whose style statistics are averaged
    content_dirs: list[str] = field(default_factory=list)


def check_name(name: str, taken: tuple[str, ...]) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise StyleError(f"style name {name!r} must be 1-40 of a-z, 0-9 and _, starting with a letter or digit")
    if name in taken:
        raise StyleError(f"a style named {name!r} already exists; choose another --name")


def clip_content(clip: Path, every: int = 4, short_side: int = 384) -> list[np.ndarray]:
    """Every `every`-th frame of a video as RGB images scaled to `short_side`."""
    cap = cv2.VideoCapture(str(clip))
    frames, index = [], 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        if index % every == 0:
            frames.append(resize_short(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), short_side))
        index += 1
    cap.release()
    return frames


@dataclass
class ContentPool:
    """A fixed set of content crops with their VGG content features, computed once: a step then
    runs VGG only on the stylised output (a quarter of its VGG work saved)."""

    images: torch.Tensor  # P x 3 x c x c RGB [0, 1]
    features: torch.Tensor  # P x C x c/2 x c/2 float16, VGG at losses.CONTENT_LAYER

    @classmethod
    def build(cls, vgg, data: ContentCrops, size: int, chunk: int = 8) -> ContentPool:
        images = data.batch(size)
        with torch.no_grad():
            features = torch.cat([vgg(images[i : i + chunk], last=losses.CONTENT_LAYER)[losses.CONTENT_LAYER]
                                  for i in range(0, size, chunk)]).half()  # half the memory
        return cls(images, features)

    def batch(self, n: int, gen: torch.Generator) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        idx = torch.randint(len(self.images), (n,), generator=gen)
        return self.images[idx], {losses.CONTENT_LAYER: self.features[idx]}


def check_writable(folder: Path) -> None:
    """Create `folder` if needed; StyleError unless a style can be written there (checked before
    minutes of training, not after)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".stylecam-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise StyleError(f"cannot write styles to {folder}: {exc.strerror or exc}") from exc


def adapt_style(painting: Path, name: str, checkpoint: Path, clip: Path, user_dir: Path,
                taken: tuple[str, ...], cfg: AdaptConfig, stream=None) -> Path:
    """Learn the style vector for `painting` (an image, or a video whose keyframes are averaged);
    write user_dir/NAME.npz, a thumbnail NAME.jpg, and NAME_preview.png as it goes. Returns the
    style file. The shared network stays frozen."""
    check_name(name, taken)
    source = read_style_source(painting, cfg.keyframes)
    check_writable(user_dir)
    torch.set_num_threads(cfg.threads)
    gen = torch.Generator().manual_seed(cfg.seed)
    vgg = load_vgg()
    net = load_network(checkpoint).requires_grad_(False)
    style_weight = cfg.style_weight if cfg.style_weight is not None else bank_style_weight(checkpoint)
    shipped = load_bank(checkpoint)
    style = torch.nn.Parameter(torch.from_numpy(shipped.vectors.mean(axis=0)).clone())
    targets = losses.style_targets(vgg, [to_tensor(resize_long(rgb, cfg.style_long_side)) for rgb in source.images])
    targets = {layer: grams.mean(dim=0, keepdim=True) for layer, grams in targets.items()}
    if source.frames:
        n = len(source.images)
        print(f"style target: {n} keyframe{'s' * (n != 1)} of {painting} (scenes: {source.scenes})",
              file=stream or sys.stderr)

    images = clip_content(clip, short_side=cfg.content_short_side)
    for folder in cfg.content_dirs:
        images += [resize_short(read_rgb(p), cfg.content_short_side) for p in image_files([Path(folder)])]
    data = ContentCrops(images, min(cfg.crop, *(min(i.shape[:2]) for i in images)), gen)
    pool = ContentPool.build(vgg, data, cfg.pool)
    preview_path = user_dir / f"{name}_preview.png"
    preview_batch = pool.images[:3]

    opt = torch.optim.Adam([style], lr=cfg.lr)
    use_bf16 = native_bf16()
    progress = Progress(cfg.steps, stream=stream, every=25, label=describe(use_bf16))
    idx = torch.zeros(cfg.batch, dtype=torch.long)
    for step in range(1, cfg.steps + 1):
        x, fx = pool.batch(cfg.batch, gen)
        s = style.expand(cfg.batch, -1)
        y = net.stylize(x, s, seed_origins(net, cfg.batch, gen))  # a seeded network: the tile anywhere
        with perceptual_autocast(use_bf16):
            fy = vgg(y)
        lc, ls = losses.content_loss(fy, fx), losses.style_loss(fy, targets, idx)
        loss = lc + style_weight * ls
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        progress.update(step, f"loss {loss.item():.3f} content {lc.item():.3f} style {ls.item():.3f}")
        if step % cfg.preview_every == 0 or step == cfg.steps:
            cv2.imwrite(str(preview_path), preview(net, style.detach()[None], preview_batch))
    progress.close()
    thumb = resize_long(source.images[len(source.images) // 2], 160)
    cv2.imwrite(str(user_dir / f"{name}.jpg"), cv2.cvtColor(thumb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
    out = user_dir / f"{name}.npz"
    StyleBank((name,), style.detach().numpy()[None].astype(np.float32)).save(out)
    return out

