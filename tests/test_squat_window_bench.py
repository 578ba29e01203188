"""bench.squat_window: a repetition's values read over a window around its deepest point."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.squat_window import rmse_table, window_readings

FPS = 30.0


def _clip(peak_fppa_deg: float = 20.0, slope_deg_per_s: float = 30.0):
    """A left-leg squat whose knee FPPA rises linearly to its deepest frame (1 s) and falls;
    the truth is the same angle 2 degrees higher, the pelvis level."""
    t = np.arange(0, 2.0 + 1e-9, 1 / FPS)
    fppa = peak_fppa_deg - slope_deg_per_s * np.abs(t - 1.0)
    zeros = np.zeros_like(t)
    frames = pd.DataFrame(
        {
            "time_s": t,
            "pelvic_obliquity_deg": zeros,
            "trunk_lean_deg": zeros,
            "left_knee_fppa_deg": fppa,
            "left_hip_adduction_deg": zeros + 5.0,
            "left_femoral_ir_deg": zeros,
            "left_femoral_ir_confidence": zeros + 1.0,
            "left_knee_flexion_deg": zeros,
        }
    )
    truth = pd.DataFrame(
        {
            "time_s": t,
            "pelvic_obliquity_deg": zeros - 1.0,
            "left_knee_fppa_deg": fppa + 2.0,
            "left_hip_adduction_deg": zeros + 5.0,
        }
    )
    events = pd.DataFrame(
        [{"kind": "rep", "side": "left", "t_start_s": 0.2, "t_end_s": 1.8, "frame_peak": 30}]
    )
    truth_json = {
        "events": [
            {"kind": "rep", "side": "left", "t_start_s": 0.2, "t_end_s": 1.8, "t_peak_s": 1.0}
        ]
    }
    return frames, events, truth_json, truth


def test_the_deepest_frame_alone_reads_the_peak_and_a_window_its_mean() -> None:
    frames, events, truth_json, truth = _clip()
    rows = pd.DataFrame(window_readings(frames, events, truth_json, truth, (0.0, 0.1)))
    fppa = rows[rows.metric == "knee_fppa_deg"]
    measured = dict(zip(fppa["w_s"], fppa["measured"], strict=True))
    assert measured[0.0] == pytest.approx(20.0)
    # +-0.1 s at 30 fps: 7 frames, the angle falling 1 degree a frame on either side
    assert measured[0.1] == pytest.approx(20.0 - 2 * (1 + 2 + 3) / 7)
    assert np.allclose(fppa["truth"], 22.0)
    drop = rows[rows.metric == "pelvic_drop_deg"]
    # a left stance leg: the pelvis dropping on the right is -obliquity
    assert np.allclose(drop["truth"], 1.0)
    assert np.allclose(drop["measured"], 0.0)


def test_a_repetition_not_found_gives_no_row_and_the_table_is_per_view() -> None:
    frames, events, truth_json, truth = _clip()
    assert window_readings(frames, events.iloc[0:0], truth_json, truth) == []
    rows = pd.DataFrame(window_readings(frames, events, truth_json, truth, (0.0,)))
    table = rmse_table(rows.assign(view="anterior"))
    assert table.loc[("knee_fppa_deg", "anterior"), 0.0] == pytest.approx(2.0)
