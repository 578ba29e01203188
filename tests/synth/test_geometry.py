"""Geometry of the sample-video generator: pure NumPy, analytic answers (no torch needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from screener import angles as screener_angles
from screener_synth import geometry as geo
from screener_synth.kinematics import SideFaults, jog_in_place, single_leg_squat, walk


@pytest.mark.parametrize("side", ["left", "right"])
def test_hip_angles_invert_hip_rotation(side: str) -> None:
    rng = np.random.default_rng(3)
    flex, add, ir = rng.uniform(-40, 70, 50), rng.uniform(-20, 25, 50), rng.uniform(-30, 30, 50)
    r = geo.hip_rotation(flex, add, ir, side)
    got = geo.hip_angles(r, side)
    np.testing.assert_allclose(got, (flex, add, ir), atol=1e-9)


@pytest.mark.parametrize("side", ["left", "right"])
def test_internal_rotation_turns_the_knee_front_medially(side: str) -> None:
    # World: +X = subject's left, +Y = posterior; the knee's front points to -Y.
    front = np.array([0.0, -1.0, 0.0])
    turned = geo.hip_rotation(np.array([0.0]), np.array([0.0]), np.array([20.0]), side)[0] @ front
    medial = np.array([-1.0, 0.0, 0.0]) if side == "left" else np.array([1.0, 0.0, 0.0])
    assert turned @ medial == pytest.approx(np.sin(np.radians(20.0)))


@pytest.mark.parametrize("side", ["left", "right"])
def test_adduction_moves_the_knee_medially_and_flexion_forward(side: str) -> None:
    down = np.array([0.0, 0.0, -1.0])
    medial_x = -1.0 if side == "left" else 1.0
    knee = geo.hip_rotation(np.array([0.0]), np.array([10.0]), np.array([0.0]), side)[0] @ down
    assert knee[0] * medial_x == pytest.approx(np.sin(np.radians(10.0)))
    knee = geo.hip_rotation(np.array([30.0]), np.array([0.0]), np.array([0.0]), side)[0] @ down
    assert knee[1] == pytest.approx(-np.sin(np.radians(30.0)))  # forward = -Y


def _leg(side: str, ir_deg: float, knee_flex_deg: float) -> tuple[np.ndarray, ...]:
    """3D hip, knee, ankle of a leg with the femur rotated internally, the knee flexed."""
    sign = 1.0 if side == "left" else -1.0
    hip = np.array([[sign * 0.1, 0.0, 1.0]])
    femur = geo.hip_rotation(np.array([0.0]), np.array([0.0]), np.array([ir_deg]), side)[0]
    shank = femur @ geo.rot_x(knee_flex_deg)
    knee = hip + femur @ np.array([0.0, 0.0, -0.45])
    ankle = knee + shank @ np.array([0.0, 0.0, -0.42])
    other = np.array([[-sign * 0.1, 0.0, 1.0]])
    return hip, knee, ankle, other


@pytest.mark.parametrize("side", ["left", "right"])
def test_femoral_ir_plane_sign_and_value(side: str) -> None:
    hip, knee, ankle, other = _leg(side, 15.0, 60.0)
    left, right = (hip, other) if side == "left" else (other, hip)
    got = geo.femoral_ir_plane_deg(hip, knee, ankle, left, right, side)
    assert got[0] == pytest.approx(15.0, abs=1e-6)
    # the screener's own reading of the same joint centres agrees
    ir, _ = screener_angles.femoral_internal_rotation_deg(hip, knee, ankle, left, right, side)
    assert ir[0] == pytest.approx(15.0, abs=1e-6)


def test_camera_projects_the_target_to_the_centre_and_up_is_up() -> None:
    cam = geo.PinholeCamera((0.0, -3.0, 1.0), (0.0, 0.0, 1.0), 50.0, 540, 960)
    centre = cam.project(np.array([0.0, 0.0, 1.0]))
    np.testing.assert_allclose(centre, [270.0, 480.0], atol=1e-9)
    above, left = cam.project(np.array([[0.0, 0.0, 1.5], [0.3, 0.0, 1.0]]))
    assert above[1] < 480.0  # higher in the world = smaller image y
    assert left[0] > 270.0  # subject's left (+X) faces the camera: image right
    # the top of the field of view at the target distance maps to the top edge
    top = cam.project(np.array([0.0, 0.0, 1.0 + 3.0 * np.tan(np.radians(25.0))]))
    assert top[1] == pytest.approx(0.0, abs=1e-9)


def _points(**kw: tuple[float, float]) -> dict[str, np.ndarray]:
    return {k: np.array([v], dtype=float) for k, v in kw.items()}


def test_2d_definitions_match_hand_computed_values() -> None:
    # Anterior view: the subject's left hip is on the image right.
    p = _points(
        lh=(120, 100), rh=(80, 100 - 40 * np.tan(np.radians(10))), lk=(110, 200), la=(120, 300)
    )
    assert geo.pelvic_obliquity_deg(p["lh"], p["rh"])[0] == pytest.approx(10.0)
    # knee 10 px medial (toward the right hip, image left) of the vertical hip-ankle line
    fppa = geo.knee_fppa_deg(p["lh"], p["lk"], p["la"], p["rh"])[0]
    expected = 180 - np.degrees(np.arccos(np.dot([10, -100], [10, 100]) / (np.hypot(10, 100) ** 2)))
    assert fppa == pytest.approx(expected)
    assert fppa > 0
    # against a level pelvis the same thigh is adducted by atan(10/100) ...
    level_rh = np.array([[80.0, 100.0]])
    add = geo.hip_adduction_2d_deg(p["lh"], p["lk"], level_rh)[0]
    assert add == pytest.approx(np.degrees(np.arctan2(10, 100)))
    # ... and against a pelvis whose left side dropped 10 deg it is abducted
    assert geo.hip_adduction_2d_deg(p["lh"], p["lk"], p["rh"])[0] == pytest.approx(
        np.degrees(np.arctan2(10, 100)) - 10.0, abs=1e-9
    )
    lean = geo.trunk_lean_deg(
        np.array([[120.0, 100]]),
        np.array([[80.0, 100]]),
        np.array([[130.0, 0]]),
        np.array([[90.0, 0]]),
    )[0]
    assert lean == pytest.approx(np.degrees(np.arctan2(10, 100)))


SAMPLE_TRUTH = sorted((Path(__file__).resolve().parents[2] / "sample_videos").glob("*.truth.csv"))


@pytest.mark.parametrize("truth_csv", SAMPLE_TRUTH, ids=lambda p: p.stem)
def test_independent_2d_definitions_agree_with_the_screener_on_the_samples(truth_csv) -> None:
    """The truth's constructions and the screener's give the same angles from the same
    joint centres (the committed truth files' pixel columns), and the committed values."""
    t = pd.read_csv(truth_csv)
    xy = {
        f"{s}_{j}": t[[f"{s}_{j}_x_px", f"{s}_{j}_y_px"]].to_numpy(float)
        for s in ("left", "right")
        for j in ("hip", "knee", "ankle", "shoulder")
    }
    lh, rh, ls, rs = xy["left_hip"], xy["right_hip"], xy["left_shoulder"], xy["right_shoulder"]
    pairs = {
        "pelvic_obliquity_deg": (
            geo.pelvic_obliquity_deg(lh, rh),
            screener_angles.pelvic_obliquity_deg(lh, rh),
        ),
        "trunk_lean_deg": (
            geo.trunk_lean_deg(lh, rh, ls, rs),
            screener_angles.trunk_lean_deg(lh, rh, ls, rs),
        ),
    }
    for side, other in (("left", "right"), ("right", "left")):
        hip, knee, ankle = xy[f"{side}_hip"], xy[f"{side}_knee"], xy[f"{side}_ankle"]
        pairs[f"{side}_knee_fppa_deg"] = (
            geo.knee_fppa_deg(hip, knee, ankle, xy[f"{other}_hip"]),
            screener_angles.knee_fppa_deg(hip, knee, ankle, xy[f"{other}_hip"]),
        )
        pairs[f"{side}_hip_adduction_deg"] = (
            geo.hip_adduction_2d_deg(hip, knee, xy[f"{other}_hip"]),
            screener_angles.hip_adduction_deg(hip, knee, xy[f"{other}_hip"]),
        )
    # a body side-on to the camera (the walk that turns round, mid-turn) has its hips
    # within a few pixels of each other: no frontal-plane angle is defined there
    frontal = np.linalg.norm(lh - rh, axis=1) >= 5.0
    assert frontal.mean() > 0.9
    for column, (truth_way, screener_way) in pairs.items():
        np.testing.assert_allclose(
            truth_way[frontal], screener_way[frontal], atol=1e-6, err_msg=column
        )
        # The committed values (4 decimals, from 4-decimal pixels) were made alike.
        np.testing.assert_allclose(truth_way, t[column], atol=0.01, err_msg=column)


def test_knee_flexion_is_the_angle_between_thigh_and_shank() -> None:
    hip, knee = np.array([[0.0, 0.0, 1.0]]), np.array([[0.0, 0.0, 0.5]])
    assert geo.knee_flexion_deg(hip, knee, np.array([[0.0, 0.0, 0.0]]))[0] == pytest.approx(0.0)
    bent = np.array([[0.0, 0.5 * np.sin(np.radians(40)), 0.5 - 0.5 * np.cos(np.radians(40))]])
    assert geo.knee_flexion_deg(hip, knee, bent)[0] == pytest.approx(40.0)
    np.testing.assert_allclose(
        geo.knee_flexion_deg(hip, knee, bent), screener_angles.knee_flexion_deg(hip, knee, bent)
    )


def test_sls_reps_and_faults_grow_with_depth() -> None:
    faults = SideFaults(pelvic_drop=10.0, hip_adduction=12.0, femoral_ir=15.0)
    m = single_leg_squat("right", faults, fps=30.0, n_reps=3)
    assert [e.kind for e in m.events] == ["rep"] * 3
    depth = m.load["right"]
    deepest = int(np.argmax(depth))
    # right stance: the LEFT side drops, so the LEFT hip is lower: obliquity > 0
    assert m.angles["pelvis_obliquity"][deepest] == pytest.approx(10.0)
    assert m.angles["right_hip_ir"][deepest] == pytest.approx(15.0)
    standing = int(np.argmin(depth))
    assert m.angles["right_hip_ir"][standing] == pytest.approx(0.0)
    assert m.in_stance["right"].all() and not m.in_stance["left"].any()


@pytest.mark.parametrize(
    ("make", "cadence", "stance_fraction"), [(jog_in_place, 170.0, 0.36), (walk, 104.0, 0.62)]
)
def test_gait_cadence_and_stance_phases(make, cadence: float, stance_fraction: float) -> None:
    m = make(
        {"left": SideFaults(), "right": SideFaults()}, fps=60.0, duration_s=5.0, cadence_spm=cadence
    )
    left = [e for e in m.events if e.side == "left"]
    starts = np.array([e.t_start_s for e in left])
    assert np.diff(starts) == pytest.approx(np.full(len(starts) - 1, 120.0 / cadence))
    durations = np.array([e.t_end_s - e.t_start_s for e in left])
    assert durations == pytest.approx(np.full(len(left), stance_fraction * 120.0 / cadence))
    flight = ~(m.in_stance["left"] | m.in_stance["right"])
    if make is jog_in_place:
        assert flight.any()  # running has flight phases
        assert (m.anchor[flight] == -1).all()
    else:
        assert not flight.any()  # walking always has a foot down


def test_walking_heel_rises_from_heel_off_to_toe_off_and_the_jog_has_none() -> None:
    faults = {"left": SideFaults(), "right": SideFaults()}
    m = walk(faults, fps=100.0, duration_s=5.0, cadence_spm=100.0, heel_off_phase=0.3)
    stride = 1.2
    for e in (e for e in m.events if e.side == "left"):
        inside = (m.time_s >= e.t_start_s) & (m.time_s < e.t_end_s)
        pivot = m.time_s[inside & m.toe_pivot["left"]]
        # the toes pivot from 30 % of the stride to toe-off (62 %)
        assert pivot[0] - e.t_start_s == pytest.approx(0.3 * stride, abs=0.011)
        assert pivot[-1] == pytest.approx(e.t_end_s, abs=0.011)
        knee = m.pivot_knee_deg["left"][inside & m.toe_pivot["left"]]
        assert knee.max() == pytest.approx(15.0, abs=0.1)  # the default peak
        assert knee[0] < 0.5 and knee[-1] < 0.5  # a smooth bump
    # no extra flexion outside the pivot, and the jog has no pivot at all
    assert not m.pivot_knee_deg["left"][~m.toe_pivot["left"]].any()
    assert not jog_in_place(faults, fps=60.0).toe_pivot


def test_a_walks_heel_rise_is_drawn_per_clip_without_moving_other_draws() -> None:
    from screener_synth.clips import HEEL_OFF_PHASE, HEEL_RISE_KNEE_DEG, heel_rise
    from screener_synth.sets import corpus_specs

    specs = [s for s in corpus_specs("val", 40, 99, "inside", ()) if s.task == "walk"]
    drawn = [heel_rise(s) for s in specs]
    phases = [d["heel_off_phase"] for d in drawn]
    assert all(HEEL_OFF_PHASE[0] <= p <= HEEL_OFF_PHASE[1] for p in phases)
    assert all(
        HEEL_RISE_KNEE_DEG[0] <= d["heel_rise_knee_deg"] <= HEEL_RISE_KNEE_DEG[1] for d in drawn
    )
    assert len(set(phases)) == len(phases)
    assert heel_rise(specs[0]) == drawn[0]  # reproducible


def test_sample_holdout_and_tune_bodies_and_cameras_are_disjoint() -> None:
    from screener_synth.sets import (
        HOLDOUT_RANGES,
        SAMPLE_RANGES,
        TUNE_RANGES,
        holdout_specs,
        sample_specs,
        tune_specs,
    )

    def values(specs):
        return {
            "height": [s.phenotype["height"] for s in specs],
            "camera_height_m": [s.camera.height_m for s in specs],
            "yfov_deg": [s.camera.yfov_deg for s in specs],
        }

    sets = {
        "samples": (SAMPLE_RANGES, sample_specs()),
        "holdout": (HOLDOUT_RANGES, holdout_specs()),
        "tune": (TUNE_RANGES, tune_specs()),
    }
    for ranges, specs in sets.values():
        for key, vals in values(specs).items():
            lo, hi = ranges[key]
            assert all(lo <= v <= hi for v in vals), (key, vals)
    names = list(sets)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            for key in SAMPLE_RANGES:
                (a0, a1), (b0, b1) = sets[a][0][key], sets[b][0][key]
                assert a1 < b0 or b1 < a0, (a, b, key)
    for split in ("holdout", "tune"):
        specs = sets[split][1]
        assert {s.task for s in specs} == {"walk", "sls", "jog"}
        assert {s.view for s in specs} == {"anterior", "posterior"}
        assert all(s.split == split for s in specs)
        assert len({s.name for s in specs}) == len(specs)


def test_tune_set_plants_faults_of_varied_size() -> None:
    from screener_synth.sets import tune_specs

    drops = {
        round(f.pelvic_drop, 3)
        for s in tune_specs()
        for f in s.faults.values()
        if f.pelvic_drop > 1.0
    }
    assert len(drops) >= 4
    assert min(drops) < 6.0 < max(drops)


def test_a_squat_can_open_standing_on_both_feet_as_the_guide_asks() -> None:
    """``stand_s``: both feet down and loaded, no fault, then the other foot lifted; the
    repetitions follow, later by the opening. Without it the clip is the one rendered
    before (the corpora stay reproducible)."""
    faults = SideFaults(pelvic_drop=8.0)
    plain = single_leg_squat("left", faults, fps=30.0, n_reps=2)
    guided = single_leg_squat("left", faults, fps=30.0, n_reps=2, stand_s=2.0, lift_s=0.6)
    opening = 2.6
    assert guided.n_frames == plain.n_frames + round(opening * 30.0)
    assert [e.t_start_s for e in guided.events] == pytest.approx(
        [e.t_start_s + opening for e in plain.events]
    )
    t = guided.time_s
    before = t < 2.0
    assert guided.in_stance["left"].all()
    assert guided.in_stance["right"][before].all() and not guided.in_stance["right"][t > 2.6].any()
    assert guided.angles["right_foot_plant"][before] == pytest.approx(1.0)
    assert guided.angles["right_foot_plant"][t > 2.6] == pytest.approx(0.0)
    assert guided.angles["right_knee_flexion"][before] == pytest.approx(4.0)  # the neutral
    assert guided.angles["pelvis_obliquity"][before] == pytest.approx(0.0)
    after = round(opening * 30.0)
    for name, values in plain.angles.items():
        np.testing.assert_allclose(guided.angles[name][after:], values, atol=1e-9, err_msg=name)


def test_a_walk_can_turn_round_and_come_back() -> None:
    """``turn_at_s``: the pelvis' yaw (and so the whole body's heading) goes from 0 to
    180° over ``TURN_S``, stepping on; every other angle, stance and event is the walk's
    own, and without it the walk is the one rendered before."""
    from screener_synth.kinematics import TURN_S

    plain = walk({"left": SideFaults(), "right": SideFaults()}, fps=30.0, duration_s=8.0)
    turning = walk(
        {"left": SideFaults(), "right": SideFaults()}, fps=30.0, duration_s=8.0, turn_at_s=3.2
    )
    t = turning.time_s
    yaw = turning.angles["pelvis_yaw"]
    assert yaw[t <= 3.2] == pytest.approx(0.0) and yaw[t >= 3.2 + TURN_S] == pytest.approx(180.0)
    assert np.all(np.diff(yaw) >= 0)
    assert plain.angles["pelvis_yaw"] == pytest.approx(0.0)
    for name, values in plain.angles.items():
        if name != "pelvis_yaw":
            np.testing.assert_array_equal(turning.angles[name], values, err_msg=name)
    assert [(e.side, e.t_start_s) for e in turning.events] == [
        (e.side, e.t_start_s) for e in plain.events
    ]
