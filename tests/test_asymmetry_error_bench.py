"""bench/asymmetry_error.py on small events tables with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.asymmetry_error import (
    check_calls,
    difference_errors,
    side_differences,
    squat_pair_differences,
    summarise_calls,
)
from screener.asymmetry import AsymmetryErrors


def _events(clips: list[tuple[str, float, float, float, float]]) -> pd.DataFrame:
    """Two events per side of jogs filmed from the front: (clip, measured left, true
    left, measured right, true right), hip adduction."""
    rows = []
    for clip, m_left, t_left, m_right, t_right in clips:
        for side, measured, truth in (("left", m_left, t_left), ("right", m_right, t_right)):
            for jitter in (-0.5, 0.5):
                rows.append(
                    {
                        "clip": clip,
                        "folder": "set",
                        "task": "jog",
                        "view": "anterior",
                        "side": side,
                        "metric": "hip_adduction_deg",
                        "measured": measured + jitter,
                        "truth": truth + jitter,
                        "inside_envelope": True,
                    }
                )
    return pd.DataFrame(rows)


def _errors_file(task_view: str, metric: str, rmse_deg: float) -> AsymmetryErrors:
    """An asymmetry-error file with one entry and ``z`` 2."""
    return AsymmetryErrors.model_validate(
        {
            "schema_version": 1,
            "measured_on": "test clips",
            "method": "a difference's RMSE, for the test",
            "z": 2.0,
            "tasks": {task_view: {metric: {"rmse_deg": rmse_deg, "n_clips": 20}}},
        }
    )


CLIPS = [
    ("a", 10.0, 4.0, 2.0, 2.0),  # measured +8, true +2: error 6
    ("b", 2.0, 2.0, 12.0, 2.0),  # measured -10, true 0: error -10
    ("c", 9.0, 9.0, 1.0, 1.0),  # measured +8, true +8: error 0
]


def test_differences_are_left_minus_right_of_the_side_means():
    diffs = side_differences(_events(CLIPS)).set_index("clip_key")
    assert diffs.loc["set/a", "measured_diff"] == pytest.approx(8.0)
    assert diffs.loc["set/b", "true_diff"] == pytest.approx(0.0)
    (row,) = difference_errors(diffs.reset_index()).reset_index().to_dict("records")
    assert (row["task"], row["view"], row["metric"], row["clips"]) == (
        "jog",
        "anterior",
        "hip_adduction_deg",
        3,
    )
    assert row["rmse_deg"] == pytest.approx(((36 + 100 + 0) / 3) ** 0.5)
    assert row["bias_deg"] == pytest.approx(-4 / 3)


def test_a_clip_missing_a_side_is_left_out():
    events = _events(CLIPS)
    events = events[~((events["clip"] == "c") & (events["side"] == "right"))]
    assert set(side_differences(events)["clip_key"]) == {"set/a", "set/b"}


def test_calls_with_the_sdc_alone_and_with_the_limit():
    errors = _errors_file("jog.anterior", "hip_adduction_deg", 4.5)
    calls = check_calls(
        side_differences(_events(CLIPS)), errors, {("jog", "hip_adduction_deg"): 3.8}
    )
    (row,) = calls.to_dict("records")
    assert row["limit_deg"] == pytest.approx(9.0)
    assert row["true_beyond_sdc"] == 1  # only c truly differs by more than 3.8
    assert (row["sdc_calls"], row["sdc_right"]) == (3, 1)  # a, b and c all read beyond 3.8
    assert (row["limit_calls"], row["limit_right"]) == (1, 0)  # only b's -10 is beyond 9


def test_squats_pair_with_their_other_leg_twin():
    def squat(folder: str, clip: str, side: str, measured: float, truth: float) -> dict:
        return {
            "clip": f"x/{clip}",
            "folder": folder,
            "task": "sls",
            "view": "anterior",
            "side": side,
            "metric": "knee_fppa_deg",
            "measured": measured,
            "truth": truth,
            "inside_envelope": True,
        }

    events = pd.DataFrame(
        [
            squat("set_guide", "sls_left_ante_30fps_finali005.mp4", "left", 12.0, 15.0),
            squat("set_guide_otherleg", "sls_right_ante_30fps_finali005.mp4", "right", 4.0, 5.0),
            # a squat without its twin, and a twin of another set, pair with nothing
            squat("set_guide", "sls_right_ante_30fps_finali006.mp4", "right", 3.0, 3.0),
            squat("other_otherleg", "sls_left_ante_30fps_finali006.mp4", "left", 3.0, 3.0),
        ]
    )
    (pair,) = squat_pair_differences(events).to_dict("records")
    assert pair["clip_key"] == "set_guide/sls_ante_30fps_finali005.mp4"
    assert (pair["measured_diff"], pair["true_diff"]) == (8.0, 10.0)


def _squat_pair_events(view: str) -> pd.DataFrame:
    """One pair of squats (a squat and its other-leg twin), knee FPPA: measured left minus
    right 8, true 10."""
    rows = [
        ("set_guide", f"sls_left_{view[:4]}_30fps_finali005.mp4", "left", 12.0, 15.0),
        ("set_guide_otherleg", f"sls_right_{view[:4]}_30fps_finali005.mp4", "right", 4.0, 5.0),
    ]
    return pd.DataFrame(
        [
            {
                "clip": f"x/{clip}",
                "folder": folder,
                "task": "sls",
                "view": view,
                "side": side,
                "metric": "knee_fppa_deg",
                "measured": measured,
                "truth": truth,
                "inside_envelope": True,
            }
            for folder, clip, side, measured, truth in rows
        ]
    )


def test_pairs_of_squats_are_scored_only_where_the_file_has_them():
    errors = _errors_file("sls.anterior", "knee_fppa_deg", 3.0)
    sdc = {("sls", "knee_fppa_deg"): 5.0}
    front = squat_pair_differences(_squat_pair_events("anterior"))
    (row,) = check_calls(front, errors, sdc).to_dict("records")
    assert row["limit_deg"] == pytest.approx(6.0)
    assert (row["limit_calls"], row["limit_right"], row["true_beyond_sdc"]) == (1, 1, 1)
    # from behind the file has no entry: the screener combines the sides' errors there
    behind = squat_pair_differences(_squat_pair_events("posterior"))
    assert check_calls(behind, errors, sdc).empty


def test_the_summary_adds_every_row_of_each_rule():
    calls = pd.DataFrame(
        [
            {
                "true_beyond_sdc": 2,
                "sdc_calls": 3,
                "sdc_right": 1,
                "limit_calls": 1,
                "limit_right": 1,
            },
            {
                "true_beyond_sdc": 2,
                "sdc_calls": 1,
                "sdc_right": 1,
                "limit_calls": 0,
                "limit_right": 0,
            },
        ]
    )
    summary = summarise_calls(calls).set_index("rule").to_dict("index")
    assert summary["sdc"]["calls"] == 4 and summary["sdc"]["right"] == 2
    assert summary["sdc"]["precision"] == pytest.approx(0.5)
    assert summary["sdc"]["recall"] == pytest.approx(0.5)
    assert summary["limit"]["precision"] == pytest.approx(1.0)
    assert summary["limit"]["recall"] == pytest.approx(0.25)
    empty = summarise_calls(calls.iloc[0:0]).set_index("rule").to_dict("index")
    assert empty["limit"]["calls"] == 0 and np.isnan(empty["limit"]["precision"])
