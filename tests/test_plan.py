"""The plan: pain gate outcomes, fault -> exercise mapping from data, wording."""

from __future__ import annotations

import pytest

from screener.errors import ConfigError
from screener.plan import build_plan, load_protocol, pain_gate
from tests.report_fixtures import PLAN_PATH, write_text

FIVE = {"side_lying_hip_abduction", "clamshell", "mule_kick", "single_leg_bridge", "hip_er_tubing"}


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
    second = build_plan([_fault("pelvic_drop")], 6, True, PLAN_PATH)
    assert second["status"] == "second-line protocol"
    assert second["first_line"] is None
    assert {e["id"] for e in second["exercises"]} == FIVE
    assert "6/10" in second["message"]

    first = build_plan([_fault("pelvic_drop")], 6, False, PLAN_PATH)
    assert first["status"] == "first-line care"
    items = " ".join(first["first_line"]["items"]).lower()
    for word in ("nsaid", "activity reduction", "load modification", "cross-training"):
        assert word in items

    goal = build_plan([], 2, True, PLAN_PATH)
    assert goal["status"] == "goal reached"

    unknown = build_plan([_fault("knee_valgus")], None, False, PLAN_PATH)
    assert unknown["status"] == "pain unknown"
    assert "not recorded" in unknown["message"]
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
    plan = build_plan([_fault(fault, side="right")], 6, True, PLAN_PATH)
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
        6,
        True,
        PLAN_PATH,
    )
    assert not plan["findings"]
    assert all(not e["indicated_by"] for e in plan["exercises"])
    assert plan["cues"] == []
    lean = build_plan([_fault("trunk_lean")], 6, True, PLAN_PATH)
    assert any("mirror" in c for c in lean["cues"])


def test_exercises_carry_cues_dosage_and_the_protocol_details():
    plan = build_plan([], 6, True, PLAN_PATH)
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
    plan = build_plan([_fault("femoral_ir")], 6, True, path)
    assert [e["id"] for e in plan["exercises"] if e["indicated_by"]] == ["mule_kick"]
    tubing = next(e for e in plan["exercises"] if e["id"] == "hip_er_tubing")
    assert tubing["dosage"]["sets"] == 2


def test_bad_plan_file_names_the_key(tmp_path):
    text = PLAN_PATH.read_text().replace('exercises = ["mule_kick"', 'exercises = ["nope"', 1)
    text = text.replace(
        'exercises = ["hip_er_tubing", "clamshell", "mule_kick"]', 'exercises = ["nope"]'
    )
    with pytest.raises(ConfigError, match=r"fault_map\.femoral_ir names unknown exercise 'nope'"):
        build_plan([], 6, True, write_text(tmp_path, "bad.toml", text))
    with pytest.raises(ConfigError, match="cannot read the exercises file"):
        build_plan([], 6, True, tmp_path / "missing.toml")
