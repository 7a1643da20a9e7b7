"""A style from a video: scenes found in a real clip, keyframes spread over them, read from the
file in RGB; the file's kind told from its content. (train-style end to end: test_training.py.)"""
from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from stylecam.train.style_source import pick_keyframes, read_style_source, scene_starts
from tests.conftest import SHOT_START, clip_frames, read_video, write_clip

SIZE = (160, 96)
LENGTHS = (30, 14, 50)  # frames in each scene of three_scenes


@pytest.fixture(scope="module")
def three_scenes(tmp_path_factory):
    """An mp4 of three real shots (sample clip frames) of different lengths, each made to look
    unlike the others: as filmed, JET-coloured, inverted."""
    a = clip_frames(LENGTHS[0], SIZE, start=SHOT_START)
    b = [cv2.applyColorMap(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), cv2.COLORMAP_JET)
         for f in clip_frames(LENGTHS[1], SIZE, start=70)]
    c = [255 - f for f in clip_frames(LENGTHS[2], SIZE, start=100)]
    path = tmp_path_factory.mktemp("video") / "three_scenes.mp4"
    write_clip(path, a + b + c)
    return path


def _scene_of(frame: int) -> int:
    return int(np.searchsorted(np.cumsum(LENGTHS), frame, side="right"))


def _greys(frames: list[np.ndarray]) -> list[np.ndarray]:
    return [cv2.cvtColor(cv2.resize(f, (64, 36), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY) for f in frames]


def test_scenes_are_found_at_the_cuts_and_not_in_flicker(three_scenes):
    decoded, _ = read_video(three_scenes)
    assert scene_starts(_greys(decoded)) == [0, LENGTHS[0], LENGTHS[0] + LENGTHS[1]]
    shot = clip_frames(30, SIZE, start=SHOT_START)
    strobe = [cv2.convertScaleAbs(f, alpha=0.4) if i % 2 else f for i, f in enumerate(shot)]
    assert scene_starts(_greys(strobe)) == [0]  # every other frame dark: one scene, not fifteen


def test_keyframes_cover_every_scene_spread_by_length(three_scenes):
    source = read_style_source(three_scenes, 8)
    assert source.scenes == 3 and len(source.frames) == len(source.images) == 8
    per_scene = np.bincount([_scene_of(t) for t in source.frames], minlength=3)
    assert per_scene.min() >= 1 and per_scene.argmax() == 2 and per_scene.argmin() == 1, per_scene
    decoded, _ = read_video(three_scenes)
    for t, image in zip(source.frames, source.images):  # the very frames, in RGB
        assert np.array_equal(image, cv2.cvtColor(decoded[t], cv2.COLOR_BGR2RGB))
    two = read_style_source(three_scenes, 2).frames
    assert len(two) == 2 and len({_scene_of(t) for t in two}) == 2


@pytest.mark.parametrize("n_frames", [1, 5])
def test_a_video_shorter_than_the_keyframes_gives_each_frame_once(n_frames, tmp_path):
    path = tmp_path / "short.mp4"
    write_clip(path, clip_frames(n_frames, SIZE, start=SHOT_START))
    source = read_style_source(path, 8)
    assert source.frames == list(range(n_frames)) and len(source.images) == n_frames


def test_more_scenes_than_keyframes_takes_scenes_spread_over_time():
    starts = list(range(0, 200, 20))  # ten scenes of 20 frames
    picked = pick_keyframes(200, starts, 3)
    assert len(picked) == 3 and len({t // 20 for t in picked}) == 3
    assert picked[0] < 70 and picked[-1] >= 140  # early and late, not the first three scenes


def test_the_kind_is_told_from_the_content_not_the_name(three_scenes, tmp_path):
    video_named_png = tmp_path / "really_a_video.png"
    shutil.copy(three_scenes, video_named_png)
    assert len(read_style_source(video_named_png, 4).images) == 4
    image_named_mp4 = tmp_path / "really_an_image.mp4"
    frame = clip_frames(1, SIZE, start=SHOT_START)[0]
    cv2.imwrite(str(tmp_path / "frame.png"), frame)
    shutil.copy(tmp_path / "frame.png", image_named_mp4)
    source = read_style_source(image_named_mp4)
    assert source.frames == [] and np.array_equal(source.images[0], cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
