"""bench/calibrate_by_set.py: the envelope filter, the sets, and leave-one-set-out lines
(known answers on small tables)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.calibrate_by_set import calibration_table, inside_events, leave_one_set_out

RANGES = {"yaw_deg": (-10.0, 10.0), "roll_deg": (-5.0, 5.0)}


def _events(truth_of: dict[str, tuple[float, float]], n: int = 6) -> pd.DataFrame:
    """Events of three sets whose truth is ``offset + gain * measured`` per set."""
    rows = []
    for name, (offset, gain) in truth_of.items():
        for k in range(n):
            measured = float(k)
            rows.append(
                {
                    "folder": f"{name}_inside",
                    "clip": f"c{k}.mp4",
                    "task": "sls",
                    "view": "posterior",
                    "metric": "knee_fppa_deg",
                    "measured": measured,
                    "truth": offset + gain * measured,
                    "azimuth_deg": 2.0,
                    "roll_deg": 0.0,
                }
            )
    return pd.DataFrame(rows)


def test_clips_outside_the_envelope_and_missing_values_are_left_out() -> None:
    events = _events({"final20": (0.0, 1.0)})
    events.loc[0, "azimuth_deg"] = 12.0  # lens outside the yaw range
    events.loc[1, "measured"] = np.nan
    events.loc[2, "folder"] = "final20_outside"  # same set, other folder
    kept = inside_events(events, RANGES)
    assert len(kept) == 4
    assert set(kept["set"]) == {"final20"}


def test_a_line_shared_by_every_set_is_recovered_on_the_set_left_out() -> None:
    events = inside_events(_events({s: (2.0, 1.5) for s in ("a", "b", "c")}), RANGES)
    predicted = leave_one_set_out(events)
    np.testing.assert_allclose(predicted, events["truth"], atol=1e-9)
    table = calibration_table(events)
    row = table.iloc[0]
    assert row["rmse_calibrated_deg"] == pytest.approx(0.0, abs=1e-9)
    assert row["rmse_measured_deg"] > 1.0
    assert (row["gain"], row["offset_deg"]) == pytest.approx((1.5, 2.0))
    assert (row["sets"], row["clips"]) == (3, 18)


def test_an_offset_that_changes_from_set_to_set_is_not_removed() -> None:
    # each set's own offset: a line fitted on the others misses the one left out
    events = inside_events(_events({"a": (-4.0, 1.0), "b": (0.0, 1.0), "c": (4.0, 1.0)}), RANGES)
    row = calibration_table(events).iloc[0]
    assert row["rmse_calibrated_deg"] > row["rmse_measured_deg"]
