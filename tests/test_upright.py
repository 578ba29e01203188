"""Clips filmed upside down or sideways (no rotation tag): turned upright or refused; a
truncated file says so in summary.json and the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import screener
from screener.config import AnalysisConfig
from screener.errors import ViewError
from screener.keypoints import PoseSequence
from screener.upright import estimate_upright, rotate_image
from tests.synthetic import jog_in_place, make_sequence

CFG = AnalysisConfig(cache_dir=None, corrections_path=None)


def _jog() -> PoseSequence:
    figure, _ = jog_in_place(drop_deg={"left": 1.0, "right": 9.0})
    return make_sequence(figure, fps=60, duration_s=6.0)


def _turned_landmarks(pose: PoseSequence, ccw_deg: float) -> PoseSequence:
    """The landmarks as seen in the image turned ``ccw_deg`` counter-clockwise about its centre."""
    width, height = pose.image_size_px
    centre = np.array([width / 2, height / 2])
    a = np.radians(ccw_deg)
    # Image y points down: a counter-clockwise turn on screen.
    turn = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    xy = (pose.image_xy_px - centre) @ turn.T + centre
    return pose.with_arrays(image_xy_px=xy)


def test_rotate_image_turns_clockwise():
    import cv2

    image = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    assert rotate_image(image, 0) is image
    np.testing.assert_array_equal(
        rotate_image(image, 90), cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
    )
    np.testing.assert_array_equal(rotate_image(image, 180), cv2.rotate(image, cv2.ROTATE_180))
    np.testing.assert_array_equal(
        rotate_image(image, 270), cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE)
    )
    with pytest.raises(ValueError, match="quarter turns"):
        rotate_image(image, 45)


@pytest.mark.parametrize(("ccw", "fix_cw"), [(0, 0), (90, 90), (180, 180), (270, 270), (-12, 0)])
def test_body_axis_gives_the_turn_that_makes_the_subject_upright(ccw, fix_cw):
    estimate = estimate_upright(_turned_landmarks(_jog(), ccw))
    assert estimate.rotate_cw_deg == fix_cw
    assert estimate.off_axis_deg < 15
    assert estimate.n_frames > 0


def test_slanted_subject_is_refused():
    with pytest.raises(ViewError, match=r"not upright in the image: the body axis is tilted"):
        screener.analyze_pose(_turned_landmarks(_jog(), 45), config=CFG)


def test_landmarks_of_an_upside_down_subject_are_not_analysed():
    with pytest.raises(ViewError, match="not turned upright"):
        screener.analyze_pose(_turned_landmarks(_jog(), 180), config=CFG)


def _reencode(src: Path, dst: Path, ccw_quarter_turns: int = 0) -> Path:
    """Re-encode ``src`` with each frame turned (no rotation tag), index at the front."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w", options={"movflags": "faststart"}) as out:
        in_stream = inp.streams.video[0]
        stream: Any = None
        for frame in inp.decode(in_stream):
            rgb = np.ascontiguousarray(
                np.rot90(frame.to_ndarray(format="rgb24"), ccw_quarter_turns), dtype=np.uint8
            )
            if stream is None:
                stream = out.add_stream("libx264", rate=in_stream.average_rate)
                stream.width, stream.height = rgb.shape[1], rgb.shape[0]
                stream.pix_fmt = "yuv420p"
                stream.options = {"crf": "18", "preset": "veryfast"}
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return dst


@pytest.fixture(scope="module")
def walk_sample(sample_videos_dir: Path) -> Path:
    path = sample_videos_dir / "walk_faulty_ant_30fps.mp4"
    if not path.is_file():
        pytest.skip("sample video walk_faulty_ant_30fps.mp4 not committed")
    return path


@pytest.fixture(scope="module")
def upright_walk(walk_sample, tmp_path_factory):
    folder = tmp_path_factory.mktemp("upright")
    video = _reencode(walk_sample, folder / "walk.mp4")
    config = CFG.model_copy(update={"cache_dir": folder / "cache"})
    return screener.analyze(video, config=config), config


def _flags(summary: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["fault"], f["side"]) for f in summary["faults"] if f["severity"] != "none"}


@pytest.mark.video
@pytest.mark.parametrize(("ccw_turns", "words"), [(2, "upside down"), (1, "lying on the side")])
def test_upside_down_or_sideways_clip_is_turned_upright(
    upright_walk, walk_sample, tmp_path, ccw_turns, words
):
    upright, config = upright_walk
    video = _reencode(walk_sample, tmp_path / "turned.mp4", ccw_turns)
    result = screener.analyze(video, config=config)
    summary = result.summary
    turned = (90 * ccw_turns) % 360
    assert any(words in w and f"turned {turned}°" in w for w in summary["quality"]["warnings"])
    assert summary["view"] == upright.summary["view"] == "anterior"
    assert summary["task"] == upright.summary["task"]
    assert len(result.events) == len(upright.events)
    assert _flags(summary) == _flags(upright.summary)
    assert abs(np.nanmedian(result.frames.trunk_lean_deg)) < 5
    # The landmarks are those of the turned frames (image size swapped for a quarter turn).
    assert result.pose.image_size_px == upright.pose.image_size_px
    assert result.raw_pose.source["pose"]["settings"]["rotate_cw_deg"] == turned
    # The report's stills are turned too: written without a size warning.
    files = result.write(tmp_path / "out")
    html = (tmp_path / "out" / "report.html").read_text()
    assert words in html and any(p.name == "report.html" for p in files)


def _packet_ends(path: Path) -> list[int]:
    import av

    with av.open(str(path)) as container:
        return sorted(
            int(p.pos) + int(p.size)
            for p in container.demux(container.streams.video[0])
            if p.pos is not None and p.size
        )


@pytest.mark.video
def test_truncated_video_is_reported_in_summary_and_report(upright_walk, walk_sample, tmp_path):
    _, config = upright_walk
    full = _reencode(walk_sample, tmp_path / "full.mp4")
    ends = _packet_ends(full)
    keep = int(len(ends) * 0.7)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[: ends[keep - 1] + 1])
    result = screener.analyze(cut, config=config)
    decode = result.summary["quality"]["decode"]
    assert decode["truncated"] is True
    assert decode["frames_decoded"] < decode["frames_in_header"] == len(ends)
    assert len(result.frames) == decode["frames_decoded"]
    warning = result.summary["quality"]["warnings"][0]
    assert "truncated or damaged" in warning and f"of the {len(ends)}" in warning
    result.write(tmp_path / "out")
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["quality"]["decode"][
        "truncated"
    ]
    assert "truncated or damaged" in (tmp_path / "out" / "report.html").read_text()


@pytest.mark.video
def test_complete_video_has_no_decode_warning(upright_walk):
    upright, _ = upright_walk
    decode = upright.summary["quality"]["decode"]
    assert decode["known"] and not decode["truncated"]
    assert decode["frames_decoded"] == len(upright.frames)
    assert not any("truncated" in w for w in upright.summary["quality"]["warnings"])


def test_person_found_only_when_turned_half_a_turn_is_analysed_turned(make_video, monkeypatch):
    """MediaPipe misses the head-down body as decoded and finds it turned: the turned
    landmarks are used, with the warning (pose estimation itself is replaced here: the
    sample clip it would need does not make MediaPipe miss)."""
    import screener.pose
    from screener.errors import NoPersonError

    video = make_video("clip.mp4", n_frames=30)
    upright = _jog()
    calls = []

    def fake_estimate(path, pose_config, cache_dir, *, progress=None, tap=None, video_info=None):
        calls.append(pose_config.rotate_cw_deg)
        if pose_config.rotate_cw_deg != 180:
            raise NoPersonError("no person was found in any of the 30 frames", path=path)
        settings = pose_config.model_dump(mode="json")
        return upright.with_arrays(source={"video": str(path), "pose": {"settings": settings}})

    monkeypatch.setattr(screener.pose, "estimate_pose", fake_estimate)
    result = screener.analyze(video, config=CFG)
    assert calls == [0, 180]
    assert result.config.pose.rotate_cw_deg == 180
    assert any("upside down" in w for w in result.summary["quality"]["warnings"])


def test_no_person_either_way_is_the_original_error(make_video, monkeypatch):
    import screener.pose
    from screener.errors import NoPersonError

    video = make_video("clip.mp4", n_frames=30)
    calls = []

    def fake_estimate(path, pose_config, cache_dir, *, progress=None, tap=None, video_info=None):
        calls.append((pose_config.rotate_cw_deg, pose_config.square_crop_x_fraction))
        raise NoPersonError(f"no person (turned {pose_config.rotate_cw_deg})", path=path)

    monkeypatch.setattr(screener.pose, "estimate_pose", fake_estimate)
    with pytest.raises(NoPersonError, match=r"no person \(turned 0\)"):
        screener.analyze(video, config=CFG)
    # as decoded, turned half a turn, then (a landscape clip) a square of its middle
    assert calls == [(0, None), (180, None), (0, 0.5)]


def test_small_patient_in_a_landscape_clip_is_looked_for_in_a_square_around_them(
    make_video, monkeypatch
):
    """MediaPipe finds the patient in too few frames of the whole landscape picture: a
    square of the picture around where they were found is tried, and its landmarks are
    analysed, with a warning that says what happened and what to do next time (pose
    estimation replaced: the MediaPipe case is tests/test_acquire.py's)."""
    import screener.pose

    video = make_video("clip.mp4", n_frames=30, size=(160, 90))
    jog = _jog()
    width = jog.image_size_px[0]
    few = jog.detected.copy()
    few[40:] = False  # found in 40 of 360 frames as decoded
    calls = []

    def fake_estimate(path, pose_config, cache_dir, *, progress=None, tap=None, video_info=None):
        calls.append(pose_config.square_crop_x_fraction)
        settings = pose_config.model_dump(mode="json")
        source = {"video": str(path), "pose": {"settings": settings}}
        if pose_config.square_crop_x_fraction is None:
            return jog.with_arrays(detected=few, source=source)
        return jog.with_arrays(source=source)

    monkeypatch.setattr(screener.pose, "estimate_pose", fake_estimate)
    result = screener.analyze(video, task="jog", config=CFG)
    hips = jog.image_xy_px[:40][:, [23, 24], 0]
    expected = float(np.median(hips)) / width
    assert calls[0] is None and calls[-1] == pytest.approx(expected)
    assert result.config.pose.square_crop_x_fraction == pytest.approx(expected)
    warning = next(w for w in result.summary["quality"]["warnings"] if "square" in w)
    assert "100% of the frames" in warning and "film in portrait" in warning


def test_a_square_that_finds_no_more_keeps_the_refusal(make_video, monkeypatch):
    import screener.pose
    from screener.errors import NoPersonError

    video = make_video("clip.mp4", n_frames=30, size=(160, 90))
    jog = _jog()
    few = jog.detected.copy()
    few[40:] = False

    def fake_estimate(path, pose_config, cache_dir, *, progress=None, tap=None, video_info=None):
        settings = pose_config.model_dump(mode="json")
        return jog.with_arrays(
            detected=few, source={"video": str(path), "pose": {"settings": settings}}
        )

    monkeypatch.setattr(screener.pose, "estimate_pose", fake_estimate)
    with pytest.raises(NoPersonError, match="found in only 11% of frames"):
        screener.analyze(video, task="jog", config=CFG)


def _landscape_passes(monkeypatch, whole_detected: float, square_shift_px: float = 0.0):
    """Pose estimation replaced: the whole picture finds the patient in the first
    ``whole_detected`` share of the frames of a 16:9 picture, the square in every frame,
    its landmarks shifted by ``square_shift_px``. Returns the list of squares asked for."""
    import screener.pose

    jog = _jog().with_arrays(image_size_px=(2276, 1280))
    few = jog.detected.copy()
    few[round(whole_detected * jog.n_frames) :] = False
    calls = []

    def fake_estimate(path, pose_config, cache_dir, *, progress=None, tap=None, video_info=None):
        calls.append(pose_config.square_crop_x_fraction)
        source = {"video": str(path), "pose": {"settings": pose_config.model_dump(mode="json")}}
        if pose_config.square_crop_x_fraction is None:
            return jog.with_arrays(detected=few, source=source)
        xy = jog.image_xy_px.copy()
        xy[..., 0] += square_shift_px
        return jog.with_arrays(image_xy_px=xy, source=source)

    monkeypatch.setattr(screener.pose, "estimate_pose", fake_estimate)
    return calls


def test_a_landscape_clip_with_gaps_is_read_through_the_square_when_it_finds_more(
    make_video, monkeypatch
):
    """Found in 80 % of the frames of the whole landscape picture: not refused, but the
    square around the patient finds every frame, so its landmarks are used; the warning
    gives both shares."""
    calls = _landscape_passes(monkeypatch, whole_detected=0.8)
    video = make_video("clip.mp4", n_frames=30, size=(160, 90))
    result = screener.analyze(video, task="jog", config=CFG)
    assert calls[0] is None and calls[-1] is not None
    assert result.raw_pose.detected.all()
    warning = next(w for w in result.summary["quality"]["warnings"] if "square" in w)
    assert "in only 80% of its frames" in warning and "found them in 100%" in warning


def test_a_square_the_patient_walks_out_of_is_not_used(make_video, monkeypatch):
    """The square's landmarks lie outside the square (the patient left it): the whole
    picture's are analysed, without the square's warning."""
    calls = _landscape_passes(monkeypatch, whole_detected=0.8, square_shift_px=1500.0)
    video = make_video("clip.mp4", n_frames=30, size=(160, 90))
    result = screener.analyze(video, task="jog", config=CFG)
    assert len(calls) == 2 and result.config.pose.square_crop_x_fraction is None
    assert result.raw_pose.detected.mean() == pytest.approx(0.8, abs=0.01)
    assert not any("square" in w for w in result.summary["quality"]["warnings"])


def test_a_portrait_clip_or_a_clip_found_throughout_is_never_cropped(make_video, monkeypatch):
    calls = _landscape_passes(monkeypatch, whole_detected=0.8)
    screener.analyze(make_video("tall.mp4", n_frames=30, size=(90, 160)), task="jog", config=CFG)
    assert calls == [None]
    calls = _landscape_passes(monkeypatch, whole_detected=1.0)
    screener.analyze(make_video("wide.mp4", n_frames=30, size=(160, 90)), task="jog", config=CFG)
    assert calls == [None]


def test_a_skeleton_upside_down_whichever_way_the_frames_turn_is_refused_plainly(
    make_video, monkeypatch
):
    """MediaPipe reads a small body as head-down, and again head-down once the frames are
    turned half a turn (seen on a rendered walk filmed from 6 m by a low lens): the error
    says the pose model did not read the body and what to film, not that the landmarks
    came from frames not turned upright."""
    import screener.pose

    upside_down = _turned_landmarks(_jog(), 180)
    calls = []

    def fake_estimate(path, pose_config, cache_dir, *, progress=None, tap=None, video_info=None):
        calls.append(pose_config.rotate_cw_deg)
        settings = pose_config.model_dump(mode="json")
        return upside_down.with_arrays(source={"video": str(path), "pose": {"settings": settings}})

    monkeypatch.setattr(screener.pose, "estimate_pose", fake_estimate)
    with pytest.raises(ViewError, match="whichever way the frames are turned") as info:
        screener.analyze(make_video("tall.mp4", n_frames=30, size=(90, 160)), config=CFG)
    assert calls == [0, 180]
    assert "Film closer" in info.value.one_line()
