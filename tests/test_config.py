"""Settings: every tunable number is validated, hashed, and a partial file keeps the
defaults of what it leaves out."""

from __future__ import annotations

import numpy as np
import pytest

from screener.angles import compute_frame_angles, trunk_lean_deg
from screener.config import AnalysisConfig, AngleConfig, EventConfig, load_config
from screener.errors import ConfigError
from screener.events import detect_sls_reps, detect_sls_side
from screener.landmarks import INDEX
from tests.synthetic import jog_in_place, make_sequence, single_leg_squat


def test_settings_file_with_only_walk_keeps_the_other_tasks_defaults(tmp_path):
    settings = tmp_path / "settings.toml"
    settings.write_text("[cleaning.cutoff_hz]\nwalk = 5.0\n\n[events.min_stance_s]\nwalk = 0.3\n")
    config = load_config(settings)
    assert config.cutoff_for("walk") == 5.0
    assert config.cutoff_for("jog") == AnalysisConfig().cutoff_for("jog") == 10.0
    assert config.cutoff_for("sls") == 6.0
    assert config.events.min_stance_s == {"walk": 0.3, "jog": 0.08}
    assert config.events.stance_heel_speed_max_leg_per_s == {"walk": 0.4, "jog": 0.3}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[cleaning.cutoff_hz]\nrun = 5.0\n", "unknown task"),
        ("[cleaning.cutoff_hz]\njog = 0\n", "positive"),
        ("[events.stance_heel_speed_max_leg_per_s]\nwalk = 'fast'\n", "positive number"),
        ("[angles]\nthigh_min_visible_fraction = 2\n", "thigh_min_visible_fraction"),
        ("[checks]\nupright_max_tilt_deg = 80\n", "upright_max_tilt_deg"),
    ],
)
def test_invalid_settings_are_one_clear_error(tmp_path, text, words):
    settings = tmp_path / "bad.toml"
    settings.write_text(text)
    with pytest.raises(ConfigError, match=words) as info:
        load_config(settings)
    assert "bad.toml" in info.value.one_line() and "\n" not in info.value.one_line()


@pytest.mark.parametrize(
    "update",
    [
        {"events": EventConfig(rep_edge_fraction=0.05)},
        {"events": EventConfig(squat_rhythm_max_hz=1.0)},
        {"events": EventConfig(edge_swing_min_frames=4)},
        {"angles": AngleConfig(femoral_ir_min_flexion_deg=15.0)},
        {"angles": AngleConfig(thigh_min_visible_fraction=0.5)},
    ],
)
def test_every_tunable_number_is_in_the_settings_hash(update):
    default = AnalysisConfig(cache_dir=None)
    assert default.model_copy(update=update).sha256() != default.sha256()


def test_angle_settings_are_used():
    figure, _ = jog_in_place(drop_deg={"left": 1.0, "right": 9.0})
    pose = make_sequence(figure, fps=60, duration_s=3.0)
    default = compute_frame_angles(pose)
    assert np.isfinite(default["left_femoral_ir_deg"]).any()
    strict = compute_frame_angles(
        pose,
        AngleConfig(femoral_ir_min_flexion_deg=170.0, femoral_ir_full_confidence_flexion_deg=175.0),
    )
    assert np.isnan(strict["left_femoral_ir_deg"]).all()
    assert (strict["left_femoral_ir_confidence"] == 0).all()


def test_event_settings_are_used():
    figure, _ = single_leg_squat(side="left", drop_deg=6.0)
    pose = make_sequence(figure, fps=30, duration_s=10)
    reps = detect_sls_reps(pose, "left", EventConfig())
    assert len(reps) >= 3
    # Repetitions closer than the minimum interval merge into fewer deepest points.
    assert len(detect_sls_reps(pose, "left", EventConfig(min_rep_interval_s=8.0))) < len(reps)


def test_stance_leg_unknown_without_feet_is_none_not_left():
    figure, _ = single_leg_squat(side="right", drop_deg=6.0)
    pose = make_sequence(figure, fps=30, duration_s=4)
    assert detect_sls_side(pose)[0] == "right"
    xy = pose.image_xy_px.copy()
    for name in ("left_ankle", "left_heel", "left_foot_index"):
        xy[:, INDEX[name]] = np.nan
    side, lift = detect_sls_side(pose.with_arrays(image_xy_px=xy))
    assert side is None and lift == 0.0


def test_trunk_lean_is_empty_not_zero_when_the_hips_overlap():
    hip = np.array([[100.0, 300.0], [100.0, 300.0]])
    other = np.array([[100.0, 300.0], [80.0, 300.0]])
    shoulders = np.array([[110.0, 100.0], [110.0, 100.0]])
    lean = trunk_lean_deg(hip, other, shoulders, shoulders)
    assert np.isnan(lean[0])
    assert np.isfinite(lean[1]) and lean[1] != 0
