"""One video frame stylised per frame (no temporal path) by v1 and by one or more v2 banks, every
style: a row per network, the input first. For judging banks by eye on footage, beside the photo
sheets of `v1_vs_v2.py --sheet`.

    python benchmarks/frame_sheet.py --clip CLIP --frame 100 --bank "step 6000=/tmp/bank_6k" --out sheet.jpg

--bank NAME=DIR (repeatable) is a folder from `stylecam export`; without one, assets/ is shown.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from v1_engine import V1_STYLES, V1Engine  # noqa: E402

from stylecam.assets import paths  # noqa: E402
from stylecam.engines.backends import OrtEngine  # noqa: E402
from stylecam.engines.contract import DOWNSCALE  # noqa: E402
from stylecam.engines.styles import StyleBank  # noqa: E402

CELL_WIDTH = 320  # pixels per cell in the sheet


def read_frame(clip: Path, index: int) -> np.ndarray:
    """Frame `index` of the clip, BGR uint8, cropped to multiples of 8."""
    cap = cv2.VideoCapture(str(clip))
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = cap.read()
    cap.release()
    if not ok:
        raise SystemExit(f"frame_sheet: cannot read frame {index} of {clip}")
    h, w = (frame.shape[0] // DOWNSCALE) * DOWNSCALE, (frame.shape[1] // DOWNSCALE) * DOWNSCALE
    return np.ascontiguousarray(frame[:h, :w])


def stylise(engine, vector: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """The engine's per-frame output for one style, BGR uint8."""
    h, w = frame.shape[:2]
    prev = np.zeros((1, h // DOWNSCALE, w // DOWNSCALE, engine.core_channels), np.float32)
    blend = np.zeros((1, 1, h // DOWNSCALE, w // DOWNSCALE), np.float32)
    output, _ = engine.run(cv2.dnn.blobFromImage(frame, 1 / 255.0, swapRB=True), vector, prev, blend)
    return cv2.cvtColor((output[0].transpose(1, 2, 0) * 255.0).round().astype(np.uint8), cv2.COLOR_RGB2BGR)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clip", type=Path, required=True)
    p.add_argument("--frame", type=int, default=0)
    p.add_argument("--bank", action="append", default=[], help="NAME=DIR, a folder from `stylecam export`")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    banks = [b.split("=", 1) for b in args.bank] or [["shipped", str(paths.model_onnx().parent)]]
    nets = [("v1", V1Engine(), StyleBank.load(V1_STYLES))]
    nets += [(name, OrtEngine(Path(d) / paths.MODEL_ONNX, "CPUExecutionProvider"), StyleBank.load(Path(d) / paths.STYLE_BANK))
             for name, d in banks]
    frame = read_frame(args.clip, args.frame)
    styles = nets[-1][2].names
    size = (CELL_WIDTH, round(CELL_WIDTH * frame.shape[0] / frame.shape[1]))
    rows = []
    for name, engine, bank in nets:
        row = np.hstack([cv2.resize(frame, size)] + [cv2.resize(stylise(engine, bank.vector(s), frame), size)
                                                      for s in styles])
        cv2.putText(row, name, (5, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 2)
        rows.append(row)
    cv2.imwrite(str(args.out), np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"{args.out}: frame {args.frame} of {args.clip.name}, rows {', '.join(n for n, _, _ in nets)}; styles {', '.join(styles)}")


if __name__ == "__main__":
    main()
