"""Check the flow behind the warping-error metric against Sintel's ground truth.

For each Sintel pair with a ground-truth .flo (forward flow t -> t+1) this prints the endpoint
error of the DIS flow used by `engines.stability` and the warping error of the frames and of a
stylised version computed with DIS flow + our masks vs with the true flow (+ true occlusions where
given). Usage: python benchmarks/check_flow_metric.py ../shared/data/video/sequences
"""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from stylecam.app.loading import load_bank, load_engine
from stylecam.engines.stability import _warp, valid_mask
from stylecam.engines.stylizer import VideoStylizer
from stylecam.engines.temporal import TemporalSettings


def read_flo(path: Path) -> np.ndarray:
    with open(path, "rb") as f:
        if np.fromfile(f, np.float32, 1)[0] != 202021.25:
            raise ValueError(f"not a .flo file: {path}")
        w, h = np.fromfile(f, np.int32, 2)
        return np.fromfile(f, np.float32, 2 * w * h).reshape(h, w, 2)


def e_warp(a: np.ndarray, b: np.ndarray, flow: np.ndarray, mask: np.ndarray) -> float:
    err = np.sum((a.astype(np.float32) / 255 - _warp(b.astype(np.float32) / 255, flow)) ** 2, axis=-1)
    return float(np.sum(mask * err) / max(mask.sum(), 1))


def main(root: Path) -> None:
    engine = load_engine("ort-cpu").engine
    style = load_bank().vectors[0]
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    print(f"{'pair':<34} {'EPE px':>7} {'Ew in DIS':>10} {'Ew in GT':>9} {'Ew out DIS':>11} {'Ew out GT':>10}")
    for flo in sorted(root.glob("*/flow/*.flo")):
        seq = flo.parent.parent
        frames_dir = next((seq / d for d in ("clean", "final", "frames") if (seq / d).is_dir()), None)
        n = int(flo.stem.split("_")[1])
        a_path, b_path = frames_dir / f"frame_{n:04d}.png", frames_dir / f"frame_{n + 1:04d}.png"
        if frames_dir is None or not (a_path.is_file() and b_path.is_file()):
            continue
        a, b = cv2.imread(str(a_path)), cv2.imread(str(b_path))
        gt = read_flo(flo)
        ga, gb = cv2.cvtColor(a, cv2.COLOR_BGR2GRAY), cv2.cvtColor(b, cv2.COLOR_BGR2GRAY)
        fwd, bwd = dis.calc(ga, gb, None), dis.calc(gb, ga, None)
        epe = float(np.median(np.linalg.norm(fwd - gt, axis=-1)))
        mask_dis = valid_mask(fwd, bwd)
        occ = seq / "occlusions" / f"{flo.stem}.png"
        mask_gt = (cv2.imread(str(occ), cv2.IMREAD_GRAYSCALE) < 128).astype(np.float32) if occ.is_file() else mask_dis
        stylizer = VideoStylizer(engine, style, TemporalSettings(strength=0.0))
        sa, sb = stylizer.step(a).image, stylizer.step(b).image
        print(f"{seq.name + '/' + flo.stem:<34} {epe:7.2f} {e_warp(a, b, fwd, mask_dis):10.5f} "
              f"{e_warp(a, b, gt, mask_gt):9.5f} {e_warp(sa, sb, fwd, mask_dis):11.5f} {e_warp(sa, sb, gt, mask_gt):10.5f}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/video/sequences"))
