"""torch -> ONNX export: checker, dynamic sizes, parity on real frames, nothing written on failure."""
from __future__ import annotations

import numpy as np
import onnx
import pytest

from stylecam.assets import paths
from stylecam.engines.backends import OrtEngine, TorchEngine
from stylecam.engines.styles import StyleBank
from stylecam.export.onnx_export import ParityError, export, parity
from tests.conftest import clip_frames

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    frames = [f[:352, :632] for f in clip_frames(4, start=30)]
    return export(paths.checkpoint(), out, frames), out


def test_export_writes_checked_graph_with_parity(exported):
    report, out = exported
    assert report.max_abs_diff <= 1e-3
    assert report.frames == 4
    model = onnx.load(str(report.onnx_path))
    onnx.checker.check_model(model)
    names = [i.name for i in model.graph.input]
    assert names == ["image", "style", "prev", "blend", "norm_stats", "norm_beta"]
    assert [o.name for o in model.graph.output] == ["output", "fused", "next_norm_stats"]
    image_dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    # RGB and the two seed planes, each reflected by one pixel about a dynamic multiple of 8
    assert image_dims[1:] == [5, "8*h8 + 2", "8*w8 + 2"]
    # each norm layer's statistics in two reductions, applied by one BatchNormalization, the form
    # OpenVINO runs fastest (network._smoothed_cin)
    ops = [n.op_type for n in model.graph.node]
    layers = ops.count("Conv") - 1
    assert ops.count("ReduceMean") == 2 * layers and ops.count("BatchNormalization") == layers
    assert "LayerNormalization" not in ops
    bank = StyleBank.load(report.bank_path)
    assert bank.names == StyleBank.load(paths.style_bank()).names
    regions = onnx.load(str(report.regions_path))
    assert [i.name for i in regions.graph.input] == ["image", "style", "style_b", "region", "prev", "blend"]
    assert [o.name for o in regions.graph.output] == ["output", "fused"]


def test_exported_graph_runs_other_sizes_like_torch(exported):
    report, _ = exported
    frames = [f[:184, :320] for f in clip_frames(3, start=40)]
    style = StyleBank.load(report.bank_path).vectors[2]
    assert parity(report.checkpoint_path, report.onnx_path, frames, style) <= 1e-3


def test_shipped_model_matches_shipped_checkpoint(bank):
    frames = [f[:360 - 8, :640] for f in clip_frames(3, start=50)]
    assert parity(paths.checkpoint(), paths.model_onnx(), frames, bank.vectors[0]) <= 1e-3


def test_shipped_regions_graph_matches_shipped_checkpoint(bank):
    frames = [f[:360 - 8, :640] for f in clip_frames(3, start=50)]
    assert parity(paths.checkpoint(), paths.model_onnx(), frames, bank.vectors[0], bank.vectors[3],
                  paths.regions_onnx()) <= 1e-3


def test_failed_parity_writes_nothing(tmp_path):
    frames = [f[:176, :320] for f in clip_frames(2, start=30)]
    with pytest.raises(ParityError):
        export(paths.checkpoint(), tmp_path, frames, tolerance=0.0)
    assert not any(tmp_path.iterdir())


def test_torch_and_ort_engines_agree_on_a_frame(bank):
    import cv2

    from stylecam.engines.temporal import identity_inputs

    frame = clip_frames(1, start=25)[0][:352]
    blob = cv2.dnn.blobFromImage(frame, 1 / 255.0, swapRB=True)
    torch_engine, ort_engine = TorchEngine(paths.checkpoint()), OrtEngine(paths.model_onnx(), "CPUExecutionProvider")
    state = np.zeros((1, 44, 80, ort_engine.core_channels), np.float32)
    a, _ = torch_engine.run(blob, bank.vectors[4], state, identity_inputs((44, 80)).blend)
    b, _ = ort_engine.run(blob, bank.vectors[4], state, identity_inputs((44, 80)).blend)
    assert a.shape == (1, 3, 352, 640)
    assert np.abs(a - b).max() <= 1e-3
