"""Event detection and task detection on generated sequences with known timing."""

from __future__ import annotations

import numpy as np
import pytest

from screener.cleaning import true_runs
from screener.config import EventConfig
from screener.events import (
    detect_sls_reps,
    detect_sls_side,
    detect_stance,
    detect_task,
    dominant_frequency_hz,
    leg_length_px,
    stance_spans,
)
from tests.synthetic import (
    jog_in_place,
    make_sequence,
    perspective_sequence,
    single_leg_squat,
    walk_toward_camera,
)

CFG = EventConfig()


def _truth_runs(time_s, in_stance, side):
    mask = np.array([in_stance(t)[side] for t in time_s])
    return [(time_s[a], time_s[b - 1]) for a, b in true_runs(mask) if a > 0 and b < len(mask)]


def _assert_jog_stance_within_two_frames(pose, in_stance):
    """Every true stance phase of a 60 fps jog found, start and end within 2.5 frames."""
    spans = stance_spans(detect_stance(pose, "jog", CFG), pose.time_s, CFG)
    for side in ("left", "right"):
        truth = _truth_runs(pose.time_s, in_stance, side)
        found = [(pose.time_s[s.start], pose.time_s[s.stop - 1]) for s in spans if s.side == side]
        assert len(found) == len(truth) >= 6
        err = np.abs(np.array(found) - np.array(truth))
        assert err.max() <= 2.5 / 60


@pytest.mark.parametrize("view", ["anterior", "posterior"])
def test_jog_stance_phases_found_within_two_frames(view):
    figure, in_stance = jog_in_place()
    pose = make_sequence(figure, fps=60, duration_s=5, view=view)
    _assert_jog_stance_within_two_frames(pose, in_stance)


def test_jog_stance_found_when_the_swinging_foot_looks_lower_than_the_planted_one():
    """A high camera close to the subject: the foot swinging toward it projects lower in
    the image than the planted foot, by more than the jog height threshold, so the
    planted foot is not the lowest point and a 'lowest point' ground would miss it."""
    figure, in_stance = jog_in_place(swing_toward_camera_m=0.4)
    pose = perspective_sequence(
        figure, fps=60, duration_s=5, camera_distance_m=2.5, camera_height_m=1.5
    )
    ankle_y = pose.xy("left_ankle")[:, 1]
    stance_truth = np.array([in_stance(t)["left"] for t in pose.time_s])
    below_px = ankle_y[~stance_truth].max() - ankle_y[stance_truth].max()
    assert below_px / np.nanmedian(leg_length_px(pose)) > CFG.stance_height_max_leg
    _assert_jog_stance_within_two_frames(pose, in_stance)


def test_walk_toward_camera_stance_phases_found():
    figure, in_stance = walk_toward_camera()
    pose = perspective_sequence(figure, fps=30, duration_s=5)
    spans = stance_spans(detect_stance(pose, "walk", CFG), pose.time_s, CFG)
    for side in ("left", "right"):
        truth = _truth_runs(pose.time_s, in_stance, side)
        found = [(pose.time_s[s.start], pose.time_s[s.stop - 1]) for s in spans if s.side == side]
        assert len(found) == len(truth) >= 3
        starts = np.abs(np.array(found)[:, 0] - np.array(truth)[:, 0])
        assert starts.max() <= 2.5 / 30
        # toe-off of this figure starts from zero foot speed: detected late, within 0.25 s
        ends = np.array(found)[:, 1] - np.array(truth)[:, 1]
        assert np.all((ends >= -1 / 30) & (ends <= 0.25))


@pytest.mark.parametrize(
    ("side", "fps"), [("left", 30), ("right", 30), ("left", 24), ("right", 60)]
)
def test_single_leg_squat_side_and_reps(side, fps):
    # the pelvis descends as 1 - cos of the knee angle: it hardly moves for the first
    # quarter second, where a threshold on its descent reads the start 0.27 s late
    figure, reps = single_leg_squat(side, n_reps=3)
    pose = make_sequence(figure, fps=fps, duration_s=8.0)
    found_side, lift = detect_sls_side(pose)
    assert found_side == side and lift > 0.2
    spans = detect_sls_reps(pose, side, CFG)
    assert len(spans) == 3
    frame = 1 / fps + 1e-9
    for span, (start, deepest, end) in zip(spans, reps, strict=True):
        assert pose.time_s[span.peak] == pytest.approx(deepest, abs=frame)
        assert pose.time_s[span.start] == pytest.approx(start, abs=frame)
        assert pose.time_s[span.stop - 1] == pytest.approx(end, abs=frame)


def test_squat_repetition_cut_by_the_clip_edge_keeps_threshold_edges():
    # the clip starts mid-descent: no half-depth crossing on the way down
    figure, reps = single_leg_squat("left", n_reps=2, pause_s=0.6)
    start_s = reps[0][0] + 0.4
    full = make_sequence(figure, fps=30, duration_s=6.0)
    first = round(start_s * 30)
    pose = full.with_arrays(
        image_xy_px=full.image_xy_px[first:],
        world_xyz_m=full.world_xyz_m[first:],
        visibility=full.visibility[first:],
        detected=full.detected[first:],
        time_s=full.time_s[first:] - full.time_s[first],
    )
    spans = detect_sls_reps(pose, "left", CFG)
    assert len(spans) == 2
    assert spans[0].start == 0
    deepest = reps[1][1] - full.time_s[first]
    assert pose.time_s[spans[1].peak] == pytest.approx(deepest, abs=1 / 30 + 1e-9)


def test_shallow_wobbles_are_not_reps():
    figure, _ = single_leg_squat("left", n_reps=3, depth_m=0.01)
    pose = make_sequence(figure, fps=30, duration_s=8.0)
    assert detect_sls_reps(pose, "left", CFG) == []


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: make_sequence(jog_in_place()[0], fps=60, duration_s=4), "jog"),
        (lambda: perspective_sequence(walk_toward_camera()[0], fps=30, duration_s=4), "walk"),
        (lambda: make_sequence(single_leg_squat("right")[0], fps=30, duration_s=6), "sls"),
        (lambda: make_sequence(single_leg_squat("left")[0], fps=30, duration_s=6), "sls"),
        (
            lambda: make_sequence(
                single_leg_squat("left", lifted_ankle_height_m=0.06)[0],
                fps=30,
                duration_s=8,
                view="posterior",
            ),
            "sls",
        ),
    ],
)
def test_task_detection(make, expected):
    assert detect_task(make()).task == expected


def test_squat_with_a_low_looking_free_foot_is_told_by_its_rhythm():
    """Both feet at the same height: only the slow, deep pelvis rhythm says squat."""
    figure, _ = single_leg_squat("right", lifted_ankle_height_m=0.06)
    estimate = detect_task(make_sequence(figure, fps=30, duration_s=8))
    assert estimate.task == "sls"
    assert any("up and down" in reason for reason in estimate.reasons)


def test_a_shallow_squat_is_not_read_as_a_jog():
    """The pelvis lowers 0.14 leg length at 0.4 Hz, one foot up: under the squat rhythm's
    0.15-leg range, but far too slow for jogging in place (six rendered squats of the
    corpora were read as jogs before)."""
    figure, _ = single_leg_squat("left", depth_m=0.1)
    estimate = detect_task(make_sequence(figure, fps=30, duration_s=8))
    assert estimate.task == "sls"
    assert estimate.confidence == pytest.approx(0.3)
    assert any("shallow squat" in reason for reason in estimate.reasons)


def test_a_shallow_squat_with_still_feet_is_not_read_as_standing_still():
    """One foot held up, the pelvis going down and up by about 0.1 leg length at 0.4 Hz:
    the feet move less than standing_foot_range_max_leg and the pelvis less than
    squat_pelvis_range_min_leg, as for a person standing still, but this is a shallow
    single-leg squat (such clips were refused as standing still: 60 of the opened
    corpora's squats, two of the thirty-second hold-out's)."""
    figure, _ = single_leg_squat("left", n_reps=3, rep_s=2.0, depth_m=0.08)
    estimate = detect_task(make_sequence(figure, fps=30, duration_s=8))
    assert estimate.task == "sls"
    assert estimate.confidence == pytest.approx(0.3)
    assert any("one foot held up" in reason for reason in estimate.reasons)


def test_a_foot_held_up_and_a_pelvis_bobbing_faster_than_squats_is_not_guessed():
    """The same pelvis motion at 1.3 Hz, faster than repetitions go (a person shifting
    weight in the Pose2Sim lab swayed at 1.05-1.35 Hz, a foot looking held up from the
    cameras above): still read as standing still, not guessed."""
    figure, _ = single_leg_squat("left", n_reps=10, rep_s=0.6, pause_s=0.15, depth_m=0.08)
    estimate = detect_task(make_sequence(figure, fps=30, duration_s=8))
    assert estimate.confidence == 0.0
    assert "stand still" in estimate.reasons[0]


def test_slow_motion_on_both_feet_is_not_guessed():
    """Standing on both feet, dipping slowly and tapping one foot now and then: too slow
    for a jog, no foot held up for a squat: confidence 0 (the user is asked for --task)."""
    from tests.synthetic import HIP_HALF_WIDTH, HIP_HEIGHT, _figure_from_feet

    def figure(t: float) -> dict[str, np.ndarray]:
        phase = (0.4 * t) % 1.0
        dip = 0.08 * (0.5 - 0.5 * np.cos(2 * np.pi * phase))
        tap = 0.12 if 0.4 < phase < 0.55 else 0.0
        centre = np.array([0.0, HIP_HEIGHT - 0.01 - dip, 0.0])
        ankles = {
            "left": np.array([0.0, 0.06, -HIP_HALF_WIDTH]),
            "right": np.array([0.0, 0.06 + tap, HIP_HALF_WIDTH]),
        }
        return _figure_from_feet(centre, ankles)

    estimate = detect_task(make_sequence(figure, fps=30, duration_s=8))
    assert estimate.confidence == 0.0
    assert any("too slow for jogging" in reason for reason in estimate.reasons)


def test_one_foot_held_up_with_a_still_pelvis_is_not_a_jog():
    """Standing on one leg, the free foot swinging, the pelvis nearly still: jogging in
    place alternates the feet, so this is not guessed (a squat of the fourth hold-out,
    its pelvis moving 0.05 leg length, was read as a jog)."""
    from tests.synthetic import HIP_HALF_WIDTH, HIP_HEIGHT, _figure_from_feet

    def figure(t: float) -> dict[str, np.ndarray]:
        swing = 0.06 * np.sin(2 * np.pi * 0.4 * t)
        centre = np.array([0.0, HIP_HEIGHT - 0.01, 0.0])
        ankles = {
            "left": np.array([0.0, 0.06, -HIP_HALF_WIDTH]),
            "right": np.array([-0.3, 0.4 + swing, HIP_HALF_WIDTH]),
        }
        return _figure_from_feet(centre, ankles)

    estimate = detect_task(make_sequence(figure, fps=30, duration_s=8))
    assert estimate.confidence == 0.0
    assert any("feet alternate" in reason for reason in estimate.reasons)


@pytest.mark.parametrize("freq_hz", [0.4, 1.7, 2.8])
def test_dominant_frequency_of_an_irregularly_sampled_sine_with_gaps(freq_hz):
    rng = np.random.default_rng(3)
    t = np.cumsum(rng.uniform(0.025, 0.042, 300))
    y = np.sin(2 * np.pi * freq_hz * t) + 0.1 * rng.standard_normal(t.size)
    y[50:60] = np.nan
    assert dominant_frequency_hz(y, t) == pytest.approx(freq_hz, abs=0.1)


def test_dominant_frequency_needs_samples():
    assert np.isnan(dominant_frequency_hz(np.full(20, np.nan), np.arange(20) / 30))


@pytest.mark.parametrize(
    ("swing_frames", "kept"),
    [(1, False), (2, False), (3, True), (6, True)],
)
def test_stance_closed_by_a_swing_at_the_clip_edge_needs_a_real_swing(swing_frames, kept):
    """At 30 fps a swing of 1-2 frames running into the clip's end does not close the
    last stance phase; one of 3 frames (67 ms) does. The same holds at the start."""
    n = 60
    t = np.arange(n) / 30.0
    mask = np.zeros(n, bool)
    mask[10:25] = True  # a complete phase, swings on both sides
    mask[35 : n - swing_frames] = True
    spans = stance_spans({"left": mask}, t, CFG)
    assert (10, 25) in [(s.start, s.stop) for s in spans]
    assert ((35, n - swing_frames) in [(s.start, s.stop) for s in spans]) is kept
    flipped = mask[::-1].copy()
    spans = stance_spans({"left": flipped}, t, CFG)
    assert ((swing_frames, n - 35) in [(s.start, s.stop) for s in spans]) is kept


@pytest.mark.parametrize(
    ("swing_frames", "lowest_probability", "kept"),
    [(1, 0.0, False), (2, 0.2, False), (2, 0.005, True), (2, 0.01, True)],
)
def test_a_short_edge_swing_the_stance_model_is_sure_of_closes_a_phase(
    swing_frames, lowest_probability, kept
):
    """With the learned model's contact probability, a 2-frame swing at the clip's edge
    closes the phase when the probability falls to 0.01 in it; a 2-frame swing the model
    is unsure of (0.2), or a single frame, does not. Both edges alike."""
    n = 60
    t = np.arange(n) / 30.0
    mask = np.zeros(n, bool)
    mask[10:25] = True
    mask[35 : n - swing_frames] = True
    prob = np.where(mask, 0.9, 0.3)
    prob[n - swing_frames :] = 0.3
    prob[n - 1] = lowest_probability
    spans = stance_spans({"left": mask}, t, CFG, {"left": prob})
    assert ((35, n - swing_frames) in [(s.start, s.stop) for s in spans]) is kept
    spans = stance_spans({"left": mask[::-1].copy()}, t, CFG, {"left": prob[::-1].copy()})
    assert ((swing_frames, n - 35) in [(s.start, s.stop) for s in spans]) is kept
    # without the probability (the stance rule) the short swing never closes it
    assert (35, n - swing_frames) not in [
        (s.start, s.stop) for s in stance_spans({"left": mask}, t, CFG)
    ]
