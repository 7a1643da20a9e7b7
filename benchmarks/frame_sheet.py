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
from stylecam.train.evaluate import contact_sheet, read_clip  # noqa: E402

CELL_WIDTH = 320  # pixels per cell in the sheet


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
    frames = read_clip(args.clip, args.frame + 1)
    if len(frames) <= args.frame:
        raise SystemExit(f"frame_sheet: {args.clip} has no frame {args.frame}")
    frame = frames[-1]
    size = (frame.shape[1] // DOWNSCALE * DOWNSCALE, frame.shape[0] // DOWNSCALE * DOWNSCALE)  # full resolution
    styles = list(nets[-1][2].names)
    rows = []
    for name, engine, bank in nets:
        row = contact_sheet(engine, bank, styles, [frame], size)
        row = cv2.resize(row, (CELL_WIDTH * (len(styles) + 1), round(row.shape[0] * CELL_WIDTH / size[0])),
                         interpolation=cv2.INTER_AREA)
        cv2.putText(row, name, (5, row.shape[0] - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 2)
        rows.append(row)
    cv2.imwrite(str(args.out), np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"{args.out}: frame {args.frame} of {args.clip.name}, rows {', '.join(n for n, _, _ in nets)}; styles {', '.join(styles)}")


if __name__ == "__main__":
    main()
