"""bench/contact_sampling.py: the stance timing against the stored and the finely sampled
floor contact (its posing needs the synth extra; what is tested here does not)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.contact_sampling import fine_rate_factor, sampling_table, timing_rows


def test_the_motion_is_posed_again_at_240_frames_a_second_or_more() -> None:
    assert [fine_rate_factor(f) for f in (24.0, 25.0, 30.0, 50.0, 60.0, 240.0)] == [
        10, 10, 8, 5, 4, 1,
    ]  # fmt: skip
    assert all(fine_rate_factor(f) * f >= 240.0 for f in (23.976, 29.97, 59.94))


def _contact(side: str, t_start: float, on: float, off: float, shift: float) -> dict:
    return {
        "side": side, "t_start_s": t_start, "reproduced": True, "on_stored": on,
        "off_stored": off, "on_fine": on - shift, "off_fine": off + 0.03,
    }  # fmt: skip


def test_found_phases_are_timed_against_both_contacts_and_a_missed_one_is_late() -> None:
    truth_json = {
        "fps": 24.0,
        "events": [
            {"kind": "stance", "side": "left", "t_start_s": 0.50, "t_peak_s": 0.7, "t_end_s": 0.9},
            {"kind": "stance", "side": "right", "t_start_s": 0.90, "t_peak_s": 1.1, "t_end_s": 1.3},
        ],
    }
    # the screener found the left stance 0.48-0.91 s and missed the right one
    found = pd.DataFrame(
        [{"kind": "stance", "side": "left", "t_start_s": 0.48, "t_peak_s": 0.7, "t_end_s": 0.91}]
    )
    contacts = [_contact("left", 0.50, 0.52, 0.90, 0.02), _contact("right", 0.90, 0.93, 1.3, 0.02)]
    left, right = timing_rows(found, truth_json, contacts)
    assert np.isclose(left["start_stored"], -0.04) and np.isclose(left["start_fine"], -0.02)
    assert np.isclose(left["end_stored"], 0.01) and np.isclose(left["end_fine"], -0.02)
    assert np.isclose(left["on_shift"], -0.02) and left["fps"] == 24.0
    assert np.isnan(right["start_stored"]) and np.isnan(right["end_fine"])


def test_the_table_counts_a_phase_on_time_only_within_50_ms_and_found() -> None:
    rows = pd.DataFrame(
        {
            "fps": [24.0, 24.0, 24.0, 24.0, 60.0],
            # the stored contact late by 20 ms: two starts read 60 ms early against it
            "start_stored": [-0.06, -0.06, 0.01, np.nan, 0.0],
            "start_fine": [-0.04, -0.04, 0.03, np.nan, 0.005],
            "end_stored": [0.0, 0.07, 0.0, np.nan, 0.01],
            "end_fine": [0.02, 0.09, 0.02, np.nan, 0.0],
            "on_shift": [-0.02, -0.02, -0.02, -0.02, -0.005],
            "off_shift": [0.02, 0.02, 0.02, 0.02, -0.01],
        }
    )
    table = sampling_table(rows)
    low = table.loc[24.0]
    assert low.phases == 4
    assert np.isclose(low.contact_shift_median_ms, -20.0)
    assert np.isclose(low.start, 0.25) and np.isclose(low.start_fine, 0.75)
    assert np.isclose(low.both, 0.25) and np.isclose(low.both_fine_start, 0.5)
    assert np.isclose(table.loc[60.0].both, 1.0)
