"""A left-right difference judged against the norm's SDC and the measured error."""

from __future__ import annotations

import math
from typing import Any

import pytest

from screener.asymmetry import (
    AsymmetryErrors,
    annotate_asymmetry,
    call_difference,
    combined_error_deg,
    difference_limit_deg,
    exceeds,
    load_asymmetry_errors,
)
from screener.config import MODELS_DIR, AnalysisConfig
from screener.errors import ConfigError


def _errors(rmse: float = 4.0, z: float = 1.96) -> AsymmetryErrors:
    return AsymmetryErrors.model_validate(
        {
            "schema_version": 1,
            "measured_on": "test clips",
            "method": "a difference's RMSE, for the test",
            "z": z,
            "tasks": {"jog.anterior": {"hip_adduction_deg": {"rmse_deg": rmse, "n_clips": 9}}},
        }
    )


@pytest.mark.parametrize(
    ("sdc", "error", "expected"),
    [
        (3.8, 4.0, 7.84),  # the error's 1.96 x 4.0 is the larger
        (8.3, 4.0, 8.3),  # the SDC is
        (None, 2.0, 3.92),
        (2.3, None, 2.3),
    ],
)
def test_the_limit_is_the_larger_of_the_sdc_and_z_errors(sdc, error, expected):
    assert difference_limit_deg(sdc, error, 1.96) == pytest.approx(expected)


def test_no_sdc_and_no_error_is_no_limit():
    assert math.isnan(difference_limit_deg(None, None, 1.96))
    assert exceeds(5.0, None) is None and exceeds(None, 3.0) is None
    assert exceeds(-5.0, 4.9) is True and exceeds(4.9, 4.9) is False


@pytest.mark.parametrize(
    ("asymmetry", "sdc", "limit", "expected"),
    [
        (10.0, 3.8, 9.0, "beyond_limit"),
        (-9.5, 3.8, 9.0, "beyond_limit"),
        (5.0, 3.8, 9.0, "cannot_rule_out"),
        (-4.0, 3.8, 9.0, "cannot_rule_out"),
        (3.0, 3.8, 9.0, "within"),
        (5.0, None, 9.0, "within"),  # no SDC: only the limit can call it
        (5.0, 3.8, None, "cannot_rule_out"),  # no limit: the SDC alone cannot settle it
        (None, 3.8, 9.0, None),
        (5.0, None, None, None),
    ],
)
def test_a_difference_is_beyond_the_limit_not_ruled_out_or_within(asymmetry, sdc, limit, expected):
    assert call_difference(asymmetry, sdc, limit) == expected


def test_two_recordings_errors_combine_as_independent():
    assert combined_error_deg(3.0, 4.0) == pytest.approx(5.0)
    assert combined_error_deg(3.0, None) is None


def test_annotate_judges_each_entry_with_its_task_view_and_metric():
    faults: list[dict[str, Any]] = [
        {"metric": "hip_adduction_deg", "asymmetry": 6.0, "sdc": 3.8},  # 6 < 7.84
        {"metric": "hip_adduction_deg", "asymmetry": -8.0, "sdc": 3.8},  # |-8| > 7.84
        {"metric": "trunk_lean_deg", "asymmetry": 3.0, "sdc": 2.3},  # not measured: SDC
        {"metric": "knee_fppa_deg", "asymmetry": None, "sdc": 8.3},
    ]
    out = annotate_asymmetry(faults, _errors(), "jog", "anterior")
    assert [f["asymmetry_exceeds_limit"] for f in out] == [False, True, True, None]
    assert out[0]["asymmetry_limit"] == pytest.approx(7.84)
    assert out[0]["asymmetry_error"] == 4.0 and out[2]["asymmetry_error"] is None
    assert out[2]["asymmetry_limit"] == 2.3
    assert faults[0].keys() == {"metric", "asymmetry", "sdc"}  # the input is not changed
    behind = annotate_asymmetry(faults[:1], _errors(), "jog", "posterior")
    assert behind[0]["asymmetry_limit"] == 3.8  # no figure for that view: the SDC alone
    without = annotate_asymmetry(faults[:2], None, "jog", "anterior")
    assert [f["asymmetry_exceeds_limit"] for f in without] == [True, True]


def test_the_shipped_file_covers_every_metric_a_visit_compares_in_walks_and_jogs():
    path = AnalysisConfig().asymmetry_errors_path
    assert path == MODELS_DIR / "asymmetry_errors.toml"
    errors = load_asymmetry_errors(path)
    assert errors.z == pytest.approx(1.96)
    for task in ("walk", "jog"):
        for view in ("anterior", "posterior"):
            for metric in ("knee_fppa_deg", "hip_adduction_deg", "trunk_lean_deg"):
                err = errors.error_deg(task, view, metric)
                assert err is not None and 0.5 < err < 15.0, (task, view, metric)
    # squats: pairs of one patient's two squats, where at least 20 pairs measured it
    squat = errors.tasks["sls.anterior"]["knee_fppa_deg"]
    assert squat.n_clips >= 20 and 0.5 < squat.rmse_deg < 15.0
    assert all(e.n_clips >= 20 for table in errors.tasks.values() for e in table.values())


def test_a_bad_file_is_a_clear_config_error(tmp_path):
    bad = tmp_path / "asym.toml"
    bad.write_text('schema_version = 1\nmeasured_on = "three clips"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="method"):
        load_asymmetry_errors(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_asymmetry_errors(tmp_path / "missing.toml")
