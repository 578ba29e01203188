"""bench/stature_check.py: RMSE by the truth body's stature and the difference's interval
(known answers on small tables)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.error_by_truth import inside_events
from bench.stature_check import main, rmse_difference, stature_table


def _table(rows: list[tuple[str, str, float, float, float]]) -> pd.DataFrame:
    # (clip, view, stature, truth, reading), squats inside the envelope
    return pd.DataFrame(
        [
            {
                "folder": "f", "clip": c, "task": "sls", "view": v, "metric": "knee_fppa_deg",
                "truth": t, "measured": m, "inside_envelope": True, "stature_m": s,
            }
            for c, v, s, t, m in rows
        ]
    )  # fmt: skip


def test_short_bodies_errors_are_compared_with_the_tall_ones() -> None:
    # short clips err by 4 deg, tall ones by 1 deg: RMSE 4 and 1, difference 3
    rows = _table(
        [
            ("s1", "anterior", 1.40, 10.0, 14.0),
            ("s2", "anterior", 1.50, 10.0, 6.0),
            ("s3", "posterior", 1.55, 10.0, 14.0),  # at the edge counts as short
            ("t1", "anterior", 1.70, 10.0, 11.0),
            ("t2", "posterior", 1.90, 10.0, 9.0),
            ("t3", "posterior", 1.60, 10.0, 11.0),
        ]
    )
    table = stature_table(inside_events(rows, "knee_fppa_deg"), 1.55)
    both = table.loc["both"]
    assert (both["clips_short"], both["clips_tall"]) == (3, 3)
    assert both["rmse_short_deg"] == pytest.approx(4.0)
    assert both["rmse_tall_deg"] == pytest.approx(1.0)
    assert both["difference_deg"] == pytest.approx(3.0)
    # every clip of a group errs alike, so every resample gives the same difference
    assert both["ci_low_deg"] == pytest.approx(3.0)
    assert both["ci_high_deg"] == pytest.approx(3.0)
    assert table.loc["anterior", "clips_short"] == 2
    assert table.loc["posterior", "clips_tall"] == 2


def test_the_interval_spans_the_clips_spread() -> None:
    # short clips err 1..6 deg, tall ones 1..3: the interval holds the point and is wide
    short = [(f"s{k}", "anterior", 1.45, 0.0, float(k)) for k in range(1, 7)]
    tall = [(f"t{k}", "anterior", 1.75, 0.0, float(k)) for k in range(1, 4)]
    rows = inside_events(_table(short + tall), "knee_fppa_deg")
    out = rmse_difference(rows[rows.stature_m <= 1.55], rows[rows.stature_m > 1.55])
    assert out["ci_low_deg"] < out["difference_deg"] < out["ci_high_deg"]
    assert out["ci_high_deg"] - out["ci_low_deg"] > 1.0


def test_one_clip_in_a_group_gives_no_interval() -> None:
    rows = inside_events(
        _table([("s", "anterior", 1.4, 0.0, 2.0), ("t1", "anterior", 1.7, 0.0, 1.0),
                ("t2", "anterior", 1.8, 0.0, 1.0)]),
        "knee_fppa_deg",
    )  # fmt: skip
    out = rmse_difference(rows[rows.stature_m <= 1.55], rows[rows.stature_m > 1.55])
    assert out["difference_deg"] == pytest.approx(1.0)
    assert np.isnan(out["ci_low_deg"]) and np.isnan(out["ci_high_deg"])


def test_tables_without_stature_are_refused_with_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.csv"
    _table([("a", "anterior", np.nan, 1.0, 2.0)]).to_csv(path, index=False)
    with pytest.raises(SystemExit):
        main([str(path)])
    assert "no stature_m" in capsys.readouterr().err


def test_main_prints_the_pooled_and_per_view_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "events.csv"
    _table(
        [("s1", "anterior", 1.4, 0.0, 3.0), ("s2", "anterior", 1.5, 0.0, 3.0),
         ("t1", "anterior", 1.7, 0.0, 1.0), ("t2", "anterior", 1.8, 0.0, 1.0)]
    ).to_csv(path, index=False)  # fmt: skip
    assert main([str(path)]) == 0
    out = capsys.readouterr().out
    assert "both" in out and "anterior" in out
    assert "2.0" in out  # the difference, 3 - 1


def test_another_column_splits_the_same_way(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--column`` splits by another column (the squat depth the screener read): the
    squats read deeper than the edge are the second group; a missing column is refused."""
    path = tmp_path / "events.csv"
    table = _table(
        [("s1", "anterior", 1.4, 0.0, 1.0), ("s2", "anterior", 1.5, 0.0, 1.0),
         ("t1", "anterior", 1.7, 0.0, 4.0), ("t2", "anterior", 1.8, 0.0, 4.0)]
    )  # fmt: skip
    # the depth read runs against the stature here, so the split by it is the other way
    table["measured_squat_depth_deg"] = [70.0, 65.0, 50.0, 55.0]
    table.to_csv(path, index=False)
    assert main([str(path), "--column", "measured_squat_depth_deg", "--edge", "60"]) == 0
    out = capsys.readouterr().out
    assert "measured_squat_depth_deg <= 60.0" in out
    both = next(line for line in out.splitlines() if line.startswith("both"))
    assert both.split()[-3] == "3.0"  # shallow (4) minus deep (1)
    assert main([str(path)]) == 0  # by stature: short (1) minus tall (4)
    both = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("both"))
    assert both.split()[-3] == "-3.0"
    with pytest.raises(SystemExit):
        main([str(path), "--column", "lens_height_cm"])
    assert "no column 'lens_height_cm'" in capsys.readouterr().err
