"""torch checkpoint -> ONNX graph + style bank + slim checkpoint, checked and parity-verified.

Nothing is written to the destination unless onnx.checker passes and ONNX Runtime matches torch
within `tolerance` on real frames with the temporal path running.
"""
from __future__ import annotations

import logging
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stylecam.assets import paths
from stylecam.engines.backends import OrtEngine, TorchEngine
from stylecam.engines.checkpoint import load_bank
from stylecam.engines.contract import (DOWNSCALE, GRAPH_KEY, INPUTS, OUTPUTS, REGION_DOWNSCALE, REGION_INPUTS,
                                       REGION_OUTPUTS, SEED_KEY, STEM_PAD)
from stylecam.engines.temporal import FlowTracker, TemporalSettings, warp_state

OPSET = 18


class ParityError(RuntimeError):
    """ONNX Runtime's output differs from torch's by more than the tolerance."""


@dataclass
class ExportReport:
    onnx_path: Path
    regions_path: Path  # the two-style graph
    bank_path: Path
    checkpoint_path: Path
    max_abs_diff: float  # over outputs and states, all parity frames
    frames: int
    styles: int


def export_graph(checkpoint: Path, onnx_path: Path, two_styles: bool = False) -> None:
    """Export the network with torch.export (dynamo) to ONNX, H and W dynamic multiples of 8 (a
    seeded network's image, its stem input, 2 more: contract.py), and run the full onnx.checker.
    two_styles: the regions graph (network.TwoStyleGraph, inputs contract.REGION_INPUTS) instead
    of the one-style graph."""
    import onnx
    import torch

    from stylecam.engines.checkpoint import load_network
    from stylecam.engines.network import SmoothedGraph, TwoStyleGraph

    net = load_network(checkpoint)
    c = net.config.core_channels
    h8, w8 = 12, 16
    rows, cols = torch.export.Dim("h8", min=2, max=1024), torch.export.Dim("w8", min=2, max=1024)
    image, pad = torch.rand(1, 3, h8 * DOWNSCALE, w8 * DOWNSCALE), 0
    if net.config.seed_period:  # the stem's whole input (contract.py)
        image, pad = net.stem_input(image), 2 * STEM_PAD
    style, prev, blend = net.config.identity_style(), torch.zeros(1, h8, w8, c), torch.zeros(1, 1, h8, w8)
    dynamic = {"image": {2: DOWNSCALE * rows + pad, 3: DOWNSCALE * cols + pad}, "style": None,
               "prev": {1: rows, 2: cols}, "blend": {2: rows, 3: cols}, "norm_stats": None, "norm_beta": None}
    if two_styles:
        r = DOWNSCALE // REGION_DOWNSCALE
        region = torch.rand(1, 1, h8 * r, w8 * r)
        module, names, args = TwoStyleGraph(net).eval(), REGION_INPUTS, (image, style, style.clone(), region, prev, blend)
        dynamic, outputs = {**dynamic, "style_b": None, "region": {2: r * rows, 3: r * cols}}, REGION_OUTPUTS
    else:
        stats, beta = torch.rand(net.config.style_size()), torch.full((1,), 0.5)
        module, names, args = SmoothedGraph(net).eval(), INPUTS, (image, style, prev, blend, stats, beta)
        outputs = OUTPUTS
    dynamic = {name: dynamic[name] for name in names}
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # "torchvision is not installed" notes
    with warnings.catch_warnings(), torch.no_grad():  # an inference graph (network._smoothed_cin)
        warnings.filterwarnings("ignore", message=".*axis name.*will not be used")
        warnings.filterwarnings("ignore", category=FutureWarning)  # torch-internal deprecations
        program = torch.onnx.export(module, args, dynamo=True, opset_version=OPSET, input_names=list(names),
                                    output_names=list(outputs), dynamic_shapes=dynamic, verbose=False)
    program.save(str(onnx_path))
    model = onnx.load(str(onnx_path))
    kind = " regions" if two_styles else ""
    seed = {SEED_KEY: str(net.config.seed_period)} if net.config.seed_period else {}
    onnx.helper.set_model_props(model, {GRAPH_KEY: net.config.graph_name + kind, **seed})
    onnx.save(model, str(onnx_path))
    onnx.checker.check_model(model, full_check=True)


def _region_map(frame: np.ndarray) -> np.ndarray:
    """A test region for parity: a soft vertical split of the frame, 1 x 1 x H/4 x W/4 float32."""
    h, w = frame.shape[0] // REGION_DOWNSCALE, frame.shape[1] // REGION_DOWNSCALE
    ramp = np.clip(np.linspace(-2.0, 3.0, w, dtype=np.float32), 0.0, 1.0)
    return np.ascontiguousarray(np.broadcast_to(ramp, (1, 1, h, w)))


def parity(checkpoint: Path, onnx_path: Path, frames: list[np.ndarray], style: np.ndarray,
           style_b: np.ndarray | None = None, regions_path: Path | None = None) -> float:
    """Max |torch - ORT| over outputs and states (the norm statistics relative to their largest),
    feeding both the same inputs frame by frame (frames: consecutive H x W x 3 uint8 BGR, H and W
    multiples of 8; temporal path and smoothed norm statistics on). With
    style_b, the regions graph at `regions_path` runs instead, `style` on the right of a soft split.
    A seeded network's tile is cut at an origin that moves with each frame, wrapping around it."""
    import cv2

    torch_engine = TorchEngine(checkpoint)
    ort_engine = OrtEngine(onnx_path, "CPUExecutionProvider", regions_model=regions_path)
    tracker = FlowTracker(TemporalSettings(strength=0.9))
    worst, state, stats, beta = 0.0, None, np.zeros(len(style), np.float32), 0.0
    for i, frame in enumerate(frames):
        seed = {"origin": (25 * i - 2, 12 * i - 37)} if torch_engine.seeded else {}
        h, w = frame.shape[:2]
        core = (h // DOWNSCALE, w // DOWNSCALE)
        temporal = tracker.step(frame, core)
        if state is None or temporal.reset:
            prev = np.zeros((1, *core, torch_engine.core_channels), np.float32)
        else:
            prev = warp_state(state, temporal.maps)
        blob = cv2.dnn.blobFromImage(frame, 1.0 / 255.0, swapRB=True)
        if style_b is None:  # the norm statistics smoothed over the frames (beta 0 on the first)
            (out_t, state_t, stats_t), (out_o, state_o, stats_o) = (
                e.run_smoothed(blob, style, prev, temporal.blend, stats, beta, **seed) for e in (torch_engine, ort_engine))
            worst = max(worst, float(np.abs(stats_t - stats_o).max() / max(1.0, np.abs(stats_t).max())))
            stats, beta = stats_t, 0.9
        else:
            args = (blob, style, style_b, _region_map(frame), prev, temporal.blend)
            (out_t, state_t), (out_o, state_o) = (e.run_two(*args, **seed) for e in (torch_engine, ort_engine))
        worst = max(worst, float(np.abs(out_t - out_o).max()), float(np.abs(state_t - state_o).max()))
        state = state_t
    return worst


def slim_checkpoint(checkpoint: Path, dest: Path) -> None:
    """Keep what inference and warm starts need: weights, styles, names, configs."""
    import torch

    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    keep = {k: state[k] for k in ("net", "styles", "names", "net_config", "train_config", "step") if k in state}
    torch.save(keep, dest)


def export(checkpoint: Path, out_dir: Path, frames: list[np.ndarray], tolerance: float = 1e-3) -> ExportReport:
    """Write stylecam.onnx, stylecam_regions.onnx, styles.npz and stylecam.pt into out_dir once
    all checks pass."""
    checkpoint, out_dir = Path(checkpoint), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    bank = load_bank(checkpoint)
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        tmp = Path(tmp)
        model, regions = tmp / paths.MODEL_ONNX, tmp / paths.MODEL_REGIONS_ONNX
        export_graph(checkpoint, model)
        export_graph(checkpoint, regions, two_styles=True)
        n = len(bank.names)
        diff = max(parity(checkpoint, model, frames, bank.vectors[i]) for i in range(n))
        diff = max(diff, parity(checkpoint, model, frames, bank.vectors[0], bank.vectors[n - 1], regions))
        if not diff <= tolerance:
            raise ParityError(f"ONNX Runtime differs from torch by {diff:.2e} > {tolerance:.0e}")
        bank.save(tmp / paths.STYLE_BANK)
        slim_checkpoint(checkpoint, tmp / paths.CHECKPOINT)
        for name in (paths.MODEL_ONNX, paths.MODEL_REGIONS_ONNX, paths.STYLE_BANK, paths.CHECKPOINT):
            os.replace(tmp / name, out_dir / name)
    return ExportReport(out_dir / paths.MODEL_ONNX, out_dir / paths.MODEL_REGIONS_ONNX, out_dir / paths.STYLE_BANK,
                        out_dir / paths.CHECKPOINT, diff, len(frames), n)
