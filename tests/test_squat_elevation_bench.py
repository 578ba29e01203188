"""bench/squat_elevation.py: a lens' known elevation read back from a filmed stick figure,
the fit and threshold counts on hand-made rows, and a stored squat."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.squat_elevation import (
    READINGS,
    elevation_readings,
    fit_line,
    group_sizes,
    main,
    threshold_table,
    upright_frames,
)
from screener.keypoints import PoseSequence
from screener.landmarks import INDEX, N_LANDMARKS
from tests.synthetic import standing_figure

CORPUS = Path(__file__).parents[1] / "corpus" / "val"
BEHIND = "sls_left_post_24fps_val004"


def _filmed(
    figures: list[dict[str, np.ndarray]],
    elevation_deg: float,
    view: str,
    distance_m: float = 3.0,
    focal_px: float = 1000.0,
) -> PoseSequence:
    """The figures (subject frame: X anterior, Y up, Z to the right; one per frame, 30 fps)
    filmed by a still pinhole camera in front (``anterior``) or behind (``posterior``),
    ``distance_m`` from the first figure's mid-hip, its lens ``elevation_deg`` above it and
    aimed at it. World landmarks as MediaPipe gives them: the camera's axes (x right in the
    picture, y down, z away from the lens), origin at each frame's mid-hip."""
    aim = 0.5 * (figures[0]["left_hip"] + figures[0]["right_hip"])
    toward = np.array([1.0, 0.0, 0.0]) if view == "anterior" else np.array([-1.0, 0.0, 0.0])
    up = np.array([0.0, 1.0, 0.0])
    el = np.radians(elevation_deg)
    lens = aim + distance_m * (np.cos(el) * toward + np.sin(el) * up)
    forward = (aim - lens) / distance_m
    down = -up - np.dot(-up, forward) * forward
    down /= np.linalg.norm(down)
    axes = np.vstack([np.cross(down, forward), down, forward])  # rows: x, y, z
    n = len(figures)
    image = np.full((n, N_LANDMARKS, 2), np.nan)
    world = np.full((n, N_LANDMARKS, 3), np.nan)
    for i, points in enumerate(figures):
        hips = 0.5 * (points["left_hip"] + points["right_hip"])
        for name, p in points.items():
            cam = axes @ (p - lens)
            image[i, INDEX[name]] = np.array([360.0, 640.0]) + focal_px * cam[:2] / cam[2]
            world[i, INDEX[name]] = axes @ (p - hips)
    return PoseSequence(
        time_s=np.arange(n) / 30.0,
        image_xy_px=image,
        world_xyz_m=world,
        visibility=np.where(np.isfinite(image[..., 0]), 0.99, 0.0),
        detected=np.ones(n, dtype=bool),
        image_size_px=(720, 1280),
    )


def _squatting() -> dict[str, np.ndarray]:
    """A squat's bottom on the right leg: the pelvis 0.2 m down and back, the trunk leaned
    forward (every reading of these frames is off the lens' elevation)."""
    pts = standing_figure(
        pelvis_offset=np.array([-0.1, -0.2, 0.0]),
        right={"flexion_hip_deg": 60.0, "knee_flexion_deg": 90.0},
    )
    for name in ("left_shoulder", "right_shoulder"):
        pts[name] = pts[name] + np.array([0.3, -0.05, 0.0])
    return pts


@pytest.mark.parametrize("view", ["anterior", "posterior"])
@pytest.mark.parametrize("elevation_deg", [12.0, -8.0])
def test_an_upright_body_reads_the_lens_elevation(view: str, elevation_deg: float) -> None:
    standing = np.array([True] * 10 + [False] * 35 + [True] * 10)
    pose = _filmed(
        [standing_figure() if s else _squatting() for s in standing], elevation_deg, view
    )
    assert np.array_equal(upright_frames(pose), standing)
    readings = elevation_readings(pose, "right")
    assert set(readings) == set(READINGS)
    for key in READINGS:  # + with the lens above, looking down
        assert readings[key] == pytest.approx(elevation_deg, abs=0.05), key
    # the squat's frames would not have given it: the frame choice matters
    every = elevation_readings(pose, "right", np.ones(standing.size, dtype=bool))
    assert abs(every["b"] - elevation_deg) > 2.0
    # without a stance leg only the readings that need none
    no_side = elevation_readings(pose, None, standing)
    assert no_side["e"] == pytest.approx(elevation_deg, abs=0.05)
    assert np.isnan(no_side["a"]) and np.isnan(no_side["c"]) and np.isnan(no_side["d"])


def test_fit_line_on_known_pairs() -> None:
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    y = np.array([1.0, 3.0, 5.0, 7.0, 10.0, np.nan])  # the last pair left out
    fit = fit_line(x, y)
    assert fit["n"] == 5
    assert fit["slope"] == pytest.approx(2.2)  # Sxy 22 / Sxx 10
    assert fit["intercept"] == pytest.approx(0.8)  # 5.2 - 2.2 * 2
    assert fit["resid_sd"] == pytest.approx(np.sqrt(0.4 / 3))  # residuals ±0.2, 0, ±0.4
    assert fit["r"] == pytest.approx(22 / np.sqrt(10 * 48.8))
    few = fit_line(x[:4], y[:4])
    assert few["n"] == 4 and np.isnan(few["slope"]) and np.isnan(few["r"])


def test_threshold_table_counts_readings_over_each_threshold() -> None:
    table = pd.DataFrame(
        {
            "elevation_deg": [20.0, 12.0, 10.0, 0.0, -5.0, 16.0],
            "a": [14.0, 3.0, 6.0, 1.0, np.nan, 9.0],  # the -5 deg squat has no reading a
            "e": [5.0, 10.0, 10.5, -1.0, 2.0, 5.0],  # readings equal to a threshold: not over
        }
    )
    rows = threshold_table(table, [0.0, 5.0, 10.0])
    columns = ["elev>10", "elev<=10", "elev>15", "elev<=15"]
    assert list(rows.columns) == ["reading", "threshold_deg", *columns]
    counts = {
        (row["reading"], row["threshold_deg"]): [row[c] for c in columns]
        for row in rows.to_dict(orient="records")
    }
    assert counts == {
        ("a", 0.0): [3, 2, 2, 3],
        ("a", 5.0): [2, 1, 2, 1],
        ("a", 10.0): [1, 0, 1, 0],
        ("e", 0.0): [3, 2, 2, 3],
        ("e", 5.0): [1, 1, 0, 2],
        ("e", 10.0): [0, 1, 0, 1],
    }
    assert group_sizes(table, "a") == "elev>10: 3, elev<=10: 2; elev>15: 2, elev<=15: 3"
    assert group_sizes(table, "e") == "elev>10: 3, elev<=10: 3; elev>15: 2, elev<=15: 4"


@pytest.mark.skipif(not CORPUS.exists(), reason="no corpus")
def test_a_stored_squat_from_behind_runs_through_main(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in CORPUS.glob(f"{BEHIND}.*"):
        shutil.copy(path, tmp_path / path.name)
    out_csv = tmp_path / "readings.csv"
    assert main([str(tmp_path), "--csv", str(out_csv), "--thresholds", "5,10"]) == 0
    out = capsys.readouterr().out
    assert "squats: 1 (posterior 1" in out and "jogs: 0" in out
    assert "squats with no usable upright frame: 0" in out
    assert "=== squats: reading = intercept + slope * true elevation above the hips" in out
    assert "=== squats from behind, all: readings over each threshold (deg) ===" in out
    assert "threshold_deg  elev>10  elev<=10  elev>15  elev<=15" in out
    table = pd.read_csv(out_csv)
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["view"], row["side"], row["task"]) == ("posterior", "left", "sls")
    assert 10 <= row["n_used"] < row["n_frames"]  # stands found, the squats left out
    for key in READINGS:
        assert np.isfinite(row[key]), key
    assert abs(row["a"] - row["elevation_deg"]) < 10.0
