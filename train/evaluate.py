"""`stylecam eval`: a contact sheet, perceptual losses per style, temporal stability figures
(warping error with and without the temporal path, the temporal output's sharpness on moving
footage, sharpness drift on a static camera) and the flip test for position bias."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from stylecam.app.live.sources import VideoFileSource
from stylecam.engines.backends import Engine
from stylecam.engines.stability import PairFlows, sharpness
from stylecam.engines.styles import StyleBank
from stylecam.engines.stylizer import VideoStylizer
from stylecam.engines.temporal import TemporalSettings

TILE_HEIGHT = 240


@dataclass
class EvalConfig:
    out_dir: Path
    content: list[Path]  # photos: sheet rows and content/style losses
    clips: list[Path] = field(default_factory=list)  # moving footage for the warping error
    paintings: dict[str, Path] = field(default_factory=dict)  # style name -> painting, for style loss
    styles: list[str] = field(default_factory=list)  # names to evaluate; empty = the whole bank
    temporal: float = 0.8
    clip_frames: int = 120  # frames used from each clip
    static_frames: int = 300  # length of the static-camera run for sharpness drift
    sheet_size: tuple[int, int] = (320, 240)  # processing size of sheet tiles (w, h)


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((28, tile.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text[:28], (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([bar, tile])


def contact_sheet(engine: Engine, bank: StyleBank, names: list[str], photos: list[np.ndarray],
                  size: tuple[int, int]) -> np.ndarray:
    """Rows = photos (first column the photo), columns = styles; BGR uint8 with a name header."""
    rows = []
    for r, photo in enumerate(photos):
        tiles = [cv2.resize(photo, size, interpolation=cv2.INTER_AREA)]
        for name in names:
            stylizer = VideoStylizer(engine, bank.vector(name), TemporalSettings(strength=0.0), size)
            tiles.append(stylizer.step(photo).image)
        if r == 0:
            tiles = [_label(t, n) for t, n in zip(tiles, ["photo", *names])]
        rows.append(np.hstack(tiles))
    return np.vstack(rows)


def perceptual_losses(engine: Engine, bank: StyleBank, names: list[str], photos: list[np.ndarray],
                      paintings: dict[str, Path], size: tuple[int, int]) -> dict[str, dict[str, float]]:
    """Mean normalised content loss and (where the painting is known) style loss per style."""
    import torch

    from stylecam.train import losses
    from stylecam.train.data import read_rgb, resize_long, to_tensor
    from stylecam.train.vgg import load_vgg

    vgg = load_vgg()
    rgb = lambda bgr: to_tensor(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))  # noqa: E731
    inputs = [cv2.resize(p, size, interpolation=cv2.INTER_AREA) for p in photos]
    with torch.no_grad():
        content_feats = [vgg(rgb(p)) for p in inputs]
        report = {}
        for name in names:
            stylizer = VideoStylizer(engine, bank.vector(name), TemporalSettings(strength=0.0), size)
            out_feats = [vgg(rgb(stylizer.step(p).image)) for p in inputs]
            entry = {"content": float(np.mean([losses.content_loss(o, c).item() for o, c in zip(out_feats, content_feats)]))}
            if name in paintings:
                targets = losses.style_targets(vgg, [to_tensor(resize_long(read_rgb(paintings[name]), 512))])
                idx = torch.zeros(1, dtype=torch.long)
                entry["style"] = float(np.mean([losses.style_loss(o, targets, idx).item() for o in out_feats]))
            report[name] = entry
    return report


def read_clip(path: Path, frames: int) -> list[np.ndarray]:
    out = []
    for frame in VideoFileSource(path).frames():
        out.append(frame.image)
        if len(out) == frames:
            break
    return out


def warping_errors(engine: Engine, style: np.ndarray, clip: list[np.ndarray], flows: PairFlows,
                   strength: float) -> dict[str, float]:
    """E_warp of the input, of per-frame output (a = 0) and of the temporal output (a = strength),
    and the mean Laplacian variance of both outputs (sharpness on moving footage);
    flows: the clip's PairFlows (computed once per clip, shared by every style)."""
    result = {"input": flows.warping_error(clip)}
    for label, a in (("per_frame", 0.0), ("temporal", strength)):
        stylizer = VideoStylizer(engine, style, TemporalSettings(strength=a))
        outputs = [stylizer.step(f).image for f in clip]
        result[label] = flows.warping_error(outputs)
        result[f"{label}_sharpness"] = float(np.mean([sharpness(o) for o in outputs]))
    result["ratio"] = result["temporal"] / result["per_frame"]
    result["sharpness_ratio"] = result["temporal_sharpness"] / result["per_frame_sharpness"]
    result["pairs"] = len(flows.pairs)
    return result


RING = 32  # pixels: the border band of the flip test


def flip_test(engine: Engine, style: np.ndarray, photos: list[np.ndarray], size: tuple[int, int] = (640, 480)) -> float:
    """Position bias: D = |S(flip x) - flip S(x)| for the left-right and the up-down mirror,
    mean over photos and both mirrors; returns the mean of D in the outer RING pixels over its
    mean inside. Convolutions are not mirror-symmetric, so D is never 0, but a network that
    treats the border like the interior has about the same D there (ratio ~1); a border it can
    see (zero padding: a band along one edge, a line along all four) shows as more. The up-down
    mirror is what catches a band along the top, which a left-right mirror leaves in place."""
    w, h = size
    ring = np.ones((h, w), bool)
    ring[RING:-RING, RING:-RING] = False
    stylizer = VideoStylizer(engine, style, TemporalSettings(strength=0.0), size)
    outer, inner = [], []
    for photo in photos:
        x = cv2.resize(photo, size, interpolation=cv2.INTER_AREA)
        out = stylizer.step(x).image.astype(np.float32)
        for axis in (1, 0):  # left-right, up-down
            mirrored = np.ascontiguousarray(np.flip(x, axis))
            d = np.abs(stylizer.step(mirrored).image.astype(np.float32) - np.flip(out, axis)).mean(axis=2)
            outer.append(d[ring].mean())
            inner.append(d[~ring].mean())
    return float(np.mean(outer) / max(np.mean(inner), 1e-6))


def static_camera_clip(photo: np.ndarray, frames: int, size: tuple[int, int], seed: int = 0) -> list[np.ndarray]:
    """A tripod webcam: one real photo, sensor noise (sigma 2/255) and sub-pixel jitter per frame."""
    rng = np.random.default_rng(seed)
    base = cv2.resize(photo, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    out = []
    for _ in range(frames):
        m = np.float32([[1, 0, rng.normal(0, 0.15)], [0, 1, rng.normal(0, 0.15)]])
        moved = cv2.warpAffine(base, m, size, borderMode=cv2.BORDER_REFLECT)
        out.append(np.clip(moved + rng.normal(0, 2.0, moved.shape), 0, 255).astype(np.uint8))
    return out


def portrait_before_wall(portrait: np.ndarray) -> np.ndarray:
    """640 x 480 BGR uint8: a webcam's usual scene, `portrait` (BGR, any size; shown 240 x 360)
    before a plain, evenly lit wall (a soft vertical gradient) with sensor noise of std 2/255."""
    h, w = 480, 640
    rng = np.random.default_rng(1)
    shade = 0.9 + 0.15 * np.linspace(0, 1, h)[:, None, None]
    image = np.float32([185, 192, 200]) * shade + rng.normal(0, 2.0, (h, w, 3))
    image[120:480, 200:440] = cv2.resize(portrait, (240, 360))
    return np.clip(image, 0, 255).astype(np.uint8)


def handheld_camera_clip(photo: np.ndarray, frames: int, size: tuple[int, int], shake: float = 1.5,
                         seed: int = 0) -> list[np.ndarray]:
    """A hand-held webcam: one real photo seen through a camera that wanders (a random walk of
    `shake` px std per frame, pulled back by 10 % a frame), with sensor noise (sigma 2/255)."""
    rng = np.random.default_rng(seed)
    w, h = size
    base = cv2.resize(photo, (w + 64, h + 64), interpolation=cv2.INTER_AREA).astype(np.float32)
    position, out = np.zeros(2), []
    for _ in range(frames):
        position = 0.9 * position + rng.normal(0, shake, 2)
        m = np.float32([[1, 0, position[0] - 32], [0, 1, position[1] - 32]])
        moved = cv2.warpAffine(base, m, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
        out.append(np.clip(moved + rng.normal(0, 2.0, moved.shape), 0, 255).astype(np.uint8))
    return out


def person_sways_clip(photo: np.ndarray, frames: int, reach: int = 30, seed: int = 0) -> list[np.ndarray]:
    """A webcam on a stand: `photo` shown as in portrait_before_wall, swaying left and right
    (reach px, a period of 50 frames, up to ~3.8 px a frame) before the still wall, where it
    stood filled with the wall's colour; sensor noise (sigma 2/255) per frame. 640 x 480 BGR uint8."""
    rng = np.random.default_rng(seed)
    scene = portrait_before_wall(photo).astype(np.float32)
    empty = scene.copy()
    empty[120:480, 200:440] = scene[60:90, 200:440].mean(axis=(0, 1))
    out = []
    for i in range(frames):
        dx = int(round(reach * np.sin(i / 8)))
        image = empty.copy()
        image[120:480, 200 + dx:440 + dx] = scene[120:480, 200:440]
        out.append(np.clip(image + rng.normal(0, 2.0, image.shape), 0, 255).astype(np.uint8))
    return out


def sharpness_drift(engine: Engine, style: np.ndarray, clip: list[np.ndarray], strength: float) -> dict[str, float]:
    """Mean Laplacian variance over frames 250-300 (or the last sixth) vs 1-50, temporal on and off."""
    n = len(clip)
    late = slice(n * 5 // 6, n)
    early = slice(0, max(1, n // 6))
    result = {}
    for label, a in (("per_frame", 0.0), ("temporal", strength)):
        stylizer = VideoStylizer(engine, style, TemporalSettings(strength=a))
        values = [sharpness(stylizer.step(f).image) for f in clip]
        result[f"{label}_early"] = float(np.mean(values[early]))
        result[f"{label}_late"] = float(np.mean(values[late]))
    result["late_ratio"] = result["temporal_late"] / result["per_frame_late"]
    return result


def evaluate(cfg: EvalConfig, engine: Engine, bank: StyleBank, log=print) -> dict:
    """Write sheet.png and report.json into cfg.out_dir; return the report."""
    from stylecam.train.data import read_rgb

    names = cfg.styles or list(bank.names)
    for name in names:
        bank.index(name)  # unknown names fail before any work
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    photos = [cv2.cvtColor(read_rgb(p), cv2.COLOR_RGB2BGR) for p in cfg.content]
    log(f"contact sheet: {len(photos)} photos x {len(names)} styles")
    sheet = contact_sheet(engine, bank, names, photos, cfg.sheet_size)
    cv2.imwrite(str(cfg.out_dir / "sheet.png"), sheet)
    log("perceptual losses")
    report = {"styles": names, "temporal": cfg.temporal,
              "losses": perceptual_losses(engine, bank, names, photos, cfg.paintings, cfg.sheet_size),
              "warping_error": {}, "sharpness": {}, "flip_ring_ratio": {}}
    clips = {Path(c).name: read_clip(Path(c), cfg.clip_frames) for c in cfg.clips}
    flows = {name: PairFlows(clip) for name, clip in clips.items()}
    static = static_camera_clip(photos[0], cfg.static_frames, (640, 480))
    for name in names:
        style = bank.vector(name)
        for clip_name, clip in clips.items():
            log(f"warping error: {name} on {clip_name}")
            report["warping_error"].setdefault(name, {})[clip_name] = warping_errors(
                engine, style, clip, flows[clip_name], cfg.temporal)
        log(f"sharpness drift: {name}")
        report["sharpness"][name] = sharpness_drift(engine, style, static, cfg.temporal)
        log(f"flip test: {name}")
        report["flip_ring_ratio"][name] = flip_test(engine, style, photos)
    (cfg.out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report
