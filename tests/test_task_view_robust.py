"""View, side and task decided robustly: a person standing still is never a single-leg
squat, and an automatic task is not guessed on weak evidence (the user is asked for
--task in one line)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import screener
from screener.cleaning import clean_pose, swap_leg_labels
from screener.config import AnalysisConfig, CleaningConfig, PoseConfig
from screener.errors import ScreenerError, TooFewEventsError, ViewError
from screener.events import (
    active_span,
    detect_sls_side,
    detect_task,
    foot_following_hips,
    foot_nearer_m,
    leg_length_px,
    steadier_foot,
)
from screener.keypoints import PoseSequence
from screener.landmarks import INDEX
from screener.pose import estimate_pose
from screener.view import (
    FaceEvidence,
    detect_faces,
    detect_view,
    mirror_labels_in,
    walking_view,
)
from tests.synthetic import (
    jog_in_place,
    make_sequence,
    perspective_sequence,
    single_leg_squat,
    stance_rule_config,
    standing_figure,
    walk_toward_camera,
)

ROOT = Path(__file__).resolve().parents[1]


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


def test_a_squat_whose_body_grows_in_the_image_is_not_a_walk() -> None:
    """One foot held up throughout, the body 25 % larger in the image at the end than at
    the start (a hold-out squat's leg shortened by 21 % as its knee bent): walking
    alternates the feet, so this is never a walk."""
    figure, _ = single_leg_squat("left", n_reps=3, depth_m=0.08)
    pose = make_sequence(figure, fps=30.0, duration_s=8.0)
    zoom = np.linspace(1.0, 1.3, pose.n_frames)[:, None, None]
    hips = 0.5 * (pose.xy("left_hip") + pose.xy("right_hip"))[:, None, :]
    grown = pose.with_arrays(image_xy_px=hips + (pose.image_xy_px - hips) * zoom)
    estimate = detect_task(grown)
    assert any("body size changes by +2" in r for r in estimate.reasons), estimate
    assert estimate.task == "sls", estimate  # a shallow squat: asked about if unsure


def test_a_task_that_cannot_be_told_asks_for_task_in_one_line() -> None:
    pose = make_sequence(_staggered, fps=30.0, duration_s=4.0)
    config = AnalysisConfig(cache_dir=None, corrections_path=None)
    with pytest.raises(TooFewEventsError) as err:
        screener.analyze_pose(pose, view="anterior", config=config)
    text = str(err.value)
    assert "could not tell which task" in text and "--task sls" in text
    assert "\n" not in text


@pytest.mark.real_videos
@pytest.mark.parametrize("camera", ["cam01", "cam04"])
def test_real_videos_pose2sim_standing_is_not_a_single_leg_squat(
    real_videos_dir: Path, tmp_path: Path, camera: str
) -> None:
    """A person standing, back to the camera (cam01), others in the room: once read as a
    single-leg squat with a severe pelvic-drop flag. From cam04 a foot looks held up
    throughout and the pelvis sways at 1.05 Hz, the closest of the lab's cameras to a
    shallow squat's rhythm."""
    video = real_videos_dir / "pose2sim_multiperson" / f"{camera}.mp4"
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


# --- anterior or posterior: the pose model's labels and the face in the pixels -------


def _walk(view: str = "anterior") -> PoseSequence:
    figure, _ = walk_toward_camera()
    return make_sequence(figure, fps=30.0, duration_s=4.0, view=view)


def test_a_mirrored_skeleton_is_caught_and_the_view_asked_for() -> None:
    """A subject seen from behind whom the pose model labels as facing the camera:
    consistent labels, no face in the pixels. Not guessed: --view is asked for."""
    looks_anterior = _walk("anterior")  # labels say: facing the camera
    no_face = FaceEvidence(frames_checked=12, frames_with_face=0)
    config = AnalysisConfig(cache_dir=None, corrections_path=None)
    with pytest.raises(ViewError) as err:
        screener.analyze_pose(looks_anterior, task="walk", config=config, faces=no_face)
    text = str(err.value)
    assert "may be mirrored" in text and "--view posterior" in text and "\n" not in text
    # the user's answer is used (every label exchanged, as before)
    given = screener.analyze_pose(
        looks_anterior, task="walk", view="posterior", config=config, faces=no_face
    )
    assert given.summary["view"] == "posterior"
    assert given.summary["view_detection"]["labels_mirrored"]
    # labels and face agreeing: no question
    face = FaceEvidence(frames_checked=12, frames_with_face=12)
    agreed = screener.analyze_pose(looks_anterior, task="walk", config=config, faces=face)
    assert agreed.summary["view"] == "anterior"


def _walk_toward_camera_in_perspective() -> PoseSequence:
    figure, _ = walk_toward_camera()
    return perspective_sequence(figure, fps=30.0, duration_s=5.0)


def test_a_walk_whose_labels_and_face_disagree_is_read_by_its_walking_direction() -> None:
    """A walk toward the camera (growing in the image) whose labels all say posterior while
    a face is seen: people walk forward, so it is anterior, and every label is exchanged;
    the stance phases are those of the correctly labelled walk. A face missed on correct
    labels is settled the same way, without exchanging them."""
    pose = _walk_toward_camera_in_perspective()
    mirrored = mirror_labels_in(pose, np.ones(pose.n_frames, dtype=bool))
    assert detect_view(mirrored).view == "posterior"
    face = FaceEvidence(frames_checked=12, frames_with_face=12)
    config = stance_rule_config()
    result = screener.analyze_pose(mirrored, config=config, faces=face)
    reference = screener.analyze_pose(pose, config=config, faces=face)
    assert result.summary["task"] == "walk" and result.summary["view"] == "anterior"
    detection = result.summary["view_detection"]
    assert detection["from_walking_direction"] and detection["labels_mirrored"]
    assert not reference.summary["view_detection"]["from_walking_direction"]
    (note,) = [w for w in result.summary["quality"]["warnings"] if "walking direction" in w]
    assert "walks toward the camera" in note and "say posterior but the pixels show" in note
    assert note.endswith("left and right were exchanged to match")
    columns = ["side", "t_start_s", "t_end_s", "knee_fppa_deg", "hip_adduction_deg"]
    pd.testing.assert_frame_equal(result.events[columns], reference.events[columns])
    missed = screener.analyze_pose(pose, config=config, faces=FaceEvidence(12, 0))
    assert missed.summary["view"] == "anterior"
    assert missed.summary["view_detection"]["from_walking_direction"]
    assert not missed.summary["view_detection"]["labels_mirrored"]


def test_the_walking_direction_settles_only_a_walk() -> None:
    """Given another task, the walking direction is not used; a view given is not
    questioned."""
    pose = _walk_toward_camera_in_perspective()
    mirrored = mirror_labels_in(pose, np.ones(pose.n_frames, dtype=bool))
    face = FaceEvidence(frames_checked=12, frames_with_face=12)
    config = stance_rule_config()
    with pytest.raises(ViewError, match="--view anterior"):
        screener.analyze_pose(mirrored, task="jog", config=config, faces=face)
    given = screener.analyze_pose(mirrored, view="posterior", config=config, faces=face)
    assert given.summary["view"] == "posterior"
    assert not given.summary["view_detection"]["from_walking_direction"]


def test_stored_a_squat_whose_descent_reads_as_walking_still_asks_for_the_view() -> None:
    """A rendered guide squat (stored landmarks) descends for two seconds: the legs'
    image length shrinks like a walk away. With labels and face disagreeing it is not
    read as posterior from that: once the task is found to be a squat, --view is asked
    for."""
    truth = ROOT / "corpus" / "final34_inside_guide" / "sls_left_ante_30fps_finali003.truth.json"
    pose = PoseSequence.load(truth.parent / json.loads(truth.read_text())["keypoints"])
    checks = AnalysisConfig().checks
    assert (
        walking_view(
            pose,
            min_rate_per_s=checks.turn_min_rate_per_s,
            min_duration_s=checks.turn_min_run_s,
            min_size_ratio=checks.turn_min_size_ratio,
        )
        == "posterior"
    )
    no_face = FaceEvidence(frames_checked=12, frames_with_face=0)
    with pytest.raises(ViewError) as err:
        screener.analyze_pose(pose, config=AnalysisConfig(cache_dir=None), faces=no_face)
    assert "may be mirrored" in str(err.value) and "--view posterior" in str(err.value)


def test_stored_the_mirrored_walk_of_the_fiftieth_hold_out_is_read_from_the_front() -> None:
    """The walk of hold-out 50 refused for its view (MediaPipe's labels said posterior, the
    face search saw a face in 5 of 6 frames; filmed from the front): its stored landmarks
    with that face evidence are now analysed as a walk toward the camera."""
    truth = ROOT / "corpus" / "final50_inside" / "walk_ante_24fps_finali011.truth.json"
    truth_json = json.loads(truth.read_text())
    assert truth_json["view"] == "anterior"
    pose = PoseSequence.load(truth.parent / truth_json["keypoints"])
    assert detect_view(pose).view == "posterior"
    result = screener.analyze_pose(
        pose, config=AnalysisConfig(cache_dir=None), faces=FaceEvidence(6, 5)
    )
    assert result.summary["task"] == "walk" and result.summary["view"] == "anterior"
    assert result.summary["view_detection"]["from_walking_direction"]
    assert len(result.events) >= 3


def test_a_weak_face_does_not_overrule_labels_that_say_posterior() -> None:
    """The face cascade fires on some backs of heads: a face in 7 of 12 frames against
    labels saying posterior throughout is analysed from behind, with a note; a face in
    10 of 12 is a contradiction (asked for); labels saying anterior against no face are
    still asked for (a back view mirrored, the face hidden)."""
    behind = _walk("posterior")
    config = stance_rule_config()
    weak = screener.analyze_pose(behind, task="walk", config=config, faces=FaceEvidence(12, 7))
    assert weak.summary["view"] == "posterior"
    assert not weak.summary["view_detection"]["labels_mirrored"]
    (note,) = [w for w in weak.summary["quality"]["warnings"] if "face search saw" in w]
    assert "a face in 7 of 12 frames, too few to overrule" in note and "--view anterior" in note
    with pytest.raises(ViewError, match="may be mirrored"):
        screener.analyze_pose(behind, task="walk", config=config, faces=FaceEvidence(12, 10))
    with pytest.raises(ViewError, match="may be mirrored"):
        screener.analyze_pose(
            _walk("anterior"), task="walk", config=config, faces=FaceEvidence(12, 0)
        )


def test_a_walk_toward_the_camera_is_not_read_from_behind_for_a_weak_face() -> None:
    """Labels mirrored to say posterior, a face in 7 of 12 frames (too few to overrule them
    alone), the patient walking toward the camera: the walking direction decides."""
    pose = _walk_toward_camera_in_perspective()
    mirrored = mirror_labels_in(pose, np.ones(pose.n_frames, dtype=bool))
    result = screener.analyze_pose(mirrored, config=stance_rule_config(), faces=FaceEvidence(12, 7))
    assert result.summary["view"] == "anterior"
    assert result.summary["view_detection"]["from_walking_direction"]
    (note,) = [w for w in result.summary["quality"]["warnings"] if "walking direction" in w]
    assert "say posterior but the pixels show a face in 7 of 12 frames" in note
    assert not any("too few to overrule" in w for w in result.summary["quality"]["warnings"])


def test_stored_squats_from_behind_whose_backs_of_heads_look_like_faces_are_read() -> None:
    """Two rendered squats filmed from behind (hold-out 52, stored landmarks) that were
    refused for their view: MediaPipe's labels said posterior, the face search saw a face in
    8 and 6 of 12 frames. Read from behind now, the stance leg right."""
    for folder, clip, seen in (
        ("final52_inside", "sls_right_post_50fps_finali024", 8),
        ("final52_inside_guide", "sls_left_post_60fps_finali046", 6),
    ):
        truth = ROOT / "corpus" / folder / f"{clip}.truth.json"
        truth_json = json.loads(truth.read_text())
        pose = PoseSequence.load(truth.parent / truth_json["keypoints"])
        result = screener.analyze_pose(
            pose, task="sls", config=AnalysisConfig(cache_dir=None), faces=FaceEvidence(12, seen)
        )
        assert result.summary["view"] == truth_json["view"] == "posterior"
        assert result.summary["stance_side"] == truth_json["stance_side"]


def test_labels_that_flip_between_frames_follow_the_face() -> None:
    """An anterior walk whose labels are mirrored in 60 % of frames (read as posterior,
    everything mirrored): the face decides the view and those frames are relabelled."""
    clean = _walk("anterior")
    flipped = np.zeros(clean.n_frames, dtype=bool)
    flipped[np.arange(clean.n_frames) % 5 < 3] = True
    noisy = mirror_labels_in(clean, flipped)
    labels = detect_view(noisy)
    assert labels.view == "posterior" and labels.confidence < 0.5
    face = FaceEvidence(frames_checked=12, frames_with_face=11)
    config = AnalysisConfig(cache_dir=None, corrections_path=None)
    result = screener.analyze_pose(noisy, task="walk", config=config, faces=face)
    reference = screener.analyze_pose(clean, task="walk", config=config, faces=face)
    assert result.summary["view"] == "anterior"
    assert result.summary["view_detection"]["frames_relabelled"] == int(flipped.sum())
    for side in ("left", "right"):
        got = result.summary["sides"][side]["pelvic_drop_deg"]["mean"]
        want = reference.summary["sides"][side]["pelvic_drop_deg"]["mean"]
        assert got == pytest.approx(want, abs=0.5)
    # without face evidence the flipping labels are not guessed
    with pytest.raises(ViewError, match="--view anterior"):
        screener.analyze_pose(noisy, task="walk", config=config)


def test_face_evidence_thresholds() -> None:
    assert FaceEvidence(12, 12).says == "anterior"
    assert FaceEvidence(12, 0).says == "posterior"
    assert FaceEvidence(12, 4).says is None
    assert FaceEvidence(2, 0).says is None


@pytest.mark.video
def test_faces_are_seen_only_in_the_anterior_sample_videos(
    sample_videos_dir: Path, tmp_path: Path
) -> None:
    for name, view in (
        ("walk_normal_ant_30fps.mp4", "anterior"),
        ("sls_right_normal_post_30fps.mp4", "posterior"),
    ):
        video = sample_videos_dir / name
        raw = estimate_pose(video, PoseConfig(), tmp_path)
        assert detect_faces(video, raw).says == view, name
        if view == "posterior":
            # the same clip with every label mirrored (the skeleton a confused model
            # gives): caught, not read as anterior
            mirrored = mirror_labels_in(raw, np.ones(raw.n_frames, dtype=bool))
            with pytest.raises(ViewError, match="mirrored"):
                screener.analyze_pose(
                    mirrored,
                    config=AnalysisConfig(cache_dir=None),
                    faces=detect_faces(video, mirrored),
                )


@pytest.mark.real_videos
def test_real_videos_pose2sim_faces_follow_the_cameras(
    real_videos_dir: Path, tmp_path: Path
) -> None:
    """cam04 faces the subject, cam01 films their back (as the pose model's labels say)."""
    for cam, view in (("cam04", "anterior"), ("cam01", "posterior")):
        video = real_videos_dir / "pose2sim_multiperson" / f"{cam}.mp4"
        raw = estimate_pose(video, PoseConfig(), tmp_path)
        assert detect_faces(video, raw).says == view, cam


def test_a_squat_whose_feet_are_at_one_height_asks_for_side() -> None:
    figure, _ = single_leg_squat("right", n_reps=3, lifted_ankle_height_m=0.06)
    pose = make_sequence(figure, fps=30.0, duration_s=8.0)
    config = AnalysisConfig(cache_dir=None, corrections_path=None)
    with pytest.raises(ScreenerError) as err:
        screener.analyze_pose(pose, task="sls", view="anterior", config=config)
    assert "--side left or --side right" in str(err.value) and "\n" not in str(err.value)
    given = screener.analyze_pose(pose, task="sls", side="right", view="anterior", config=config)
    assert given.summary["stance_side"] == "right"


def test_where_the_stance_leg_came_from_is_recorded_and_reported() -> None:
    """Read from the video: the summary says so and by which cue, and the report's header
    says it was read and what to do if it is wrong; given: it says given."""
    from screener.report.context import header

    figure, _ = single_leg_squat("right", n_reps=3)
    pose = make_sequence(figure, fps=30.0, duration_s=8.0)
    config = AnalysisConfig(cache_dir=None, corrections_path=None)
    read = screener.analyze_pose(pose, task="sls", view="anterior", config=config)
    detection = read.summary["stance_side_detection"]
    assert read.summary["stance_side"] == "right"
    assert detection["given"] is False and detection["cue"] == "lower_foot"
    assert detection["lift_leg"] > 0.1  # the right foot looks the lower, by a clear margin
    source = header(read)["stance_side_source"]
    assert source.startswith("read from the video (the other foot looks lifted)")
    assert "with the leg named" in source
    given = screener.analyze_pose(pose, task="sls", side="right", view="anterior", config=config)
    assert given.summary["stance_side_detection"]["given"] is True
    assert given.summary["stance_side_detection"]["cue"] is None
    assert header(given)["stance_side_source"] == "given"
    assert not any("was named" in w for w in given.summary["quality"]["warnings"])
    # a walk has no stance leg to read
    walk = screener.analyze_pose(_walk(), task="walk", view="anterior", config=config)
    assert walk.summary["stance_side_detection"] is None
    assert header(walk)["stance_side_source"] is None


def test_a_named_leg_whose_foot_looks_lifted_is_analysed_as_named_with_a_warning() -> None:
    """The web app always names the leg; a clinician who picked the wrong one used to be
    told only in a log line. Now the warnings (and so the report) say it."""
    figure, _ = single_leg_squat("right", n_reps=3)
    pose = make_sequence(figure, fps=30.0, duration_s=8.0)
    config = AnalysisConfig(cache_dir=None, corrections_path=None)
    named = screener.analyze_pose(pose, task="sls", side="left", view="anterior", config=config)
    assert named.summary["stance_side"] == "left"  # the leg named is the leg analysed
    detection = named.summary["stance_side_detection"]
    assert detection["given"] is True and detection["lift_leg"] < -0.1
    warned = [w for w in named.summary["quality"]["warnings"] if "was named" in w]
    assert len(warned) == 1
    assert warned[0].startswith("the left leg was named as the standing leg, but in the video")
    assert "check that the correct leg was named" in warned[0]


def test_a_task_guessed_on_weak_evidence_is_analysed_with_a_warning_naming_it() -> None:
    """A shallow single-leg squat is read at confidence 0.3: analysed, and the warnings
    say the task was a weak guess, why, and how to give another; given, no such line."""
    figure, _ = single_leg_squat("left", n_reps=3, rep_s=2.0, depth_m=0.08)
    pose = make_sequence(figure, fps=30.0, duration_s=8.0)
    config = AnalysisConfig(cache_dir=None, corrections_path=None)
    guessed = screener.analyze_pose(pose, view="anterior", config=config)
    assert guessed.summary["task"] == "sls"
    weak = [w for w in guessed.summary["quality"]["warnings"] if "weak evidence" in w]
    assert len(weak) == 1
    assert "confidence 0.30" in weak[0] and "one foot held up" in weak[0]
    assert weak[0].endswith("--task walk or --task jog")
    given = screener.analyze_pose(pose, task="sls", view="anterior", config=config)
    assert not any("weak evidence" in w for w in given.summary["quality"]["warnings"])


@pytest.mark.parametrize("end", ["foot lifted", "foot put down"])
def test_a_squat_filmed_as_the_guide_asks_is_a_squat(end: str) -> None:
    """Two seconds on both feet first (the capture guide's opening), and perhaps the foot
    put down after the last squat: read as a single-leg squat from what lies between.
    Without leaving the stands out, the lifted leg's shortening in the image read as a
    walk (every one of the first rendered guide squats, session 21)."""
    figure, _ = single_leg_squat(
        "left", n_reps=3, stand_s=2.0, foot_down_s=11.0 if end == "foot put down" else None
    )
    pose = make_sequence(figure, fps=30.0, duration_s=13.0)
    start, stop = active_span(pose)
    assert 2.0 <= pose.time_s[start] <= 2.2
    if end == "foot put down":
        assert 11.0 <= pose.time_s[stop - 1] <= 11.6
    else:
        assert stop == pose.n_frames
    estimate = detect_task(pose)
    assert estimate.task == "sls", estimate
    assert estimate.confidence == 1.0, estimate
    assert "on both feet left out" in estimate.reasons[0]


def test_no_stand_is_left_out_of_a_walk_a_jog_or_a_clip_of_standing() -> None:
    walk = make_sequence(walk_toward_camera()[0], fps=30.0, duration_s=4.0)
    assert active_span(walk) == (0, walk.n_frames)
    jog = make_sequence(jog_in_place()[0], fps=30.0, duration_s=4.0)
    assert active_span(jog) == (0, jog.n_frames)
    stand = make_sequence(lambda t: standing_figure(), fps=30.0, duration_s=3.0)
    assert active_span(stand) == (0, stand.n_frames)


def test_a_leg_that_folds_in_the_image_does_not_change_the_bodys_size() -> None:
    """The walk rule reads the body's size from the longer leg: a lifted or swinging leg
    that folds in the image (a squat from behind whose foot looks low, after a stand on
    both feet, was read as a walk by its shrinking legs, session 21) changes nothing."""
    pose = make_sequence(lambda t: standing_figure(), fps=30.0, duration_s=6.0)
    xy = pose.image_xy_px.copy()
    fold = np.linspace(1.0, 0.6, pose.n_frames)[:, None]  # the right leg folds up
    hip = xy[:, INDEX["right_hip"], :]
    for name in ("right_knee", "right_ankle", "right_heel", "right_foot_index"):
        xy[:, INDEX[name], :] = hip + fold * (xy[:, INDEX[name], :] - hip)
    folded = pose.with_arrays(image_xy_px=xy)
    reasons = " ".join(detect_task(folded).reasons)
    assert "body size changes by +0%" in reasons, reasons


def test_a_long_stand_before_a_squat_does_not_hide_the_stance_leg() -> None:
    """A stand on both feet longer than the squats that follow: the stance leg is told
    from the frames after it (a validation render of session 21, its stand most of the
    clip, asked for --side before)."""
    figure, _ = single_leg_squat("right", n_reps=2, rep_s=1.6, pause_s=0.3, stand_s=5.0)
    pose = make_sequence(figure, fps=30.0, duration_s=9.5)
    config = AnalysisConfig(cache_dir=None, corrections_path=None)
    result = screener.analyze_pose(pose, task="auto", view="anterior", config=config)
    assert result.summary["task"] == "sls"
    assert result.summary["stance_side"] == "right"


def _lifted_foot_shifted(side: str, shift_leg: float) -> PoseSequence:
    """A squat on ``side`` whose lifted foot (which moves with the body) is drawn
    ``shift_leg`` leg lengths lower in the image, as a foot bent behind the body looks
    from behind and above."""
    figure, _ = single_leg_squat(side, n_reps=3, depth_m=0.15)
    pose = make_sequence(figure, fps=30.0, duration_s=8.0)
    lifted = "left" if side == "right" else "right"
    xy = pose.image_xy_px.copy()
    leg = np.nanmedian(leg_length_px(pose))
    for part in ("ankle", "heel", "foot_index", "knee"):
        xy[:, INDEX[f"{lifted}_{part}"], 1] += shift_leg * leg
    return pose.with_arrays(image_xy_px=xy)


def test_a_lifted_foot_that_looks_level_is_told_by_moving_with_the_body() -> None:
    """Feet at one image height, but the lifted foot goes down and up with the body
    while the planted one stays put: the stance leg is the steady one."""
    pose = _lifted_foot_shifted("right", 0.0)
    lift = detect_sls_side(pose)[1]
    pose = _lifted_foot_shifted("right", lift)  # now level at the median
    assert detect_sls_side(pose)[1] < 0.02
    assert steadier_foot(pose)[0] == "right"
    config = AnalysisConfig(cache_dir=None, corrections_path=None)
    result = screener.analyze_pose(pose, task="sls", view="anterior", config=config)
    assert result.summary["stance_side"] == "right"


def test_a_lifted_foot_that_looks_lower_is_asked_about_not_taken_for_the_planted_one() -> None:
    pose = _lifted_foot_shifted("right", 0.0)
    lift = detect_sls_side(pose)[1]
    pose = _lifted_foot_shifted("right", lift + 0.1)  # the lifted foot now looks lower
    assert detect_sls_side(pose)[0] == "left"  # the heights alone name the wrong leg
    config = AnalysisConfig(cache_dir=None, corrections_path=None)
    with pytest.raises(ScreenerError) as err:
        screener.analyze_pose(pose, task="sls", view="anterior", config=config)
    message = str(err.value)
    assert "moves with the body" in message and "--side left or --side right" in message
    given = screener.analyze_pose(pose, task="sls", side="right", view="anterior", config=config)
    assert given.summary["stance_side"] == "right"


def test_a_lower_looking_foot_that_moves_more_is_asked_about_though_the_planted_one_moves() -> None:
    """The planted foot wobbles in the image (half the lifted foot's range: not clearly
    steady enough to name the stance leg), while the lifted foot looks lower: the
    heights are not taken for the answer; --side is asked for."""
    pose = _lifted_foot_shifted("right", 0.0)
    lift = detect_sls_side(pose)[1]
    pose = _lifted_foot_shifted("right", lift + 0.1)
    lifted_y = pose.xy("left_ankle")[:, 1]
    swing_px = 0.5 * float(np.percentile(lifted_y, 95) - np.percentile(lifted_y, 5))
    wobble = 0.5 * swing_px * np.sin(2 * np.pi * 1.3 * pose.time_s)
    xy = pose.image_xy_px.copy()
    for part in ("ankle", "heel", "foot_index"):
        xy[:, INDEX[f"right_{part}"], 1] += wobble
    pose = pose.with_arrays(image_xy_px=xy)
    steady, ratio = steadier_foot(pose)
    assert steady == "right" and 0.4 < ratio <= 0.6  # steadier, not clearly steady
    assert detect_sls_side(pose)[0] == "left"
    config = AnalysisConfig(cache_dir=None, corrections_path=None)
    with pytest.raises(ScreenerError, match="moves with the body"):
        screener.analyze_pose(pose, task="sls", view="anterior", config=config)
    # with session 21's single threshold the heights were taken: the wrong leg
    old = config.model_copy(
        update={"checks": config.checks.model_copy(update={"sls_side_contradict_ratio_max": 0.4})}
    )
    assert (
        screener.analyze_pose(pose, task="sls", view="anterior", config=old).summary["stance_side"]
        == "left"
    )


def _planted_foot_against_the_hips(pose: PoseSequence, side: str, gain: float) -> PoseSequence:
    """The planted foot drawn moving against the hips' image height (``gain`` times their
    excursion, upward as they go down), plus a little seeded jitter: filmed from behind,
    MediaPipe's planted foot often does so (its row correlates negatively with the hips')."""
    hips = 0.5 * (pose.xy("left_hip")[:, 1] + pose.xy("right_hip")[:, 1])
    jitter = np.random.default_rng(34).normal(0.0, 0.5, pose.n_frames)
    xy = pose.image_xy_px.copy()
    for part in ("ankle", "heel", "foot_index"):
        xy[:, INDEX[f"{side}_{part}"], 1] -= gain * (hips - hips.mean()) - jitter
    return pose.with_arrays(image_xy_px=xy)


def test_the_foot_following_the_hips_is_the_lifted_one() -> None:
    pose = _planted_foot_against_the_hips(_lifted_foot_shifted("left", 0.0), "left", 0.2)
    planted, r_diff = foot_following_hips(pose)
    assert planted == "left"
    assert r_diff > 1.5  # the lifted foot r near +1, the planted one negative
    # a planted foot that does not move at all follows nothing (r 0)
    still = make_sequence(single_leg_squat("left", n_reps=3)[0], fps=30.0, duration_s=8.0)
    planted, r_diff = foot_following_hips(still)
    assert planted == "left" and r_diff == pytest.approx(1.0)


def test_feet_level_and_no_steadier_foot_the_foot_following_the_hips_settles_the_leg() -> None:
    """Session 34: from behind the lifted foot can look level with the planted one while
    the planted foot's landmarks move (against the hips): the heights and the steadiness
    do not tell, the foot that follows the hips does."""
    pose = _lifted_foot_shifted("right", 0.0)
    pose = _lifted_foot_shifted("right", detect_sls_side(pose)[1])  # level at the median
    pose = _planted_foot_against_the_hips(pose, "right", 0.5)
    assert detect_sls_side(pose)[1] < 0.02
    assert steadier_foot(pose)[1] > 0.4  # not clearly steady
    assert foot_following_hips(pose)[0] == "right"
    config = AnalysisConfig(cache_dir=None, corrections_path=None)
    result = screener.analyze_pose(pose, task="sls", view="anterior", config=config)
    assert result.summary["stance_side"] == "right"
    # without the cue (a threshold no clip reaches) --side is asked for, as before
    off = config.model_copy(
        update={"checks": config.checks.model_copy(update={"sls_side_follow_r_diff_min": 2.0})}
    )
    with pytest.raises(ScreenerError, match="one height"):
        screener.analyze_pose(pose, task="sls", view="anterior", config=off)


def test_a_lower_foot_that_follows_the_hips_is_asked_about_not_taken_for_the_planted_one() -> None:
    """The lifted foot looks a little lower and the planted one moves as much (so the
    steadiness does not object): the heights alone would name the wrong leg; the foot that
    follows the hips contradicts them, and --side is asked for."""
    pose = _lifted_foot_shifted("right", 0.0)
    pose = _lifted_foot_shifted("right", detect_sls_side(pose)[1] + 0.1)
    pose = _planted_foot_against_the_hips(pose, "right", 0.8)
    side, lift = detect_sls_side(pose)
    assert side == "left" and 0.02 < lift < 0.15  # the heights name the wrong leg
    assert steadier_foot(pose)[1] > 0.6  # the steadiness does not object
    config = AnalysisConfig(cache_dir=None, corrections_path=None)
    with pytest.raises(ScreenerError, match="rises and falls with the hips") as err:
        screener.analyze_pose(pose, task="sls", view="anterior", config=config)
    assert "--side left or --side right" in str(err.value)
    off = config.model_copy(
        update={"checks": config.checks.model_copy(update={"sls_side_follow_r_diff_min": 2.0})}
    )
    wrong = screener.analyze_pose(pose, task="sls", view="anterior", config=off)
    assert wrong.summary["stance_side"] == "left"  # what the rules read before session 34


def _feet_apart_in_depth(pose: PoseSequence, nearer: str, metres: float) -> PoseSequence:
    """``pose`` with the ``nearer`` foot's 3D landmarks moved ``metres`` toward the lens."""
    world = pose.world_xyz_m.copy()
    for part in ("ankle", "heel", "foot_index"):
        world[:, INDEX[f"{nearer}_{part}"], 2] -= metres
    return pose.with_arrays(world_xyz_m=world)


def test_foot_nearer_m_reads_how_much_nearer_the_lens_a_foot_is() -> None:
    figure, _ = single_leg_squat("right", n_reps=2)
    pose = make_sequence(figure, fps=30.0, duration_s=5.0)
    before = foot_nearer_m(pose, "right")
    moved = _feet_apart_in_depth(pose, "right", 0.2)
    assert foot_nearer_m(moved, "right") == pytest.approx(before + 0.2, abs=1e-9)
    assert foot_nearer_m(moved, "left") == pytest.approx(-(before + 0.2), abs=1e-9)
    hidden = moved.with_arrays(world_xyz_m=np.full_like(moved.world_xyz_m, np.nan))
    assert np.isnan(foot_nearer_m(hidden, "right"))


def test_from_behind_a_lower_foot_well_nearer_the_lens_is_asked_about() -> None:
    """Session 48: filmed from behind by a lens looking down, a lifted foot held back looks
    lower because it is nearer; where the pose model puts the lower-looking foot more than
    checks.sls_side_nearer_max_m nearer the lens, --side is asked for instead of taking it
    for the planted one. From the front, or with the check off, the lower foot is read."""
    figure, _ = single_leg_squat("right", n_reps=3)
    config = AnalysisConfig(cache_dir=None, corrections_path=None)
    off = config.model_copy(
        update={"checks": config.checks.model_copy(update={"sls_side_nearer_max_m": None})}
    )
    behind = make_sequence(figure, fps=30.0, duration_s=8.0, view="posterior")
    level = screener.analyze_pose(behind, task="sls", view="posterior", config=config)
    assert level.summary["stance_side"] == "right"  # feet at one depth: read as before
    # the synthetic lifted foot is held back, 0.39 m nearer the lens than the planted one
    # (which also looks lower, as it should); bring the planted foot 0.6 m nearer, so that
    # the lower-looking foot is 0.21 m the nearer, as a lifted foot filmed from above is
    assert foot_nearer_m(behind, "right") == pytest.approx(-0.39, abs=0.01)
    nearer = _feet_apart_in_depth(behind, "right", 0.6)
    with pytest.raises(ScreenerError) as err:
        screener.analyze_pose(nearer, task="sls", view="posterior", config=config)
    message = str(err.value)
    assert "nearer the camera" in message and "--side left or --side right" in message
    assert "\n" not in message
    unchecked = screener.analyze_pose(nearer, task="sls", view="posterior", config=off)
    assert unchecked.summary["stance_side"] == "right"
    named = screener.analyze_pose(nearer, task="sls", side="right", view="posterior", config=config)
    assert named.summary["stance_side"] == "right"
    front = make_sequence(figure, fps=30.0, duration_s=8.0, view="anterior")
    front = _feet_apart_in_depth(front, "right", 0.6)
    read = screener.analyze_pose(front, task="sls", view="anterior", config=config)
    assert read.summary["stance_side"] == "right"
