"""bench/yaw_margin.py: per-clip rows from the events table, the sets, and the shares of
clips a margin on the yaw warning warns (known answers on a small table)."""

from __future__ import annotations

import pandas as pd
import pytest

from bench.yaw_margin import (
    Margin,
    clips_from_events,
    margin_table,
    margins_by_task_view,
    warned_by_task_view,
    yaw_errors,
)


def _rows() -> pd.DataFrame:
    # (folder, clip, true azimuth, estimate, roll, lens height); two rows for the first
    # clip, as the events table has one row per event
    clips = [
        ("final20_inside", "a.mp4", 2.0, 3.0, 0.0, 0.8),
        ("final20_inside", "a.mp4", 2.0, 3.0, 0.0, 0.8),
        ("final20_inside", "b.mp4", 9.0, 9.2, 1.0, 0.8),  # inside, read near the limit
        ("final20_outside", "c.mp4", 11.0, 9.5, 0.0, 0.9),  # outside by yaw, read inside
        ("final20_outside", "d.mp4", 25.0, 24.0, 0.0, 0.9),  # far outside
        ("final20_outside", "e.mp4", 12.0, 12.0, 0.0, 1.6),  # lens high too: left out
        ("final28_inside", "a.mp4", -3.0, -5.0, 0.0, 0.6),  # same name, later set
    ]
    return pd.DataFrame(
        [
            {
                "folder": f, "clip": c, "task": "sls", "view": "anterior", "azimuth_deg": az,
                "estimated_yaw_deg": est, "roll_deg": roll, "camera_height_m": h,
            }
            for f, c, az, est, roll, h in clips
        ]
    )  # fmt: skip


def test_one_row_per_clip_and_folder_split_into_sets() -> None:
    clips = clips_from_events(_rows(), validation_from=27)
    assert len(clips) == 6  # a.mp4 once per folder
    assert set(clips[clips["set"] == "validation"]["folder"]) == {"final28_inside"}


def test_margin_shares_are_counted_on_the_clips_outside_by_yaw_alone() -> None:
    clips = clips_from_events(_rows(), validation_from=27)
    tuning = clips[clips["set"] == "tuning"]
    table = margin_table(tuning, 10.0, [0.0, 1.0, 2.0]).set_index("margin_deg")
    outside, near, inside = table.columns
    assert (outside, near, inside) == (
        "outside warned (n=2)", "10-15 deg off warned (n=1)", "inside warned for yaw (n=2)",
    )  # fmt: skip
    assert list(table.loc[0.0]) == [0.5, 0.0, 0.0]
    assert list(table.loc[1.0]) == [1.0, 1.0, 0.5]  # 9.5 and 9.2 now above 9
    assert list(table.loc[2.0]) == [1.0, 1.0, 0.5]


def test_yaw_errors_pool_the_clips_within_20_degrees() -> None:
    clips = clips_from_events(_rows(), validation_from=27)
    errors = yaw_errors(clips[clips["set"] == "tuning"])
    # a, b, c and e are within 20 deg: errors 1, 0.2, -1.5, 0
    assert errors.loc[("all", ""), "count"] == 4
    assert errors.loc[("all", ""), "mean"] == pytest.approx(-0.075, abs=0.01)


def _two_tasks() -> pd.DataFrame:
    # (task, view, true azimuth, estimate): jogs from the front read within 1 deg, walks
    # from behind within 3
    rows = [
        ("jog", "anterior", 2.0, 3.0), ("jog", "anterior", 4.0, 3.0),
        ("jog", "anterior", 11.0, 9.0),  # 10-20 off, read 9.0
        ("walk", "posterior", 2.0, 5.0), ("walk", "posterior", 6.0, 3.0),
        ("walk", "posterior", 12.0, 7.5),  # 10-20 off, read 7.5
        ("walk", "posterior", 5.0, 8.0),  # within 10, read 8.0
    ]  # fmt: skip
    return pd.DataFrame(
        [
            {
                "folder": "final30_inside", "clip": f"{i}.mp4", "task": t, "view": v,
                "azimuth_deg": az, "estimated_yaw_deg": est, "roll_deg": 0.0,
                "camera_height_m": 0.8,
            }
            for i, (t, v, az, est) in enumerate(rows)
        ]
    )  # fmt: skip


def test_the_margins_per_task_and_view_are_each_ones_error_sd() -> None:
    margins = margins_by_task_view(clips_from_events(_two_tasks(), validation_from=99))
    jog = pd.Series([1.0, -1.0, -2.0]).std()
    walk = pd.Series([3.0, -3.0, -4.5, 3.0]).std()
    assert margins == {("jog", "anterior"): round(jog, 1), ("walk", "posterior"): round(walk, 1)}


def test_clips_warned_per_task_and_view_are_counted_under_each_margin() -> None:
    clips = clips_from_events(_two_tasks(), validation_from=99)
    each = {("jog", "anterior"): 0.8, ("walk", "posterior"): 2.9}
    named: dict[str, Margin] = {"one": 1.8, "each": each}
    table = warned_by_task_view(clips, 10.0, named)
    assert table.loc[("jog", "anterior"), ("10-20 deg off", "one")] == 1  # 9.0 > 8.2
    assert table.loc[("jog", "anterior"), ("10-20 deg off", "each")] == 0  # 9.0 < 9.2
    assert table.loc[("walk", "posterior"), ("10-20 deg off", "one")] == 0  # 7.5 < 8.2
    assert table.loc[("walk", "posterior"), ("10-20 deg off", "each")] == 1  # 7.5 > 7.1
    assert table.loc[("walk", "posterior"), ("within 10 deg", "each")] == 1  # 8.0
    assert table.loc[("all", ""), ("within 10 deg", "clips")] == 5
    shares = margin_table(clips, 10.0, [each]).iloc[0]
    assert shares["margin_deg"] == "per task and view"
