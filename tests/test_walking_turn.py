"""A walk away from the camera and back: one way is analysed, with its own view."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import screener
from screener.config import AnalysisConfig
from screener.keypoints import PoseSequence
from screener.segments import keep_one_walking_direction
from screener.view import find_walking_runs
from tests.synthetic import (
    perspective_sequence,
    rot_y,
    single_leg_squat,
    stance_rule_config,
    walk_toward_camera,
)

AWAY_S, TURN_S = 3.5, 0.8  # walking away, then turning on the spot
BACK_FROM_S = AWAY_S + TURN_S
Figure = dict[str, np.ndarray]


def _there_and_back() -> tuple[Callable[[float], Figure], Callable[[float], dict[str, bool]]]:
    """Walk away from a camera 8 m off for 3.5 s, turn round over 0.8 s, walk back.

    The walk toward the camera (+X) of :func:`walk_toward_camera`, turned 180° about the
    vertical for the way out; the way back starts where the way out ended.
    """
    walk, in_stance = walk_toward_camera()
    turned = rot_y(180.0)
    start_x = 3.5  # the pelvis 4.5 m from the camera

    def away(t: float) -> Figure:
        # walk(t) starts with the pelvis at x = -4 and comes toward +X
        return {k: turned @ p + np.array([start_x - 4.0, 0.0, 0.0]) for k, p in walk(t).items()}

    end = away(AWAY_S)
    pelvis_end = 0.5 * (end["left_hip"] + end["right_hip"])

    def back(t: float) -> Figure:
        shift = pelvis_end[0] - (1.2 * 0.0 - 4.0)
        return {k: p + np.array([shift, 0.0, 0.0]) for k, p in walk(t).items()}

    def figure(t: float) -> Figure:
        if t < AWAY_S:
            return away(t)
        if t < BACK_FROM_S:  # turning on the spot about the pelvis
            angle = 180.0 * (t - AWAY_S) / TURN_S
            turn = rot_y(-angle)
            return {k: pelvis_end + turn @ (p - pelvis_end) for k, p in end.items()}
        return back(t - BACK_FROM_S)

    def stance(t: float) -> dict[str, bool]:
        if t < AWAY_S:
            return in_stance(t)
        if t < BACK_FROM_S:
            return {"left": True, "right": True}
        return in_stance(t - BACK_FROM_S)

    return figure, stance


@pytest.fixture(scope="module")
def there_and_back() -> tuple[PoseSequence, Callable[[float], dict[str, bool]]]:
    figure, stance = _there_and_back()
    pose = perspective_sequence(figure, fps=30.0, duration_s=BACK_FROM_S + 3.5)
    return pose, stance


def _runs(pose: PoseSequence) -> list[tuple[float, float, bool]]:
    c = AnalysisConfig().checks
    runs = find_walking_runs(
        pose,
        min_rate_per_s=c.turn_min_rate_per_s,
        min_duration_s=c.turn_min_run_s,
        min_size_ratio=c.turn_min_size_ratio,
    )
    return [(r.start_s, r.end_s, r.toward) for r in runs]


def test_the_two_ways_of_a_walk_there_and_back_are_found(there_and_back) -> None:
    pose, _ = there_and_back
    runs = _runs(pose)
    assert [toward for *_, toward in runs] == [False, True]
    (a0, a1, _), (b0, b1, _) = runs
    assert a0 < 0.6 and AWAY_S - 0.8 < a1 <= AWAY_S + 0.2  # the turn is in neither
    assert BACK_FROM_S - 0.2 <= b0 < BACK_FROM_S + 0.8 and b1 > pose.time_s[-1] - 0.6


def test_a_walk_one_way_a_squat_and_jogging_show_no_turn() -> None:
    walk, _ = walk_toward_camera()
    assert [t for *_, t in _runs(perspective_sequence(walk, fps=30, duration_s=5))] == [True]
    squat, _ = single_leg_squat("left", n_reps=3)
    assert len(_runs(perspective_sequence(squat, fps=30, duration_s=8))) == 0


@pytest.mark.parametrize(
    ("view", "kept_toward"), [("auto", None), ("anterior", True), ("posterior", False)]
)
def test_one_way_is_analysed_with_its_own_left_and_right(
    there_and_back, view: str, kept_toward: bool | None
) -> None:
    pose, stance = there_and_back
    config = stance_rule_config()
    result = screener.analyze_pose(pose, task="walk", view=view, config=config)  # type: ignore[arg-type]
    turn = result.summary["view_detection"]["walking_turn"]
    assert turn is not None
    t0, t1 = turn["analysed_s"]
    toward = t0 > AWAY_S
    if kept_toward is not None:
        assert toward is kept_toward
    assert result.summary["view"] == ("anterior" if toward else "posterior")
    assert any("turns around" in w for w in result.summary["quality"]["warnings"])
    events = result.events
    assert len(events) >= 3
    assert ((events["t_start_s"] >= t0 - 1e-9) & (events["t_end_s"] <= t1 + 1e-9)).all()
    # each stance phase is on the foot that is on the ground (at its middle, away from
    # the rule's edges): left and right not exchanged
    middles = 0.5 * (events["t_start_s"] + events["t_end_s"])
    for side, middle in zip(events["side"], middles, strict=True):
        assert stance(float(middle))[side], (side, middle)


def test_a_turn_is_not_looked_for_in_a_squat_or_jog(there_and_back) -> None:
    pose, _ = there_and_back
    config = AnalysisConfig(cache_dir=None)
    for task in ("sls", "jog"):
        kept, turn = keep_one_walking_direction(pose, task, "auto", config)
        assert turn is None and kept is pose
    kept, turn = keep_one_walking_direction(pose, "walk", "auto", config)
    assert turn is not None
    assert not kept.detected[: turn.kept.start].any() and not kept.detected[turn.kept.stop :].any()
    assert np.isnan(kept.image_xy_px[: turn.kept.start]).all()
    assert kept.n_frames == pose.n_frames  # frame numbers still those of the video


@pytest.mark.parametrize("stand_s", [1.0, 1.8, 3.0])
def test_a_walk_that_ends_standing_still_adds_no_stance_phase(stand_s: float) -> None:
    """The patient stops in front of the camera, both feet down, and stands: the stand
    is not a stance phase (the stance rule; the learned stance model was not trained on
    stick figures)."""
    walk, in_stance = walk_toward_camera()
    stop_s = next(t for t in np.arange(3.4, 4.5, 1 / 30) if all(in_stance(t).values()))
    config = stance_rule_config()

    def phases(duration_s: float) -> list[tuple[str, float, float]]:
        pose = perspective_sequence(lambda t: walk(min(t, stop_s)), fps=30, duration_s=duration_s)
        events = screener.analyze_pose(pose, task="walk", view="anterior", config=config).events
        return list(zip(events["side"], events["t_start_s"], events["t_end_s"], strict=True))

    walking = phases(stop_s)
    standing = phases(stop_s + stand_s)
    assert len(walking) >= 3
    assert [s for s, _, _ in standing] == [s for s, _, _ in walking]
    assert [t for _, *times in standing for t in times] == pytest.approx(
        [t for _, *times in walking for t in times], abs=1e-6
    )
