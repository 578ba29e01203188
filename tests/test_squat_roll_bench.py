"""bench.squat_roll: a squat's roll by the rule before session 39 and by today's."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.squat_roll import roll_errors_deg, summarize
from tests.test_capture import camera_sequence, one_leg_lean, stand_then_one_leg


def test_a_lean_over_one_leg_was_read_as_roll_and_no_longer_is() -> None:
    # the renders' camera roll has the opposite sign of the picture's tilt, which this
    # helper's roll_deg sets: the truth passed is its negative
    one_leg = roll_errors_deg(camera_sequence(one_leg_lean, roll_deg=2.0, view="posterior"), -2.0)
    assert abs(one_leg["before"]) > 3.0
    assert np.isnan(one_leg["now"])
    guided = roll_errors_deg(camera_sequence(stand_then_one_leg, roll_deg=2.0), -2.0)
    assert abs(guided["now"]) < 0.3


def test_the_summary_counts_reads_and_misreads_per_rule() -> None:
    rows = pd.DataFrame(
        {
            "clip": ["a", "b"],
            "view": ["posterior", "posterior"],
            "guide": [False, False],
            "before": [4.0, -1.0],
            "now": [np.nan, 1.0],
        }
    )
    table = summarize(rows).reset_index().set_index("rule")
    before, now = table.loc["before"], table.loc["now"]
    assert (before["read"], before["misread"]) == (2, 1)
    assert before["rms_deg"] == np.sqrt((16 + 1) / 2)
    assert (now["read"], now["misread"], now["rms_deg"]) == (1, 0, 1.0)
