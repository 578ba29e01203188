"""bench/standing_reference.py: a repetition's reading less its stand's (known answers)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.standing_reference import MARGIN_S, stand_frames, summarise


def test_the_stand_leaves_its_edges_out() -> None:
    time_s = np.arange(90) / 30.0
    frames = stand_frames(time_s, start=60)  # on both feet for the first 2 s
    assert time_s[frames[0]] == pytest.approx(MARGIN_S)
    assert time_s[frames[-1]] <= time_s[59] - MARGIN_S + 1e-9
    assert stand_frames(time_s, start=0).size == 0


def _rows(metric: str, stand_error: list[float], other_error: list[float]) -> pd.DataFrame:
    """Rows whose event error is the stand's error plus ``other_error``."""
    return pd.DataFrame(
        {
            "clip": [f"c{i}" for i in range(len(stand_error))],
            "view": "anterior",
            "side": "left",
            "metric": metric,
            "event": [5.0 + s + o for s, o in zip(stand_error, other_error, strict=True)],
            "event_true": 5.0,
            "stand": stand_error,
            "stand_true": 0.0,
            "stand_s": 2.0,
        }
    )


def test_a_stand_that_carries_the_whole_error_removes_it() -> None:
    table = pd.concat(
        [
            _rows("pelvic_drop_deg", [3.0, -2.0, 4.0], [0.0, 0.0, 0.0]),
            _rows("knee_fppa_deg", [3.0, -2.0, 4.0], [1.0, -1.0, 1.0]),
        ]
    )
    lines = summarise(table).splitlines()
    drop = next(line for line in lines if line.startswith("pelvic_drop_deg"))
    assert "as read  3.11" in drop  # sqrt((9 + 4 + 16) / 3)
    assert "referenced  0.00" in drop and "oracle  0.00" in drop
    assert "r(stand error, event error) +1.00" in drop
    fppa = next(line for line in lines if line.startswith("knee_fppa_deg"))
    assert "referenced" not in fppa  # a knee's stand has no known truth
    assert "oracle  1.00" in fppa
