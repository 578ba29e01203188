"""The visit as the unit: several recordings to one screen and one plan."""

from __future__ import annotations

import re

import pytest

from screener.norms import load_norms
from screener.pipeline import analyze_pose
from screener.report import render_handout, render_visit
from screener.visit import screen_visit, slot_of, take_quality, visit_headline
from tests.report_fixtures import NORMS_PATH, PLAN_PATH, config_judging_pelvic_drop
from tests.synthetic import jog_in_place, make_sequence, single_leg_squat

INTAKE = {
    "patient_code": "PT-9",
    "visit_date": "2026-04-01",
    "running_pain": 6,
    "first_line_care": ["activity_reduction"],
    "first_line_weeks": 4,
}


@pytest.fixture(scope="module")
def summaries(tmp_path_factory):
    config = config_judging_pelvic_drop(tmp_path_factory.mktemp("errors"))

    def run(figure, task, **kw):
        pose = make_sequence(figure, fps=30.0, duration_s=kw.pop("duration_s", 8.0))
        return analyze_pose(pose, task=task, view="anterior", config=config, **kw).summary

    sls_left, _ = single_leg_squat("left", n_reps=3, drop_deg=12.0)
    sls_right, _ = single_leg_squat("right", n_reps=3)
    jog, _ = jog_in_place(drop_deg={"left": 2.0, "right": 2.0})
    short_jog = run(jog, "jog", duration_s=2.0)
    return {
        "sls_l": run(sls_left, "sls", side="left"),
        "sls_r": run(sls_right, "sls", side="right"),
        "jog": run(jog, "jog", duration_s=6.0),
        "jog_retake": short_jog,
    }


@pytest.fixture(scope="module")
def norms():
    return load_norms(NORMS_PATH)


def _visit(summaries, norms, ids, intake=INTAKE):
    return screen_visit(
        [(i, summaries[i]) for i in ids], intake=intake, norms=norms, plan_path=PLAN_PATH
    )


def test_slots_and_best_take_by_quality_not_averaged(summaries, norms):
    assert slot_of(summaries["sls_l"]) == "sls_left" and slot_of(summaries["jog"]) == "jog"
    assert take_quality(summaries["jog"], norms) > take_quality(summaries["jog_retake"], norms)
    visit = _visit(summaries, norms, ["jog_retake", "sls_l", "sls_r", "jog"])
    assert visit["slots"]["jog"] == "jog"
    retake = next(t for t in visit["takes"] if t["id"] == "jog_retake")
    assert retake["used"] is False and "retake" in retake["note"]
    jog_rows = [r for r in visit["comparison"] if r["task"] == "jog"]
    pelvic = next(r for r in jog_rows if r["metric"] == "pelvic_drop_deg")
    kept = summaries["jog"]["sides"]["left"]["pelvic_drop_deg"]["mean"]
    assert pelvic["left"]["value"] == pytest.approx(kept)  # the kept take, not a mean of two
    assert visit["missing"] == ["Walking"]


def test_left_against_right_from_the_two_squats(summaries, norms):
    visit = _visit(summaries, norms, ["sls_l", "sls_r", "jog"])
    drop = next(
        r for r in visit["comparison"] if r["task"] == "sls" and r["metric"] == "pelvic_drop_deg"
    )
    assert drop["left"]["take"] == "sls_l" and drop["right"]["take"] == "sls_r"
    assert drop["left"]["value"] > drop["right"]["value"]
    assert drop["asymmetry"] == pytest.approx(drop["left"]["value"] - drop["right"]["value"])
    assert drop["left"]["verdict"] == "flag" and drop["asymmetry_exceeds_sdc"] is True
    assert all(r["metric"] != "femoral_ir_deg" for r in visit["comparison"])


def test_one_plan_for_the_visit_and_it_follows_the_pain(summaries, norms):
    visit = _visit(summaries, norms, ["sls_l", "sls_r", "jog"])
    plan = visit["plan"]
    assert plan["status"] == "second-line protocol"
    assert any(
        f["fault"] == "pelvic_drop" and f["task"] == "Single-leg squat, left leg"
        for f in plan["findings"]
    )
    order = [e["id"] for e in plan["exercises"]]
    again = _visit(summaries, norms, ["jog", "sls_r", "sls_l"])
    assert [e["id"] for e in again["plan"]["exercises"]] == order  # recording order is irrelevant
    calm = _visit(summaries, norms, ["sls_l", "sls_r", "jog"], {**INTAKE, "running_pain": 2})
    assert calm["plan"]["status"] == "goal reached"
    referred = _visit(summaries, norms, ["sls_l"], {**INTAKE, "red_flags": ["swelling"]})
    assert referred["plan"]["status"] == "refer" and referred["plan"]["exercises"] == []


def test_visit_report_and_handout_render(summaries, norms):
    visit = _visit(summaries, norms, ["jog_retake", "sls_l", "sls_r", "jog"])
    header = {"patient_code": "PT-9", "visit_date": "2026-04-01"}
    html = render_visit(visit, header, {"sls_l": "squat-left.mp4"})
    assert "PT-9" in html and "2026-04-01" in html and "squat-left.mp4" in html
    assert "Left − right" in html and "retake, not used" in html
    assert "Insufficient data" not in html
    # femoral IR, measured in each recording, stays out of the clinical visit report
    assert "femoral_ir_deg" in summaries["jog"]["sides"]["left"]
    assert "femoral_ir" not in html and "Femoral IR" not in html
    assert "Femoral internal rotation</td>" not in html
    handout = render_handout(visit["plan"], header)
    assert len(re.findall(r"<img ", handout)) == 5
    assert "2026-04-29" in handout


def test_visit_headline_names_ungraded_measures_and_sides():
    def row(label, left, right):
        return {
            "label": label,
            "left": {"verdict": left} if left else None,
            "right": {"verdict": right} if right else None,
        }

    rows = [
        row("Knee valgus", "no flag", None),
        row("Pelvic drop", "withheld", None),
    ]
    text = visit_headline(rows, [])
    assert "on the left side (graded: knee valgus)" in text
    assert "Not graded from this visit: pelvic drop" in text
    # the right leg had no take at all: said, not reassured about
    assert "Insufficient data for right: no measure could be graded" in text
    squat_only = visit_headline([row("Knee valgus", "withheld", "insufficient events")], [])
    assert "No measure of the left side could be graded from this visit" in squat_only
    assert "Insufficient data for right: too few events" in squat_only
    assert "No movement fault reached" not in squat_only
