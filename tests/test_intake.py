"""Pain and history intake: the answers, their validation and the older pain alias."""

from __future__ import annotations

import json

import pytest

from screener.cli import main
from screener.errors import ConfigError
from screener.intake import Intake, make_intake
from screener.pipeline import analyze_pose
from tests.synthetic import jog_in_place, make_sequence


@pytest.fixture(scope="module")
def jog_pose():
    figure, _ = jog_in_place(drop_deg={"left": 9.0, "right": 2.0})
    return make_sequence(figure, fps=60.0, duration_s=4.0)


def test_intake_validates_each_answer():
    with pytest.raises(ConfigError, match="running_pain"):
        make_intake({"running_pain": 11})
    with pytest.raises(ConfigError, match="red_flags"):
        make_intake({"red_flags": ["headache"]})
    with pytest.raises(ConfigError, match="first_line_care"):
        make_intake({"first_line_care": ["cycling"]})
    with pytest.raises(ConfigError, match="both pain and running_pain"):
        make_intake({"running_pain": 4}, pain=5)
    answers = make_intake({"first_line_care": ["nsaids", "nsaids"]}, pain=5)
    assert answers.running_pain == 5 and answers.first_line_care == ("nsaids",)
    assert make_intake(None, first_line_done=True).first_line_care == ("unspecified",)


def test_api_records_the_answers_and_gates_on_running_pain(jog_pose):
    answers = {
        "running_pain": 7,
        "rest_pain": 1,
        "pain_onset": "5 km",
        "weekly_volume_km": 30,
        "first_line_care": ["activity_reduction", "cross_training"],
        "first_line_weeks": 3,
    }
    result = analyze_pose(jog_pose, task="jog", view="anterior", intake=answers)
    s = result.summary
    assert s["intake"]["pain_onset"] == "5 km" and s["intake"]["weekly_volume_km"] == 30
    assert s["pain"] == 7 and s["first_line_done"] is True
    assert s["plan"]["status"] == "second-line protocol"
    assert s["plan"]["intake"] == s["intake"]
    referred = analyze_pose(
        jog_pose, task="jog", view="anterior", intake=Intake(running_pain=2, red_flags=("trauma",))
    )
    assert referred.summary["plan"]["status"] == "refer"
    assert referred.summary["plan"]["exercises"] == []


def test_dose_override_from_settings_lands_in_provenance(jog_pose):
    from screener.config import AnalysisConfig

    config = AnalysisConfig(dose_overrides={"mule_kick": {"reps": "6 each knee position"}})
    s = analyze_pose(jog_pose, task="jog", view="anterior", pain=6, config=config).summary
    kick = next(e for e in s["plan"]["exercises"] if e["id"] == "mule_kick")
    assert kick["dosage"]["reps"] == "6 each knee position"
    assert s["provenance"]["dose_overrides"] == {"mule_kick": {"reps": "6 each knee position"}}
    assert s["provenance"]["config"]["dose_overrides"] == config.dose_overrides


def test_cli_pain_alias_says_what_it_means(tmp_path, capsys, monkeypatch):
    from types import SimpleNamespace

    import screener.acquire as acquire
    import screener.pipeline as pipeline

    seen = {}

    def fake_acquire(video, config, progress=None, release_pose_model=False, pose_pass=None):
        return SimpleNamespace(
            raw=None,
            config=config,
            video_info={},
            other_people=None,
            faces=None,
            scene_tilt=None,
            lighting=None,
            clothing=None,
        )

    def fake_analyze(raw, **kwargs):
        seen.update(kwargs)
        raise ConfigError("stop here")

    monkeypatch.setattr(acquire, "estimate_video_pose", fake_acquire)
    monkeypatch.setattr(pipeline, "analyze_pose", fake_analyze)
    assert main(["analyze", str(tmp_path / "v.mp4"), "--pain", "6", "--red-flag", "swelling"]) == 2
    err = capsys.readouterr().err
    assert "--pain is read as --running-pain" in err
    assert seen["intake"]["running_pain"] == 6 and seen["intake"]["red_flags"] == ["swelling"]
    assert main(["analyze", "v.mp4", "--pain", "6", "--running-pain", "5"]) == 2
    assert "not both" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["analyze", "v.mp4", "--first-line", "cycling"])
    assert "unknown value(s) cycling" in capsys.readouterr().err
    json.dumps(seen["intake"])
