"""bench/asymmetry_error.py on small events tables with known answers."""

from __future__ import annotations

import pandas as pd
import pytest

from bench.asymmetry_error import (
    check_calls,
    difference_errors,
    side_differences,
    squat_pair_differences,
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
    errors = AsymmetryErrors.model_validate(
        {
            "schema_version": 1,
            "measured_on": "test clips",
            "method": "a difference's RMSE, for the test",
            "z": 2.0,
            "tasks": {"jog.anterior": {"hip_adduction_deg": {"rmse_deg": 4.5, "n_clips": 3}}},
        }
    )
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
