"""Person and background regions on real frames with people: the shipped segmenter, the mask's
steadying, the original kept on a region, two styles in one pass of the regions graph."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from stylecam.assets import paths
from stylecam.engines.backends import EngineUnavailable, OrtEngine
from stylecam.engines.person_mask import MaskSettings
from stylecam.engines.regions import ORIGINAL, Regions
from stylecam.engines.segmenter import PersonSegmenter
from stylecam.engines.stylizer import VideoStylizer
from stylecam.engines.temporal import TemporalSettings
from stylecam.train.evaluate import read_clip, static_camera_clip
from tests.conftest import SHOT_START, clip_frames

# In the sample clip's shot of frames 21-64 the actor stands at 21-41 % of the width.
PERSON_X = (0.25, 0.36)
EMPTY_X = (0.6, 1.0)


@pytest.fixture(scope="module")
def segmenter():
    return PersonSegmenter(paths.segmenter_onnx())


@pytest.fixture(scope="module")
def engine():
    return OrtEngine(paths.model_onnx(), "CPUExecutionProvider", regions_model=paths.regions_onnx())


@pytest.fixture(scope="module")
def shot():
    return clip_frames(24, (320, 240), start=SHOT_START)


def _columns(image: np.ndarray, span: tuple[float, float], rows: tuple[float, float] = (0.3, 0.9)) -> np.ndarray:
    h, w = image.shape[:2]
    return image[int(rows[0] * h):int(rows[1] * h), int(span[0] * w):int(span[1] * w)]


def test_segmenter_finds_the_actor_and_not_the_street(segmenter, shot):
    person = segmenter(shot[10])
    assert person.shape == (144, 256) and person.dtype == np.float32
    assert 0.0 <= person.min() and person.max() <= 1.0
    assert _columns(person, PERSON_X).mean() > 0.8
    assert _columns(person, EMPTY_X).mean() < 0.05


def test_an_unshipped_segmenter_is_a_clear_error(tmp_path):
    with pytest.raises(EngineUnavailable, match="segmentation model not found"):
        PersonSegmenter(tmp_path / "none.onnx")


def test_person_kept_original_and_background_stylised(engine, segmenter, shot, bank):
    stylizer = VideoStylizer(engine, bank.vectors[0], TemporalSettings(), (320, 240), segmenter)
    stylizer.set_regions(Regions(person=ORIGINAL))
    for frame in shot[:8]:
        result = stylizer.step(frame)
    out, frame = result.image.astype(np.int16), shot[7].astype(np.int16)
    person = cv2.resize(result.mask, (320, 240))
    on_person, off_person = person > 0.98, person < 0.02
    assert on_person.mean() > 0.015 and off_person.mean() > 0.5
    assert np.abs(out - frame)[on_person].mean() < 3.0  # the original, but for the feathered edge
    assert np.abs(out - frame)[off_person].mean() > 25.0  # painted
    assert result.times.segment > 0.0


def test_two_styles_paint_each_region_with_its_own(engine, segmenter, shot, bank):
    a, b = bank.vectors[0], bank.vectors[2]
    outputs = {}
    for name, regions in (("two", Regions(background=b)), ("a", Regions()), ("b", Regions())):
        style = b if name == "b" else a
        stylizer = VideoStylizer(engine, style, TemporalSettings(strength=0.0), (320, 240), segmenter)
        stylizer.set_regions(regions)
        result = stylizer.step(shot[5])
        outputs[name] = result.image.astype(np.float32)
        if name == "two":
            person = cv2.resize(result.mask, (320, 240))
    on_person, off_person = person > 0.98, person < 0.02

    def diff(x, y, where):
        return np.abs(outputs[x] - outputs[y])[where].mean()

    assert diff("two", "a", on_person) < 0.5 * diff("two", "b", on_person)
    assert diff("two", "b", off_person) < 0.5 * diff("two", "a", off_person)


def test_regions_graph_with_one_region_everywhere_is_the_one_style_graph(engine, shot, bank):
    blob = cv2.dnn.blobFromImage(shot[0], 1 / 255.0, swapRB=True)
    prev = np.zeros((1, 30, 40, engine.core_channels), np.float32)
    blend = np.zeros((1, 1, 30, 40), np.float32)
    ones = np.ones((1, 1, 60, 80), np.float32)
    one, _ = engine.run(blob, bank.vectors[1], prev, blend)
    two, _ = engine.run_two(blob, bank.vectors[1], bank.vectors[5], ones, prev, blend)
    other, _ = engine.run_two(blob, bank.vectors[5], bank.vectors[1], ones * 0, prev, blend)
    assert np.abs(one - two).max() < 5e-4 and np.abs(one - other).max() < 5e-4


def test_mask_holds_still_on_a_still_camera(engine, segmenter, bank):
    """A tripod shot (one frame, sensor noise, sub-pixel jitter): the steadied mask barely moves
    after it settles, and less than the raw mask does."""
    frames = static_camera_clip(clip_frames(1, start=SHOT_START + 10)[0], 30, (320, 240))
    changes = {}
    for label, settings in (("steadied", MaskSettings()), ("raw", MaskSettings(steadiness=0.0, every=1))):
        stylizer = VideoStylizer(engine, bank.vectors[0], TemporalSettings(), (320, 240), segmenter, settings)
        stylizer.set_regions(Regions(person=ORIGINAL))
        masks = [stylizer.step(f).mask for f in frames]
        changes[label] = np.mean([np.abs(masks[t] - masks[t - 1]).mean() for t in range(10, len(masks))])
    assert changes["steadied"] < 0.002
    assert changes["steadied"] < 0.5 * changes["raw"]


def test_the_mask_follows_a_moving_person(engine, segmenter, bank):
    """The clip shifted sideways 4 px a frame: the steadied mask's centre moves with the actor
    (within a couple of pixels), not lagging behind."""
    base = clip_frames(1, (400, 240), start=SHOT_START + 10)[0]
    frames = [np.ascontiguousarray(base[:, 60 - 4 * t:380 - 4 * t]) for t in range(12)]
    stylizer = VideoStylizer(engine, bank.vectors[0], TemporalSettings(), (320, 240), segmenter)
    stylizer.set_regions(Regions(person=ORIGINAL))
    centres = []
    for f in frames:
        mask = stylizer.step(f).mask
        cols = mask.sum(axis=0)
        centres.append(4.0 * float((cols * np.arange(len(cols))).sum() / cols.sum()))  # in frame pixels
    moved = np.diff(centres[4:])
    assert np.all(np.abs(moved - 4.0) < 2.5)


def test_both_regions_original_is_refused():
    with pytest.raises(ValueError, match="nothing to stylise"):
        Regions(person=ORIGINAL, background=ORIGINAL)


def test_regions_need_a_segmenter(engine, bank):
    stylizer = VideoStylizer(engine, bank.vectors[0], TemporalSettings())
    with pytest.raises(ValueError, match="segmenter"):
        stylizer.set_regions(Regions(person=ORIGINAL))


SHARED_CLIPS = Path(__file__).resolve().parents[2] / "shared" / "data" / "video" / "clips"


@pytest.mark.parametrize("clip, start", [("sintel_excerpt_640x360.mp4", 84), ("sintel_excerpt_640x360.mp4", 156)])
def test_background_only_on_the_people_clips_of_the_training_data(clip, start, engine, segmenter, bank):
    """The animated people of the development clips (../shared/data, not shipped): where the mask
    is sure of a person the output is the input, where it is sure of none it is painted."""
    path = SHARED_CLIPS / clip
    if not path.is_file():
        pytest.skip(f"development clip not here: {path}")
    frames = [cv2.resize(f, (480, 270)) for f in read_clip(path, start + 12)[start:]]
    stylizer = VideoStylizer(engine, bank.vectors[2], TemporalSettings(), (480, 270), segmenter)
    stylizer.set_regions(Regions(person=ORIGINAL))
    for frame in frames:
        result = stylizer.step(frame)
    person = cv2.resize(result.mask, (480, 272))[:270]
    diff = np.abs(result.image.astype(np.int16) - frames[-1].astype(np.int16)).mean(axis=2)
    assert (person > 0.98).mean() > 0.01 and (person < 0.02).mean() > 0.3
    assert diff[person > 0.98].mean() < 6.0 and diff[person < 0.02].mean() > 25.0
