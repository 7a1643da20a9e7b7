"""Engine choice, style bank and sources."""
from __future__ import annotations

import sys

import cv2
import numpy as np
import onnxruntime
import pytest

from stylecam.app.cli.loading import load_engine
from stylecam.app.live.sources import SyntheticSource, VideoFileSource
from stylecam.assets import paths
from stylecam.engines.backends import EngineUnavailable, OpenVinoGraph, create_engine
from stylecam.engines.seed import StemInput, seed_tile
from stylecam.engines.stability import sharpness
from stylecam.engines.styles import StyleBank, StyleError
from stylecam.engines.stylizer import VideoStylizer
from stylecam.engines.temporal import TemporalSettings
from stylecam.train.evaluate import portrait_before_wall
from tests.conftest import SHOT_START, clip_frames

HAS_CUDA = "CUDAExecutionProvider" in onnxruntime.get_available_providers()


def test_auto_says_what_it_chose_and_why():
    choice = load_engine("auto")
    text = choice.describe()
    assert f"engine {choice.engine.name} on {choice.engine.provider}" in text
    if not HAS_CUDA:  # on the CPU OpenVINO runs the graph 1.2-1.4x as fast as ONNX Runtime
        assert (choice.engine.name, choice.engine.provider) == ("openvino", "CPU")
        assert "ort-cuda: CUDAExecutionProvider is not in this onnxruntime build" in text


def test_without_openvino_auto_runs_onnx_runtime_and_says_why(monkeypatch):
    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino now raises ImportError
    with pytest.raises(EngineUnavailable, match=r"openvino is not installed \(pip install openvino\)"):
        load_engine("openvino")
    choice = load_engine("auto")
    assert (choice.engine.name, choice.engine.provider) == ("onnxruntime", "CPUExecutionProvider")
    assert "openvino: openvino is not installed" in choice.describe()


def test_openvino_stylises_as_onnx_runtime_does(bank, ort_engine):
    """The whole temporal path (smoothed norms, phase lock, seed) on real frames at 640x480, one
    engine against the other: the same frames to a level."""
    openvino = load_engine("openvino").engine
    assert (openvino.graph, openvino.precision, openvino.seed_period) == (ort_engine.graph, "fp32", ort_engine.seed_period)
    frames = clip_frames(8, (640, 480), start=SHOT_START)
    runs = []
    for engine in (openvino, ort_engine):
        stylizer = VideoStylizer(engine, bank.vector("udnie"), TemporalSettings(0.8))
        runs.append([stylizer.step(f).image.astype(int) for f in frames])
    for a, b in zip(*runs):
        assert np.abs(a - b).max() <= 2 and np.abs(a - b).mean() < 0.05


def test_openvino_paints_two_regions_and_steps_through_sizes(bank, ort_engine, frames_small):
    """Two styles at once (the regions graph) as ONNX Runtime paints them, and frame sizes that
    change as --size auto changes them: each size compiled once, the last few kept."""
    openvino = load_engine("openvino").engine
    frame = cv2.dnn.blobFromImage(cv2.resize(frames_small[0], (320, 240)), 1 / 255.0, swapRB=True)
    region = np.zeros((1, 1, 60, 80), np.float32)
    region[..., 40:] = 1.0
    prev, blend = np.zeros((1, 30, 40, openvino.core_channels), np.float32), np.zeros((1, 1, 30, 40), np.float32)
    args = (frame, bank.vector("udnie"), bank.vector("great_wave"), region, prev, blend, (3, 5))
    a, b = openvino.run_two(*args), ort_engine.run_two(*args)
    for x, y in zip(a, b):
        assert x.shape == y.shape and np.abs(x - y).max() < 1e-3
    for w, h in ((320, 240), (256, 192), (224, 168), (160, 120), (320, 240), (96, 64)):
        image = cv2.dnn.blobFromImage(cv2.resize(frames_small[0], (w, h)), 1 / 255.0, swapRB=True)
        prev = np.zeros((1, h // 8, w // 8, openvino.core_channels), np.float32)
        output, state = openvino.run(image, bank.vectors[0], prev, np.zeros((1, 1, h // 8, w // 8), np.float32))
        assert output.shape == (1, 3, h, w) and state.shape == prev.shape
    assert len(openvino.network._compiled) == OpenVinoGraph.KEEP


def test_openvino_serves_two_threads_at_once(bank, frames_small):
    """The window makes a new style's thumbnail on its own thread while the pipeline's thread runs
    frames through the same engine: calls from both, at the same size and at two, all answered as
    one thread alone answers them."""
    from concurrent.futures import ThreadPoolExecutor

    openvino = load_engine("openvino").engine
    sizes = ((320, 240), (320, 240), (256, 192))
    work = []
    for i in range(12):
        w, h = sizes[i % 3]
        image = cv2.dnn.blobFromImage(cv2.resize(frames_small[i % len(frames_small)], (w, h)), 1 / 255.0, swapRB=True)
        prev = np.zeros((1, h // 8, w // 8, openvino.core_channels), np.float32)
        work.append((image, bank.vectors[i % len(bank.names)], prev, np.zeros((1, 1, h // 8, w // 8), np.float32)))
    alone = [openvino.run(*args)[0] for args in work]
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(lambda args: openvino.run(*args)[0], work))
    for a, b in zip(alone, together):
        assert np.array_equal(a, b)


def test_a_lending_openvino_engine_answers_as_the_engine_in_its_own_buffers_for_two_calls(bank, frames_small):
    """`lending()` (what the stylizer calls): the same results as the copying engine, as views of
    two buffers used in turn, so each result holds until the second call after it and is then
    overwritten; the engine itself still answers with arrays of its own, and a second lender
    keeps buffers of its own."""
    openvino = load_engine("openvino").engine
    lender, other = openvino.lending(), openvino.lending()
    work = []
    for frame in frames_small[:4]:
        image = cv2.dnn.blobFromImage(cv2.resize(frame, (160, 96)), 1 / 255.0, swapRB=True)
        work.append((image, bank.vectors[0], np.zeros((1, 12, 20, openvino.core_channels), np.float32),
                     np.zeros((1, 1, 12, 20), np.float32)))
    expected = [openvino.run(*args) for args in work]
    assert not any(np.shares_memory(expected[0][0], output) for output, _ in expected[1:])  # arrays of their own
    first = lender.run(*work[0])
    second = lender.run(*work[1])
    theirs = other.run(*work[3])
    for got, want in zip(first + second + theirs, expected[0] + expected[1] + expected[3]):
        assert np.array_equal(got, want)
    assert not first[0].flags.owndata and not np.shares_memory(first[0], second[0])
    third = lender.run(*work[2])
    assert np.shares_memory(third[0], first[0]) and np.array_equal(first[0], expected[2][0])
    assert np.array_equal(theirs[0], expected[3][0])  # the other lender's buffers untouched


def test_openvino_refuses_a_graph_of_another_version():
    from pathlib import Path

    v1_graph = Path(__file__).resolve().parents[1] / "benchmarks" / "v1" / "stylecam_v1.onnx"
    with pytest.raises(EngineUnavailable, match="a graph from another version"):
        create_engine("openvino", v1_graph, paths.checkpoint())


def test_cpu_session_options(ort_engine):
    opts = ort_engine.session.get_session_options()
    assert opts.intra_op_num_threads >= 1
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_unknown_engine_and_missing_model(tmp_path):
    with pytest.raises(EngineUnavailable, match="unknown engine 'gpu9000'"):
        create_engine("gpu9000", paths.model_onnx(), paths.checkpoint())
    with pytest.raises(EngineUnavailable, match="model file not found"):
        create_engine("ort-cpu", tmp_path / "none.onnx", paths.checkpoint())


@pytest.mark.skipif(not HAS_CUDA, reason="CUDA is not available here (onnxruntime CPU build, no GPU)")
def test_cuda_engine_matches_cpu(frames_small, bank):
    cuda = load_engine("ort-cuda").engine
    assert cuda.provider == "CUDAExecutionProvider"
    cpu = load_engine("ort-cpu").engine
    a = VideoStylizer(cuda, bank.vectors[0], TemporalSettings(0.0)).step(frames_small[0]).image
    b = VideoStylizer(cpu, bank.vectors[0], TemporalSettings(0.0)).step(frames_small[0]).image
    assert np.abs(a.astype(int) - b).max() <= 2


def test_torch_engine_runs_the_stylizer(frames_small, bank, ort_engine):
    pytest.importorskip("torch")
    torch_engine = load_engine("torch").engine
    a = VideoStylizer(torch_engine, bank.vectors[1], TemporalSettings(0.8))
    b = VideoStylizer(ort_engine, bank.vectors[1], TemporalSettings(0.8))
    for frame in frames_small[:4]:
        ia, ib = a.step(frame).image, b.step(frame).image
        assert np.abs(ia.astype(int) - ib).max() <= 1


def test_stylizer_output_contract(frames_small, bank, ort_engine):
    result = VideoStylizer(ort_engine, bank.vectors[0], TemporalSettings(0.8), size=(200, 110)).step(frames_small[0])
    assert result.image.shape == (110, 200, 3) and result.image.dtype == np.uint8
    assert result.image.flags["C_CONTIGUOUS"]
    assert result.image.std() > 5  # a picture, not a flat field
    t = result.times
    assert t.total == pytest.approx(t.preprocess + t.flow + t.segment + t.engine + t.postprocess + t.blend)


def test_style_bank(bank, tmp_path):
    assert len(bank.names) >= 1 and len(set(bank.names)) == len(bank.names)
    assert bank.vectors.dtype == np.float32 and np.isfinite(bank.vectors).all()
    assert bank.index("1") == 1 and bank.index(bank.names[0]) == 0
    with pytest.raises(StyleError, match="unknown style"):
        bank.index("nope")
    with pytest.raises(StyleError, match="duplicate"):
        StyleBank(("a", "a"), np.zeros((2, 4), np.float32))
    bad = tmp_path / "bank.npz"
    bad.write_bytes(b"not an npz")
    with pytest.raises(StyleError, match="cannot read style bank"):
        StyleBank.load(bad)
    bank.save(tmp_path / "copy.npz")
    again = StyleBank.load(tmp_path / "copy.npz")
    assert again.names == bank.names and np.array_equal(again.vectors, bank.vectors)


def test_shipped_bank_every_style_runs(bank, ort_engine, frames_small):
    from stylecam.app.cli.loading import style_thumbnail

    assert len(bank.names) >= 8
    assert paths.model_onnx().stat().st_size + paths.style_bank().stat().st_size <= 10 * 2**20
    images = []
    for name in bank.names:
        images.append(VideoStylizer(ort_engine, bank.vector(name), TemporalSettings(0.0)).step(frames_small[0]).image)
        assert style_thumbnail(name) is not None, name
    for a in range(len(images)):  # every style looks different from every other
        for b in range(a + 1, len(images)):
            assert np.abs(images[a].astype(int) - images[b]).mean() > 2, (bank.names[a], bank.names[b])


def test_sample_clip_is_real_footage():
    clip = VideoFileSource(paths.sample_clip())
    frames = list(clip.frames())
    assert len(frames) == 240 and clip.info.fps == pytest.approx(24.0)
    assert frames[0].image.shape == (360, 640, 3)
    assert [f.index for f in frames[:3]] == [0, 1, 2]


def test_synthetic_source_moves():
    source = SyntheticSource(160, 120)
    frames = source.frames()
    a, b = next(frames), next(frames)
    assert a.image.shape == (120, 160, 3) and a.image.dtype == np.uint8
    change = np.abs(a.image.astype(int) - b.image).mean()
    assert change > 1 and change < 60  # moving, but continuous
    assert b.t_capture >= a.t_capture
    assert np.array_equal(SyntheticSource(160, 120).render(5), source.render(5))  # deterministic


def test_no_position_bias_at_the_frame_border(bank, ort_engine):
    """The flip test (train/evaluate.py) on real frames at 640x480: mirroring the input mirrors
    the output as well in the outer 32-pixel ring as inside (v1 with zero padding: up to 1.94).
    Checked on the styles that were worst in v1."""
    from stylecam.train.evaluate import flip_test
    from tests.conftest import clip_frames

    photos = clip_frames(2, start=30) + clip_frames(1, start=120)
    for name in ("great_wave", "the_scream"):
        assert flip_test(ort_engine, bank.vector(name), photos) <= 1.15, name


def test_engines_say_which_graph_runs(ort_engine):
    assert ort_engine.graph == "stylecam v2 seeded" and ort_engine.precision == "fp32"
    assert "graph stylecam v2 seeded fp32" in load_engine("ort-cpu").describe()


def test_the_shipped_seed_paints_a_plain_wall(ort_engine, bank):
    """A webcam's usual scene, a person (a real frame) before a plain wall: in every style the
    wall above the person is painted with texture the seed gives (1.7-3.3x the Laplacian variance
    of the same graph fed an all-zero seed, measured at shipping)."""
    assert ort_engine.seed_period > 0
    scene = cv2.dnn.blobFromImage(portrait_before_wall(clip_frames(1, start=SHOT_START + 10)[0]), 1 / 255, swapRB=True)
    prev = np.zeros((1, 60, 80, ort_engine.core_channels), np.float32)
    blend = np.zeros((1, 1, 60, 80), np.float32)
    tiles = {"seed": seed_tile(ort_engine.seed_period), "none": np.zeros_like(seed_tile(ort_engine.seed_period))}
    for name in bank.names:
        wall = {}
        for key, tile in tiles.items():
            stem = StemInput(tile)
            stem.rgb(480, 640)[...] = scene
            output, _ = ort_engine.run(stem.finish((0, 0)), bank.vector(name), prev, blend)
            image = (output[0].transpose(1, 2, 0) * 255).round().astype(np.uint8)
            wall[key] = sharpness(np.ascontiguousarray(image[20:110, 20:620]))
        assert wall["seed"] > 1.4 * wall["none"], (name, wall)


def test_a_graph_of_another_version_is_refused_with_a_reason():
    from pathlib import Path

    v1_graph = Path(__file__).resolve().parents[1] / "benchmarks" / "v1" / "stylecam_v1.onnx"
    with pytest.raises(EngineUnavailable, match="a graph from another version"):
        create_engine("ort-cpu", v1_graph, paths.checkpoint())


def test_cpu_class_names_the_host_class():
    from stylecam.engines.host import cpu_class, cpu_flags

    assert cpu_class({"sse4_2", "avx", "avx2", "fma"}) == "AVX2 only (no AVX-512)"
    assert cpu_class({"avx2", "avx512f", "avx512_vnni", "avx512_bf16"}) == "AVX-512 (VNNI, BF16)"
    assert cpu_class(set()) == "unknown"
    if cpu_flags():  # Linux: this machine's own flags are read
        assert cpu_class() != "unknown"


def test_user_styles_that_cannot_serve_are_skipped_with_a_warning(bank, tmp_path):
    from stylecam.engines.styles import merged

    size = bank.vectors.shape[1]
    StyleBank(("mine",), bank.vectors[:1] * 0.5).save(tmp_path / "mine.npz")
    StyleBank(("old_net",), np.zeros((1, size - 16), np.float32)).save(tmp_path / "old_net.npz")
    StyleBank((bank.names[0],), bank.vectors[:1]).save(tmp_path / "clash.npz")
    (tmp_path / "torn.npz").write_bytes(b"PK\x03\x04 cut short")
    warnings = []
    result = merged(bank, tmp_path, warnings.append)
    assert result.names == (*bank.names, "mine")
    assert np.array_equal(result.vector("mine"), bank.vectors[0] * 0.5)
    assert len(warnings) == 3
    assert any("old_net.npz" in w and "run train-style" in w for w in warnings)
    assert any("clash.npz" in w and "already taken" in w for w in warnings)
    assert any("torn.npz" in w for w in warnings)
