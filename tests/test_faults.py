"""Fault flags at the band edges, verdicts, confidence and asymmetry."""

from __future__ import annotations

from typing import Any

import pytest

from screener.faults import (
    LEFT_EMPTY_GROUP,
    classify_severity,
    count_verdicts,
    describe_verdicts,
    flag_faults,
    flagged,
    screen_headline,
    severity_span,
    side_probability,
)
from screener.norms import Bands, load_norms
from tests.report_fixtures import NORMS_PATH, make_events, make_summary


@pytest.fixture(scope="module")
def norms():
    return load_norms(NORMS_PATH)


def _faults(norms, task, per_side, *, sex=None, n=8, spread=0.0, **kw):
    events = make_events(per_side, task=task, n=n, spread=spread, **kw)
    summary = make_summary(events, task=task)
    return flag_faults(
        task,
        events,
        summary["sides"],
        summary["quality"],
        norms,
        sex=sex,
        asymmetry=summary["asymmetry"],
    )


def _get(faults, fault, side):
    (entry,) = [f for f in faults if f["fault"] == fault and f["side"] == side]
    return entry


ABOVE = Bands(mild=5.0, moderate=7.8, severe=10.6, source="x", basis="test")
BELOW = Bands(mild=0.25, moderate=0.0, severe=-0.25, source="x", basis="test")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (4.999, "none"),
        (5.0, "mild"),
        (7.799, "mild"),
        (7.8, "moderate"),
        (10.599, "moderate"),
        (10.6, "severe"),
        (40.0, "severe"),
        (-3.0, "none"),
    ],
)
def test_band_edges_above(value, expected):
    assert classify_severity(value, ABOVE, "above") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.26, "none"), (0.25, "mild"), (0.01, "mild"), (0.0, "moderate"), (-0.25, "severe")],
)
def test_band_edges_below(value, expected):
    assert classify_severity(value, BELOW, "below") == expected


@pytest.mark.parametrize(
    ("drop", "severity", "verdict"),
    [
        (4.9, "none", "cannot rule out"),  # within the 3.5 deg error of 5
        (5.0, "mild", "flag"),
        (7.8, "moderate", "flag"),
        (10.6, "severe", "flag"),
    ],
)
def test_jog_pelvic_drop_at_the_file_edges(norms, drop, severity, verdict):
    faults = _faults(norms, "jog", {"left": {"pelvic_drop_deg": drop}, "right": {}})
    entry = _get(faults, "pelvic_drop", "left")
    assert entry["severity"] == severity
    assert entry["verdict"] == verdict
    assert entry["value"] == pytest.approx(drop)
    assert entry["threshold"] == 5.0
    assert entry["sdc"] == pytest.approx(2.8)
    assert "10.1016/j.ptsp.2018.06.009" not in entry["source"]  # bands are the project's
    assert entry["status"] == "provisional"
    right = _get(faults, "pelvic_drop", "right")
    assert right["verdict"] == "no flag"


@pytest.mark.parametrize(
    ("mean", "error", "bands", "direction", "expected"),
    [
        (8.0, 3.5, ABOVE, "above", ("none", "severe")),  # 4.5 to 11.5
        (9.0, 0.5, ABOVE, "above", ("moderate", "moderate")),  # within one band
        (6.0, 1.0, ABOVE, "above", ("mild", "mild")),
        (4.0, 1.0, ABOVE, "above", ("none", "mild")),  # 3 to 5: reaches mild's edge
        (0.1, 0.2, BELOW, "below", ("none", "moderate")),  # 0.3 to -0.1
        (-0.3, 0.01, BELOW, "below", ("severe", "severe")),
    ],
)
def test_severity_span_is_the_grades_of_the_mean_give_or_take_its_uncertainty(
    mean, error, bands, direction, expected
):
    assert severity_span(mean, bands, 0.0, 10, error, direction, 1.0) == expected


def test_severity_span_widens_with_the_events_spread_and_z():
    # u = sqrt(3**2 / 9 + 0**2) = 1: 9 +- 1 stays moderate; +- 2 (z = 2) reaches both bands
    assert severity_span(9.0, ABOVE, 3.0, 9, None, "above", 1.0) == ("moderate", "moderate")
    assert severity_span(9.0, ABOVE, 3.0, 9, None, "above", 2.0) == ("mild", "severe")


def test_a_flag_says_how_far_its_grade_could_move(norms):
    # jog pelvic drop: literature error 3.5 deg on bands 5 / 7.8 / 10.6
    faults = _faults(norms, "jog", {"left": {"pelvic_drop_deg": 8.0}, "right": {}})
    entry = _get(faults, "pelvic_drop", "left")
    assert entry["verdict"] == "flag" and entry["severity"] == "moderate"
    assert (entry["severity_low"], entry["severity_high"]) == ("none", "severe")
    assert entry["uncertainty"] == pytest.approx(3.5)
    assert "anywhere from below the threshold to severe" in entry["note"]
    far = _get(
        _faults(norms, "jog", {"left": {"pelvic_drop_deg": 20.0}, "right": {}}),
        "pelvic_drop",
        "left",
    )
    assert (far["severity"], far["severity_low"], far["severity_high"]) == ("severe",) * 3
    assert "anywhere" not in far["note"]


def test_a_value_that_cannot_be_ruled_out_says_the_worst_grade_it_reaches(norms):
    faults = _faults(norms, "jog", {"left": {"pelvic_drop_deg": 4.9}, "right": {}})
    entry = _get(faults, "pelvic_drop", "left")
    assert entry["verdict"] == "cannot rule out"
    assert entry["severity_high"] == "moderate"  # 4.9 + 3.5 = 8.4
    assert "could be as much as moderate" in entry["note"]
    clear = _get(faults, "pelvic_drop", "right")  # 0 deg: 3.5 stays below 5
    assert clear["verdict"] == "no flag"
    assert (clear["severity_low"], clear["severity_high"]) == ("none", "none")
    assert "anywhere" not in clear["note"] and "as much as" not in clear["note"]


def test_sls_fppa_uses_sex_specific_bands(norms):
    per_side = {"right": {"knee_fppa_deg": 13.0}}
    female = _get(_faults(norms, "sls", per_side, sex="female", n=3), "knee_valgus", "right")
    male = _get(_faults(norms, "sls", per_side, sex="male", n=3), "knee_valgus", "right")
    unknown = _get(_faults(norms, "sls", per_side, n=3), "knee_valgus", "right")
    assert female["severity"] == "none" and female["threshold"] == 13.5
    assert female["norm_group"] == "female"
    assert "10.1016/j.knee.2013.11.011" in female["source"]
    assert male["severity"] == "mild" and male["norm_group"] == "male"
    assert unknown["norm_group"] == "any" and unknown["severity"] == "mild"


def test_sls_only_judges_the_stance_leg(norms):
    faults = _faults(norms, "sls", {"right": {"knee_fppa_deg": 20.0}}, n=3)
    assert {f["side"] for f in faults} == {"right"}


def test_walking_pelvic_drop_has_no_verdict(norms):
    faults = _faults(norms, "walk", {"left": {"pelvic_drop_deg": 12.0}, "right": {}})
    entry = _get(faults, "pelvic_drop", "left")
    assert entry["verdict"] == "no norm"
    assert entry["severity"] == "none"
    assert entry["threshold"] is None
    assert entry["value"] == pytest.approx(12.0)
    assert "without a verdict" in entry["note"]


def test_femoral_ir_is_reported_with_its_method_confidence(norms):
    faults = _faults(
        norms, "jog", {"left": {"femoral_ir_deg": 15.0}, "right": {}}, femoral_ir_confidence=0.4
    )
    entry = _get(faults, "femoral_ir", "left")
    assert entry["verdict"] == "no norm"
    assert entry["confidence_parts"]["femoral_ir_method"] == pytest.approx(0.4)
    # unknown accuracy (0.5) x method confidence (0.4) x event quality (0.9)
    assert entry["confidence"] == pytest.approx(0.5 * 0.4 * 0.9, abs=0.01)
    assert "10.3390/s24061923" in entry["source"]


def test_trunk_lean_and_narrow_step_width(norms):
    per_side = {
        "left": {"trunk_lean_deg": 8.5, "step_width_hip_ratio": -0.3},
        "right": {"trunk_lean_deg": 2.0, "step_width_hip_ratio": 0.9},
    }
    faults = _faults(norms, "jog", per_side)
    assert _get(faults, "trunk_lean", "left")["severity"] == "moderate"
    assert _get(faults, "trunk_lean", "right")["verdict"] == "no flag"
    narrow = _get(faults, "narrow_step_width", "left")
    assert narrow["severity"] == "severe"
    assert "10.1080/14763141.2012.699547" not in narrow["source"]
    assert _get(faults, "narrow_step_width", "right")["verdict"] == "no flag"
    assert not [f for f in _faults(norms, "sls", {"left": {}}, n=3) if "step" in f["fault"]]


def test_too_few_events_gives_no_verdict_and_few_lowers_confidence(norms):
    two = _get(
        _faults(norms, "jog", {"left": {"pelvic_drop_deg": 12.0}}, n=2), "pelvic_drop", "left"
    )
    assert two["verdict"] == "insufficient events" and two["severity"] == "none"
    four = _get(
        _faults(norms, "jog", {"left": {"pelvic_drop_deg": 12.0}}, n=4), "pelvic_drop", "left"
    )
    eight = _get(
        _faults(norms, "jog", {"left": {"pelvic_drop_deg": 12.0}}, n=8), "pelvic_drop", "left"
    )
    assert four["verdict"] == "flag" and eight["verdict"] == "flag"
    assert four["confidence_parts"]["events"] == pytest.approx(4 / 7, abs=1e-3)
    assert four["confidence"] < eight["confidence"]
    assert "4 of the 7 events" in four["note"]


def test_confidence_falls_with_spread_quality_and_nearness_to_threshold(norms):
    def conf(**kw):
        drop = kw.pop("drop", 9.0)
        faults = _faults(norms, "jog", {"left": {"pelvic_drop_deg": drop}}, **kw)
        return _get(faults, "pelvic_drop", "left")["confidence"]

    base = conf()
    assert conf(spread=4.0) < base
    assert conf(confidence=0.5) < base
    assert conf(drop=5.2) < base
    assert 0.0 < base <= 1.0


def test_side_probability_is_a_coin_flip_at_the_threshold():
    assert side_probability(5.0, 5.0, 1.0, 8, 3.0) == pytest.approx(0.5)
    assert side_probability(20.0, 5.0, 1.0, 8, 3.0) > 0.99
    assert side_probability(7.0, 5.0, float("nan"), 1, None) == 1.0


def test_asymmetry_is_judged_against_the_sdc(norms):
    faults = _faults(
        norms, "jog", {"left": {"pelvic_drop_deg": 8.0}, "right": {"pelvic_drop_deg": 2.0}}
    )
    left = _get(faults, "pelvic_drop", "left")
    assert left["asymmetry"] == pytest.approx(6.0)
    assert left["asymmetry_exceeds_sdc"] is True
    faults = _faults(
        norms, "jog", {"left": {"pelvic_drop_deg": 3.0}, "right": {"pelvic_drop_deg": 2.0}}
    )
    assert _get(faults, "pelvic_drop", "left")["asymmetry_exceeds_sdc"] is False


def test_flag_entries_carry_the_spec_keys_and_never_diagnose(norms):
    faults = _faults(
        norms, "jog", {"left": {"pelvic_drop_deg": 9.0, "knee_fppa_deg": 20.0}, "right": {}}
    )
    for entry in faults:
        for key in ("fault", "side", "value", "threshold", "severity", "confidence", "source"):
            assert key in entry
        assert "diagnos" not in entry["note"].lower()
    hits = flagged(faults)
    assert [h["fault"] for h in hits] == ["knee_valgus", "pelvic_drop"]  # severe first
    assert "suggests" in hits[0]["note"]


def test_works_from_summary_statistics_alone(norms):
    events = make_events({"left": {"knee_fppa_deg": 15.0}, "right": {}})
    summary = make_summary(events)
    faults = flag_faults("jog", None, summary["sides"], summary["quality"], norms)
    entry = _get(faults, "knee_valgus", "left")
    assert entry["severity"] == "moderate"
    assert entry["confidence_parts"]["landmark_quality"] == pytest.approx(0.9)


def test_running_hip_adduction_gets_a_cited_provisional_verdict(norms):
    norm = norms.metric("jog", "hip_adduction_deg")
    assert norm.fault == "hip_adduction" and norm.status == "provisional"
    assert "aderem" in norm.bands["any"].source
    faults = _faults(
        norms, "jog", {"left": {"hip_adduction_deg": 15.0}, "right": {"hip_adduction_deg": 3.0}}
    )
    left, right = _get(faults, "hip_adduction", "left"), _get(faults, "hip_adduction", "right")
    assert left["verdict"] == "flag" and left["severity"] == "moderate"
    assert right["verdict"] == "no flag"
    assert "Aderem" in left["source"]


def test_squat_valgus_norms_say_they_are_borrowed(norms):
    norm = norms.metric("sls", "knee_fppa_deg")
    assert norm.status == "extrapolated"
    assert "patellofemoral" in norm.note and "borrowed" in norm.note


def test_verdict_tally_counts_each_verdict_once_and_leaves_out_femoral_rotation():
    faults: list[dict[str, Any]] = [
        {"metric": "pelvic_drop_deg", "verdict": "flag"},
        {"metric": "knee_fppa_deg", "verdict": "no flag"},
        {"metric": "knee_fppa_deg", "verdict": "cannot rule out"},
        {"metric": "hip_adduction_deg", "verdict": "withheld"},
        {"metric": "trunk_lean_deg", "verdict": "insufficient events"},
        {"metric": "femoral_ir_deg", "verdict": "withheld"},
        {"metric": "knee_fppa_deg", "verdict": "withheld", "value_hidden": True},
    ]
    counts = count_verdicts(faults)
    assert counts == {
        "flagged": 1,
        "not flagged": 1,
        "shown without a call": 2,
        "too few events": 1,
        "without a norm": 0,
        LEFT_EMPTY_GROUP: 0,
        "not shown (too uncertain)": 1,
    }
    assert sum(counts.values()) == len(faults) - 1
    assert describe_verdicts(faults) == (
        "1 flagged, 1 not flagged, 2 shown without a call, 1 too few events, "
        "1 not shown (too uncertain)"
    )
    # no flag is still said: "0 flagged" must not read as an empty screen
    assert describe_verdicts([{"metric": "knee_fppa_deg", "verdict": "withheld"}]) == (
        "0 flagged, 1 shown without a call"
    )


def test_verdict_tally_and_headline_tell_values_left_empty_from_too_few_events():
    # a deep squat filmed from behind: 3 repetitions, their knee FPPA left empty
    faults: list[dict[str, Any]] = [
        {"side": "left", "label": "Knee valgus", "metric": "knee_fppa_deg",
         "verdict": "insufficient events", "n_events_empty": 3},
        {"side": "left", "label": "Trunk lean", "metric": "trunk_lean_deg",
         "verdict": "insufficient events", "n_events_empty": 0},
    ]  # fmt: skip
    counts = count_verdicts(faults)
    assert counts["too few events"] == 1
    assert counts[LEFT_EMPTY_GROUP] == 1
    assert describe_verdicts(faults) == (
        "0 flagged, 1 too few events, 1 left empty (see the capture warnings)"
    )
    line = screen_headline(faults, [], ["left"], "this video")
    assert "some left empty as the capture warnings say" in line
    # without empty values the line is as before
    line = screen_headline(faults[1:], [], ["left"], "this video")
    assert line.endswith("too few events to grade any measure.")
