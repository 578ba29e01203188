"""bench.walk_size: the walker's height in the picture and the timed share per size band
have known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.walk_size import body_height_px, timed_by_size


def test_body_height_runs_from_the_nose_to_the_lowest_foot_landmark() -> None:
    xy = np.zeros((3, 33, 2))
    xy[:, 0, 1] = 100.0  # nose
    xy[:, 29:33, 1] = [[300.0, 310.0, 305.0, 320.0]] * 3  # heels and toes
    xy[1, 32, 1] = np.nan  # a toe missing: the lowest known one counts
    xy[2, 29:33, 1] = np.nan  # no foot known
    height = body_height_px(xy)
    assert height[0] == pytest.approx(220.0)
    assert height[1] == pytest.approx(210.0)
    assert np.isnan(height[2])


def test_timed_share_per_band_and_orientation_counts_missed_phases_as_not_timed() -> None:
    rows = pd.DataFrame(
        {
            "clip": ["a", "a", "b", "c", "c"],
            "orientation": ["landscape", "landscape", "landscape", "portrait", "portrait"],
            "body_px": [140.0, 150.0, 145.0, 140.0, 260.0],
            "start": [0.01, 0.08, np.nan, -0.02, 0.0],
            "end": [0.02, 0.0, np.nan, 0.04, 0.06],
        }
    )
    table = timed_by_size(rows)
    small = table.xs(pd.Interval(130, 160), level="band")
    assert small.loc["landscape", "phases"] == 3
    assert small.loc["landscape", "walks"] == 2
    assert small.loc["landscape", "timed"] == pytest.approx(1 / 3)  # late start, not found
    assert small.loc["portrait", "timed"] == 1.0
    large = table.xs(pd.Interval(250, 300), level="band")
    assert large.loc["portrait", "timed"] == 0.0  # end 60 ms off
