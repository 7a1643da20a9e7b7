"""A phone-style clip of two artworks being filmed, for trying `train-style` on a video: a slow
hand-held pan over Mondrian's cubist composition, a cut, then Leger's Contrast of Forms (neither
is in the shipped bank); shake, a slight zoom, sensor noise and exposure drift. 640x360, 24 fps,
6 s.

    python benchmarks/filmed_art_clip.py --data ../shared/data -o filmed_art.mp4
    stylecam train-style filmed_art.mp4 --name filmed_art
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

ARTWORKS = ("mondrian_cubist_composition.jpg", "contrast_of_forms_leger.jpg")
SIZE, FPS, FRAMES_PER_ARTWORK = (640, 360), 24.0, 72


def filmed(art: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """The artwork hung on a grey wall, filmed by a hand panning right and zooming in a little."""
    h, w = art.shape[:2]
    wall = np.full((int(h * 1.3), int(w * 1.3), 3), (200, 205, 210), np.uint8)
    y0, x0 = (wall.shape[0] - h) // 2, (wall.shape[1] - w) // 2
    wall[y0:y0 + h, x0:x0 + w] = art
    height, width = wall.shape[:2]
    frames = []
    for t in range(FRAMES_PER_ARTWORK):
        s = t / (FRAMES_PER_ARTWORK - 1)
        cx, cy = width * (0.4 + 0.2 * s) + rng.normal(0, 3), height * 0.5 + rng.normal(0, 3)
        cw = width * (0.55 - 0.1 * s)
        ch = cw * SIZE[1] / SIZE[0]
        src = np.float32([[cx - cw / 2, cy - ch / 2], [cx + cw / 2, cy - ch / 2], [cx - cw / 2, cy + ch / 2]])
        dst = np.float32([[0, 0], [SIZE[0], 0], [0, SIZE[1]]])
        frame = cv2.warpAffine(wall, cv2.getAffineTransform(src, dst), SIZE, borderMode=cv2.BORDER_REFLECT)
        frame = frame.astype(np.float32) * (0.92 + 0.08 * np.sin(t / 9)) + rng.normal(0, 3, frame.shape)
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("-o", "--output", type=Path, default=Path("filmed_art.mp4"))
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    writer = cv2.VideoWriter(str(args.output), cv2.VideoWriter_fourcc(*"mp4v"), FPS, SIZE)
    for name in ARTWORKS:
        for frame in filmed(cv2.imread(str(args.data / "styles" / name)), rng):
            writer.write(frame)
    writer.release()
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
