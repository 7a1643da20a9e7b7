"""Training subcommands of `stylecam` (need the '.[train]' extra; imported only when used):
`train` (the multi-style network), `train-style` (a new style from one painting or a video), `eval`."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

from stylecam.app.cli.main import UsageError
from stylecam.engines.contract import DOWNSCALE

DEFAULT_BANK_DATA = "../shared/data"


def _need_torch() -> None:
    if importlib.util.find_spec("torch") is None:
        raise UsageError("training needs torch: pip install torch==2.13.0 -e '.[train]'")


def _style_pairs(pairs: list[str]) -> dict[str, str]:
    styles = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise UsageError(f"--style must be NAME=PAINTING, got {pair!r}")
        if name in styles:
            raise UsageError(f"--style name {name!r} given twice")
        if not Path(path).is_file():
            raise UsageError(f"painting not found: {path}")
        styles[name] = path
    return styles


def cmd_train(args) -> int:
    _need_torch()
    from stylecam.engines.network import NetConfig
    from stylecam.train.loop import BANK_STYLES, TrainConfig, train
    from stylecam.train.vgg import VGGWeightsMissing

    if args.recurrent_weight and not args.motion:
        raise UsageError("--recurrent-weight needs --motion (the loss runs on real-motion frames)")
    if args.motion_painted and not args.motion:
        raise UsageError("--motion-painted needs --motion (the losses run on real-motion frames)")
    if not 0.0 <= args.norm_smoothing < 1.0:
        raise UsageError(f"--norm-smoothing must be in [0, 1), got {args.norm_smoothing}")
    if args.seed_period < 0 or args.seed_period % DOWNSCALE:
        raise UsageError(f"--seed-period must be 0 (none) or a period in pixels, a multiple of {DOWNSCALE}, "
                         f"got {args.seed_period}")
    content_layers = _content_layers(args.content_layer or [])
    if args.style:
        styles = _style_pairs(args.style)
    else:
        data = Path(args.data)
        styles = {name: str(data / "styles" / file) for name, file in BANK_STYLES.items()}
        missing = [p for p in styles.values() if not Path(p).is_file()]
        if missing:
            raise UsageError(f"bank paintings not found under {data / 'styles'} (give --data or --style NAME=PATH)")
    content = args.content or [str(Path(args.data) / "content")]
    for folder in content:
        if not Path(folder).is_dir():
            raise UsageError(f"content folder not found: {folder}")
    motion = args.motion or []
    for folder in [*motion, *([args.warm_start] if args.warm_start else [])]:
        if not Path(folder).exists():
            raise UsageError(f"not found: {folder}")
    cfg = TrainConfig(styles=styles, content_dirs=content, out_dir=args.out, steps=args.steps, batch=args.batch,
                      style_weight=args.style_weight, content_layers=content_layers,
                      lr=args.lr, style_lr=args.style_lr,
                      style_boost=_style_boosts(args.style_boost or [], styles),
                      temporal_weight=args.temporal_weight, seed=args.seed,
                      motion_dirs=motion, motion_weight=args.motion_weight if motion else 0.0,
                      recurrent_weight=args.recurrent_weight, motion_painted=args.motion_painted, lock=args.lock,
                      norm_smoothing=args.norm_smoothing,
                      warm_start=args.warm_start or "", distill_weight=args.distill_weight,
                      distill_until=args.distill_until, perceptual_from=args.perceptual_from,
                      net=NetConfig(decoder_width=args.decoder_width or NetConfig().decoder_width,
                                    residual_inner=args.residual_inner or NetConfig().residual_inner,
                                    residual_blocks=args.residual_blocks or NetConfig().residual_blocks,
                                    version=args.layout or NetConfig().version,
                                    image_detail=args.image_detail, seed_period=args.seed_period,
                                    stem_stride=args.stem_stride))
    try:
        path = train(cfg, log=lambda m: print(m, file=sys.stderr), stream=sys.stderr)
    except (VGGWeightsMissing, ValueError) as exc:  # ValueError: a checkpoint this run cannot resume
        raise UsageError(str(exc)) from exc
    print(f"checkpoint: {path} (export with: stylecam export --checkpoint {path} -o DIR)")
    return 0


def _content_layers(pairs: list[str]) -> dict[str, float]:
    """--content-layer LAYER=WEIGHT pairs (weights >= 0); none given: the default (relu2_2 alone)."""
    from stylecam.train.losses import CONTENT_LAYER, STYLE_LAYERS

    return _named_numbers(pairs, "--content-layer", "LAYER=WEIGHT", STYLE_LAYERS, zero_ok=True) or {CONTENT_LAYER: 1.0}


def _style_boosts(pairs: list[str], styles: dict[str, str]) -> dict[str, float]:
    """--style-boost NAME=FACTOR pairs (factors > 0) for styles of this run."""
    return _named_numbers(pairs, "--style-boost", "NAME=FACTOR", list(styles), zero_ok=False)


def _named_numbers(pairs: list[str], option: str, form: str, known, zero_ok: bool) -> dict[str, float]:
    """NAME=NUMBER pairs of a repeatable option: each name one of `known`, each number >= 0
    (> 0 unless zero_ok). Bad input is a one-line UsageError."""
    out = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in known:
            raise UsageError(f"{option}: {name!r} is not one of {', '.join(known)}")
        try:
            out[name] = float(value)
        except ValueError:
            raise UsageError(f"{option} takes {form}, got {pair!r}") from None
        if out[name] < 0 or (out[name] == 0 and not zero_ok):
            raise UsageError(f"{option}: the number must be {'>= 0' if zero_ok else '> 0'}, got {pair!r}")
    return out


def cmd_train_style(args) -> int:
    _need_torch()
    from stylecam.app.cli.loading import load_bank
    from stylecam.assets import paths
    from stylecam.engines.styles import user_styles_dir
    from stylecam.train.style_adapt import AdaptConfig, adapt_style
    from stylecam.train.vgg import VGGWeightsMissing

    if args.steps < 1:
        raise UsageError("--steps must be >= 1")
    if args.keyframes < 1:
        raise UsageError("--keyframes must be >= 1")
    cfg = AdaptConfig(steps=args.steps, batch=args.batch, crop=args.crop, keyframes=args.keyframes,
                      content_dirs=args.content or [])
    try:
        out = adapt_style(Path(args.painting), args.name, paths.checkpoint(), paths.sample_clip(),
                          user_styles_dir(), load_bank().names, cfg, stream=sys.stderr)
    except VGGWeightsMissing as exc:
        raise UsageError(str(exc)) from exc
    print(f"style {args.name!r} written to {out}; preview: {out.with_name(args.name + '_preview.png')}")
    return 0


def add_training_commands(sub) -> None:
    s = sub.add_parser("train", help="train the multi-style network (needs '.[train]')")
    s.add_argument("--data", default=DEFAULT_BANK_DATA, help="folder with styles/ and content/ (for the bank)")
    s.add_argument("--style", action="append", help="NAME=PAINTING (repeat); default: the shipped bank's 8")
    s.add_argument("--content", action="append", help="content image folder (repeat); default: DATA/content")
    s.add_argument("--out", required=True, help="run folder: checkpoint.pt (resumed if present), previews")
    s.add_argument("--steps", type=int, default=6000)
    s.add_argument("--batch", type=int, default=4)
    s.add_argument("--style-weight", type=float, default=2.0)
    s.add_argument("--lr", type=float, default=1e-3,
                   help="learning rate of the network (a resume may lower it to anneal)")
    s.add_argument("--style-lr", type=float, default=1e-2, help="learning rate of the style vectors")
    s.add_argument("--content-layer", action="append", metavar="LAYER=WEIGHT",
                   help="VGG layer of the content loss and its weight (repeat; default relu2_2=1)")
    s.add_argument("--style-boost", action="append", metavar="NAME=FACTOR",
                   help="multiply one style's style loss by FACTOR (repeat; the others 1)")
    s.add_argument("--temporal-weight", type=float, default=200.0, help="synthetic motion (moved, noisy copy)")
    s.add_argument("--motion", action="append", help="folder of clips / frame folders for the real-motion loss (repeat)")
    s.add_argument("--motion-weight", type=float, default=200.0)
    s.add_argument("--recurrent-weight", type=float, default=0.0,
                   help="the temporal path's loss on the real-motion frames (needs --motion)")
    s.add_argument("--motion-painted", action="store_true",
                   help="the real-motion frames also get the content and style losses (needs --motion): "
                        "footage trained to be steady is trained to be painted too")
    s.add_argument("--norm-smoothing", type=float, default=0.0, metavar="BETA",
                   help="the moved view and frame t keep BETA of the first view's norm statistics, as the "
                        "run-time smoothing does (0: each view its own)")
    s.add_argument("--lock", choices=("off", "pixel", "subpixel"), default="off",  # train/motion.LOCKS
                   help="train for the run-time phase lock (--phase-lock pixel or on): whole-cell synthetic "
                        "translation, motion crops along the dominant motion; subpixel: its fraction left out too")
    s.add_argument("--warm-start", help="v1 checkpoint: initial weights and distillation teacher")
    s.add_argument("--distill-weight", type=float, default=50.0)
    s.add_argument("--distill-until", type=int, default=1500, help="step at which distillation has faded out")
    s.add_argument("--perceptual-from", type=int, default=0, help="steps before this skip the VGG losses")
    s.add_argument("--decoder-width", type=int,
                   help="channels the output conv paints from (default: the shipped layout's); a resumed "
                        "checkpoint with a narrower decoder is widened to it, keeping what it computes")
    s.add_argument("--residual-inner", type=int,
                   help="channels each residual block narrows to (default: the shipped layout's); a resumed "
                        "checkpoint with narrower blocks is widened to it, keeping what it computes")
    s.add_argument("--residual-blocks", type=int,
                   help="residual blocks in the core (default: the shipped layout's); to resume a state with "
                        "blocks dropped by `python -m stylecam.train.distill`, give it on every resume")
    s.add_argument("--layout", type=int, choices=(2, 3),
                   help="network layout (engines/network.py; default: the shipped one); a resumed v2 "
                        "checkpoint converts to 3")
    s.add_argument("--image-detail", action="store_true",
                   help="v2 with detail from the input at gains painted at 1/4 (a probe; added at zero "
                        "gain to a resumed v2 state; give it on every resume of such a run)")
    s.add_argument("--seed-period", type=int, default=0, metavar="PX",
                   help="v2 with a seed input: a fixed noise tile of this period the network may paint flat "
                        "areas from (engines/network.py; added at zero weight to a resumed v2 state; give it "
                        "on every resume of such a run); 0: none")
    s.add_argument("--stem-stride", type=int, choices=(2, 4), default=2,
                   help="v2's stem: 2 (the shipped one) or 4 (one 8x8 stride-4 conv; resume a state converted "
                        "by `python -m stylecam.train.stem4`, and give it on every resume of such a run)")
    s.add_argument("--seed", type=int, default=0, help="random seed of the data order and augmentation")
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("train-style", help="a new style from your own painting or a video (needs '.[train]')")
    s.add_argument("painting", help="image file of the painting, or a video: a painted film, your artwork filmed")
    s.add_argument("--name", required=True, help="style name: a-z, 0-9, _")
    s.add_argument("--steps", type=int, default=300)
    s.add_argument("--batch", type=int, default=4)
    s.add_argument("--crop", type=int, default=256)
    s.add_argument("--keyframes", type=int, default=8,
                   help="from a video: frames over its scenes whose style statistics are averaged (default 8)")
    s.add_argument("--content", action="append", help="extra content image folder (repeat)")
    s.set_defaults(func=cmd_train_style)
    add_eval_command(sub)


EVAL_PHOTOS = ("content/kodak/kodim04.png", "content/kodak/kodim15.png", "content/kodak/kodim23.png",
               "content/frames_tears_of_steel/tears_of_steel_excerpt_640x360_f0100.jpg")


def cmd_eval(args) -> int:
    _need_torch()
    from stylecam.app.cli.loading import load_bank, load_engine
    from stylecam.train.evaluate import EvalConfig, evaluate
    from stylecam.train.loop import BANK_STYLES
    from stylecam.train.vgg import VGGWeightsMissing

    data = Path(args.data)
    content = [Path(p) for p in args.content] if args.content else [data / p for p in EVAL_PHOTOS]
    clips = [Path(p) for p in args.clip] if args.clip else sorted((data / "video" / "clips").glob("*.mp4"))
    for path in [*content, *clips]:
        if not path.is_file():
            raise UsageError(f"evaluation input not found: {path}")
    paintings = {n: data / "styles" / f for n, f in BANK_STYLES.items() if (data / "styles" / f).is_file()}
    bank = load_bank()
    cfg = EvalConfig(out_dir=Path(args.out), content=content, clips=clips, paintings=paintings,
                     styles=args.style or [], temporal=args.temporal, clip_frames=args.clip_frames,
                     static_frames=args.static_frames)
    try:
        report = evaluate(cfg, load_engine("ort-cpu").engine, bank, log=lambda m: print(m, file=sys.stderr))
    except VGGWeightsMissing as exc:
        raise UsageError(str(exc)) from exc
    for name in report["styles"]:
        clips = report["warping_error"].get(name, {}).values()
        ratio = np.mean([v["ratio"] for v in clips]) if clips else float("nan")
        moving = np.mean([v["sharpness_ratio"] for v in clips]) if clips else float("nan")
        drift = report["sharpness"][name]["late_ratio"]
        losses = report["losses"][name]
        print(f"{name:<18} content {losses['content']:.3f} style {losses.get('style', float('nan')):.3f} "
              f"E_warp temporal/per-frame {ratio:.3f} sharpness temporal/per-frame moving {moving:.3f} "
              f"still {drift:.3f} flip ring/interior {report['flip_ring_ratio'][name]:.2f}")
    print(f"sheet: {Path(args.out) / 'sheet.png'}; report: {Path(args.out) / 'report.json'}")
    return 0


def add_eval_command(sub) -> None:
    s = sub.add_parser("eval", help="contact sheet, losses and stability figures (needs '.[train]')")
    s.add_argument("--data", default=DEFAULT_BANK_DATA, help="folder with content/, styles/, video/clips/")
    s.add_argument("--content", action="append", help="photo for the sheet and losses (repeat)")
    s.add_argument("--clip", action="append", help="moving clip for the warping error (repeat)")
    s.add_argument("--style", action="append", help="style to evaluate (repeat; default all)")
    s.add_argument("--temporal", type=float, default=0.8)
    s.add_argument("--clip-frames", type=int, default=120)
    s.add_argument("--static-frames", type=int, default=300)
    s.add_argument("--out", required=True, help="folder for sheet.png and report.json")
    s.set_defaults(func=cmd_eval)
