"""Style strength of a bank against v1's: the normalised Gram style loss (and the content loss) of
every style on the eval photos at 640x480, per-frame, for v1 (as shipped, benchmarks/v1/) and a
bank (assets/ or a folder from `stylecam export`), and the ratio per style (issue 8's target:
at most 1.1).

    python benchmarks/style_strength.py --bank runs/v2L_export --json out.json
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from v1_engine import V1_STYLES, V1Engine  # noqa: E402

from stylecam.app.cli.loading import load_engine  # noqa: E402
from stylecam.assets import paths  # noqa: E402
from stylecam.engines.backends import OrtEngine  # noqa: E402
from stylecam.engines.host import cpu_class  # noqa: E402
from stylecam.engines.styles import StyleBank  # noqa: E402
from stylecam.train.evaluate import perceptual_losses  # noqa: E402


def main() -> int:
    from stylecam.app.cli.train import EVAL_PHOTOS
    from stylecam.train.loop import BANK_STYLES

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--bank", type=Path, help="a folder from `stylecam export` (default assets/)")
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    data = Path(args.data)
    if args.bank:
        engine, bank = OrtEngine(args.bank / paths.MODEL_ONNX, "CPUExecutionProvider"), StyleBank.load(args.bank / paths.STYLE_BANK)
    else:
        engine, bank = load_engine("ort-cpu").engine, StyleBank.load(paths.style_bank())
    photos = [cv2.imread(str(data / name)) for name in EVAL_PHOTOS]
    paintings = {name: data / "styles" / file for name, file in BANK_STYLES.items()}
    names = list(BANK_STYLES)
    v1 = perceptual_losses(V1Engine(), StyleBank.load(V1_STYLES), names, photos, paintings, (640, 480))
    new = perceptual_losses(engine, bank, names, photos, paintings, (640, 480))
    report = {"cpu": cpu_class(), "bank": str(args.bank or "assets"),
              "styles": {n: {"v1": {k: round(v, 4) for k, v in v1[n].items()},
                             "bank": {k: round(v, 4) for k, v in new[n].items()},
                             "style_over_v1": round(new[n]["style"] / v1[n]["style"], 3)} for n in names}}
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({n: r["style_over_v1"] for n, r in report["styles"].items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
