"""Re-screen verdicts: metric changes against the SDC and fault statuses."""

from __future__ import annotations

import pytest

from screener.norms import load_norms
from screener.rescreen import RescreenError, compare_results, fault_status, metric_change
from tests.report_fixtures import NORMS_PATH, make_events, make_summary


@pytest.fixture(scope="module")
def norms():
    return load_norms(NORMS_PATH)


def _summary(per_side, task="jog", n=8):
    return make_summary(make_events(per_side, task=task, n=n), task=task)


def _fault(result, fault, side):
    (entry,) = [f for f in result["faults"] if f["fault"] == fault and f["side"] == side]
    return entry


def _metric(result, metric, side):
    (entry,) = [m for m in result["metrics"] if m["metric"] == metric and m["side"] == side]
    return entry


@pytest.mark.parametrize(
    ("before", "after", "status"),
    [
        (8.0, 3.0, "resolved"),  # moderate -> none
        (11.0, 8.0, "improved"),  # severe -> moderate
        (7.0, 7.5, "unchanged"),  # mild -> mild, change within SDC
        (5.0, 7.7, "unchanged"),  # mild -> mild, change 2.7 < SDC 2.8
        (6.0, 9.0, "worse"),  # mild -> moderate
        (3.0, 6.0, "new"),  # none -> mild
        (2.0, 4.0, "not present"),
    ],
)
def test_pelvic_drop_status(norms, before, after, status):
    result = compare_results(
        _summary({"left": {"pelvic_drop_deg": before}, "right": {}}),
        _summary({"left": {"pelvic_drop_deg": after}, "right": {}}),
        norms,
    )
    assert _fault(result, "pelvic_drop", "left")["status"] == status


def test_same_severity_with_change_beyond_sdc_counts():
    prev = {"verdict": "flag", "severity": "severe"}
    cur = {"verdict": "flag", "severity": "severe"}
    assert fault_status(prev, cur, "improved") == "improved"
    assert fault_status(prev, cur, "worse") == "worse"
    assert fault_status(prev, cur, "no detectable change") == "unchanged"
    assert fault_status({"verdict": "no norm"}, {"verdict": "no norm"}, "x") == "not graded"
    assert (
        fault_status(
            {"verdict": "flag", "severity": "mild"}, {"verdict": "insufficient events"}, "x"
        )
        == "not comparable"
    )


def test_metric_change_against_sdc(norms):
    drop = norms.tasks["jog"].metrics["pelvic_drop_deg"]
    assert metric_change(8.0, 5.2, drop) == (pytest.approx(-2.8), "no detectable change")
    assert metric_change(8.0, 5.1, drop)[1] == "improved"
    assert metric_change(5.0, 7.9, drop)[1] == "worse"
    assert metric_change(None, 7.9, drop) == (None, "not measured")
    step = norms.tasks["jog"].metrics["step_width_hip_ratio"]
    assert metric_change(0.5, 0.1, step)[1] == "no SDC"
    flexion = norms.tasks["jog"].metrics["knee_flexion_deg"]
    assert metric_change(30.0, 40.0, flexion)[1] == "increased"


def test_compare_reports_every_metric_and_counts(norms):
    prev = _summary({"left": {"knee_fppa_deg": 20.0}, "right": {"knee_fppa_deg": 4.0}})
    cur = _summary({"left": {"knee_fppa_deg": 8.0}, "right": {"knee_fppa_deg": 4.5}})
    result = compare_results(prev, cur, norms)
    left = _metric(result, "knee_fppa_deg", "left")
    assert left["change"] == pytest.approx(-12.0)
    assert left["verdict"] == "improved"
    assert _metric(result, "knee_fppa_deg", "right")["verdict"] == "no detectable change"
    assert _fault(result, "knee_valgus", "left")["status"] == "resolved"
    assert result["counts"]["resolved"] >= 1
    assert _fault(result, "femoral_ir", "left")["status"] == "not graded"


def test_different_tasks_cannot_be_compared(norms):
    with pytest.raises(RescreenError, match="different tasks"):
        compare_results(
            _summary({"left": {}}, task="jog"), _summary({"left": {}}, task="walk"), norms
        )


def test_missing_statistics_is_a_clear_error(norms):
    with pytest.raises(RescreenError, match="has no 'sides'"):
        compare_results({"task": "jog"}, _summary({"left": {}}), norms)


def test_summaries_read_back_from_json_compare(norms):
    import json

    from screener.result import to_jsonable

    prev = _summary({"left": {"pelvic_drop_deg": 9.0}, "right": {}}, n=1)  # sd is NaN -> null
    cur = _summary({"left": {"pelvic_drop_deg": 3.0}, "right": {}}, n=8)
    prev = json.loads(json.dumps(to_jsonable(prev)))
    assert prev["sides"]["left"]["pelvic_drop_deg"]["sd"] is None
    result = compare_results(prev, json.loads(json.dumps(to_jsonable(cur))), norms)
    assert _fault(result, "pelvic_drop", "left")["status"] == "not comparable"  # 1 < 3 events
