"""Check the flow behind the warping-error metric against Sintel's ground truth.

For each Sintel pair with a ground-truth .flo (forward flow t -> t+1) this prints the endpoint
error of the DIS flow used by `engines.stability` and the warping error of the frames and of a
stylised version computed with DIS flow + our masks vs with the true flow (+ true occlusions where
given); and the ratio of the temporal output's warping error to the per-frame output's under
both flows, which must agree for the stability figures to mean anything.
Usage: python benchmarks/check_flow_metric.py ../shared/data/video/sequences
"""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from stylecam.app.cli.loading import load_bank, load_engine
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


def stylised_sequence(engine, style, frames_dir: Path, strength: float) -> dict[int, np.ndarray]:
    """Frame number -> output, running the temporal path through the whole sequence in order."""
    stylizer = VideoStylizer(engine, style, TemporalSettings(strength=strength))
    paths = sorted(frames_dir.glob("frame_*.png"))
    return {int(p.stem.split("_")[1]): stylizer.step(cv2.imread(str(p))).image for p in paths}


def main(root: Path, strength: float = 0.8) -> None:
    engine = load_engine("ort-cpu").engine
    style = load_bank().vectors[0]
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    print(f"per-frame (a = 0) and temporal (a = {strength}) output; Ew = warping error, ratio = temporal / per-frame")
    print(f"{'pair':<34} {'EPE px':>7} {'Ew in DIS':>10} {'Ew in GT':>9} {'Ew out DIS':>11} {'Ew out GT':>10}"
          f" {'ratio DIS':>10} {'ratio GT':>9}")
    sequences = {}
    for flo in sorted(root.glob("*/flow/*.flo")):
        seq = flo.parent.parent
        frames_dir = next((seq / d for d in ("clean", "final", "frames") if (seq / d).is_dir()), None)
        n = int(flo.stem.split("_")[1])
        if frames_dir is None:
            continue
        a_path, b_path = frames_dir / f"frame_{n:04d}.png", frames_dir / f"frame_{n + 1:04d}.png"
        if not (a_path.is_file() and b_path.is_file()):
            continue
        if seq not in sequences:
            sequences[seq] = [stylised_sequence(engine, style, frames_dir, a) for a in (0.0, strength)]
        per_frame, temporal = sequences[seq]
        a, b = cv2.imread(str(a_path)), cv2.imread(str(b_path))
        gt = read_flo(flo)
        ga, gb = cv2.cvtColor(a, cv2.COLOR_BGR2GRAY), cv2.cvtColor(b, cv2.COLOR_BGR2GRAY)
        fwd, bwd = dis.calc(ga, gb, None), dis.calc(gb, ga, None)
        epe = float(np.median(np.linalg.norm(fwd - gt, axis=-1)))
        mask_dis = valid_mask(fwd, bwd)
        occ = seq / "occlusions" / f"{flo.stem}.png"
        mask_gt = (cv2.imread(str(occ), cv2.IMREAD_GRAYSCALE) < 128).astype(np.float32) if occ.is_file() else mask_dis
        out = {name: (e_warp(o[n], o[n + 1], fwd, mask_dis), e_warp(o[n], o[n + 1], gt, mask_gt))
               for name, o in (("per_frame", per_frame), ("temporal", temporal))}
        print(f"{seq.name + '/' + flo.stem:<34} {epe:7.2f} {e_warp(a, b, fwd, mask_dis):10.5f} "
              f"{e_warp(a, b, gt, mask_gt):9.5f} {out['per_frame'][0]:11.5f} {out['per_frame'][1]:10.5f}"
              f" {out['temporal'][0] / out['per_frame'][0]:10.3f} {out['temporal'][1] / out['per_frame'][1]:9.3f}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/video/sequences"))
