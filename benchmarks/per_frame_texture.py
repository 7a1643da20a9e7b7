"""The per-frame output's texture against v1's: mean Laplacian variance of v2's per-frame output
over v1's (issue 8's target: at least 0.5; "removing speckle is fine, flattening the painting is
not"), every style, on the eval photos and on every clip, both networks fed the same frames at
the same size with the temporal path off.

Reports the ratio per style and source, and each source's input sharpness (Laplacian variance of
the input frame) so flat footage is told apart from textured footage. One source is made
(train/evaluate.portrait_before_wall): a webcam's usual scene, a person (kodim04) before a plain
wall (a soft vertical gradient with sensor noise of std 2/255), where only the wall above the
person is measured. The Sintel sequences that no training run has used (HELD_OUT: up to 4 frames
each, the dark cave_4 and the snowy ambush_2 among them) stand in for footage we have not seen.

    python benchmarks/per_frame_texture.py --json docs/bench/per_frame_texture.json
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from phase_lock import PER_FRAME, mean_sharpness, outputs  # noqa: E402
from report import emit  # noqa: E402
from v1_engine import V1_STYLES, V1Engine  # noqa: E402

from stylecam.app.cli.train import EVAL_PHOTOS  # noqa: E402
from stylecam.assets import paths  # noqa: E402
from stylecam.engines.backends import OrtEngine  # noqa: E402
from stylecam.engines.host import cpu_class  # noqa: E402
from stylecam.engines.styles import StyleBank  # noqa: E402
from stylecam.train.evaluate import portrait_before_wall, read_clip  # noqa: E402

PHOTO_SIZE = (640, 480)
# Sintel sequences (DATA/video/sequences) outside every training run's motion data, and their frame folder
HELD_OUT = {"alley_1": "sintel_alley_1/final", "alley_2": "sintel_alley_2/clean", "ambush_2": "sintel_ambush_2/final",
            "bandage_1": "sintel_bandage_1/final", "cave_4": "sintel_cave_4/final", "market_5": "sintel_market_5/final"}
WALL = (slice(20, 110), slice(20, 620))  # the part of plain_wall() measured: wall only


def plain_wall(data: Path) -> np.ndarray:
    """640 x 480 BGR uint8: kodim04's portrait before a plain, evenly lit wall (evaluate.portrait_before_wall)."""
    return portrait_before_wall(cv2.imread(str(data / "content" / "kodak" / "kodim04.png")))


def texture(images: list[np.ndarray], crop: tuple[slice, slice] | None) -> float:
    """Mean Laplacian variance of the images, or of the part `crop` of each."""
    return mean_sharpness(images if crop is None else [np.ascontiguousarray(i[crop]) for i in images])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--clip", action="append", help="clips (default all in DATA/video/clips)")
    p.add_argument("--frames", type=int, default=40, help="frames per clip (every third of the first 3N)")
    p.add_argument("--style", action="append", help="styles (default all)")
    p.add_argument("--bank", type=Path, help="a folder from `stylecam export` to measure instead of assets/")
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    data = Path(args.data)
    bank_dir = args.bank or paths.model_onnx().parent
    engine, bank = OrtEngine(bank_dir / paths.MODEL_ONNX, "CPUExecutionProvider"), StyleBank.load(bank_dir / paths.STYLE_BANK)
    v1, v1_bank = V1Engine(), StyleBank.load(V1_STYLES)
    sources = {"eval_photos": ([cv2.resize(cv2.imread(str(data / ph)), PHOTO_SIZE) for ph in EVAL_PHOTOS], None)}
    clip_paths = [Path(c) for c in args.clip] if args.clip else sorted((data / "video" / "clips").glob("*.mp4"))
    for c in clip_paths:
        sources[c.stem] = (read_clip(c, 3 * args.frames)[::3], None)
    sources["plain_wall_kodim04_wall_only"] = ([plain_wall(data)], WALL)
    for name, folder in HELD_OUT.items():
        stills = sorted((data / "video" / "sequences" / folder).glob("*.png"))[:4]
        if stills:
            sources[f"held_out_sintel_{name}"] = ([cv2.imread(str(f)) for f in stills], None)
    names = args.style or bank.names
    report = {"cpu": cpu_class(), "bank": str(bank_dir), "frames_per_clip": args.frames, "sources": {}}
    for source, (frames, crop) in sources.items():
        row = {"input_sharpness": round(texture(frames, crop), 1)}
        for name in names:
            mine = texture(outputs(engine, bank.vector(name), frames, PER_FRAME), crop)
            theirs = texture(outputs(v1, v1_bank.vector(name), frames, PER_FRAME), crop)
            row[name] = round(mine / theirs, 3)
        report["sources"][source] = row
        print(source, row, file=sys.stderr, flush=True)
    return emit(report, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
