"""The plan: pain gate outcomes, fault -> exercise mapping from data, wording."""

from __future__ import annotations

import pytest

from screener.errors import ConfigError
from screener.intake import Intake
from screener.plan import build_plan, load_protocol, pain_gate
from tests.report_fixtures import PLAN_PATH, write_text

FIVE = {"side_lying_hip_abduction", "clamshell", "mule_kick", "single_leg_bridge", "hip_er_tubing"}


def _intake(pain, done):
    return Intake(running_pain=pain, first_line_care=("activity_reduction",) if done else ())


def _fault(fault, side="left", severity="moderate", verdict="flag"):
    return {
        "fault": fault,
        "side": side,
        "severity": severity,
        "verdict": verdict,
        "confidence": 0.8,
        "label": fault,
    }


@pytest.mark.parametrize(
    ("pain", "done", "expected"),
    [
        (None, False, "pain unknown"),
        (None, True, "pain unknown"),
        (0, False, "goal reached"),
        (3, True, "goal reached"),
        (3.0, False, "goal reached"),
        (3.5, False, "first-line care"),
        (7, False, "first-line care"),
        (3.5, True, "second-line protocol"),
        (10, True, "second-line protocol"),
    ],
)
def test_pain_gate(pain, done, expected):
    assert pain_gate(pain, done, 3.0) == expected


@pytest.mark.parametrize("bad", [-1, 10.5, float("nan"), "5"])
def test_pain_out_of_range_is_rejected(bad):
    with pytest.raises(ValueError, match="pain must be a number from 0 to 10"):
        pain_gate(bad, True, 3.0)


def test_plan_outcomes_and_wording():
    second = build_plan([_fault("pelvic_drop")], _intake(6, True), PLAN_PATH)
    assert second["status"] == "second-line protocol"
    assert second["first_line"] is None
    assert {e["id"] for e in second["exercises"]} == FIVE
    assert "6/10" in second["message"]

    first = build_plan([_fault("pelvic_drop")], _intake(6, False), PLAN_PATH)
    assert first["status"] == "first-line care"
    items = " ".join(first["first_line"]["items"]).lower()
    for word in ("nsaid", "activity reduction", "load modification", "cross-training"):
        assert word in items

    goal = build_plan([], _intake(2, True), PLAN_PATH)
    assert goal["status"] == "goal reached"

    unknown = build_plan([_fault("knee_valgus")], _intake(None, False), PLAN_PATH)
    assert unknown["status"] == "pain unknown"
    assert "not recorded" in unknown["message"]
    assert "during or after running" in unknown["message"]
    for plan in (second, first, goal, unknown):
        text = (plan["message"] + plan["disclaimer"]).lower()
        assert "not a diagnosis" in plan["disclaimer"].lower()
        assert "you have" not in text and "diagnosed" not in text


@pytest.mark.parametrize(
    ("fault", "first"),
    [
        ("pelvic_drop", "side_lying_hip_abduction"),
        ("knee_valgus", "clamshell"),
        ("femoral_ir", "hip_er_tubing"),
        ("trunk_lean", "side_lying_hip_abduction"),
        ("narrow_step_width", "side_lying_hip_abduction"),
    ],
)
def test_each_fault_maps_to_its_exercises(fault, first):
    protocol = load_protocol(PLAN_PATH)
    plan = build_plan([_fault(fault, side="right")], _intake(6, True), PLAN_PATH)
    expected = protocol.fault_map[fault].exercises
    indicated = [e["id"] for e in plan["exercises"] if e["indicated_by"]]
    assert set(indicated) == set(expected)
    assert plan["exercises"][0]["id"] == first
    assert plan["exercises"][0]["indicated_by"] == [
        {"fault": fault, "side": "right", "severity": "moderate"}
    ]
    assert plan["findings"][0]["why"]


def test_unflagged_faults_select_nothing_and_cues_follow_flags():
    plan = build_plan(
        [
            _fault("femoral_ir", verdict="no norm", severity="none"),
            _fault("trunk_lean", verdict="no flag"),
        ],
        _intake(6, True),
        PLAN_PATH,
    )
    assert not plan["findings"]
    assert all(not e["indicated_by"] for e in plan["exercises"])
    assert plan["cues"] == []
    lean = build_plan([_fault("trunk_lean")], _intake(6, True), PLAN_PATH)
    assert any("mirror" in c for c in lean["cues"])


def test_exercises_carry_cues_dosage_and_the_protocol_details():
    plan = build_plan([], _intake(6, True), PLAN_PATH)
    by_id = {e["id"]: e for e in plan["exercises"]}
    assert "20-30 deg" in " ".join(by_id["clamshell"]["setup"])
    assert "eccentric" in " ".join(by_id["clamshell"]["setup"]).lower()
    assert "90 deg toward 30 deg" in " ".join(by_id["single_leg_bridge"]["setup"])
    kick = " ".join(by_id["mule_kick"]["setup"])
    assert "knee flexed" in kick and "knee extended" in kick
    assert "tubing" in " ".join(by_id["hip_er_tubing"]["setup"])
    assert by_id["side_lying_hip_abduction"]["dosage"]["sets"] == 3
    assert "pelvis" in plan["lumbopelvic_cue"]
    rule = plan["progression"]["rule"].lower()
    assert "tolerated" in rule and "muscle activity" in rule and "pain" in rule


def test_clinic_plan_file_changes_mapping_and_dose(tmp_path):
    text = PLAN_PATH.read_text()
    text = text.replace(
        'exercises = ["hip_er_tubing", "clamshell", "mule_kick"]', 'exercises = ["mule_kick"]'
    )
    text = text.replace(
        'sets = 3\nreps = "10-15"\ntempo = "2 s out', 'sets = 2\nreps = "8"\ntempo = "2 s out'
    )
    path = write_text(tmp_path, "clinic.toml", text)
    plan = build_plan([_fault("femoral_ir")], _intake(6, True), path)
    assert [e["id"] for e in plan["exercises"] if e["indicated_by"]] == ["mule_kick"]
    tubing = next(e for e in plan["exercises"] if e["id"] == "hip_er_tubing")
    assert tubing["dosage"]["sets"] == 2


def test_bad_plan_file_names_the_key(tmp_path):
    text = PLAN_PATH.read_text().replace('exercises = ["mule_kick"', 'exercises = ["nope"', 1)
    text = text.replace(
        'exercises = ["hip_er_tubing", "clamshell", "mule_kick"]', 'exercises = ["nope"]'
    )
    with pytest.raises(ConfigError, match=r"fault_map\.femoral_ir names unknown exercise 'nope'"):
        build_plan([], _intake(6, True), write_text(tmp_path, "bad.toml", text))
    with pytest.raises(ConfigError, match="cannot read the exercises file"):
        build_plan([], _intake(6, True), tmp_path / "missing.toml")


def test_gate_uses_running_pain_not_rest_pain():
    """A runner at 1/10 at rest and 7/10 when running is not at the goal."""
    answers = Intake(running_pain=7, rest_pain=1, first_line_care=("nsaids", "cross_training"))
    plan = build_plan([_fault("pelvic_drop")], answers, PLAN_PATH)
    assert plan["status"] == "second-line protocol"
    assert "7/10" in plan["message"] and "running" in plan["message"]
    reasons = " ".join(plan["reasons"])
    assert "7/10" in reasons and "sets the stage" in reasons
    assert "rest: 1/10" in reasons and "does not set the stage" in reasons
    assert "NSAIDs" in reasons and "duration not recorded" in reasons
    calm = build_plan([], Intake(running_pain=2, rest_pain=6), PLAN_PATH)
    assert calm["status"] == "goal reached"


def test_first_line_duration_is_reported():
    answers = Intake(running_pain=5, first_line_care=("load_modification",), first_line_weeks=6)
    plan = build_plan([], answers, PLAN_PATH)
    assert any("load modification for 6 week(s)" in r for r in plan["reasons"])
    assert plan["intake"]["first_line_weeks"] == 6


@pytest.mark.parametrize("flag", ["night_pain", "locking_or_giving_way", "systemic_signs"])
def test_a_red_flag_replaces_the_plan_with_referral(flag):
    answers = Intake(running_pain=10, first_line_care=("nsaids",), red_flags=(flag,))
    plan = build_plan([_fault("knee_valgus")], answers, PLAN_PATH)
    assert plan["status"] == "refer"
    assert plan["exercises"] == [] and plan["phases"] == [] and plan["return_to_run"] is None
    assert "medical assessment" in plan["message"]
    assert plan["referral"]["red_flags"] == [flag]
    assert plan["findings"], "the movement findings stay for the receiving clinician"
    assert pain_gate(2, False, 3.0, (flag,)) == "refer"


def test_cross_training_wording_follows_the_protocol():
    plan = build_plan([], _intake(6, False), PLAN_PATH)
    items = " ".join(plan["first_line"]["items"]).lower()
    assert "swimming" in items
    assert "walking on flat ground with shorter strides" in items
    assert "cycl" not in items and "bike" not in items


def test_full_protocol_is_data_with_its_citation():
    plan = build_plan([], _intake(6, True), PLAN_PATH)
    assert plan["doi"] == "10.4085/1062-6050-548-19"
    assert "10.4085/1062-6050-548-19" in plan["source"]
    names = [ph["name"] for ph in plan["phases"]]
    assert len(names) >= 3 and any("weight-bearing" in n for n in names)
    for ph in plan["phases"]:
        assert ph["entry"] and ph["exit"] and ph["basis"]
    topics = {g["topic"] for g in plan["load_guidance"]}
    assert {"mileage", "cadence", "footwear", "downhill and camber"} <= topics
    assert plan["return_to_run"]["criteria"] and plan["return_to_run"]["steps"]
    assert plan["rescreen_weeks"] >= 1


def test_dose_overrides_replace_single_fields_and_are_recorded():
    plan = build_plan(
        [], _intake(6, True), PLAN_PATH, dose_overrides={"clamshell": {"sets": 2, "reps": "8"}}
    )
    clam = next(e for e in plan["exercises"] if e["id"] == "clamshell")
    assert (clam["dosage"]["sets"], clam["dosage"]["reps"]) == (2, "8")
    assert clam["dosage"]["tempo"] == "2 s up, 3 s down"
    assert clam["dose_source"] == "override"
    assert plan["dose_overrides"] == {"clamshell": {"sets": 2, "reps": "8"}}
    with pytest.raises(ConfigError, match="unknown exercise 'squat'"):
        build_plan([], None, PLAN_PATH, dose_overrides={"squat": {"sets": 2}})
    with pytest.raises(ConfigError, match="invalid dose override"):
        build_plan([], None, PLAN_PATH, dose_overrides={"clamshell": {"sets": 0}})


def test_legs_to_train_follow_the_flagged_sides():
    one = build_plan([_fault("pelvic_drop", side="right")], _intake(6, True), PLAN_PATH)
    both = build_plan(
        [_fault("pelvic_drop", side="right"), _fault("pelvic_drop", side="left")],
        _intake(6, True),
        PLAN_PATH,
    )
    assert one["exercises"][0]["legs"] == "right leg"
    assert both["exercises"][0]["legs"] == "both legs"
    text = " ".join(s for e in both["exercises"] for s in e["setup"]).lower()
    assert "unaffected side" not in text
