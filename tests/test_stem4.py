"""Network v2 with the stride-4 stem (engines/network.py `stem_stride`) and the conversion of a
trained state to it (train/stem4.py)."""
from __future__ import annotations

import numpy as np
import pytest

from stylecam.assets import paths
from stylecam.engines.backends import OrtEngine
from stylecam.engines.checkpoint import load_bank, load_network
from stylecam.engines.stylizer import VideoStylizer
from stylecam.engines.temporal import TemporalSettings
from stylecam.export.onnx_export import export
from tests.conftest import clip_frames

torch = pytest.importorskip("torch")

from stylecam.engines.network import NetConfig, Stylizer  # noqa: E402
from stylecam.train.data import ContentCrops  # noqa: E402
from stylecam.train.loop import save_atomic  # noqa: E402
from stylecam.train.stem4 import convert  # noqa: E402


@pytest.mark.parametrize("seed_period", [0, 256])
def test_the_stride_4_stem_has_no_layer_at_half_resolution(seed_period):
    config = NetConfig(seed_period=seed_period, stem_stride=4)
    net = Stylizer(config).eval()
    assert config.norm_channels()[:2] == [32, 64] and config.norm_scales()[:2] == [4, 8]
    assert config.style_size() == NetConfig(seed_period=seed_period).style_size() - 2 * 16
    assert not hasattr(net, "enc2") and net.enc1.stride == (4, 4)
    image = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        p = net.norms(config.identity_style())
        stem = net.stem_input(image) if seed_period else image
        assert net.enc1(stem).shape == (1, 32, 16, 24)  # straight to 1/4
        assert net.encode(image, p).shape == (1, 64, 8, 12)
        out = net.stylize(image, config.identity_style())
    assert out.shape == image.shape and 0 < float(out.min()) and float(out.max()) < 1


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """The shipped state converted in a short run on real frames (the sample clip)."""
    pictures = [np.ascontiguousarray(f[:, :, ::-1]) for f in clip_frames(12, start=30)]  # RGB
    state = torch.load(paths.checkpoint(), map_location="cpu", weights_only=True)
    torch.manual_seed(0)
    crops = ContentCrops(pictures, 128, torch.Generator().manual_seed(0))
    new, losses = convert(state, crops, steps=60, batch=4, log=lambda _: None)
    path = tmp_path_factory.mktemp("stem4") / "converted.pt"
    save_atomic(new, path)
    return path, losses


def test_conversion_regresses_the_old_two_layers(converted):
    path, losses = converted
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:3])
    net, bank, shipped = load_network(path), load_bank(path), load_bank(paths.checkpoint())
    assert net.config.stem_stride == 4 and bank.names == shipped.names
    assert bank.vectors.shape == (len(shipped.names), shipped.vectors.shape[1] - 2 * 16)
    # everything after the new stem's norm layer is the shipped network's, vectors included
    np.testing.assert_array_equal(bank.vectors[:, 2 * 32:], shipped.vectors[:, 2 * (16 + 32):])


def test_a_converted_state_exports_and_runs(converted, tmp_path):
    path, _ = converted
    frames = [f[:176, :320] for f in clip_frames(3, start=40)]
    report = export(path, tmp_path, frames)
    assert report.max_abs_diff <= 1e-3  # ONNX Runtime as torch, both graphs
    engine = OrtEngine(report.onnx_path, "CPUExecutionProvider")
    stylizer = VideoStylizer(engine, load_bank(path).vectors[0], TemporalSettings(), (320, 176))
    images = [stylizer.step(f).image for f in frames]
    assert images[-1].shape == (176, 320, 3) and float(images[-1].std()) > 10  # a picture, not a flat field
