"""bench/stance_contact.py: where the timing misses (known answers on a small log)."""

from __future__ import annotations

import math

import pytest

from bench.accuracy import Tally
from bench.stance_contact import floor_breakdown


def test_the_breakdown_splits_by_view_and_frame_rate_and_skips_phases_not_found() -> None:
    tally = Tally()
    tally.floor_log = [
        ("walk_ante_30fps_a.mp4", "walk", False, 0.01, -0.02),  # within 50 ms
        ("walk_ante_30fps_a.mp4", "walk", False, 0.08, 0.00),  # start late
        ("walk_post_60fps_b.mp4", "walk", True, -0.01, 0.03),  # within
        ("walk_post_60fps_b.mp4", "walk", False, math.nan, math.nan),  # not found
    ]
    out = floor_breakdown(tally)
    view = out["view"]
    assert view.loc["anterior", "phases"] == 2
    assert view.loc["anterior", "both_50ms"] == pytest.approx(0.5)
    assert view.loc["anterior", "start_bias_s"] == pytest.approx(0.045)
    assert view.loc["posterior", "phases"] == 1
    assert view.loc["posterior", "both_50ms"] == pytest.approx(1.0)
    assert list(out["fps"].index) == [30.0, 60.0]
    assert out["percentiles"]["start"].loc[0.5] == pytest.approx(0.01)
