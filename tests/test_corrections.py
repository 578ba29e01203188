"""Corrections file: loading, validation, application, provenance, fitting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import screener
from screener.config import MODELS_DIR, AnalysisConfig
from screener.corrections import (
    apply_corrections,
    apply_event_corrections,
    fit_linear,
    load_corrections,
)
from screener.errors import ConfigError
from tests.synthetic import make_sequence, single_leg_squat

HEADER = 'schema_version = 1\nmethod = "least squares on renders, for a test"\n'
FPPA = """
[tasks.sls.knee_fppa_deg]
gain = 1.5
offset_deg = 2.0
fitted_on = "test renders"
n_frames = 100
fit_rmse_before_deg = 4.0
fit_rmse_after_deg = 2.0
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "corrections.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_file_is_valid_and_says_where_its_figures_come_from():
    corrections = load_corrections(MODELS_DIR / "corrections.toml")
    assert corrections.schema_version == 2
    text = (MODELS_DIR / "corrections.toml").read_text()
    assert "bench/calibrate.py" in text
    for metrics in corrections.tasks.values():
        for corr in metrics.values():
            before, after = corr.validation_rmse_before_deg, corr.validation_rmse_after_deg
            assert corr.validated_on and before is not None and after is not None
            assert after < before
            # a calibration fitted on renders is on by default only if real video agreed
            if corr.status == "verified":
                assert corr.real_video_check.startswith("better")


def test_correction_applies_per_frame_and_keeps_the_measured_value(tmp_path):
    corrections = load_corrections(_write(tmp_path, HEADER + FPPA))
    frames = pd.DataFrame(
        {
            "left_knee_fppa_deg": [0.0, 10.0, np.nan],
            "right_knee_fppa_deg": [4.0, -2.0, 1.0],
            "pelvic_obliquity_deg": [1.0, 2.0, 3.0],
        }
    )
    out, applied = apply_corrections(frames, "sls", corrections)
    np.testing.assert_allclose(out["left_knee_fppa_deg"], [2.0, 17.0, np.nan])
    np.testing.assert_allclose(out["right_knee_fppa_deg"], [8.0, -1.0, 3.5])
    np.testing.assert_allclose(out["left_knee_fppa_uncorrected_deg"], [0.0, 10.0, np.nan])
    pd.testing.assert_series_equal(out["pelvic_obliquity_deg"], frames["pelvic_obliquity_deg"])
    assert "pelvic_obliquity_uncorrected_deg" not in out
    assert applied == [
        {
            "metric": "knee_fppa_deg",
            "level": "frame",
            "gain": 1.5,
            "offset_deg": 2.0,
            "fitted_on": "test renders",
            "n_frames": 100,
            "fit_rmse_before_deg": 4.0,
            "fit_rmse_after_deg": 2.0,
            "validated_on": "",
            "validation_rmse_before_deg": None,
            "validation_rmse_after_deg": None,
            "status": "verified",
            "real_video_check": "",
        }
    ]
    assert frames["left_knee_fppa_deg"].iloc[1] == 10.0  # the input is not changed
    untouched, none = apply_corrections(frames, "walk", corrections)
    pd.testing.assert_frame_equal(untouched, frames)
    assert none == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schema_version = 1\nmethod = [", "not valid TOML"),
        (HEADER.replace("= 1", "= 9") + FPPA, "schema_version 9"),
        (HEADER + FPPA.replace("knee_fppa_deg]", "femoral_ir_deg]"), "cannot be corrected"),
        (HEADER + FPPA.replace("gain = 1.5", "gain = 12.0"), "gain"),
        (HEADER + FPPA.replace("knee_fppa_deg]", "pelvic_drop_deg]"), "at frame level"),
        (
            HEADER
            + FPPA.replace("knee_fppa_deg]", "femoral_ir_deg]").replace(
                "gain = 1.5", 'level = "event"\ngain = 1.5'
            ),
            "at event level",
        ),
        (HEADER + FPPA.replace('fitted_on = "test renders"\n', ""), "fitted_on"),
    ],
)
def test_bad_corrections_file_is_a_clear_error(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_corrections(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_missing_corrections_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_corrections(tmp_path / "absent.toml")


def test_analysis_applies_corrections_and_records_them(tmp_path):
    figure, _ = single_leg_squat("left", n_reps=3)
    pose = make_sequence(figure, fps=30, duration_s=8.0)
    plain_config = AnalysisConfig(cache_dir=None, corrections_path=None)
    plain = screener.analyze_pose(pose, task="sls", side="left", config=plain_config)
    config = AnalysisConfig(cache_dir=None, corrections_path=_write(tmp_path, HEADER + FPPA))
    corrected = screener.analyze_pose(pose, task="sls", side="left", config=config)
    np.testing.assert_allclose(
        corrected.frames["left_knee_fppa_deg"],
        2.0 + 1.5 * plain.frames["left_knee_fppa_deg"],
    )
    np.testing.assert_allclose(
        corrected.frames["left_knee_fppa_uncorrected_deg"], plain.frames["left_knee_fppa_deg"]
    )
    provenance = corrected.summary["provenance"]
    assert [c["metric"] for c in provenance["corrections"]] == ["knee_fppa_deg"]
    assert provenance["corrections_file"] == str(config.corrections_path)
    assert plain.summary["provenance"]["corrections"] == []
    assert provenance["config_sha256"] != plain.summary["provenance"]["config_sha256"]


DROP = """
[tasks.jog.pelvic_drop_deg]
level = "event"
gain = 1.0
offset_deg = 2.0
fitted_on = "test renders"
n_frames = 50
fit_rmse_before_deg = 4.0
fit_rmse_after_deg = 3.0
"""


def test_event_correction_applies_to_event_values_only(tmp_path):
    corrections = load_corrections(_write(tmp_path, HEADER + DROP))
    events = pd.DataFrame(
        {"pelvic_drop_deg": [1.0, 4.0], "pelvic_drop_uncorrected_deg": [1.0, 4.0]}
    )
    out, applied = apply_event_corrections(events, "jog", corrections)
    np.testing.assert_allclose(out["pelvic_drop_deg"], [3.0, 6.0])
    np.testing.assert_allclose(out["pelvic_drop_uncorrected_deg"], [1.0, 4.0])
    assert [a["metric"] for a in applied] == ["pelvic_drop_deg"] and applied[0]["level"] == "event"
    frames = pd.DataFrame({"pelvic_obliquity_deg": [1.0, -2.0]})
    same, none = apply_corrections(frames, "jog", corrections)
    pd.testing.assert_frame_equal(same, frames)
    assert none == []


def test_analysis_corrects_event_pelvic_drop_and_keeps_the_measured_value(tmp_path):
    from tests.synthetic import jog_in_place

    pose = make_sequence(
        jog_in_place(drop_deg={"left": 6.0, "right": 6.0})[0], fps=60, duration_s=4.0
    )
    config = AnalysisConfig(cache_dir=None, corrections_path=_write(tmp_path, HEADER + DROP))
    result = screener.analyze_pose(pose, task="jog", config=config)
    events = result.events
    assert len(events) >= 6
    np.testing.assert_allclose(
        events["pelvic_drop_deg"], events["pelvic_drop_uncorrected_deg"] + 2.0
    )
    mean_left = events.loc[events.side == "left", "pelvic_drop_deg"].mean()
    assert result.summary["sides"]["left"]["pelvic_drop_deg"]["mean"] == pytest.approx(mean_left)
    assert [c["metric"] for c in result.summary["provenance"]["corrections"]] == ["pelvic_drop_deg"]


def test_fit_recovers_a_known_line():
    rng = np.random.default_rng(0)
    x = rng.uniform(-10, 20, 500)
    gain, offset = fit_linear(x, 1.7 * x + 2.5, through_origin=False)
    assert gain == pytest.approx(1.7) and offset == pytest.approx(2.5)
    gain, offset = fit_linear(x, 1.7 * x, through_origin=True)
    assert gain == pytest.approx(1.7) and offset == 0.0
    with pytest.raises(ValueError, match="too few"):
        fit_linear(np.full(5, np.nan), np.zeros(5), through_origin=True)
