"""Event metrics computed from spans (screener.metrics)."""

from __future__ import annotations

import warnings

import numpy as np

from screener.events import Span
from screener.landmarks import INDEX
from screener.metrics import step_widths
from tests.synthetic import make_sequence, standing_figure


def test_step_width_of_a_stance_nobody_saw_is_nan_without_a_warning() -> None:
    pose = make_sequence(lambda t: standing_figure(), fps=30, duration_s=1.0)
    hidden = slice(10, 20)
    image = pose.image_xy_px.copy()
    world = pose.world_xyz_m.copy()
    legs = [INDEX[f"{s}_{p}"] for s in ("left", "right") for p in ("hip", "ankle", "heel")]
    legs += [INDEX[f"{s}_foot_index"] for s in ("left", "right")]
    image[hidden, legs] = np.nan
    world[hidden, legs] = np.nan
    pose = pose.with_arrays(image_xy_px=image, world_xyz_m=world)
    spans = [Span("stance", "left", 0, 10), Span("stance", "right", 10, 20)]
    spans.append(Span("stance", "left", 20, 30))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "All-NaN slice" would fail here
        widths = step_widths(spans, pose)
    assert np.isnan(widths[0]).all()  # the clip's first step
    assert np.isnan(widths[1]).all()  # nothing seen
    # the third compares with the first left placement's other foot: none was seen
    assert np.isnan(widths[2]).all()


def test_step_width_of_feet_under_the_hips_is_one_hip_width_apart() -> None:
    pose = make_sequence(lambda t: standing_figure(), fps=30, duration_s=1.0)
    spans = [Span("stance", "left", 0, 10), Span("stance", "right", 10, 20)]
    width_m, ratio = step_widths(spans, pose)[1]
    hips_m = np.linalg.norm(pose.xyz("left_hip")[0] - pose.xyz("right_hip")[0])
    feet_px = abs(pose.xy("left_ankle")[0, 0] - pose.xy("right_ankle")[0, 0])
    hips_px = abs(pose.xy("left_hip")[0, 0] - pose.xy("right_hip")[0, 0])
    assert ratio > 0  # each foot on its own side
    assert np.isclose(width_m, ratio * hips_m)
    assert abs(ratio - feet_px / hips_px) < 0.25  # the foot point mixes ankle, heel, toe
