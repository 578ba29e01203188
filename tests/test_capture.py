"""Capture checks: camera yaw, roll, lens height and subject size, roll correction and
the validated envelope.

Synthetic landmarks are seen through a pinhole camera placed at a known yaw, roll and
height (and MediaPipe-style world landmarks in the camera's axes), so every estimate has
a known answer. The roll correction is also checked end to end on a sample video whose
frames are rotated by 3°.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import screener
from screener.capture import (
    ROLL_FROM_ROOM,
    YAW_FROM_WALK,
    CameraEstimate,
    OtherPeople,
    OtherPeopleFramePicker,
    check_envelope,
    correct_roll,
    detect_other_people,
    estimate_camera,
    load_envelope,
    other_people_frames,
    with_scene_tilt,
)
from screener.clothing import Clothing
from screener.config import AnalysisConfig, CaptureConfig, PoseConfig
from screener.errors import ConfigError, NoPersonError, ViewError
from screener.keypoints import PoseSequence, empty_pose_sequence
from screener.landmarks import INDEX, N_LANDMARKS
from screener.pipeline import oriented_pose, other_people_warnings
from screener.pose import estimate_pose
from screener.scene import SceneTilt
from tests.conftest import transform_video
from tests.synthetic import jog_in_place, standing_figure

IMAGE_W, IMAGE_H = 1080, 1920
FOCAL_PX = 0.5 * IMAGE_H / math.tan(math.radians(65.0) / 2)  # the assumed field of view


def camera_sequence(
    figure_at: Callable[[float], dict[str, np.ndarray]],
    *,
    yaw_deg: float = 0.0,
    roll_deg: float = 0.0,
    pitch_deg: float = 0.0,
    height_m: float = 0.8,
    distance_m: float = 3.0,
    view: str = "anterior",
    fps: float = 30.0,
    duration_s: float = 3.0,
) -> PoseSequence:
    """The figure (subject frame: X anterior, Y up, Z right) filmed by a level pinhole
    camera ``distance_m`` from the subject, at ``yaw_deg`` toward the subject's left of
    the frontal axis of ``view``, lens ``height_m`` above the floor, looking down by
    ``pitch_deg``, rolled ``roll_deg`` (clockwise on screen). World landmarks are in the
    camera's axes, centred on the hips, as MediaPipe gives them."""
    psi = math.radians(yaw_deg)
    front = 1.0 if view == "anterior" else -1.0
    cam = np.array([front * distance_m * math.cos(psi), height_m, -distance_m * math.sin(psi)])
    forward = np.array([0.0, height_m, 0.0]) - cam
    forward /= np.linalg.norm(forward)
    right = np.cross(np.array([0.0, -1.0, 0.0]), forward)
    p = math.radians(pitch_deg)  # looking down
    forward = math.cos(p) * forward + math.sin(p) * np.array([0.0, -1.0, 0.0])
    down = np.cross(forward, right)
    a = math.radians(roll_deg)
    roll = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    centre = np.array([IMAGE_W / 2, IMAGE_H / 2])
    t = np.arange(0.0, duration_s, 1.0 / fps)
    image = np.full((len(t), N_LANDMARKS, 2), np.nan)
    world = np.full((len(t), N_LANDMARKS, 3), np.nan)
    vis = np.zeros((len(t), N_LANDMARKS))
    for i, ti in enumerate(t):
        pts = figure_at(float(ti))
        cam_xyz = {
            n: np.array([(p - cam) @ right, (p - cam) @ down, (p - cam) @ forward])
            for n, p in pts.items()
        }
        hips = 0.5 * (cam_xyz["left_hip"] + cam_xyz["right_hip"])
        for name, c in cam_xyz.items():
            uv = FOCAL_PX * c[:2] / c[2]
            image[i, INDEX[name]] = centre + roll @ uv
            rolled = np.array([*(roll @ c[:2]), c[2]])
            world[i, INDEX[name]] = rolled - np.array([*(roll @ hips[:2]), hips[2]])
            vis[i, INDEX[name]] = 0.99
    return PoseSequence(
        time_s=t,
        image_xy_px=image,
        world_xyz_m=world,
        visibility=vis,
        detected=np.ones(len(t), bool),
        image_size_px=(IMAGE_W, IMAGE_H),
        source={"generator": "tests.test_capture"},
    )


def standing(_: float) -> dict[str, np.ndarray]:
    return standing_figure()


@pytest.mark.parametrize("view", ["anterior", "posterior"])
@pytest.mark.parametrize(("yaw", "roll", "height"), [(0, 0, 0.8), (20, 3, 0.5), (-25, -4, 1.1)])
def test_yaw_roll_and_height_of_a_known_camera_are_recovered(
    view: str, yaw: float, roll: float, height: float
) -> None:
    pose = camera_sequence(standing, yaw_deg=yaw, roll_deg=roll, height_m=height, view=view)
    est = estimate_camera(pose)
    assert est.roll_source == "both feet down"
    assert est.pitch_deg == pytest.approx(0.0, abs=0.5)
    assert est.roll_deg == pytest.approx(roll, abs=0.3)
    assert est.yaw_deg == pytest.approx(yaw, abs=2.0)
    assert est.camera_height_m == pytest.approx(height, abs=0.05)
    assert est.distance_m == pytest.approx(3.0, rel=0.1)


def test_a_high_camera_looking_down_is_placed_by_its_pitch() -> None:
    """As the Pose2Sim lab cameras: 1.9 m high, looking down 22°."""
    pose = camera_sequence(standing, height_m=1.9, pitch_deg=22.0, distance_m=3.0)
    est = estimate_camera(pose)
    assert est.pitch_deg == pytest.approx(22.0, abs=0.5)
    assert est.camera_height_m == pytest.approx(1.9, abs=0.1)
    assert est.camera_height_landmark == "above the shoulder"
    # a small pitch is not used to move the horizon (it is within the estimate's error)
    slight = estimate_camera(camera_sequence(standing, height_m=0.9, pitch_deg=5.0))
    assert slight.pitch_deg == pytest.approx(5.0, abs=0.5)
    assert slight.camera_height_m < 0.9  # read as the height it aims at, not corrected


def test_subject_size_follows_the_distance() -> None:
    near = estimate_camera(camera_sequence(standing, distance_m=2.5), "walk")
    far = estimate_camera(camera_sequence(standing, distance_m=5.0), "walk")
    assert 0.4 < near.subject_height_fraction < 0.95
    assert far.subject_height_fraction == pytest.approx(near.subject_height_fraction / 2, rel=0.05)


def test_the_lens_height_is_placed_against_the_knee_and_hip() -> None:
    low = estimate_camera(camera_sequence(standing, height_m=0.3), "walk")
    mid = estimate_camera(camera_sequence(standing, height_m=0.7), "walk")
    high = estimate_camera(camera_sequence(standing, height_m=1.6), "walk")
    assert low.camera_height_landmark == "below the knee"
    assert mid.camera_height_landmark == "knee to hip"
    assert high.camera_height_landmark in ("hip to shoulder", "above the shoulder")


def test_frames_that_lost_both_knees_leave_the_knee_height_to_the_others() -> None:
    """A frame without either knee's world landmark gives no knee height, without a
    NumPy warning, and does not turn the median into NaN."""
    pose = camera_sequence(standing, height_m=0.7)
    knees = [INDEX["left_knee"], INDEX["right_knee"]]
    pose.world_xyz_m[::3, knees] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est = estimate_camera(pose, "walk")
    assert np.isfinite(est.knee_height_m)
    assert est.knee_height_m == pytest.approx(
        estimate_camera(camera_sequence(standing, height_m=0.7), "walk").knee_height_m, abs=0.01
    )
    assert est.camera_height_landmark == "knee to hip"


def approaching(t: float) -> dict[str, np.ndarray]:
    """A standing body carried from 5 m to 1.5 m from a camera 3 m in front, in 3 s."""
    shift = np.array([-2.0 + 3.5 * t / 3.0, 0.0, 0.0])
    return {name: p + shift for name, p in standing_figure().items()}


@pytest.mark.parametrize(("height", "pitch"), [(0.5, 0.0), (0.8, 5.0), (1.6, 15.0), (1.6, 25.0)])
def test_the_lens_height_of_a_walk_toward_the_camera_is_read_whatever_its_tilt(
    height: float, pitch: float, envelope: Any
) -> None:
    pose = camera_sequence(approaching, height_m=height, pitch_deg=pitch)
    est = estimate_camera(pose, "walk")
    assert est.camera_height_method == "approach"
    # the horizon method reads a tilted camera's aim, the approach does not need it
    # (a tilt bends the rows' relation to height a little: 0.13 m at 15-25° here)
    assert est.camera_height_m == pytest.approx(height, abs=0.05 + 0.006 * pitch)
    check = check_envelope(est, envelope, "anterior", 30.0)
    said = [w for w in check.warnings if "lens is about" in w]
    if height > envelope.camera_height_max_m:
        (text,) = said
        assert f"about {est.camera_height_m:.1f} m above the floor" in text
        assert "lower the phone to between the patient's knee and hip height" in text
    else:
        assert said == []


@pytest.mark.parametrize("view", ["anterior", "posterior"])
@pytest.mark.parametrize("yaw", [0.0, 12.0, -20.0])
def test_a_walks_azimuth_is_read_from_its_walking_line(view: str, yaw: float) -> None:
    """The camera aims at a point of the walking line from ``yaw`` off it: toward the
    camera (anterior) or away from it (posterior), the angle between the walking line and
    the line of sight is that yaw, in the sign of the body's estimate; the yaw reported is
    the mean of it and the body's."""
    pose = camera_sequence(approaching, yaw_deg=yaw, view=view)
    est = estimate_camera(pose, "walk")
    assert est.yaw_method == YAW_FROM_WALK
    assert est.path_yaw_deg == pytest.approx(yaw, abs=1.0)
    assert est.yaw_deg == pytest.approx(0.5 * (est.path_yaw_deg + est.body_yaw_deg))
    # the same clip read as a jog (no path) keeps the body's estimate
    jog = estimate_camera(pose, "jog")
    assert jog.yaw_method == "body" and jog.yaw_deg == jog.body_yaw_deg


def test_a_walk_too_short_for_a_path_keeps_the_bodys_azimuth() -> None:
    """Half a metre of walking gives no line: the body's hip and shoulder lines give the
    azimuth, as in the other tasks."""

    def shuffling(t: float) -> dict[str, np.ndarray]:
        return {n: p + np.array([0.5 * t / 3.0, 0.0, 0.0]) for n, p in standing_figure().items()}

    est = estimate_camera(camera_sequence(shuffling, yaw_deg=15.0), "walk")
    assert est.yaw_method == "body" and np.isnan(est.path_yaw_deg)
    assert est.yaw_deg == pytest.approx(15.0, abs=2.0)


def test_a_walk_off_the_line_of_sight_gets_an_instruction_about_the_line(envelope: Any) -> None:
    est = estimate_camera(camera_sequence(approaching, yaw_deg=-20.0), "walk")
    assert est.yaw_deg == pytest.approx(-20.0, abs=2.0)
    (text,) = check_envelope(est, envelope, "anterior", 30.0).warnings
    assert f"the patient walks about {abs(est.yaw_deg):.0f}° off the camera's line of sight" in text
    assert "the camera to the right of their walking line" in text
    assert "place it straight in front of the patient on the line they walk along" in text


def test_an_approach_whose_frames_disagree_gives_no_lens_height() -> None:
    """Frames alternating between two lines (as when the tracker jumps between two people
    moving about a room) give no approach estimate: the horizon method is reported."""
    low = camera_sequence(approaching, height_m=0.6)
    high = camera_sequence(lambda t: approaching(3.0 - t), height_m=1.8)
    mixed = low.with_arrays(
        image_xy_px=np.where(
            (np.arange(low.n_frames) % 2 == 0)[:, None, None], low.image_xy_px, high.image_xy_px
        ),
        world_xyz_m=np.where(
            (np.arange(low.n_frames) % 2 == 0)[:, None, None], low.world_xyz_m, high.world_xyz_m
        ),
    )
    assert estimate_camera(low, "walk").camera_height_method == "approach"
    assert estimate_camera(mixed, "walk").camera_height_method == "horizon"


def test_without_an_approach_the_lens_height_is_not_checked_and_says_so(envelope: Any) -> None:
    """A squat's lens height (no approach) is not warned about, whatever it reads, but the
    check says it was not made and what to confirm, with the envelope file's limits."""
    est = estimate_camera(camera_sequence(standing, height_m=1.6), "sls")
    assert est.camera_height_method == "horizon"
    assert est.camera_height_m > envelope.camera_height_warn_above_m
    check = check_envelope(est, envelope, "anterior", 30.0)
    assert not any("lens is about" in w for w in check.warnings)
    (note,) = check.unchecked
    assert note.startswith("The lens height was not checked")
    limits = f"{envelope.camera_height_min_m:.1f}-{envelope.camera_height_max_m:.1f} m"
    assert limits == "0.4-1.2 m" and limits in note
    assert "between the patient's knee and hip height" in note
    walked = estimate_camera(camera_sequence(approaching, height_m=0.6), "walk")
    assert walked.camera_height_method == "approach"
    assert check_envelope(walked, envelope, "anterior", 30.0).unchecked == ()


def test_a_squat_filmed_from_the_front_is_told_its_distance_was_not_checked(
    envelope: Any,
) -> None:
    """The distance is not read; a front squat's check says so, with the distance and the
    errors of the envelope file, and tells what to do; other tasks and views do not."""
    est = estimate_camera(camera_sequence(standing, height_m=0.6), "sls")
    notes = check_envelope(est, envelope, "anterior", 30.0, task="sls").unchecked
    (note,) = [n for n in notes if "distance" in n]
    assert envelope.squat_front_distance_min_m == 1.8
    assert "closer than 1.8 m" in note and "record again with it 2-3 m" in note
    low, high = envelope.squat_front_rmse_closer_deg
    assert f"{low:.0f}-{high:.0f}° off" in note
    for view, task in (("posterior", "sls"), ("anterior", "jog"), ("anterior", None)):
        notes = check_envelope(est, envelope, view, 30.0, task=task).unchecked
        assert not any("distance" in n for n in notes)


def test_a_camera_distance_entered_checks_a_front_squat_and_nothing_else(
    envelope: Any,
) -> None:
    """A front squat's distance, measured when filming, is what is checked: closer than the
    envelope file's distance warns with the errors and what to do, from there on nothing is
    said, and the "not checked" note (which tells how to have it checked) goes; the
    distance does not limit other tasks or views."""
    est = estimate_camera(camera_sequence(standing, height_m=0.6), "sls")
    unstated = check_envelope(est, envelope, "anterior", 30.0, task="sls")
    (note,) = [n for n in unstated.unchecked if "distance" in n]
    assert "--camera-distance-m" in note and "upload form's camera distance" in note
    near = check_envelope(est, envelope, "anterior", 30.0, task="sls", stated_distance_m=1.4)
    assert not any("distance" in n for n in near.unchecked)
    (text,) = [w for w in near.warnings if "from the patient" in w]
    assert text.startswith(
        "the camera was 1.4 m from the patient, as entered (validated from 1.8 m for a "
        "single-leg squat filmed from the front)"
    )
    low, high = envelope.squat_front_rmse_closer_deg
    assert f"{low:.0f}-{high:.0f}° off" in text
    assert text.endswith("film again with the phone 2-3 m from the patient")
    assert near.refusal is None
    # the verdicts then judge its knee FPPA with the error of squats filmed that close
    (rmse, source), *rest = near.error_floors.values()
    assert list(near.error_floors) == ["knee_fppa_deg"] and rest == []
    assert rmse == max(envelope.squat_front_rmse_closer_deg)
    assert source.startswith("envelope.toml, [squat_front_distance_m]")
    assert unstated.error_floors == {}
    for distance in (envelope.squat_front_distance_min_m, 2.5):
        far = check_envelope(
            est, envelope, "anterior", 30.0, task="sls", stated_distance_m=distance
        )
        assert not any("distance" in n for n in far.unchecked)
        assert not any("from the patient" in w for w in far.warnings)
        assert far.error_floors == {}
    for view, task in (("posterior", "sls"), ("anterior", "jog"), ("anterior", "walk")):
        other = check_envelope(est, envelope, view, 30.0, task=task, stated_distance_m=1.0)
        assert not any("from the patient" in w for w in other.warnings)
        assert other.error_floors == {}


def test_a_lens_height_entered_is_checked_instead_of_the_video_reading(envelope: Any) -> None:
    """A squat has no approach: the height measured when filming is what is checked, and
    the "not checked" note goes; a walk's approach reading gives way to it too."""
    squat = estimate_camera(camera_sequence(standing, height_m=1.6), "sls")
    high = check_envelope(squat, envelope, "anterior", 30.0, stated_height_m=1.6)
    assert high.unchecked == ()
    (text,) = [w for w in high.warnings if "lens" in w]
    assert text.startswith("the lens was 1.60 m above the floor, as entered (validated 0.4-1.2 m)")
    assert "film again with the lens between the patient's knee and hip height" in text
    fine = check_envelope(squat, envelope, "anterior", 30.0, stated_height_m=0.55)
    assert fine.unchecked == () and not any("lens" in w for w in fine.warnings)
    low = check_envelope(squat, envelope, "anterior", 30.0, stated_height_m=0.25)
    assert any(w.startswith("the lens was 0.25 m above the floor") for w in low.warnings)
    walked = estimate_camera(camera_sequence(approaching, height_m=1.6), "walk")
    assert walked.camera_height_method == "approach"
    assert any(
        "lens is about" in w for w in check_envelope(walked, envelope, "anterior", 30.0).warnings
    )
    measured = check_envelope(walked, envelope, "anterior", 30.0, stated_height_m=0.6)
    assert not any("lens" in w for w in measured.warnings)


def one_leg_lean(t: float) -> dict[str, np.ndarray]:
    """On one leg, the trunk leaning 15° over it: the left foot, held back, stays level
    with the planted one in the image (as seen from behind) but sways with the body."""
    figure = standing_figure(trunk_lean_deg=15.0)
    sway = np.array([0.0, 0.0, 0.06 * math.sin(2 * math.pi * 0.8 * t)])
    for part in ("ankle", "heel", "foot_index"):
        figure[f"left_{part}"] = figure[f"left_{part}"] + sway
    return figure


def stand_then_one_leg(t: float) -> dict[str, np.ndarray]:
    """The capture guide's stand on both feet (1 s), then :func:`one_leg_lean`."""
    return standing(t) if t < 1.0 else one_leg_lean(t)


def test_a_squats_roll_is_read_from_its_stand_on_both_feet_only() -> None:
    """A lifted foot that looks level with the planted one is not a stand on both feet:
    the body leaning over one leg would read as a rolled camera (session 39)."""
    one_leg = estimate_camera(camera_sequence(one_leg_lean, roll_deg=2.0, view="posterior"), "sls")
    assert np.isnan(one_leg.roll_deg)
    assert one_leg.roll_source == "no frames with both feet on the ground"
    # the same frames with the task unknown are taken as standing: the lean is read as roll
    unknown = estimate_camera(camera_sequence(one_leg_lean, roll_deg=2.0, view="posterior"))
    assert abs(unknown.roll_deg - 2.0) > 3.0
    guided = camera_sequence(stand_then_one_leg, roll_deg=2.0, view="posterior")
    est = estimate_camera(guided, "sls")
    assert est.roll_source == "both feet down"
    assert est.roll_deg == pytest.approx(2.0, abs=0.3)


def test_correct_roll_undoes_a_rotation_exactly() -> None:
    level = camera_sequence(standing)
    rolled = camera_sequence(standing, roll_deg=3.0)
    back = correct_roll(rolled, 3.0)
    np.testing.assert_allclose(back.image_xy_px, level.image_xy_px, atol=1e-6)
    assert correct_roll(rolled, float("nan")) is rolled


def _estimate(**kw: Any) -> CameraEstimate:
    base: dict[str, Any] = {
        "roll_deg": 0.0,
        "roll_source": "both feet down",
        "yaw_deg": 0.0,
        "pitch_deg": 2.0,
        "camera_height_m": 0.8,
        "camera_height_landmark": "knee to hip",
        "knee_height_m": 0.5,
        "hip_height_m": 0.9,
        "distance_m": 3.0,
        "subject_height_fraction": 0.7,
        "subject_height_fraction_min": 0.6,
        "assumed_long_side_fov_deg": 65.0,
    }
    base.update(kw)
    return CameraEstimate(**base)


@pytest.fixture(scope="module")
def envelope() -> Any:
    return load_envelope(CaptureConfig().envelope_path)


@pytest.mark.parametrize("yaw", [9.0, -9.5, 10.0])
def test_a_yaw_read_within_its_error_of_the_limit_warns_that_it_may_be_beyond(
    envelope: Any, yaw: float
) -> None:
    """An estimate within the envelope's margin (its own error) of the yaw limit cannot
    tell a camera inside from one beyond: it warns, saying so, and the analysis goes on."""
    margin = envelope.yaw_warn_margin_deg
    assert 1.0 <= margin < 3.0
    assert envelope.yaw_warn_abs_deg - margin < abs(yaw) <= envelope.yaw_warn_abs_deg
    check = check_envelope(_estimate(yaw_deg=yaw), envelope, "posterior", 30.0)
    assert check.refusal is None
    (text,) = check.warnings
    side = "left" if yaw > 0 else "right"
    assert f"the camera is about {abs(yaw):.0f}° to the patient's {side}" in text
    assert "at the edge of the validated ±10°" in text and "may be beyond it" in text
    assert text.endswith("place it straight behind the patient, lens at knee height")
    # further in, nothing is said
    inside = envelope.yaw_warn_abs_deg - margin - 0.2
    assert check_envelope(_estimate(yaw_deg=inside), envelope, "posterior", 30.0).warnings == ()


def test_a_walk_near_the_yaw_limit_is_told_about_its_walking_line(envelope: Any) -> None:
    est = _estimate(yaw_deg=-9.2, path_yaw_deg=-9.0, yaw_method=YAW_FROM_WALK)
    (text,) = check_envelope(est, envelope, "anterior", 30.0).warnings
    assert text.startswith("the patient walks about 9° off the camera's line of sight")
    assert "the camera to the right of their walking line, at the edge of" in text
    assert text.endswith(
        "straight in front of the patient on the line they walk along, lens at knee height"
    )


def test_inside_the_envelope_nothing_is_said(envelope: Any) -> None:
    check = check_envelope(_estimate(), envelope, "anterior", 30.0)
    assert check.warnings == () and check.refusal is None and check.roll_correction_deg == 0.0


def test_a_yawed_camera_gets_an_instruction(envelope: Any) -> None:
    check = check_envelope(_estimate(yaw_deg=25.0), envelope, "anterior", 30.0)
    assert check.refusal is None
    (text,) = check.warnings
    assert "about 25° to the patient's left" in text
    assert "place it straight in front of the patient, lens at knee height" in text
    behind = check_envelope(_estimate(yaw_deg=-20.0), envelope, "posterior", 30.0)
    assert "to the patient's right" in behind.warnings[0]
    assert "straight behind the patient" in behind.warnings[0]
    far = check_envelope(_estimate(yaw_deg=50.0), envelope, "anterior", 30.0)
    assert far.refusal and "50° to the patient's left" in far.refusal


def test_roll_is_corrected_warned_or_refused_by_size(envelope: Any) -> None:
    small = check_envelope(_estimate(roll_deg=3.0), envelope, "anterior", 30.0)
    assert small.roll_correction_deg == -3.0 and small.warnings == ()
    tiny = check_envelope(_estimate(roll_deg=0.3), envelope, "anterior", 30.0)
    assert tiny.roll_correction_deg == 0.0
    off = check_envelope(_estimate(roll_deg=3.0), envelope, "anterior", 30.0, correct=False)
    assert off.roll_correction_deg == 0.0
    mid = check_envelope(_estimate(roll_deg=-7.0), envelope, "anterior", 30.0)
    assert mid.roll_correction_deg == 7.0
    assert "tilted about 7° and was straightened" in mid.warnings[0]
    big = check_envelope(_estimate(roll_deg=12.0), envelope, "anterior", 30.0)
    assert big.refusal and "tilted about 12°" in big.refusal
    unknown = check_envelope(_estimate(roll_deg=float("nan")), envelope, "anterior", 30.0)
    assert "could not be checked" in unknown.warnings[0]


def test_size_pitch_and_frame_rate_outside_the_envelope_are_warned(envelope: Any) -> None:
    # a horizon estimate of the lens height is reported, not checked (its error exceeds
    # the envelope); an approach's is
    high = check_envelope(_estimate(camera_height_m=1.6), envelope, "anterior", 30.0)
    assert high.warnings == ()
    walked = check_envelope(
        _estimate(camera_height_m=1.6, camera_height_method="approach",
                  camera_height_landmark="above the shoulder"),
        envelope, "anterior", 30.0,
    )  # fmt: skip
    assert walked.warnings == (
        "the lens is about 1.6 m above the floor, above the patient's shoulders (validated "
        "up to 1.2 m): lower the phone to between the patient's knee and hip height, held "
        "upright",
    )
    small = check_envelope(_estimate(subject_height_fraction=0.3), envelope, "anterior", 30.0)
    assert "fills only 30%" in small.warnings[0] and "closer" in small.warnings[0]
    tiny = check_envelope(_estimate(subject_height_fraction=0.1), envelope, "anterior", 30.0)
    assert tiny.refusal and "fills only 10%" in tiny.refusal
    big = check_envelope(_estimate(subject_height_fraction=0.98), envelope, "anterior", 30.0)
    assert "move the camera back" in big.warnings[0]
    tilted = check_envelope(_estimate(pitch_deg=22.0), envelope, "anterior", 30.0)
    assert "looks down at the patient by about 22°" in tilted.warnings[0]
    slow = check_envelope(_estimate(), envelope, "anterior", 15.0)
    assert "15 fps" in slow.warnings[0]
    # a rate measured from time stamps is the nominal one (a 240 fps render read
    # 240.00000000000085 and was warned about as outside 24-240 fps)
    assert check_envelope(_estimate(), envelope, "anterior", 240.00000000000085).warnings == ()
    assert check_envelope(_estimate(), envelope, "anterior", 23.99).warnings == ()
    fast = check_envelope(_estimate(), envelope, "anterior", 480.0)
    assert "480 fps" in fast.warnings[0]


def test_a_broken_envelope_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "envelope.toml"
    bad.write_text("[yaw_deg]\nwarn_abs = 15\n")
    with pytest.raises(ConfigError, match="invalid envelope file"):
        load_envelope(bad)


def _jog(roll_deg: float) -> PoseSequence:
    figure, _ = jog_in_place(drop_deg={"left": 3.0, "right": 3.0})
    return camera_sequence(figure, roll_deg=roll_deg, fps=60.0, duration_s=5.0, distance_m=3.5)


def _quiet() -> AnalysisConfig:
    return AnalysisConfig(cache_dir=None, corrections_path=None)


def test_a_rolled_phone_does_not_turn_a_symmetric_drop_into_an_asymmetric_one() -> None:
    """A symmetric 3° drop, filmed level and with the phone rolled 3°: after the
    correction both sides read as when level; without it they split by about 3° each way."""
    config = _quiet()
    level = screener.analyze_pose(_jog(0.0), task="jog", view="anterior", config=config)
    rolled = screener.analyze_pose(_jog(3.0), task="jog", view="anterior", config=config)
    off = config.model_copy(update={"capture": CaptureConfig(correct_roll=False)})
    raw = screener.analyze_pose(_jog(3.0), task="jog", view="anterior", config=off)

    def drop(result: Any, side: str) -> float:
        return float(result.summary["sides"][side]["pelvic_drop_deg"]["mean"])

    for side in ("left", "right"):
        assert abs(drop(rolled, side) - drop(level, side)) < 0.5
    assert abs(drop(raw, "left") - drop(raw, "right")) > 4.0
    applied = rolled.summary["provenance"]["roll_correction"]["applied_deg"]
    assert applied == pytest.approx(-3.0, abs=0.3)
    assert level.summary["provenance"]["roll_correction"]["applied_deg"] == 0.0
    # the stored landmarks stay in the video's pixels
    np.testing.assert_allclose(
        rolled.raw_pose.image_xy_px, _jog(3.0).image_xy_px, atol=1e-6, equal_nan=True
    )


def test_oriented_pose_is_what_the_capture_check_reads() -> None:
    """The benchmarks' way to the capture check's landmarks gives the camera the
    analysis reports."""
    config = _quiet()
    pose = _jog(2.0)
    oriented, view = oriented_pose(pose, config=config)
    assert view == "anterior"
    result = screener.analyze_pose(pose, task="jog", config=config)
    camera = estimate_camera(oriented, "jog")
    assert camera.yaw_deg == pytest.approx(result.summary["capture"]["yaw_deg"], abs=1e-9)
    assert camera.roll_deg == pytest.approx(result.summary["capture"]["roll_deg"], abs=1e-9)


# --- the room's verticals as the roll ---------------------------------------------------


def test_the_room_sets_the_roll_only_where_it_was_read() -> None:
    body = _estimate(roll_deg=6.0, body_roll_deg=6.0)
    room = with_scene_tilt(body, SceneTilt(1.0, 40, 4))
    assert room.roll_deg == 1.0 and room.roll_source == ROLL_FROM_ROOM
    assert room.body_roll_deg == 6.0
    assert with_scene_tilt(body, SceneTilt(1.0, 5, 4)) is body  # too few segments
    assert with_scene_tilt(body, SceneTilt(None, 0, 4)) is body
    assert with_scene_tilt(body, None) is body


def test_a_lean_from_the_rooms_vertical_is_reported_in_the_patients_terms(
    envelope: Any,
) -> None:
    leaning = with_scene_tilt(_estimate(roll_deg=7.0, body_roll_deg=7.0), SceneTilt(1.0, 40, 4))
    front = check_envelope(leaning, envelope, "anterior", 30.0)
    (text,) = front.warnings
    assert "leans about 6° to their left of the room's vertical throughout" in text
    assert front.roll_correction_deg == pytest.approx(-1.0)  # the camera's, not the body's
    behind = check_envelope(leaning, envelope, "posterior", 30.0)
    assert "to their right" in behind.warnings[0]
    upright = with_scene_tilt(_estimate(roll_deg=3.0, body_roll_deg=3.0), SceneTilt(1.0, 40, 4))
    assert check_envelope(upright, envelope, "anterior", 30.0).warnings == ()
    # without the room's reading the body's tilt is the camera's, as before
    alone = check_envelope(_estimate(roll_deg=7.0, body_roll_deg=7.0), envelope, "anterior", 30.0)
    assert "leans" not in " ".join(alone.warnings)
    assert alone.roll_correction_deg == pytest.approx(-7.0)


def test_a_level_room_keeps_a_leaning_patient_from_being_refused() -> None:
    """The body's axis tilted 12° (beyond the refusal limit): refused when only the body
    tells; measured, with the lean reported, when the room's verticals say the picture is
    level; straightened by the room's 4° when they say so."""
    config = _quiet()
    with pytest.raises(ViewError, match="tilted about 12°"):
        screener.analyze_pose(_jog(12.0), task="jog", view="anterior", config=config)
    level = screener.analyze_pose(
        _jog(12.0), task="jog", view="anterior", config=config, scene_tilt=SceneTilt(0.0, 40, 4)
    )
    assert any("leans about 12°" in w for w in level.summary["quality"]["warnings"])
    roll = level.summary["provenance"]["roll_correction"]
    assert roll["applied_deg"] == 0.0 and roll["source"] == ROLL_FROM_ROOM
    assert level.summary["capture"]["scene_tilt"]["tilt_deg"] == 0.0
    tilted = screener.analyze_pose(
        _jog(4.0), task="jog", view="anterior", config=config, scene_tilt=SceneTilt(4.0, 40, 4)
    )
    assert tilted.summary["provenance"]["roll_correction"]["applied_deg"] == pytest.approx(-4.0)
    assert not any("leans" in w for w in tilted.summary["quality"]["warnings"])


def test_a_phone_rolled_beyond_the_envelope_is_refused_in_one_line() -> None:
    with pytest.raises(ViewError, match="tilted about 12°") as err:
        screener.analyze_pose(_jog(12.0), task="jog", view="anterior", config=_quiet())
    assert "\n" not in str(err.value)


# --- a sample video filmed with the phone rolled 3° -----------------------------------


def _rotate_video(src: Path, dst: Path, angle_deg: float) -> Path:
    """Re-encode ``src`` with every frame rotated by ``angle_deg`` (clockwise on screen)
    about its centre (cv2.warpAffine), as a phone rolled that way would film it."""
    import cv2

    def rotate(rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        m = cv2.getRotationMatrix2D((w / 2, h / 2), -angle_deg, 1.0)
        return np.asarray(cv2.warpAffine(rgb, m, (w, h), borderMode=cv2.BORDER_REPLICATE))

    return transform_video(src, dst, rotate)


@pytest.mark.video
def test_a_sample_video_rolled_3_degrees_reads_as_the_level_one(
    sample_videos_dir: Path, tmp_path: Path
) -> None:
    src = sample_videos_dir / "walk_normal_ant_30fps.mp4"
    rolled = _rotate_video(src, tmp_path / "rolled.mp4", 3.0)
    # the geometric angles: the learned frame model (trained with rolled cameras) would
    # hide part of what the roll does to them
    config = AnalysisConfig(cache_dir=tmp_path / "cache", frame_model_path=None)
    level = screener.analyze(src, task="walk", config=config)
    after = screener.analyze(rolled, task="walk", config=config)
    off = config.model_copy(update={"capture": CaptureConfig(correct_roll=False)})
    before = screener.analyze(rolled, task="walk", config=off)

    est_level = level.summary["capture"]["roll_deg"]
    est_rolled = after.summary["capture"]["roll_deg"]
    assert est_rolled - est_level == pytest.approx(3.0, abs=0.5)
    assert after.summary["provenance"]["roll_correction"]["applied_deg"] == pytest.approx(
        -est_rolled
    )

    def per_side(result: Any, key: str) -> dict[str, float]:
        return {s: float(result.summary["sides"][s][key]["mean"]) for s in ("left", "right")}

    for key in ("pelvic_drop_deg", "knee_fppa_deg"):
        ref, corrected = per_side(level, key), per_side(after, key)
        for side in ("left", "right"):
            assert abs(corrected[side] - ref[side]) < 1.0, (key, side, corrected, ref)
    drop_ref, drop_before = per_side(level, "pelvic_drop_deg"), per_side(before, "pelvic_drop_deg")
    # without the correction the roll splits the two sides' drops apart
    assert max(abs(drop_before[s] - drop_ref[s]) for s in ("left", "right")) > 1.5
    obliquity = "pelvic_obliquity_deg"
    diff = np.nanmedian(after.frames[obliquity]) - np.nanmedian(level.frames[obliquity])
    assert abs(diff) < 1.0


# --- a second person in view -------------------------------------------------------


def test_another_person_is_a_warning_and_a_switch_is_refused() -> None:
    pose = camera_sequence(standing)
    nobody = OtherPeople((0, 10, 20), ())
    somebody = OtherPeople((0, 10, 20), (10, 20))
    fluke = OtherPeople((0, 10, 20), (10,))
    assert other_people_warnings(nobody, pose, "clip.mp4") == []
    assert other_people_warnings(fluke, pose, "clip.mp4") == []
    assert other_people_warnings(None, pose, "clip.mp4") == []
    (text,) = other_people_warnings(somebody, pose, "clip.mp4")
    assert "another person was seen in 2 of 3 checked frames" in text
    jumped = pose.image_xy_px.copy()
    jumped[45:] += np.array([500.0, 0.0])  # the tracking moves to someone else
    switched = pose.with_arrays(image_xy_px=jumped)
    with pytest.raises(NoPersonError, match="switched from one person to another"):
        other_people_warnings(somebody, switched, "clip.mp4")
    assert other_people_warnings(nobody, switched, "clip.mp4") == []


def _detected(n_frames: int, without_pose: list[range] | None = None) -> PoseSequence:
    """A pose whose ``detected`` is True but in ``without_pose``."""
    detected = np.ones(n_frames, dtype=bool)
    for frames in without_pose or []:
        detected[frames.start : frames.stop] = False
    pose = empty_pose_sequence(np.arange(n_frames) / 30.0, (540, 960))
    return pose.with_arrays(detected=detected)


def _former_rule(pose: PoseSequence, n_frames: int) -> list[int]:
    """The former rule: the frames evenly spread over those with a pose."""
    with_pose = np.flatnonzero(pose.detected)
    picked = with_pose[np.linspace(0, with_pose.size - 1, n_frames).round().astype(int)]
    return sorted(set(int(i) for i in picked))


@pytest.mark.parametrize("n_total", [1, 5, 8, 30, 126, 183, 300])
@pytest.mark.parametrize("n_frames", [1, 4, 8])
def test_with_a_pose_in_every_frame_the_searched_frames_are_as_before(
    n_total: int, n_frames: int
) -> None:
    pose = _detected(n_total)
    assert other_people_frames(pose, n_frames) == _former_rule(pose, n_frames)


def test_the_searched_frames_are_the_first_with_a_pose_after_each_target() -> None:
    # targets 0, 10, 19, 29: the first frame with a pose from each target, the last frame
    # with a pose after 19 for the last
    pose = _detected(30, [range(0, 3), range(10, 15), range(28, 30)])
    assert other_people_frames(pose, 4) == [3, 15, 19, 27]
    # no pose between two targets: that target takes nothing
    assert other_people_frames(_detected(30, [range(10, 19)]), 4) == [0, 19, 29]
    assert other_people_frames(_detected(30, [range(0, 30)]), 4) == []
    assert other_people_frames(_detected(30, [range(0, 29)]), 1) == [29]


def test_the_picker_decides_each_frame_but_the_last_targets_when_it_comes() -> None:
    picker = OtherPeopleFramePicker(30, 4)
    assert picker.targets == [0, 10, 19, 29]
    assert picker.could_pick(0) and not picker.offer(0, detected=False)
    assert picker.could_pick(1) and picker.offer(1, detected=True)
    assert not picker.could_pick(2) and not picker.could_pick(9)  # frame 1 was taken
    assert picker.could_pick(10)  # a target
    for index in range(2, 21):
        picker.offer(index, detected=index != 10)
    assert picker.picked() == [1, 11, 19, 20]  # 20: the last target's, for now
    assert not picker.could_pick(21)  # after 19 only the end of the clip decides
    assert picker.could_pick(29)
    picker.offer(25, detected=True)
    picker.offer(29, detected=False)
    assert picker.picked() == [1, 11, 19, 25]
    assert picker.picked() == other_people_frames(
        _detected(30, [range(0, 1), range(10, 11), range(26, 30)]), 4
    )


@pytest.fixture(scope="module")
def pose_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("capture_pose_cache")


def _others(video: Path, cache: Path) -> OtherPeople:
    raw = estimate_pose(video, PoseConfig(), cache)
    return detect_other_people(video, raw, n_frames=8)


@pytest.mark.video
def test_nobody_else_is_found_in_the_sample_videos(
    sample_videos_dir: Path, pose_cache: Path
) -> None:
    for name in ("sls_right_normal_post_30fps.mp4", "walk_normal_ant_30fps.mp4"):
        others = _others(sample_videos_dir / name, pose_cache)
        assert len(others.frames_checked) == 8
        assert not others.frames_with_other, name
        assert not others.found


@pytest.mark.real_videos
@pytest.mark.parametrize("clip", ["pose2sim_multiperson/cam01.mp4", "sports2d_demo/demo.mp4"])
def test_real_videos_a_second_person_is_found(
    real_videos_dir: Path, pose_cache: Path, clip: str
) -> None:
    others = _others(real_videos_dir / clip, pose_cache)
    assert others.found


@pytest.mark.real_videos
def test_real_videos_a_lab_clip_with_people_moving_about_gives_no_lens_height_from_approach(
    real_videos_dir: Path, pose_cache: Path
) -> None:
    """Pose2Sim cam03 (lens 2.1 m): its tracker follows people moving about the room. A fit
    without the roll correction and the gates read 1.0 m; with them there is no approach
    (the body's scale changes by 1.28, under 1.3, and the frames scatter 0.54 about the
    line, over 0.35)."""
    pose = estimate_pose(
        real_videos_dir / "pose2sim_multiperson/cam03.mp4", PoseConfig(), pose_cache
    )
    assert estimate_camera(pose).camera_height_method == "horizon"


@pytest.mark.real_videos
def test_real_videos_a_walk_across_the_picture_reads_as_side_on(
    real_videos_dir: Path, pose_cache: Path
) -> None:
    """The Sports2D walker crosses a still camera's view (a side view): her walking line
    reads 79° off the line of sight (about 90° expected), where the body's hip and
    shoulder lines read 14°."""
    pose = estimate_pose(real_videos_dir / "sports2d_demo/demo.mp4", PoseConfig(), pose_cache)
    est = estimate_camera(pose, "walk")
    assert est.yaw_method == YAW_FROM_WALK
    assert abs(est.path_yaw_deg) > 70.0
    assert abs(est.body_yaw_deg) < 30.0


@pytest.mark.video
def test_a_sample_walk_is_placed_by_its_approach_and_its_walking_line(
    sample_videos_dir: Path, pose_cache: Path
) -> None:
    pose = estimate_pose(sample_videos_dir / "walk_normal_ant_30fps.mp4", PoseConfig(), pose_cache)
    est = estimate_camera(pose, "walk")
    assert est.camera_height_method == "approach"
    assert est.camera_height_m == pytest.approx(1.0, abs=0.15)  # rendered at 1.0 m
    assert est.yaw_method == YAW_FROM_WALK
    assert abs(est.path_yaw_deg) < 5.0  # rendered straight in front of the walking line
    assert abs(est.yaw_deg) < 5.0


def test_the_report_states_where_the_camera_was() -> None:
    from screener.report.context import capture_sentence

    text = capture_sentence(
        {
            "yaw_deg": -25.2,
            "camera_height_m": 1.62,
            "camera_height_landmark": "above the shoulder",
            "pitch_deg": 21.0,
            "roll_deg": 2.5,
            "subject_height_fraction": 0.71,
        }
    )
    assert "about 25° to the patient's right" in text
    assert "1.6 m" not in text  # the horizon's lens height is not reliable enough to state
    assert "tilted 21° down" in text and "rolled +2.5°" in text and "71%" in text
    walked = capture_sentence({"camera_height_m": 1.62, "camera_height_method": "approach"})
    assert "lens about 1.6 m above the floor" in walked  # a walk's approach is
    path = capture_sentence({"yaw_deg": 14.0, "yaw_method": YAW_FROM_WALK, "path_yaw_deg": 12.0})
    assert "about 14° to the left of the patient's walking line" in path
    # a walk whose yaw the learned model gave is still placed against its walking line
    learned = capture_sentence({"yaw_deg": 14.0, "yaw_method": "learned", "path_yaw_deg": 12.0})
    assert "about 14° to the left of the patient's walking line" in learned
    assert capture_sentence({}) == ""
    lit = capture_sentence(
        {"lighting": {"checked": True, "subject_luma": 182.4, "backlight_ratio": 0.64}}
    )
    assert "lit at 182 of 255 with the background 0.6 times as bright" in lit
    assert capture_sentence({"lighting": {"checked": False}}) == ""


def test_every_single_leg_squat_is_told_how_short_patients_squats_were_measured(
    envelope: Any,
) -> None:
    """The stature is neither read nor entered: each squat's check, from the front or
    behind, carries the envelope file's edge and the two errors; other tasks do not, and
    no verdict's error changes with it."""
    est = estimate_camera(camera_sequence(standing, height_m=0.6), "sls")
    assert envelope.squat_short_stature_max_m == 1.55
    assert envelope.squat_short_rmse_deg > envelope.squat_taller_rmse_deg
    for view in ("anterior", "posterior"):
        check = check_envelope(
            est, envelope, view, 30.0, task="sls", stated_distance_m=2.5, stated_height_m=0.6
        )
        (note,) = check.unchecked
        assert note.startswith("The patient's stature was not checked")
        assert "at or under 1.55 m tall" in note
        assert f"about {envelope.squat_short_rmse_deg:.1f}° off (RMSE)" in note
        assert f"against {envelope.squat_taller_rmse_deg:.1f}° for taller people" in note
        assert check.error_floors == {}
    for task in ("jog", "walk", None):
        notes = check_envelope(est, envelope, "anterior", 30.0, task=task).unchecked
        assert not any("stature" in n for n in notes)


def test_a_patient_height_entered_raises_a_short_patients_squat_error_only(
    envelope: Any,
) -> None:
    """Given, the height replaces the note: at or under the envelope file's stature the
    squat is warned about and its knee FPPA gets the larger error, with its source; taller,
    nothing is said; other tasks are not judged by it. The larger of two raised errors
    (a top over the hips) is kept."""
    est = estimate_camera(camera_sequence(standing, height_m=0.6), "sls")
    unstated = check_envelope(est, envelope, "posterior", 30.0, task="sls")
    (note,) = [n for n in unstated.unchecked if "stature" in n]
    assert "--patient-height-cm" in note and "patient's record" in note
    short = check_envelope(est, envelope, "posterior", 30.0, task="sls", stated_stature_m=1.55)
    assert not any("stature" in n for n in short.unchecked)
    (text,) = [w for w in short.warnings if "m tall" in w]
    assert text.startswith("the patient is 1.55 m tall, as entered. On test renders")
    assert text.endswith(
        "the knee valgus verdict is judged with the larger error; confirm it clinically"
    )
    ((metric, (rmse, source)),) = short.error_floors.items()
    assert metric == "knee_fppa_deg" and rmse == envelope.squat_short_rmse_deg
    assert source.startswith("envelope.toml, [squat_stature_m]")
    tall = check_envelope(est, envelope, "posterior", 30.0, task="sls", stated_stature_m=1.56)
    assert tall.error_floors == {} and not any("m tall" in w for w in tall.warnings)
    assert not any("stature" in n for n in tall.unchecked)
    for task in ("jog", "walk"):
        other = check_envelope(est, envelope, "anterior", 30.0, task=task, stated_stature_m=1.4)
        assert other.error_floors == {} and not any("m tall" in w for w in other.warnings)
    assert envelope.clothing is not None
    covered = max(envelope.clothing.squat_front_fppa_rmse_covered_deg)
    assert covered > envelope.squat_short_rmse_deg
    top_over_hips = Clothing(8, hip_chest=4.0, hip_thigh=50.0, chest_thigh=48.0)
    both = check_envelope(
        est, envelope, "anterior", 30.0, task="sls", stated_stature_m=1.5, clothing=top_over_hips
    )
    assert both.error_floors["knee_fppa_deg"][0] == covered
    assert any("m tall" in w for w in both.warnings)
