"""View, side and task decided robustly: a person standing still is never a single-leg
squat, and an automatic task is not guessed on weak evidence (the user is asked for
--task in one line)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import screener
from screener.cleaning import clean_pose, swap_leg_labels
from screener.config import AnalysisConfig, CleaningConfig, PoseConfig
from screener.errors import TooFewEventsError
from screener.events import detect_task
from screener.pose import estimate_pose
from tests.synthetic import make_sequence, perspective_sequence, single_leg_squat, standing_figure


def _staggered(t: float) -> dict[str, np.ndarray]:
    """Standing on both feet, the right foot a step forward, swaying a little."""
    sway = 0.01 * np.sin(2 * np.pi * 0.3 * t)
    return standing_figure(
        pelvis_offset=np.array([0.0, sway, 0.0]),
        right={"flexion_hip_deg": 20.0, "knee_flexion_deg": 5.0},
    )


def test_a_person_standing_on_both_feet_is_not_a_single_leg_squat() -> None:
    # filmed from 1.9 m high, as the Pose2Sim lab cameras: the forward foot looks higher
    pose = perspective_sequence(_staggered, camera_height_m=1.9, camera_distance_m=3.0)
    estimate = detect_task(pose)
    assert estimate.task != "sls"
    assert estimate.confidence == 0.0
    assert "stand still" in estimate.reasons[0]


def test_a_task_that_cannot_be_told_asks_for_task_in_one_line() -> None:
    pose = make_sequence(_staggered, fps=30.0, duration_s=4.0)
    config = AnalysisConfig(cache_dir=None, corrections_path=None)
    with pytest.raises(TooFewEventsError) as err:
        screener.analyze_pose(pose, view="anterior", config=config)
    text = str(err.value)
    assert "could not tell which task" in text and "--task sls" in text
    assert "\n" not in text


@pytest.mark.real_videos
def test_real_videos_pose2sim_cam01_standing_is_not_a_single_leg_squat(
    real_videos_dir: Path, tmp_path: Path
) -> None:
    """A person standing, back to the camera, others in the room: once read as a
    single-leg squat with a severe pelvic-drop flag."""
    video = real_videos_dir / "pose2sim_multiperson" / "cam01.mp4"
    raw = estimate_pose(video, PoseConfig(), tmp_path)
    cleaned = clean_pose(raw, CleaningConfig(), 6.0)
    estimate = detect_task(cleaned.pose)
    assert estimate.task != "sls" and estimate.confidence == 0.0
    with pytest.raises(TooFewEventsError, match="stand still"):
        screener.analyze(video, config=AnalysisConfig(cache_dir=tmp_path))


def test_a_right_leg_squat_whose_first_frames_are_mislabelled_stays_a_right_leg_squat() -> None:
    """MediaPipe exchanged the legs' labels in the first frames only: the swap repair
    used to make the whole clip agree with them (a right-leg squat read as left, most
    frames "swap repaired")."""
    figure, _ = single_leg_squat("right", n_reps=3)
    pose = make_sequence(figure, fps=30.0, duration_s=8.0)
    first = np.zeros(pose.n_frames, bool)
    first[:6] = True
    mislabelled = swap_leg_labels(pose, first)
    config = AnalysisConfig(cache_dir=None, corrections_path=None)
    result = screener.analyze_pose(mislabelled, view="anterior", config=config)
    assert result.summary["task"] == "sls"
    assert result.summary["stance_side"] == "right"
    assert result.summary["quality"]["frames_swap_repaired"] <= 6
    assert any("relabelled" in w for w in result.summary["quality"]["warnings"])
    # a clip whose labels are right throughout is left alone
    plain = screener.analyze_pose(pose, view="anterior", config=config)
    assert plain.summary["stance_side"] == "right"
    assert not any("relabelled" in w for w in plain.summary["quality"]["warnings"])
