"""The visit as the unit: several recordings to one screen and one plan."""

from __future__ import annotations

import math
import re

import pytest

from screener.asymmetry import call_difference, load_asymmetry_errors
from screener.capture import load_envelope
from screener.config import MODELS_DIR, CaptureConfig
from screener.norms import load_norms
from screener.pipeline import analyze_pose
from screener.report import render_handout, render_visit
from screener.visit import (
    lens_height_notes,
    screen_visit,
    slot_of,
    take_quality,
    visit_headline,
)
from tests.report_fixtures import NORMS_PATH, PLAN_PATH, config_judging_pelvic_drop
from tests.synthetic import (
    jog_in_place,
    make_sequence,
    perspective_sequence,
    single_leg_squat,
    walk_toward_camera,
)

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

    def walk_from(lens_height_m):
        figure, _ = walk_toward_camera()
        pose = perspective_sequence(figure, duration_s=4.0, camera_height_m=lens_height_m)
        return analyze_pose(pose, task="walk", view="anterior", config=config).summary

    return {
        "walk_high": walk_from(1.6),
        "walk_low": walk_from(0.9),
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


def test_a_difference_counts_beyond_the_sdc_and_the_measured_error_of_a_difference(
    summaries, norms
):
    visit = _visit(summaries, norms, ["sls_l", "sls_r", "jog"])
    rows = {(r["task"], r["metric"]): r for r in visit["comparison"]}
    # a squat's legs are two recordings: the measured error of a pair's difference (the
    # shipped file has one for squats filmed from the front)
    drop = rows[("sls", "pelvic_drop_deg")]
    entries = [
        next(
            f
            for f in summaries[take]["faults"]
            if (f["side"], f["metric"]) == (side, "pelvic_drop_deg")
        )
        for take, side in (("sls_l", "left"), ("sls_r", "right"))
    ]
    pair = [e["asymmetry_error"] for e in entries]
    assert pair[0] == load_asymmetry_errors(MODELS_DIR / "asymmetry_errors.toml").error_deg(
        "sls", summaries["sls_l"]["view"], "pelvic_drop_deg"
    )
    assert pair[0] is not None and pair[0] == pair[1]  # both squats filmed from the front
    expected = max(drop["sdc"], 1.96 * pair[0])
    assert drop["asymmetry_limit"] == pytest.approx(expected, abs=1e-3)
    assert drop["asymmetry_exceeds_limit"] is (abs(drop["asymmetry"]) > expected)
    # without one (a view the pairs did not measure, or an older summary): the two takes'
    # errors of a side, combined as independent
    unpaired = dict(summaries)
    for take in ("sls_l", "sls_r"):
        unpaired[take] = {
            **summaries[take],
            "faults": [
                {k: v for k, v in f.items() if k != "asymmetry_error"}
                for f in summaries[take]["faults"]
            ],
        }
    unpaired_drop = next(
        r
        for r in _visit(unpaired, norms, ["sls_l", "sls_r"])["comparison"]
        if (r["task"], r["metric"]) == ("sls", "pelvic_drop_deg")
    )
    independent = math.hypot(*(e["measurement_error"] for e in entries))
    assert unpaired_drop["asymmetry_limit"] == pytest.approx(
        max(drop["sdc"], 1.96 * independent), abs=1e-3
    )
    # with a measured error of a difference of two squats (pairs of renders), that instead
    paired = dict(summaries)
    for take in ("sls_l", "sls_r"):
        paired[take] = {
            **summaries[take],
            "faults": [{**f, "asymmetry_error": 3.0} for f in summaries[take]["faults"]],
        }
    paired_visit = _visit(paired, norms, ["sls_l", "sls_r", "jog"])
    paired_drop = next(
        r
        for r in paired_visit["comparison"]
        if (r["task"], r["metric"]) == ("sls", "pelvic_drop_deg")
    )
    assert paired_drop["asymmetry_limit"] == pytest.approx(max(drop["sdc"], 1.96 * 3.0))
    # a jog films both legs: the limit its analysis wrote from the shipped file
    fppa = rows[("jog", "knee_fppa_deg")]
    entry = next(
        f
        for f in summaries["jog"]["faults"]
        if (f["side"], f["metric"]) == ("left", "knee_fppa_deg")
    )
    measured = load_asymmetry_errors(MODELS_DIR / "asymmetry_errors.toml").error_deg(
        "jog", summaries["jog"]["view"], "knee_fppa_deg"
    )
    assert measured is not None and entry["asymmetry_error"] == measured
    assert fppa["asymmetry_limit"] == entry["asymmetry_limit"]
    assert entry["asymmetry_limit"] == pytest.approx(max(8.3, 1.96 * measured), abs=1e-3)
    # a summary written before the limit existed keeps the SDC
    old = dict(summaries["jog"])
    old["faults"] = [
        {k: v for k, v in f.items() if not k.startswith("asymmetry_")} for f in old["faults"]
    ]
    legacy = screen_visit([("jog", old)], intake=INTAKE, norms=norms, plan_path=PLAN_PATH)
    legacy_fppa = next(r for r in legacy["comparison"] if r["metric"] == "knee_fppa_deg")
    assert legacy_fppa["asymmetry_limit"] == legacy_fppa["sdc"]


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
    assert "difference counts only beyond the larger of the" in html
    cells = re.findall(r'<td class="asymmetry">(.*?)</td>', html, re.S)
    # each difference shown with the limit it was judged against
    assert cells and any(re.search(r"within \d+\.\d°", c) for c in cells)
    assert "Insufficient data" not in html
    # each row's call agrees with its difference, SDC and limit
    for r in visit["comparison"]:
        assert r["asymmetry_call"] == call_difference(
            r["asymmetry"], r["sdc"], r["asymmetry_limit"]
        )
    # a difference beyond the SDC but within the limit is shown as not ruled out
    assert not any("cannot-rule-out" in c for c in cells if "beyond" in c)
    row = next(
        r for r in visit["comparison"] if r["sdc"] and r["asymmetry_call"] != "cannot_rule_out"
    )
    row.update(asymmetry=1.5 * row["sdc"], asymmetry_limit=2 * row["sdc"])
    row.update(
        asymmetry_exceeds_limit=False,
        asymmetry_call=call_difference(row["asymmetry"], row["sdc"], row["asymmetry_limit"]),
    )
    assert row["asymmetry_call"] == "cannot_rule_out"
    middle = re.findall(r'<td class="asymmetry">(.*?)</td>', render_visit(visit, header, {}), re.S)
    assert sum("cannot rule out, check clinically" in c for c in middle) == 1 + sum(
        "cannot rule out" in c for c in cells
    )
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


ENVELOPE = load_envelope(CaptureConfig().envelope_path)


def test_the_walks_lens_height_is_carried_to_the_squats_and_jog(summaries, norms):
    # the synthetic walks are filmed by a pinhole lens 1.6 m and 0.9 m above the floor
    assert summaries["walk_high"]["capture"]["camera_height_method"] == "approach"
    assert summaries["walk_high"]["capture"]["camera_height_m"] == pytest.approx(1.6, abs=0.1)
    high = _visit(summaries, norms, ["walk_high", "sls_l", "jog"])
    (note,) = high["capture_notes"]
    assert "about 1.6 m" in note and "above the validated 0.4-1.2 m" in note
    assert "single-leg squat, left leg" in note and "jogging" in note.lower()
    assert "film them again with the lens between the patient's knee and hip height" in note
    html = render_visit(high, {"patient_code": "PT-9", "visit_date": "2026-04-01"})
    assert "capture-note" in html and "about 1.6 m above the floor" in html

    (low,) = _visit(summaries, norms, ["walk_low", "sls_l", "jog"])["capture_notes"]
    assert "about 0.9 m" in low and "may be 0.2 m off" in low and "film them again" not in low


def test_no_lens_note_without_a_walk_or_when_every_height_was_entered(summaries, norms):
    assert _visit(summaries, norms, ["sls_l", "jog"])["capture_notes"] == []
    assert _visit(summaries, norms, ["walk_high"])["capture_notes"] == []
    entered = {**summaries["sls_l"], "capture": {**summaries["sls_l"]["capture"]}}
    entered["capture"]["camera_height_stated_m"] = 0.5
    chosen = {"walk": ("w", summaries["walk_high"]), "sls_left": ("s", entered)}
    assert lens_height_notes(chosen, ENVELOPE) == []
    # a walk whose lens height came from the horizon (no approach) says nothing
    horizon = {**summaries["walk_high"], "capture": {**summaries["walk_high"]["capture"]}}
    horizon["capture"]["camera_height_method"] = "horizon"
    chosen = {"walk": ("w", horizon), "sls_left": ("s", summaries["sls_l"])}
    assert lens_height_notes(chosen, ENVELOPE) == []
