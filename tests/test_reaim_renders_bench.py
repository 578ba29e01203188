"""bench.reaim_renders: the re-aimed landmarks are what a level camera at the same place
would see, and the paired summary compares like with like."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.reaim_renders import reaim_pixels, render_cameras, summarise


def _truth(position: list[float], target: list[float], roll: float = 0.0) -> dict:
    camera = {"position_m": position, "target_m": target, "yfov_deg": 60.0, "roll_deg": roll}
    return {"camera": camera, "frame_size_upright": [360, 640]}


def test_reaimed_pixels_are_the_level_cameras_projection() -> None:
    # a lens 1.2 m high, 2 m away, aimed down at hips 0.8 m high, rolled 2 deg
    filmed, level = render_cameras(_truth([0.3, -2.0, 1.2], [0.0, 0.0, 0.8], roll=2.0))
    assert level.target[2] == pytest.approx(1.2)  # aimed at the lens' own height
    body = np.random.default_rng(0).uniform([-0.4, -0.3, 0.0], [0.4, 0.3, 1.8], (50, 3))
    moved = reaim_pixels(filmed.project(body), filmed, level)
    assert np.abs(moved - level.project(body)).max() < 1e-6
    # tilting the camera up moves the body down in the picture
    assert (moved[:, 1] > filmed.project(body)[:, 1]).all()


def test_a_level_camera_is_left_as_it_is() -> None:
    filmed, level = render_cameras(_truth([0.0, -2.5, 0.9], [0.0, 0.0, 0.9]))
    pixels = np.array([[10.0, 20.0], [180.0, 320.0], [350.0, 630.0]])
    assert np.allclose(reaim_pixels(pixels, filmed, level), pixels)


def test_the_paired_summary_keeps_only_repetitions_both_readings_read() -> None:
    rows = []
    for clip, elevation in (("a", 7.0), ("b", 8.0)):
        for k in range(2):
            rows.append((clip, "as filmed", k, elevation, 14.0, 10.0))  # 4 deg off
            if not (clip == "b" and k == 1):  # left empty when re-aimed
                rows.append((clip, "level", k, elevation, 11.0, 10.0))  # 1 deg off
    frame = pd.DataFrame(rows, columns=["clip", "reading", "k", "elevation_deg", "measured",
                                        "truth"])  # fmt: skip
    every, paired = summarise(frame)
    assert every.loc[("as filmed", pd.Interval(5, 10, closed="left")), "n"] == 4  # type: ignore[index]
    assert every.loc[("level", pd.Interval(5, 10, closed="left")), "n"] == 3  # type: ignore[index]
    row = paired.iloc[0]
    assert row["n"] == 3
    assert row["as_filmed_rmse_deg"] == pytest.approx(4.0)
    assert row["level_rmse_deg"] == pytest.approx(1.0)
