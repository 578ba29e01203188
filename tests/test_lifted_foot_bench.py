"""bench.lifted_foot: the lifted foot's rise and the threshold table have known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.lifted_foot import lifted_foot_rise, threshold_table
from screener.landmarks import INDEX
from tests.synthetic import still_pose


def squat_pose(lifted_row: np.ndarray):
    """A left-leg squat: the left hip at row 100 above the left ankle at row 300 (a leg of
    200 px), the right ankle at ``lifted_row`` per frame."""
    pose = still_pose(np.full((33, 2), np.nan), len(lifted_row), (360, 640))
    xy = pose.image_xy_px.copy()
    xy[:, INDEX["left_hip"]] = [180.0, 100.0]
    xy[:, INDEX["left_ankle"]] = [180.0, 300.0]
    xy[:, INDEX["right_ankle"], 0] = 200.0
    xy[:, INDEX["right_ankle"], 1] = lifted_row
    return pose.with_arrays(image_xy_px=xy)


def test_rise_is_the_lifted_ankles_height_over_the_leg_in_the_clips_middle() -> None:
    rows = np.full(20, 260.0)  # 40 px above the planted ankle: 0.2 leg
    rows[:2] = 300.0  # standing at the start: left out
    rows[-2:] = 300.0
    assert lifted_foot_rise(squat_pose(rows), "left") == pytest.approx(0.2)
    # the same clip read as a right-leg squat: the other ankle is the planted one
    assert np.isnan(lifted_foot_rise(squat_pose(rows), "right"))  # no right hip
    # a lifted ankle that looks below the planted one (a lens looking down from behind)
    assert lifted_foot_rise(squat_pose(np.full(20, 310.0)), "left") == pytest.approx(-0.05)


def test_threshold_table_counts_high_lenses_caught_and_low_ones_flagged() -> None:
    rows = pd.DataFrame(
        {"lens_height_m": [1.5, 1.5, 0.8, 0.8, 1.2], "rise": [-0.1, 0.04, -0.01, 0.2, -0.2]}
    )
    table = threshold_table(rows).set_index("threshold").to_dict("index")
    assert table[0.0]["high_caught"] == 1 and table[0.0]["high"] == 2
    assert table[0.0]["low_flagged"] == 2 and table[0.0]["low"] == 3  # 1.2 m is inside
    assert table[0.05]["high_caught"] == 2
