"""The video stage: frames kept or read for the searches, and the searches' cache."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

import screener.acquire as acquire
import screener.pose
import screener.video
from screener.capture import OTHER_PEOPLE_LONG_SIDE_PX, other_people_frames
from screener.config import AnalysisConfig
from screener.errors import NoPersonError
from screener.keypoints import PoseSequence, empty_pose_sequence
from screener.landmarks import INDEX, N_LANDMARKS
from screener.pose import estimate_pose
from screener.video import iter_frames, read_frames
from screener.view import FACE_SEARCH_LONG_SIDE_PX, detect_faces, face_region, face_search_frames


@pytest.mark.parametrize("rotation", [0, 90])
def test_read_frames_are_the_frames_iter_frames_yields(make_video, rotation):
    # keyframes every 10 frames: the far indices are reached by seeking
    video = make_video("v.mp4", n_frames=60, size=(160, 96), display_rotation_ccw=rotation)
    wanted = {None: [0, 7, 25, 26, 59, 75], 64: [3, 41, 59]}
    got = read_frames(video, wanted)
    for size, indices in wanted.items():
        expected = {
            f.index: f.rgb for f in iter_frames(video, max_long_side_px=size) if f.index in indices
        }
        assert sorted(got[size]) == sorted(expected) == [i for i in indices if i < 60]
        for index, rgb in expected.items():
            assert np.array_equal(got[size][index], rgb), (size, index)


def test_read_frames_of_nothing_reads_nothing(tmp_path):
    assert read_frames(tmp_path / "missing.mp4", {640: []}) == {640: {}}


def test_search_results_are_cached_with_the_keypoints(sample_clip, tmp_path, monkeypatch):
    config = AnalysisConfig(cache_dir=tmp_path / "cache")
    first = acquire.estimate_video_pose(sample_clip, config)
    assert first.other_people is not None and first.faces is not None
    assert len(list((tmp_path / "cache").rglob("*.searches.json"))) == 1

    def no_search(*args, **kwargs):
        raise AssertionError("the searches ran again")

    monkeypatch.setattr(acquire, "_search_frames", no_search)
    again = acquire.estimate_video_pose(sample_clip, config, release_pose_model=True)
    assert again.raw.source["cache"] == "hit"
    assert again.other_people == first.other_people
    assert again.faces == first.faces
    assert again.scene_tilt == first.scene_tilt is not None
    assert again.lighting == first.lighting is not None
    assert first.lighting.frames >= 4  # the second person's frames, measured as well

    # other search settings: not taken from the cache
    fewer = config.model_copy(
        update={"capture": config.capture.model_copy(update={"other_people_frames": 4})}
    )
    with pytest.raises(AssertionError, match="ran again"):
        acquire.estimate_video_pose(sample_clip, fewer)


def test_an_unreadable_search_cache_entry_is_recomputed(sample_clip, tmp_path):
    config = AnalysisConfig(cache_dir=tmp_path / "cache")
    first = acquire.estimate_video_pose(sample_clip, config)
    (entry,) = Path(tmp_path / "cache").rglob("*.searches.json")
    entry.write_text("{not json", encoding="utf-8")
    again = acquire.estimate_video_pose(sample_clip, config)
    assert again.other_people == first.other_people and again.faces == first.faces
    assert again.lighting == first.lighting
    assert entry.read_text(encoding="utf-8").startswith("{")
    assert "not json" not in entry.read_text(encoding="utf-8")


def _landmarks(pose: PoseSequence, detected: np.ndarray) -> PoseSequence:
    """A head and shoulders that move a little from frame to frame where ``detected``."""
    width, height = pose.image_size_px
    xy = np.full((pose.n_frames, N_LANDMARKS, 2), np.nan)
    for i in np.flatnonzero(detected):
        cx, cy = width / 2 + i % 7, height / 3 + i % 5
        for name, dx in (("nose", 0), ("left_eye", 4), ("right_eye", -4)):
            xy[i, INDEX[name]] = (cx + dx, cy)
        xy[i, INDEX["left_shoulder"]] = (cx + 20.5, cy + 25)
        xy[i, INDEX["right_shoulder"]] = (cx - 20.5, cy + 25)
    return pose.with_arrays(image_xy_px=xy, detected=detected)


def _drive(video: Path, tap: acquire.SearchFrameTap, pose: PoseSequence) -> list[int]:
    """A pose pass without MediaPipe, ``pose`` standing for the model's answers; the
    indices of the frames that came with a second-person copy."""
    converted = []
    for frame in iter_frames(video, max_long_side_px=48, extra_sizes=tap.sizes):
        if OTHER_PEOPLE_LONG_SIDE_PX in frame.extra:
            converted.append(frame.index)
        xy = pose.image_xy_px[frame.index] if pose.detected[frame.index] else None
        tap.seen(frame, xy, pose.image_size_px)
    return converted


@pytest.mark.parametrize("rotation", [0, 90])
@pytest.mark.parametrize("gaps", [False, True])
def test_the_pose_pass_keeps_what_the_searches_would_read(make_video, rotation, gaps):
    video = make_video("v.mp4", n_frames=60, size=(160, 96), display_rotation_ccw=rotation)
    detected = np.ones(60, dtype=bool)
    if gaps:  # no pose at the start, around two targets and in the last frames
        detected[[0, 1, 2, 17, 18, 25, 26, 27, 28, 57, 58, 59]] = False
    upright = (96, 160) if rotation else (160, 96)
    pose = _landmarks(empty_pose_sequence(np.arange(60) / 30.0, upright), detected)
    config = AnalysisConfig(cache_dir=None)
    tap = acquire.SearchFrameTap(60, config)
    converted = _drive(video, tap, pose)

    others = other_people_frames(pose, config.capture.other_people_frames)
    faces = face_search_frames(pose)
    read = read_frames(video, {OTHER_PEOPLE_LONG_SIDE_PX: others, FACE_SEARCH_LONG_SIDE_PX: faces})
    # all but the last target's frame when the last frame has no pose (read afterwards)
    assert sorted(tap.others) == (others[:-1] if gaps else others)
    for index, rgb in tap.others.items():
        assert np.array_equal(rgb, read[OTHER_PEOPLE_LONG_SIDE_PX][index]), index
    assert sorted(tap.face_regions) == faces
    for index, region in tap.face_regions.items():
        frame = read[FACE_SEARCH_LONG_SIDE_PX][index]
        expected = face_region(frame, pose.image_xy_px[index], pose.image_size_px)
        if expected is None:
            assert region is None and not detected[index], index
        else:
            assert region is not None and np.array_equal(region, expected), index
            assert region.base is None  # a copy: the frame itself is not held
    assert detect_faces(video, pose, regions=tap.face_regions) == detect_faces(video, pose)
    # the decoding thread waits for the previous frame's pose: no copy is made for a
    # target that already has its frame
    if not gaps:
        assert converted == others
    else:
        assert converted == [0, 1, 2, 3, 8, 17, 18, 19, 25, 26, 27, 28, 29, 34, 42, 51, 59]


def test_analysing_a_sample_clip_decodes_it_once(sample_clip, monkeypatch):
    passes = []
    real_iter_frames = screener.pose.iter_frames

    def counted(*args, **kwargs):
        passes.append(args)
        return real_iter_frames(*args, **kwargs)

    def no_read(*args, **kwargs):
        raise AssertionError("the clip was decoded again for the searches")

    monkeypatch.setattr(screener.pose, "iter_frames", counted)
    monkeypatch.setattr(screener.video, "read_frames", no_read)
    config = AnalysisConfig(cache_dir=None)
    got = acquire.estimate_video_pose(sample_clip, config)
    assert len(passes) == 1
    assert got.other_people is not None and len(got.other_people.frames_checked) == 8
    assert got.faces is not None and got.faces.frames_checked > 0

    # the same findings as searching frames read from the file
    monkeypatch.undo()
    assert acquire._search_frames(sample_clip, got.raw, got.config) == acquire.Searches(
        got.other_people, got.faces, got.scene_tilt, got.lighting, got.clothing
    )
    assert got.lighting is not None and got.clothing is not None


def test_the_pose_pass_runs_inside_the_callers_context_and_the_searches_after_it(
    sample_clip, monkeypatch
):
    """``pose_pass`` (the command line's heap setting) covers the decoding, not the rest."""
    inside: list[bool] = []
    decoded_inside: list[bool] = []
    searched_inside: list[bool] = []
    real_iter_frames = screener.pose.iter_frames
    real_search = acquire._search_frames

    def counted(*args, **kwargs):
        decoded_inside.append(bool(inside))
        return real_iter_frames(*args, **kwargs)

    def search(*args, **kwargs):
        searched_inside.append(bool(inside))
        return real_search(*args, **kwargs)

    @contextmanager
    def pose_pass() -> Iterator[None]:
        inside.append(True)
        try:
            yield
        finally:
            inside.pop()

    monkeypatch.setattr(screener.pose, "iter_frames", counted)
    monkeypatch.setattr(acquire, "_search_frames", search)
    acquire.estimate_video_pose(sample_clip, AnalysisConfig(cache_dir=None), pose_pass=pose_pass)
    assert decoded_inside == [True]
    assert searched_inside == [False]


def test_frames_the_pose_pass_did_not_keep_are_read(sample_clip, monkeypatch):
    config = AnalysisConfig(cache_dir=None)
    miscounted = screener.video.probe_video(sample_clip).n_frames_expected + 7
    tap = acquire.SearchFrameTap(miscounted, config)  # as if the header miscounted
    raw = estimate_pose(sample_clip, config.pose, None, tap=tap)
    asked = []
    real_read_frames = screener.video.read_frames

    def counted(path, wanted):
        asked.append({size: list(indices) for size, indices in wanted.items()})
        return real_read_frames(path, wanted)

    monkeypatch.setattr(screener.video, "read_frames", counted)
    found = acquire._search_frames(sample_clip, raw, config, tap)
    assert len(asked) == 1
    n_asked = sum(len(indices) for indices in asked[0].values())
    assert 0 < n_asked < len(other_people_frames(raw)) + len(face_search_frames(raw))
    assert found == acquire._search_frames(sample_clip, raw, config)


def test_with_the_keypoints_cached_the_searches_read_their_frames(sample_clip, tmp_path):
    config = AnalysisConfig(cache_dir=tmp_path / "cache")
    first = acquire.estimate_video_pose(sample_clip, config)
    (entry,) = Path(tmp_path / "cache").rglob("*.searches.json")
    entry.unlink()
    again = acquire.estimate_video_pose(sample_clip, config)
    assert again.raw.source["cache"] == "hit"
    assert (again.other_people, again.faces) == (first.other_people, first.faces)


def test_the_lighting_is_measured_without_the_second_person_search(sample_clip):
    """The lighting reads the second-person search's frames; with that search off it
    still reads them (and the search is not run)."""
    config = AnalysisConfig(cache_dir=None)
    alone = config.model_copy(
        update={"capture": config.capture.model_copy(update={"check_other_people": False})}
    )
    found = acquire.estimate_video_pose(sample_clip, alone)
    assert found.other_people is None
    assert found.lighting is not None and found.lighting.frames >= 4
    assert 0 < found.lighting.subject_luma < 255
    off = config.model_copy(
        update={"capture": config.capture.model_copy(update={"check_lighting": False})}
    )
    assert acquire.estimate_video_pose(sample_clip, off).lighting is None


def test_square_crop_of_a_landscape_frame_maps_back_to_the_frame():
    from screener.pose import square_crop

    rgb = np.arange(90 * 160 * 3, dtype=np.uint8).reshape(90, 160, 3)
    shown, left, side = square_crop(rgb, 0.6)
    assert (left, side) == (51, 90) and shown.shape == (90, 90, 3)
    assert np.array_equal(shown, rgb[:, 51:141]) and shown.flags.c_contiguous
    # a column x of the square, as 0-1 of the square, is (left + x * side) / width
    assert (left + (10 / side) * side) / 160 == pytest.approx(61 / 160)
    assert square_crop(rgb, 0.99)[1] == 70  # kept inside the frame
    assert square_crop(rgb, 0.0)[1] == 0
    whole, left, side = square_crop(rgb, None)
    assert whole is rgb and (left, side) == (0, 160)
    portrait = rgb.transpose(1, 0, 2)
    assert square_crop(portrait, 0.5)[0] is portrait  # only a landscape frame is cropped


@pytest.mark.video
def test_a_small_patient_in_a_landscape_clip_is_found_in_a_square_around_them(
    sample_videos_dir, tmp_path
):
    """The sample jog, shrunk into a landscape picture (the body about a fifth of its long
    side, off the middle): MediaPipe finds too few frames, or none, in the whole picture
    and every frame in a square around the patient (or, where it found no one, the middle
    square, which holds them); the analysis uses the square's landmarks, placed in the
    whole frame."""
    import cv2

    from tests.conftest import encode_frames

    src = sample_videos_dir / "jog_faulty_post_30fps.mp4"
    capture = cv2.VideoCapture(str(src))
    frames: list[tuple[float, np.ndarray]] = []
    while len(frames) < 150:
        ok, bgr = capture.read()
        if not ok:
            break
        h = 240
        small = cv2.resize(bgr, (round(bgr.shape[1] * h / bgr.shape[0]), h))
        canvas = np.full((540, 960, 3), 90, np.uint8)
        left = round(0.62 * 960 - small.shape[1] / 2)
        canvas[280 : 280 + h, left : left + small.shape[1]] = small
        frames.append((len(frames) / 30.0, cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB)))
    video = encode_frames(tmp_path / "landscape.mp4", frames)
    config = AnalysisConfig(cache_dir=None)

    try:  # the whole picture: no one, or too few frames to analyse
        found = estimate_pose(video, config.pose, None).detected.mean()
    except NoPersonError:
        found = 0.0
    assert found < config.checks.min_detected_fraction

    result = screener.analyze(video, task="jog", view="posterior", config=config)
    # where the whole picture showed no one, the square is the picture's middle one
    expected = 0.5 if found == 0.0 else 0.62
    assert result.config.pose.square_crop_x_fraction == pytest.approx(expected, abs=0.05)
    assert any("square of the picture" in w for w in result.summary["quality"]["warnings"])
    pose = result.raw_pose
    assert pose.detected.mean() > 0.9 and pose.image_size_px == (960, 540)
    hips_x = np.nanmedian(
        pose.image_xy_px[pose.detected][:, [INDEX["left_hip"], INDEX["right_hip"]], 0]
    )
    assert hips_x == pytest.approx(0.62 * 960, abs=15)  # in the whole frame's pixels
    ankles_y = np.nanmedian(pose.image_xy_px[pose.detected][:, INDEX["left_ankle"], 1])
    assert 280 < ankles_y < 520
    assert len(result.events) >= 6
