"""bench.heel_flow: the heel's image motion and the re-timed start have known answers."""

from __future__ import annotations

import numpy as np
import pytest

from bench.heel_flow import heel_flow, refined_start_s, rule_table, share_timed
from screener.landmarks import INDEX
from tests.synthetic import still_pose

SIZE = (160, 120)  # width, height
SHANK_PX = 40.0


def textured_frames(heel_x: np.ndarray) -> list[np.ndarray]:
    """Grey frames of a flat floor with a textured patch (the heel) whose left edge is at
    ``heel_x[i] - 10`` in frame ``i``."""
    import cv2

    rng = np.random.default_rng(3)
    noise = cv2.GaussianBlur(rng.random((24, 24)).astype(np.float32), (0, 0), 2.0)
    texture = (30 + 200 * (noise - noise.min()) / np.ptp(noise)).astype(np.uint8)
    frames = []
    for x in heel_x:
        frame = np.full((SIZE[1], SIZE[0]), 90, dtype=np.uint8)
        left = round(float(x)) - 10
        frame[60:84, left : left + 24] = texture
        frames.append(frame)
    return frames


def heel_pose(heel_x: np.ndarray):
    xy = np.full((33, 2), np.nan)
    pose = still_pose(xy, len(heel_x), SIZE)
    image = pose.image_xy_px.copy()
    image[:, INDEX["left_heel"]] = np.stack([heel_x + 2.0, np.full(len(heel_x), 72.0)], axis=1)
    image[:, INDEX["left_ankle"]] = [60.0, 60.0]
    image[:, INDEX["left_knee"]] = [60.0, 60.0 - SHANK_PX]
    return pose.with_arrays(image_xy_px=image)


def test_the_heels_motion_is_its_shift_over_the_shank_and_zero_once_it_stands() -> None:
    # the heel moves 3 px a frame for 6 frames, then stands still
    heel_x = np.concatenate([50.0 + 3.0 * np.arange(7), np.full(6, 68.0)])
    flow = heel_flow(textured_frames(heel_x), heel_pose(heel_x), "left")
    assert np.isnan(flow[0])  # no frame before the first
    assert np.median(flow[2:6]) == pytest.approx(3.0 / SHANK_PX, rel=0.05)
    assert np.all(flow[8:] < 0.2 / SHANK_PX)
    assert np.all(np.isnan(heel_flow(textured_frames(heel_x), heel_pose(heel_x), "right")))


def test_the_start_moves_to_the_first_still_frame_within_the_window() -> None:
    time_s = np.arange(20) / 30.0
    flow = np.full(20, 0.05)
    flow[10:] = 0.001  # still from frame 10
    # the found start two frames early: the still frame replaces it, less the lead
    assert refined_start_s(time_s, flow, time_s[8], 0.004, 0.0, 0.1, 1.0) == pytest.approx(
        time_s[10]
    )
    assert refined_start_s(time_s, flow, time_s[8], 0.004, 1 / 30, 0.1, 1.0) == pytest.approx(
        time_s[9]
    )
    # weighted half against the found start
    assert refined_start_s(time_s, flow, time_s[8], 0.004, 0.0, 0.1, 0.5) == pytest.approx(
        time_s[9]
    )
    # no still frame within 2 frames of the found start: unchanged
    assert refined_start_s(time_s, flow, time_s[4], 0.004, 0.0, 0.07, 1.0) == time_s[4]
    # one still frame alone is not stillness
    spike = np.full(20, 0.05)
    spike[6] = 0.001
    assert refined_start_s(time_s, spike, time_s[6], 0.004, 0.0, 0.1, 1.0) == time_s[6]


def test_timed_share_counts_missed_phases_and_the_grid_ranks_rules() -> None:
    time_s = np.arange(30) / 30.0
    flow = np.full(30, 0.05)
    flow[12:] = 0.0
    row = {"t_floor_on_s": time_s[12], "found_start_s": time_s[9], "time_s": time_s, "flow": flow}
    missed = dict(row, found_start_s=None)
    assert share_timed([time_s[9], None], [row, missed]) == 0.0  # 100 ms early, not found
    assert share_timed([time_s[11], None], [row, missed]) == 0.5
    table = rule_table([row, missed])
    assert table["timed"].iloc[0] == 0.5  # some rule re-times the found start
    assert table["timed"].min() == 0.0  # and some leaves it early
