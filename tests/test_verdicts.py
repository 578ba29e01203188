"""Honest verdicts: the screener's measured error decides 'no flag' against 'cannot rule
out', and a metric whose error is too large gets no verdict; view-specific calibrations."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from screener.accuracy import MeasuredError, load_measured_errors
from screener.config import MODELS_DIR
from screener.corrections import apply_event_corrections, load_corrections
from screener.errors import ConfigError
from screener.faults import (
    clinical_faults,
    flag_faults,
    hidden_metrics,
    straddles,
    value_hidden,
    values_not_shown,
)
from screener.norms import load_norms
from tests.report_fixtures import NORMS_PATH, make_events, make_summary


@pytest.fixture(scope="module")
def norms():
    return load_norms(NORMS_PATH)


def _drop_entry(
    norms,
    value,
    error,
    *,
    side="left",
    max_error=math.inf,
    n=8,
    side_r=None,
    min_r=-1.0,
    hide_untracked=False,
):
    events = make_events({side: {"pelvic_drop_deg": value}}, task="sls", n=n)
    summary = make_summary(events, task="sls")
    measured = MeasuredError(
        rmse_deg=error,
        n_events=40,
        n_clips=10,
        side_r=side_r,
        n_sides=None if side_r is None else 30,
    )
    faults = flag_faults(
        "sls",
        events,
        summary["sides"],
        summary["quality"],
        norms,
        asymmetry=summary["asymmetry"],
        measured_errors={"pelvic_drop_deg": measured},
        max_error=max_error,
        min_tracking_r=min_r,
        hide_untracked=hide_untracked,
    )
    (entry,) = [f for f in faults if f["fault"] == "pelvic_drop" and f["side"] == side]
    return entry


@pytest.mark.parametrize(
    ("mean", "error", "expected"),
    [(4.0, 1.0, True), (2.0, 1.0, False), (2.0, 2.0, True), (6.0, 0.0, True), (4.99, 0.0, False)],
)
def test_straddles_uses_the_one_sided_interval(mean, error, expected):
    assert straddles(mean, 5.0, float("nan"), 8, error, "above", 1.645) is expected


def test_straddles_below_direction_mirrors_above():
    assert straddles(0.5, 0.25, 0.0, 8, 0.2, "below", 1.645) is True
    assert straddles(1.0, 0.25, 0.0, 8, 0.2, "below", 1.645) is False


def test_value_just_under_threshold_with_large_error_cannot_be_ruled_out(norms):
    threshold = _drop_entry(norms, 0.0, 0.5)["threshold"]
    entry = _drop_entry(norms, threshold - 1.0, 3.0)
    assert entry["verdict"] == "cannot rule out"
    assert entry["severity"] == "none"
    assert "cannot rule this pattern out" in entry["note"]
    assert entry["measurement_error"] == 3.0
    assert "validation renders" in entry["measurement_error_source"]


def test_value_far_under_threshold_is_no_flag(norms):
    threshold = _drop_entry(norms, 0.0, 0.5)["threshold"]
    entry = _drop_entry(norms, threshold - 6.0, 1.0)
    assert entry["verdict"] == "no flag"


def test_value_over_threshold_is_flagged_whatever_the_error(norms):
    threshold = _drop_entry(norms, 0.0, 0.5)["threshold"]
    assert _drop_entry(norms, threshold + 0.5, 4.0)["verdict"] == "flag"


def test_metric_with_error_over_the_limit_is_withheld(norms):
    threshold = _drop_entry(norms, 0.0, 0.5)["threshold"]
    entry = _drop_entry(norms, threshold + 5.0, 9.0, max_error=8.0)
    assert entry["verdict"] == "withheld"
    assert entry["severity"] == "none"
    # the value stays in the entry (summary.json, for research) but the note does not
    # show it: it says why and where the values are
    assert entry["value"] == pytest.approx(threshold + 5.0)
    assert entry["note"].startswith("Left: not shown:")
    assert "(9.0°) is beyond the 8.0° a screening reading may have" in entry["note"]
    assert "frames.csv and events.csv" in entry["note"]
    assert f"{threshold + 5.0:.1f}" not in entry["note"]
    assert value_hidden(entry)
    (shown,) = clinical_faults([entry])
    assert shown["value"] is None and shown["worst"] is None and shown["sd"] is None
    assert hidden_metrics({"faults": [entry]}) == {"pelvic_drop_deg", "femoral_ir_deg"}


@pytest.mark.parametrize("value_above_threshold", [-3.0, 4.0])
def test_metric_that_follows_the_truth_weakly_is_withheld_either_way(norms, value_above_threshold):
    # an RMSE small enough for a verdict, but side means that barely follow the truth
    threshold = _drop_entry(norms, 0.0, 0.5)["threshold"]
    entry = _drop_entry(
        norms, threshold + value_above_threshold, 3.0, side_r=0.3, min_r=0.5, max_error=8.0
    )
    assert entry["verdict"] == "withheld"
    assert entry["withheld_because"] == "tracking"
    assert entry["severity"] == "none"
    assert entry["tracking_r"] == 0.3 and entry["tracking_n_sides"] == 30
    assert "r = 0.30" in entry["note"] and "30 sides" in entry["note"]
    # shown, not judged: its value stays in the clinical views
    assert "not shown" not in entry["note"] and not value_hidden(entry)
    assert clinical_faults([entry])[0]["value"] == entry["value"]


def test_metric_that_follows_the_truth_weakly_is_not_shown_when_the_file_says_so(norms):
    threshold = _drop_entry(norms, 0.0, 0.5)["threshold"]
    entry = _drop_entry(
        norms, threshold + 4.0, 3.0, side_r=0.3, min_r=0.5, max_error=8.0, hide_untracked=True
    )
    assert (entry["verdict"], entry["withheld_because"]) == ("withheld", "tracking")
    assert value_hidden(entry) and entry["hidden_because"] == "tracking"
    assert entry["note"].startswith("Left: not shown: on our validation clips")
    assert "r = 0.30" in entry["note"] and "frames.csv and events.csv" in entry["note"]
    assert f"{threshold + 4.0:.1f}" not in entry["note"]
    assert entry["value"] == pytest.approx(threshold + 4.0)  # kept for research
    assert clinical_faults([entry])[0]["value"] is None
    # a metric that follows the truth is shown whatever the setting
    judged = _drop_entry(
        norms, threshold + 4.0, 3.0, side_r=0.7, min_r=0.5, max_error=8.0, hide_untracked=True
    )
    assert judged["verdict"] == "flag" and not value_hidden(judged)
    assert judged["hidden_because"] is None


def test_values_not_shown_lists_each_metric_with_its_reason():
    def err(rmse, r):
        return MeasuredError(rmse_deg=rmse, n_events=40, n_clips=10, side_r=r, n_sides=30)

    errors = {
        "knee_fppa_deg": err(9.0, 0.8),
        "pelvic_drop_deg": err(3.0, 0.2),
        "trunk_lean_deg": err(1.0, 0.9),
        "hip_adduction_deg": err(4.0, None),
    }
    names = {m: "measurement_errors.toml" for m in errors}
    hidden = values_not_shown(errors, 8.0, names, min_tracking_r=0.5, hide_untracked=True)
    assert set(hidden) == {"knee_fppa_deg", "pelvic_drop_deg"}
    assert hidden["knee_fppa_deg"]["reason"] == "error"
    assert hidden["knee_fppa_deg"]["measurement_error_deg"] == 9.0
    assert (hidden["pelvic_drop_deg"]["reason"], hidden["pelvic_drop_deg"]["tracking_r"]) == (
        "tracking", 0.2,
    )  # fmt: skip
    # without the setting only the error rule hides a value
    assert set(values_not_shown(errors, 8.0, names, min_tracking_r=0.5)) == {"knee_fppa_deg"}


def test_metric_that_follows_the_truth_is_judged(norms):
    threshold = _drop_entry(norms, 0.0, 0.5)["threshold"]
    entry = _drop_entry(norms, threshold + 2.0, 3.0, side_r=0.7, min_r=0.5, max_error=8.0)
    assert entry["verdict"] == "flag"
    assert entry["withheld_because"] is None
    # without a measured correlation the rule does not apply
    assert _drop_entry(norms, threshold + 2.0, 3.0, min_r=0.5)["verdict"] == "flag"


def test_error_over_the_limit_is_the_reason_given_before_tracking(norms):
    entry = _drop_entry(norms, 10.0, 9.0, side_r=0.2, min_r=0.5, max_error=8.0)
    assert entry["withheld_because"] == "error"
    assert "not shown" in entry["note"] and "r = " not in entry["note"]


TRACKING = """schema_version = 1
measured_on = "test renders"
method = "RMSE and side correlation for a test"
max_reportable_error_deg = 8.0
min_tracking_r = 0.5
[tasks."jog".pelvic_drop_deg]
rmse_deg = 3.0
n_events = 200
n_clips = 40
side_r = 0.3
n_sides = 80
[tasks."jog.anterior".pelvic_drop_deg]
rmse_deg = 3.2
n_events = 150
n_clips = 30
side_r = 0.6
n_sides = 60
[tasks."jog.posterior".pelvic_drop_deg]
rmse_deg = 2.8
n_events = 50
n_clips = 8
"""


def test_a_view_without_its_own_correlation_takes_the_tasks(tmp_path):
    path = tmp_path / "errors.toml"
    path.write_text(TRACKING)
    errors = load_measured_errors(path)
    behind = errors.for_task("jog", "posterior")["pelvic_drop_deg"]
    front = errors.for_task("jog", "anterior")["pelvic_drop_deg"]
    assert (behind.rmse_deg, behind.side_r, behind.n_sides) == (2.8, 0.3, 80)
    assert errors.withheld_because(behind) == "tracking"
    assert errors.withheld_because(front) is None
    # filmed from behind, the advice is to film from the front, where it is judged
    assert errors.better_views("jog", "posterior")["pelvic_drop_deg"][0] == "anterior"
    assert errors.better_views("jog", "anterior") == {}


def test_shipped_measurement_errors_file_is_valid():
    errors = load_measured_errors(MODELS_DIR / "measurement_errors.toml")
    assert errors.max_reportable_error_deg == 8.0
    assert errors.min_tracking_r == 0.5 and "Mukaka" in errors.min_tracking_r_source
    assert errors.tasks, "the file lists measured errors"
    for key, metrics in errors.tasks.items():
        for err in metrics.values():
            assert err.rmse_deg >= 0 and err.n_clips >= 1
            if "." not in key:  # every task-level figure has its side correlation
                assert err.side_r is not None and err.n_sides is not None and err.n_sides >= 10


def test_a_views_own_measured_errors_override_the_tasks(tmp_path, norms):
    # a squat filmed from behind measures FPPA worse than one filmed from the front
    path = tmp_path / "errors.toml"
    path.write_text(
        'schema_version = 1\nmeasured_on = "test renders"\nmethod = "RMSE for a test"\n'
        "max_reportable_error_deg = 8.0\n"
        '[tasks."sls".pelvic_drop_deg]\nrmse_deg = 3.0\nn_events = 40\nn_clips = 20\n'
        '[tasks."sls.posterior".pelvic_drop_deg]\nrmse_deg = 9.0\nn_events = 20\nn_clips = 10\n'
    )
    errors = load_measured_errors(path)
    front = errors.for_task("sls", "anterior")["pelvic_drop_deg"].rmse_deg
    behind = errors.for_task("sls", "posterior")["pelvic_drop_deg"].rmse_deg
    assert (front, behind) == (3.0, 9.0)
    threshold = _drop_entry(norms, 0.0, 0.5)["threshold"]
    assert _drop_entry(norms, threshold + 2.0, front, max_error=8.0)["verdict"] == "flag"
    assert _drop_entry(norms, threshold + 2.0, behind, max_error=8.0)["verdict"] == "withheld"


def test_shipped_errors_and_the_verdicts_agree_on_what_is_withheld(norms):
    # every task, view and metric of the shipped file: the verdict flag_faults gives is
    # "withheld" exactly where the file's figures say so, whatever the value
    errors = load_measured_errors(MODELS_DIR / "measurement_errors.toml")
    seen: set[str | None] = set()
    for task in ("jog", "sls", "walk"):
        for view in ("anterior", "posterior"):
            measured = errors.for_task(task, view)
            for value in (0.0, 30.0):
                events = make_events({"left": dict.fromkeys(measured, value)}, task=task)
                summary = make_summary(events, task=task)
                faults = flag_faults(
                    task,
                    events,
                    summary["sides"],
                    summary["quality"],
                    norms,
                    measured_errors=measured,
                    max_error=errors.max_reportable_error_deg,
                    min_tracking_r=errors.min_tracking_r,
                )
                for f in faults:
                    if f["side"] != "left" or f["metric"] not in measured:
                        continue
                    if f["verdict"] in ("no norm", "insufficient events"):
                        continue
                    reason = errors.withheld_because(measured[f["metric"]])
                    assert (f["verdict"] == "withheld") is (reason is not None), (task, view, f)
                    assert f["withheld_because"] == reason
                    seen.add(reason)
    assert seen == {None, "error", "tracking"}  # judged, and withheld for each reason
    # femoral rotation is judged nowhere
    for task in ("jog", "sls", "walk"):
        for view in ("anterior", "posterior"):
            assert errors.withheld_because(errors.for_task(task, view)["femoral_ir_deg"])


def test_bad_measurement_errors_file_is_a_clear_error(tmp_path):
    path = tmp_path / "errors.toml"
    path.write_text('schema_version = 1\nmeasured_on = "renders"\nmethod = "short"\n')
    with pytest.raises(ConfigError, match="method"):
        load_measured_errors(path)


CALIBRATIONS = """schema_version = 2
method = "least squares on renders, for a test"

[tasks.sls.knee_fppa_deg]
level = "event"
gain = 1.2
offset_deg = 1.0
fitted_on = "test renders"
n_frames = 100
fit_rmse_before_deg = 4.0
fit_rmse_after_deg = 2.0

[tasks."sls.posterior".knee_fppa_deg]
level = "event"
gain = 1.0
offset_deg = 5.0
fitted_on = "test renders"
n_frames = 100
fit_rmse_before_deg = 4.0
fit_rmse_after_deg = 2.0

[tasks.sls.hip_adduction_deg]
level = "event"
gain = 1.0
offset_deg = 3.0
fitted_on = "test renders"
n_frames = 100
fit_rmse_before_deg = 4.0
fit_rmse_after_deg = 2.0
status = "renders_only"
"""


def _calibrations(tmp_path: Path) -> Path:
    path = tmp_path / "corrections.toml"
    path.write_text(CALIBRATIONS)
    return path


def test_view_specific_calibration_overrides_the_tasks(tmp_path):
    corrections = load_corrections(_calibrations(tmp_path))
    events = pd.DataFrame({"knee_fppa_deg": [10.0], "hip_adduction_deg": [4.0]})
    anterior, _ = apply_event_corrections(events, "sls", corrections, "anterior")
    posterior, applied = apply_event_corrections(events, "sls", corrections, "posterior")
    assert anterior.knee_fppa_deg.iloc[0] == pytest.approx(13.0)
    assert posterior.knee_fppa_deg.iloc[0] == pytest.approx(15.0)
    assert posterior.knee_fppa_uncorrected_deg.iloc[0] == 10.0
    assert [a["metric"] for a in applied] == ["knee_fppa_deg"]


def test_calibration_checked_on_renders_only_is_off_unless_asked(tmp_path):
    corrections = load_corrections(_calibrations(tmp_path))
    events = pd.DataFrame({"knee_fppa_deg": [10.0], "hip_adduction_deg": [4.0]})
    default, _ = apply_event_corrections(events, "sls", corrections, "anterior")
    research, _ = apply_event_corrections(
        events, "sls", corrections, "anterior", include_unverified=True
    )
    assert default.hip_adduction_deg.iloc[0] == 4.0
    assert research.hip_adduction_deg.iloc[0] == pytest.approx(7.0)


def test_view_table_with_unknown_view_is_refused(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(CALIBRATIONS.replace('"sls.posterior"', '"sls.lateral"'))
    with pytest.raises(ConfigError, match=r"TASK\.VIEW"):
        load_corrections(path)


def test_verdicts_use_the_frame_models_own_errors_only_for_the_metrics_it_corrected():
    from screener.config import AnalysisConfig
    from screener.pipeline import _measurement_error_files

    config = AnalysisConfig(frame_model_include_unverified=True)
    default = config.measurement_errors_path
    fppa = {
        "name": "frame model",
        "targets_corrected": ["left_knee_fppa_deg", "right_knee_fppa_deg"],
    }
    files = _measurement_error_files(config, fppa, "jog")
    own = files.path_for("knee_fppa_deg")
    assert own is not None and own.name == "measurement_errors_frame_model.toml"
    assert files.path_for("pelvic_drop_deg") == default
    assert files.path_for("hip_adduction_deg") == default
    assert files.path_for("trunk_lean_deg") == default
    # a metric counts as corrected only when all of its angles are
    one_leg = {"targets_corrected": ["left_hip_adduction_deg", "pelvic_obliquity_deg"]}
    assert set(_measurement_error_files(config, one_leg, "walk").by_metric) == {"pelvic_drop_deg"}
    refused = {**fppa, "not_applied": "the clip's landmarks are unlike the training inputs"}
    assert _measurement_error_files(config, refused, "jog").by_metric == {}
    assert _measurement_error_files(config, None, "jog").path_for("knee_fppa_deg") == default
    off = AnalysisConfig(frame_model_measurement_errors_path=None)
    assert _measurement_error_files(off, fppa, "jog").by_metric == {}
    assert _measurement_error_files(off, fppa, "sls").by_metric == {}
    # a task with its own frame model is judged with that model's errors
    squat = _measurement_error_files(config, fppa, "sls").path_for("knee_fppa_deg")
    assert squat == config.frame_model_by_task["sls"].measurement_errors_path
    assert squat is not None and squat.exists()
    none_own = AnalysisConfig(frame_model_by_task={})
    assert _measurement_error_files(none_own, fppa, "sls").path_for("knee_fppa_deg") == own


def test_each_verdict_names_the_error_file_of_its_own_metric():
    from screener.config import AnalysisConfig
    from screener.pipeline import ErrorFiles, _measured_error_rules

    config = AnalysisConfig()
    own = config.frame_model_measurement_errors_path
    assert own is not None and config.measurement_errors_path is not None
    rules = _measured_error_rules(
        ErrorFiles(config.measurement_errors_path, {"knee_fppa_deg": own}), "sls", "anterior"
    )
    assert rules["errors_files"]["knee_fppa_deg"] == own.name
    assert rules["errors_files"]["pelvic_drop_deg"] == config.measurement_errors_path.name
    frame_model_errors = load_measured_errors(own).for_task("sls", "anterior")
    geometric_errors = load_measured_errors(config.measurement_errors_path).for_task(
        "sls", "anterior"
    )
    assert rules["measured_errors"]["knee_fppa_deg"] == frame_model_errors["knee_fppa_deg"]
    assert rules["measured_errors"]["pelvic_drop_deg"] == geometric_errors["pelvic_drop_deg"]


def test_an_error_floor_of_the_capture_raises_a_smaller_measured_error_only():
    """A front squat filmed closer than validated (as entered): its knee FPPA is judged with
    the larger error of such squats, naming where it comes from; a floor below the file's
    error, or for a metric the file does not have, changes nothing."""
    from screener.config import AnalysisConfig
    from screener.pipeline import ErrorFiles, _measured_error_rules

    config = AnalysisConfig()
    own = config.frame_model_measurement_errors_path
    assert own is not None and config.measurement_errors_path is not None
    files = ErrorFiles(config.measurement_errors_path, {"knee_fppa_deg": own})
    plain = _measured_error_rules(files, "sls", "anterior")
    fppa = plain["measured_errors"]["knee_fppa_deg"]
    assert fppa.rmse_deg < 6.8
    floors = {"knee_fppa_deg": (6.8, "envelope.toml, closer"), "no_such_deg": (99.0, "x")}
    raised = _measured_error_rules(files, "sls", "anterior", floors)
    assert raised["measured_errors"]["knee_fppa_deg"].rmse_deg == 6.8
    assert raised["measured_errors"]["knee_fppa_deg"].n_clips == fppa.n_clips
    assert raised["errors_files"]["knee_fppa_deg"] == "envelope.toml, closer"
    assert "no_such_deg" not in raised["measured_errors"]
    for metric in set(plain["measured_errors"]) - {"knee_fppa_deg"}:
        assert raised["measured_errors"][metric] == plain["measured_errors"][metric]
    low = _measured_error_rules(files, "sls", "anterior", {"knee_fppa_deg": (1.0, "low")})
    assert low["measured_errors"]["knee_fppa_deg"] == fppa
    assert low["errors_files"]["knee_fppa_deg"] == own.name


def test_shipped_frame_model_errors_say_what_they_were_measured_with():
    errors = load_measured_errors(MODELS_DIR / "measurement_errors_frame_model.toml")
    assert "frame model applied" in errors.measured_on
    assert errors.min_tracking_r == 0.5
    for metrics in (errors.tasks["jog"], errors.tasks["sls"], errors.tasks["walk"]):
        assert {"pelvic_drop_deg", "knee_fppa_deg", "trunk_lean_deg"} <= set(metrics)


def test_a_stick_figure_refused_by_the_frame_model_is_judged_with_the_default_errors():
    from screener.config import AnalysisConfig
    from screener.pipeline import analyze_pose
    from tests.synthetic import jog_in_place, make_sequence

    figure, _ = jog_in_place(drop_deg={"left": 9.0, "right": 2.0})
    config = AnalysisConfig(frame_model_include_unverified=True)
    result = analyze_pose(
        make_sequence(figure, fps=60.0, duration_s=4.0), task="jog", config=config
    )
    provenance = result.summary["provenance"]
    assert "not_applied" in provenance["frame_model"]
    assert provenance["measurement_errors_file"] == str(config.measurement_errors_path)
    drop = next(f for f in result.summary["faults"] if f["fault"] == "pelvic_drop")
    assert drop["measurement_error_source"].endswith("(screener/models/measurement_errors.toml)")
