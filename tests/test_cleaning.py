"""Cleaning: masking, swap repair, gap filling and the zero-lag filter."""

from __future__ import annotations

import numpy as np
import pytest

import screener.cleaning
from screener.cleaning import (
    clean_pose,
    crossed_hip_frames,
    fill_gaps,
    filter_butterworth,
    filter_cleaned,
    mask_low_visibility,
    mirror_all_labels,
    mirror_cleaned,
    prepare_pose,
    repair_swaps,
    swap_leg_labels,
)
from screener.config import CleaningConfig
from screener.landmarks import INDEX
from tests.synthetic import jog_in_place, make_sequence, standing_figure


def _jog(fps=60.0, duration_s=3.0, time_s=None):
    return make_sequence(jog_in_place()[0], fps=fps, duration_s=duration_s, time_s=time_s)


def test_low_visibility_and_out_of_frame_landmarks_are_masked():
    pose = _jog()
    vis = pose.visibility.copy()
    vis[10:20, INDEX["left_ankle"]] = 0.1
    image = pose.image_xy_px.copy()
    image[30, INDEX["right_heel"]] = [-200.0, 100.0]
    masked_pose, masked = mask_low_visibility(
        pose.with_arrays(visibility=vis, image_xy_px=image), 0.5, 0.02
    )
    assert np.isnan(masked_pose.xy("left_ankle")[10:20]).all()
    assert np.isnan(masked_pose.xyz("left_ankle")[10:20]).all()
    assert np.isnan(masked_pose.xy("right_heel")[30]).all()
    assert masked.sum() == 11
    assert np.isfinite(masked_pose.xy("left_ankle")[20:]).all()


def test_short_gaps_are_interpolated_long_gaps_stay_empty():
    pose = _jog(fps=50.0)
    image = pose.image_xy_px.copy()
    image[10:14, INDEX["left_knee"]] = np.nan  # 4 frames: 0.1 s between valid frames
    image[60:90, INDEX["left_knee"]] = np.nan  # 30 frames: 0.62 s
    truth = pose.image_xy_px[10:14, INDEX["left_knee"]]
    filled_pose, filled = fill_gaps(pose.with_arrays(image_xy_px=image), max_gap_s=0.2)
    got = filled_pose.xy("left_knee")
    assert np.isfinite(got[10:14]).all()
    assert np.abs(got[10:14] - truth).max() < 5.0  # linear between neighbours of a smooth path
    assert np.isnan(got[60:90]).all()
    assert filled[10:14, INDEX["left_knee"]].all() and not filled[60:90].any()


def test_leg_label_swaps_are_repaired_and_reported():
    pose = _jog()
    frames = np.zeros(pose.n_frames, dtype=bool)
    frames[40:46] = True
    frames[100:101] = True
    corrupted = swap_leg_labels(pose, frames)
    repaired, swapped = repair_swaps(corrupted)
    np.testing.assert_array_equal(swapped, frames)
    np.testing.assert_allclose(repaired.image_xy_px, pose.image_xy_px)
    np.testing.assert_allclose(repaired.world_xyz_m, pose.world_xyz_m)


def test_a_frame_whose_hips_cross_over_is_dropped_and_filled():
    pose = _jog()
    image = pose.image_xy_px.copy()
    left, right = INDEX["left_hip"], INDEX["right_hip"]
    # one frame: each hip moved 1.5 times their separation toward the other (a glitch)
    k = 50
    a, b = image[k, left].copy(), image[k, right].copy()
    image[k, left], image[k, right] = a + 0.75 * (b - a) * 2, b + 0.75 * (a - b) * 2
    glitch = pose.with_arrays(image_xy_px=image)
    crossed = crossed_hip_frames(glitch.image_xy_px)
    assert crossed.tolist() == [i == k for i in range(pose.n_frames)]
    assert not crossed_hip_frames(pose.image_xy_px).any()
    cleaned = prepare_pose(glitch, CleaningConfig())
    assert cleaned.masked[k, left] and cleaned.masked[k, right]
    # filled from its neighbours: back where the hips really were, within a pixel
    np.testing.assert_allclose(cleaned.pose.image_xy_px[k, [left, right]], [a, b], atol=1.0)


def test_hips_that_overlap_in_the_median_frame_are_not_judged():
    pose = _jog()
    image = pose.image_xy_px.copy()
    mid = 0.5 * (image[:, INDEX["left_hip"]] + image[:, INDEX["right_hip"]])
    noise = np.random.default_rng(0).normal(0.0, 0.5, (pose.n_frames, 2))
    image[:, INDEX["left_hip"]] = mid + noise  # a side view: the hips on top of each other
    image[:, INDEX["right_hip"]] = mid - noise
    assert not crossed_hip_frames(image).any()


def test_clean_sequence_has_no_swaps():
    _, swapped = repair_swaps(_jog())
    assert not swapped.any()


def test_mirror_all_labels_is_an_involution():
    pose = make_sequence(lambda t: standing_figure(obliquity_deg=5.0), fps=30, duration_s=0.2)
    twice = mirror_all_labels(mirror_all_labels(pose))
    np.testing.assert_allclose(twice.image_xy_px, pose.image_xy_px)
    once = mirror_all_labels(pose)
    np.testing.assert_allclose(once.xy("left_hip"), pose.xy("right_hip"))


def _sine_pose(time_s, freqs_amps):
    pose = _jog(time_s=time_s)
    image = pose.image_xy_px.copy()
    signal = sum(a * np.sin(2 * np.pi * f * time_s) for f, a in freqs_amps)
    image[:, INDEX["left_knee"], 0] = 300.0 + signal
    return pose.with_arrays(image_xy_px=image)


def test_butterworth_keeps_slow_motion_removes_jitter_without_lag():
    t = np.arange(0, 4, 1 / 60)
    pose = _sine_pose(t, [(1.0, 20.0), (20.0, 5.0)])
    out, cutoff, notes = filter_butterworth(pose, 6.0, order=2)
    x = out.xy("left_knee")[:, 0]
    expected = 300.0 + 20.0 * np.sin(2 * np.pi * t)
    inner = slice(30, -30)
    assert np.abs(x[inner] - expected[inner]).max() < 0.6  # 1 Hz kept, no phase lag
    assert cutoff == 6.0 and notes == ()


def test_butterworth_cutoff_clamped_below_nyquist_and_noted():
    t = np.arange(0, 3, 1 / 24)
    _, cutoff, notes = filter_butterworth(_sine_pose(t, [(1.0, 5.0)]), 15.0)
    assert cutoff == pytest.approx(0.4 * 24)
    assert any("Nyquist" in n for n in notes)


def test_variable_frame_rate_is_filtered_on_a_uniform_grid():
    rng = np.random.default_rng(0)
    t = np.cumsum(rng.choice([1 / 60, 1 / 30], size=200))  # VFR: 30-60 fps mixed
    pose = _sine_pose(t, [(1.0, 20.0)])
    out, _, notes = filter_butterworth(pose, 6.0)
    assert any("variable frame rate" in n for n in notes)
    x = out.xy("left_knee")[:, 0]
    expected = 300.0 + 20.0 * np.sin(2 * np.pi * t)
    assert np.abs(x[20:-20] - expected[20:-20]).max() < 1.0


def test_clean_pose_runs_the_chain_and_keeps_shape():
    pose = _jog()
    cleaned = clean_pose(pose, CleaningConfig(), 10.0)
    assert cleaned.pose.image_xy_px.shape == pose.image_xy_px.shape
    assert cleaned.cutoff_hz == 10.0
    assert not cleaned.swapped.any() and not cleaned.filled.any()


def test_mirroring_a_cleaned_clip_equals_cleaning_the_mirrored_clip():
    raw = _jog()
    vis = raw.visibility.copy()
    vis[5:9, INDEX["left_knee"]] = 0.1  # something to mask and fill on one side only
    raw = raw.with_arrays(visibility=vis)
    config = CleaningConfig()
    direct = clean_pose(mirror_all_labels(raw), config, 6.0)
    mirrored = mirror_cleaned(clean_pose(raw, config, 6.0))
    np.testing.assert_array_equal(direct.pose.image_xy_px, mirrored.pose.image_xy_px)
    np.testing.assert_array_equal(direct.pose.world_xyz_m, mirrored.pose.world_xyz_m)
    np.testing.assert_array_equal(direct.masked, mirrored.masked)
    np.testing.assert_array_equal(direct.filled, mirrored.filled)
    np.testing.assert_array_equal(direct.swapped, mirrored.swapped)
    assert direct.masked[:, INDEX["right_knee"]].any()


def _corrupted_jog():
    """A jog with swapped leg labels, a masked knee and an out-of-frame heel."""
    pose = _jog()
    frames = np.zeros(pose.n_frames, dtype=bool)
    frames[40:46] = True
    pose = swap_leg_labels(pose, frames)
    vis = pose.visibility.copy()
    vis[70:74, INDEX["left_knee"]] = 0.1
    image = pose.image_xy_px.copy()
    image[120:160, INDEX["right_heel"]] = [-500.0, 100.0]  # a long gap: stays empty
    return pose.with_arrays(visibility=vis, image_xy_px=image)


def test_prepare_pose_equals_the_public_steps_in_turn_and_leaves_raw_alone():
    raw = _corrupted_jog()
    before = [a.copy() for a in (raw.image_xy_px, raw.world_xyz_m, raw.visibility)]
    config = CleaningConfig()
    masked_pose, masked = mask_low_visibility(raw, 0.5, config.image_margin_fraction)
    swapped_pose, swapped = repair_swaps(masked_pose, config)
    filled_pose, filled = fill_gaps(swapped_pose, config.max_gap_s)
    prepared = prepare_pose(raw, config)
    for name in ("image_xy_px", "world_xyz_m", "visibility"):
        np.testing.assert_array_equal(getattr(prepared.pose, name), getattr(filled_pose, name))
    np.testing.assert_array_equal(prepared.masked, masked)
    np.testing.assert_array_equal(prepared.swapped, swapped)
    np.testing.assert_array_equal(prepared.filled, filled)
    assert swapped[40:46].all() and filled[70:74, INDEX["left_knee"]].all()
    for kept, now in zip(before, (raw.image_xy_px, raw.world_xyz_m, raw.visibility), strict=True):
        np.testing.assert_array_equal(kept, now)


def test_prepare_pose_with_known_swaps_skips_the_search_and_agrees():
    raw = _corrupted_jog()
    config = CleaningConfig()
    searched = prepare_pose(raw, config)
    given = prepare_pose(raw, config, swapped=searched.swapped)
    np.testing.assert_array_equal(given.pose.image_xy_px, searched.pose.image_xy_px)
    none = prepare_pose(raw, config, swapped=np.zeros(raw.n_frames, dtype=bool))
    assert not none.swapped.any()
    assert not np.array_equal(none.pose.image_xy_px, searched.pose.image_xy_px, equal_nan=True)


def test_filtering_in_place_and_a_few_landmarks_at_a_time_changes_no_value(monkeypatch):
    prepared = prepare_pose(_corrupted_jog(), CleaningConfig())
    copied = filter_cleaned(prepared, 6.0, 2)
    # one landmark per filter call instead of all at once (what a long clip gets)
    monkeypatch.setattr(screener.cleaning, "_FILTER_CHUNK_BYTES", 1)
    own = prepare_pose(_corrupted_jog(), CleaningConfig())
    in_place = filter_cleaned(own, 6.0, 2, in_place=True)
    assert in_place.pose.image_xy_px is own.pose.image_xy_px
    np.testing.assert_array_equal(in_place.pose.image_xy_px, copied.pose.image_xy_px)
    np.testing.assert_array_equal(in_place.pose.world_xyz_m, copied.pose.world_xyz_m)
    assert in_place.cutoff_hz == copied.cutoff_hz == 6.0
    # the copy left its input unfiltered
    assert not np.array_equal(prepared.pose.image_xy_px, copied.pose.image_xy_px, equal_nan=True)
