"""End to end on the committed sample videos: MediaPipe on real files, scored against truth.

Each clip in ``sample_videos/`` is a rendered person with exact joint-centre truth
(``NAME.truth.json`` / ``NAME.truth.csv``). Pose runs once per clip per test session (a
session keypoint cache); the tests then check what a PT and a researcher rely on: the
task, view and stance leg found without being told, the stance phases and repetitions
found, the angles' error against the joint centres, the flags on faulty and normal
clips, and the CLI's files and columns.

The accuracy tolerances are the figures measured on these clips by ``bench/accuracy.py``
(see ``docs/accuracy.md``) plus a margin of about 15 % for MediaPipe's small differences
between CPUs. They are not targets: the targets of the accuracy issue are stricter and
are reported, met or not, in ``docs/accuracy.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import screener
from bench.accuracy import Tally, compare_events, compare_flags, compare_frames, stats
from screener.accuracy import MeasuredErrors, load_measured_errors
from screener.cli import main as cli_main
from screener.config import AnalysisConfig
from screener.result import AnalysisResult
from tests.test_pipeline import SPEC_FRAME_COLUMNS

pytestmark = pytest.mark.video

SAMPLES = Path(__file__).resolve().parents[1] / "sample_videos"

#: Measured on the eight sample clips of sessions 1-20 (bench/accuracy.py, with the
#: shipped defaults), with a ~15 % margin; with the ninth (session 21, a squat filmed as
#: the capture guide asks) all nine read 4.1, 4.2 and 5.2 deg. Hip adduction was 4.1 deg
#: with the former +4-6 deg offsets of corrections.toml, which made real footage worse
#: (docs/accuracy.md) and were removed; MediaPipe reads it about 5 deg low (7.4 deg RMSE
#: on the samples). Pelvic drop was 3.6 deg with the former event offsets (fitted on the
#: retired tuning renders; they failed the new corpus' validation rule); 4.7 deg without.
#: metric -> (measured RMSE deg, tolerance deg)
EVENT_RMSE_DEG = {
    "knee_fppa_deg": (4.5, 5.2),
    "pelvic_drop_deg": (4.7, 5.4),
    "hip_adduction_deg": (7.4, 8.5),
}
#: Share of true stance phases and repetitions found: measured 49/53 (92 %).
EVENTS_FOUND_MIN = 0.90


@dataclass(frozen=True)
class Clip:
    """A sample clip, its truth and the screener's results (task given, and auto)."""

    video: Path
    truth_json: dict
    truth: pd.DataFrame
    given: AnalysisResult
    auto: AnalysisResult

    @property
    def name(self) -> str:
        return self.video.stem


def _truth_files(*, turns: bool) -> list[str]:
    """Sample names whose truth has (``turns``) or has not a walk that turns round."""
    names = []
    for path in SAMPLES.glob("*.truth.json"):
        if bool(json.loads(path.read_text()).get("turn")) is turns:
            names.append(path.name[: -len(".truth.json")])
    return sorted(names)


def _sample_names() -> list[str]:
    """The samples filmed one way (a walk that turns round is analysed one way only, so
    its other way's events are not found by design: it has its own test)."""
    return _truth_files(turns=False)


@pytest.fixture(scope="session")
def pose_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One keypoint cache for the session: each clip goes through MediaPipe once."""
    return tmp_path_factory.mktemp("pose_cache")


@pytest.fixture(scope="session")
def clips(pose_cache: Path) -> dict[str, Clip]:
    names = _sample_names()
    assert len(names) >= 9, f"expected the nine sample clips in {SAMPLES}, found {names}"
    config = AnalysisConfig(cache_dir=pose_cache)
    out = {}
    for name in names:
        truth_json = json.loads((SAMPLES / f"{name}.truth.json").read_text())
        video = SAMPLES / truth_json["video"]
        given = screener.analyze(
            video,
            task=truth_json["task"],
            side=truth_json.get("stance_side") or "auto",
            config=config,
        )
        auto = screener.analyze(video, config=config)
        truth = pd.read_csv(SAMPLES / f"{name}.truth.csv")
        out[name] = Clip(video, truth_json, truth, given, auto)
    return out


@pytest.fixture(scope="session")
def tally(clips: dict[str, Clip]) -> Tally:
    t = Tally()
    for clip in clips.values():
        compare_frames(t, clip.given.frames, clip.truth)
        compare_events(t, clip.given.events, clip.truth_json, clip.truth)
        compare_flags(t, clip.name, clip.given.summary, clip.truth_json)
    return t


def test_the_sample_set_covers_every_task_side_and_state(clips: dict[str, Clip]) -> None:
    kinds = set()
    for clip in clips.values():
        task = clip.truth_json["task"]
        side = clip.truth_json.get("stance_side") if task == "sls" else None
        kinds.add((task, side, bool(clip.truth_json["expected_faults"])))
    for state in (False, True):
        assert ("walk", None, state) in kinds
        assert ("jog", None, state) in kinds
        assert ("sls", "left", state) in kinds
        assert ("sls", "right", state) in kinds


def test_the_samples_tops_are_read_as_ending_above_the_hips(clips: dict[str, Clip]) -> None:
    """Every sample render wears a top ending above the hips (screener.clothing): read
    so on every clip, and no clothing warning."""
    for clip in clips.values():
        clothing = clip.given.summary["capture"]["clothing"]
        assert clothing["checked"] is True and clothing["frames"] >= 4, clip.name
        assert clothing["top_over_hips"] is False, (clip.name, clothing)
        assert not any("tuck the top in" in w for w in clip.given.summary["quality"]["warnings"])


@pytest.mark.parametrize("name", _sample_names())
def test_task_view_and_stance_leg_found_without_being_told(
    clips: dict[str, Clip], name: str
) -> None:
    clip = clips[name]
    summary = clip.auto.summary
    assert summary["task"] == clip.truth_json["task"], summary["task_detection"]
    assert summary["view"] == clip.truth_json["view"], summary["view_detection"]
    if clip.truth_json["task"] == "sls":
        assert summary["stance_side"] == clip.truth_json["stance_side"]
        assert set(clip.auto.events["side"]) == {clip.truth_json["stance_side"]}


def test_a_squat_filmed_as_the_guide_asks_leaves_its_stand_out_and_reads_the_roll_from_it(
    clips: dict[str, Clip],
) -> None:
    """Two seconds on both feet first, as the capture guide asks: the task is read from
    what follows (the stand said "walk" before session 21), no repetition starts in the
    stand, and the phone's roll is read from it (the render's camera is level)."""
    clip = clips["sls_right_normal_ant_30fps_guide"]
    stand_s = clip.truth_json["squat"]["stand_s"]
    summary = clip.auto.summary
    assert "on both feet left out" in summary["task_detection"]["reasons"][0]
    assert summary["task_detection"]["confidence"] == 1.0
    assert (clip.auto.events["t_start_s"] > stand_s).all()
    assert summary["capture"]["roll_source"] == "both feet down"
    assert abs(summary["capture"]["roll_deg"]) < 1.5


@pytest.mark.parametrize("name", _sample_names())
def test_every_event_found_is_a_true_one(clips: dict[str, Clip], name: str) -> None:
    """No invented stance phase or repetition: each found event overlaps a true event of
    the same leg, and an SLS clip has all its repetitions."""
    clip = clips[name]
    true_events = clip.truth_json["events"]
    assert len(clip.given.events) > 0
    for ev in clip.given.events.itertuples():
        overlaps = [
            t
            for t in true_events
            if t["side"] == ev.side
            and min(t["t_end_s"], ev.t_end_s) - max(t["t_start_s"], ev.t_start_s) > 0
        ]
        assert overlaps, f"{name}: {ev.side} event at {ev.t_start_s:.2f}-{ev.t_end_s:.2f} s"
    if clip.truth_json["task"] == "sls":
        assert len(clip.given.events) == len(true_events)


def test_events_found_share(tally: Tally) -> None:
    assert tally.events_true >= 50
    assert tally.events_found / tally.events_true >= EVENTS_FOUND_MIN


@pytest.mark.parametrize("metric", sorted(EVENT_RMSE_DEG))
def test_event_values_against_joint_centre_truth(tally: Tally, metric: str) -> None:
    pairs = np.array(tally.event_pairs[metric], dtype=float)
    pairs = pairs[np.isfinite(pairs).all(axis=1)]
    n, rmse, _bias, r = stats(pairs)
    _measured, tolerance = EVENT_RMSE_DEG[metric]
    assert n >= 45
    assert rmse <= tolerance, f"{metric}: RMSE {rmse:.2f} deg"
    assert r >= 0.5, f"{metric}: r {r:.2f}"


def test_knee_valgus_flagged_on_every_faulty_leg_it_judges(
    clips: dict[str, Clip],
) -> None:
    """Planted valgus is flagged where the measured-error rules let FPPA be judged; where
    they do not (docs/accuracy.md), the verdict says so instead of 'no flag'. (Normal
    legs: test_no_fault_flagged_on_a_normal_clip_unless_its_truth_is_within_the_error.)"""
    judged_planted = 0
    for clip in clips.values():
        planted = {
            f["side"] for f in clip.truth_json["expected_faults"] if f["fault"] == "knee_valgus"
        }
        errors = _errors_judged_with(clip.given, "knee_fppa_deg")
        measured = errors.for_task(clip.truth_json["task"], clip.given.summary["view"])
        reason = errors.withheld_because(measured["knee_fppa_deg"])
        for f in clip.given.summary["faults"]:
            if f["fault"] != "knee_valgus" or f["verdict"] == "insufficient events":
                continue
            if reason is not None:
                assert f["verdict"] == "withheld" and f["withheld_because"] == reason, clip.name
                continue
            if f["side"] in planted:
                assert f["verdict"] == "flag", (clip.name, f["side"], f)
                judged_planted += 1
    assert judged_planted >= 5


def _errors_judged_with(result: AnalysisResult, metric: str) -> MeasuredErrors:
    """The measured errors the clip's verdict on ``metric`` used (the frame model's own
    where it corrected that metric's angles in the clip), as the provenance names them."""
    provenance = result.summary["provenance"]
    path = provenance["measurement_errors_file_by_metric"].get(
        metric, provenance["measurement_errors_file"]
    )
    assert path is not None, "the shipped default has measured errors"
    return load_measured_errors(Path(path))


def test_no_fault_flagged_on_a_normal_clip_unless_its_truth_is_within_the_error(
    clips: dict[str, Clip],
) -> None:
    """A normal clip gets no flag, except where its true event value lies within one
    measured error of the threshold; such a flag's value must then agree with the truth
    within two measured errors (the error the verdict rests on is honest)."""
    normal = [c for c in clips.values() if not c.truth_json["expected_faults"]]
    assert len(normal) >= 4
    clear = 0
    for clip in normal:
        for f in clip.given.summary["faults"]:
            metric = f["metric"]
            measured = _errors_judged_with(clip.given, metric).for_task(
                clip.truth_json["task"], clip.given.summary["view"]
            )
            values = [
                e[metric]
                for e in clip.truth_json["events"]
                if e["side"] == f["side"] and metric in e
            ]
            if f["threshold"] is None or not values or metric not in measured:
                assert f["severity"] == "none", (clip.name, f)
                continue
            assert f["direction"] == "above", f
            truth = float(np.mean(values))
            error = measured[metric].rmse_deg
            if truth < f["threshold"] - error:
                clear += 1
                assert f["severity"] == "none", (clip.name, f, truth)
            elif f["severity"] != "none":
                assert abs(f["value"] - truth) <= 2 * error, (clip.name, f, truth, error)
    assert clear >= 8


def test_single_leg_squat_pelvic_drop_read_on_the_faulty_leg_and_judged_by_the_rule(
    clips: dict[str, Clip],
) -> None:
    """The faulty squats read their planted drop above the threshold; whether that
    becomes a flag is the measured-tracking rule's call (docs/accuracy.md)."""

    faulty = [
        c
        for c in clips.values()
        if c.truth_json["task"] == "sls" and c.truth_json["expected_faults"]
    ]
    assert len(faulty) >= 2
    for clip in faulty:
        errors = _errors_judged_with(clip.given, "pelvic_drop_deg")
        side = clip.truth_json["stance_side"]
        drop = next(
            f
            for f in clip.given.summary["faults"]
            if f["fault"] == "pelvic_drop" and f["side"] == side
        )
        assert drop["value"] >= drop["threshold"], (clip.name, drop["value"])
        measured = errors.for_task("sls", clip.given.summary["view"])["pelvic_drop_deg"]
        if errors.withheld_because(measured) == "tracking":
            assert drop["verdict"] == "withheld" and drop["withheld_because"] == "tracking"
            assert drop["severity"] == "none"
            assert f"r = {measured.side_r:.2f}" in drop["note"], drop["note"]
        else:
            assert drop["verdict"] == "flag" and drop["severity"] != "none"


def test_rotated_portrait_clip_reads_like_the_others(clips: dict[str, Clip]) -> None:
    """The clip stored landscape with rotation metadata is analysed upright."""
    rotated = [c for c in clips.values() if c.truth_json.get("rotation_meta_deg")]
    assert rotated, "a sample clip carries rotation metadata"
    for clip in rotated:
        decoded = clip.given.summary["video"]
        assert decoded["rotation_deg"] % 360 == clip.truth_json["rotation_meta_deg"] % 360
        width, height = clip.truth_json["frame_size_upright"]
        assert (decoded["width_px"], decoded["height_px"]) == (width, height)
        assert clip.auto.summary["view"] == clip.truth_json["view"]


def test_cli_writes_the_spec_files_and_columns(
    clips: dict[str, Clip],
    pose_cache: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SCREENER_CACHE_DIR", str(pose_cache))
    clip = next(c for c in clips.values() if c.truth_json["task"] == "jog")
    out = tmp_path / "out"
    code = cli_main(
        [
            "analyze", str(clip.video), "--running-pain", "5", "--rest-pain", "1",
            "--first-line", "nsaids,activity_reduction", "--first-line-weeks", "4",
            "-o", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    clinical = [f for f in summary["faults"] if f["metric"] != "femoral_ir_deg"]
    unjudged = [
        f
        for f in clinical
        if f["verdict"] in ("withheld", "cannot rule out") and not f["value_hidden"]
    ]
    hidden = [f for f in clinical if f["value_hidden"]]
    assert {(f["metric"], f["hidden_because"]) for f in hidden} >= {
        ("pelvic_drop_deg", "tracking")
    }, "a jog's pelvic drop is not shown (its readings barely follow the truth)"
    line = capsys.readouterr().out
    n_flags = sum(f["verdict"] == "flag" for f in summary["faults"])
    assert f"measures {n_flags} flagged" in line, line
    assert f"{len(hidden)} not shown (too uncertain)" in line, line
    assert (f", {len(unjudged)} shown without a call" in line) == bool(unjudged), line
    frames = pd.read_csv(out / "frames.csv")
    spec_frames = SPEC_FRAME_COLUMNS
    assert set(spec_frames) <= set(frames.columns)
    assert len(frames) == clip.truth_json["n_frames"]
    assert np.all(np.diff(frames["time_s"]) > 0)
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "frames.parquet")[spec_frames].reset_index(drop=True),
        frames[spec_frames],
        check_dtype=False,
        atol=1e-6,
    )
    events = pd.read_csv(out / "events.csv")
    spec_events = [
        "event_id", "kind", "side", "t_start_s", "t_peak_s", "t_end_s", "pelvic_drop_deg",
        "knee_fppa_deg", "hip_adduction_deg", "femoral_ir_deg", "knee_flexion_deg",
        "trunk_lean_deg", "confidence",
    ]  # fmt: skip
    assert set(spec_events) <= set(events.columns)
    assert set(events["kind"]) == {"stance"}
    assert len(events) == len(clip.given.events)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["task"] == "jog"
    assert {"left", "right"} <= set(summary["sides"])
    assert summary["sides"]["left"]["n_events"] == int((events["side"] == "left").sum())
    for fault in summary["faults"]:
        assert {"fault", "side", "value", "threshold", "severity", "confidence", "source"} <= set(
            fault
        )
    assert summary["plan"]["status"] == "second-line protocol"
    assert summary["intake"]["running_pain"] == 5 and summary["intake"]["rest_pain"] == 1
    assert summary["intake"]["first_line_care"] == ["nsaids", "activity_reduction"]
    provenance = summary["provenance"]
    assert provenance["mediapipe"] == "0.10.21"
    assert provenance["pose_model"] and provenance["config_sha256"]
    assert (out / "report.html").stat().st_size > 10_000


def test_cli_frame_model_corrects_by_default_and_geometric_angles_turns_it_off(
    clips: dict[str, Clip], pose_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By default the learned frame model corrects a sample render's frontal angles that
    its real-video check verified (the others stay geometric): the report says what
    corrected them (not as a research option) and frames.csv keeps the
    geometric values; `--geometric-angles` reports the geometric ones and says nothing
    of the model."""
    monkeypatch.setenv("SCREENER_CACHE_DIR", str(pose_cache))
    clip = next(c for c in clips.values() if c.truth_json["task"] == "jog")
    out, plain = tmp_path / "default", tmp_path / "geometric"
    assert cli_main(["analyze", str(clip.video), "-o", str(out)]) == 0
    assert cli_main(["analyze", str(clip.video), "--geometric-angles", "-o", str(plain)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["provenance"]["frame_model"]["targets_corrected"]
    assert summary["provenance"]["frame_model"]["research_targets"] == []
    frames = pd.read_csv(out / "frames.csv")
    geometric = pd.read_csv(plain / "frames.csv")
    corrected = summary["provenance"]["frame_model"]["targets_corrected"]
    for col in corrected:
        base = col.removesuffix("_deg")
        np.testing.assert_allclose(frames[f"{base}_geometric_deg"], geometric[col], atol=1e-6)
        assert not np.allclose(frames[col], geometric[col], equal_nan=True)
    # the angles its real-video check did not verify stay the geometric ones
    for col in {"pelvic_obliquity_deg", "left_hip_adduction_deg"} - set(corrected):
        np.testing.assert_allclose(frames[col], geometric[col], atol=1e-6)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "were corrected by the learned frame model" in report
    assert "Research option" not in report
    plain_summary = json.loads((plain / "summary.json").read_text(encoding="utf-8"))
    assert plain_summary["provenance"]["frame_model"] is None
    assert "learned frame model" not in (plain / "report.html").read_text(encoding="utf-8")
    # the research option also corrects the unverified angles, and the report says so
    research = tmp_path / "research"
    assert (
        cli_main(["analyze", str(clip.video), "--research-frame-model", "-o", str(research)]) == 0
    )
    info = json.loads((research / "summary.json").read_text(encoding="utf-8"))["provenance"][
        "frame_model"
    ]
    assert set(info["targets_corrected"]) > set(corrected)
    assert set(info["research_targets"]) == set(info["targets_corrected"]) - set(corrected)
    assert "Research option" in (research / "report.html").read_text(encoding="utf-8")
    with pytest.raises(SystemExit):
        cli_main(["analyze", str(clip.video), "--geometric-angles", "--research-frame-model"])


def test_cli_times_stance_with_the_event_model_unless_rule_events_is_asked(
    clips: dict[str, Clip], pose_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By default a sample jog's stance phases are timed by the learned event model: the
    provenance names it, the phases are timed between frames, and the report says so in a
    note (not as a research option); `--rule-events` times them with the stance rule."""
    monkeypatch.setenv("SCREENER_CACHE_DIR", str(pose_cache))
    clip = next(c for c in clips.values() if c.truth_json["task"] == "jog")
    out, rule = tmp_path / "default", tmp_path / "rule"
    assert cli_main(["analyze", str(clip.video), "-o", str(out)]) == 0
    assert cli_main(["analyze", str(clip.video), "--rule-events", "-o", str(rule)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["provenance"]["event_model"]["applied"] is True
    events = pd.read_csv(out / "events.csv")
    frames = pd.read_csv(out / "frames.csv")
    assert not np.isin(events["t_start_s"], frames["time_s"]).all()
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "stance phases were timed by the learned event model" in report
    assert "Research option" not in report
    rule_summary = json.loads((rule / "summary.json").read_text(encoding="utf-8"))
    assert rule_summary["provenance"]["event_model"] is None
    assert np.isin(pd.read_csv(rule / "events.csv")["t_start_s"], frames["time_s"]).all()


@pytest.mark.parametrize("name", _truth_files(turns=True))
@pytest.mark.parametrize("view", ["auto", "anterior", "posterior"])
def test_a_walk_away_and_back_is_analysed_one_way_with_its_own_left_and_right(
    pose_cache: Path, name: str, view: str
) -> None:
    """A walk away from the camera, a turn, and back (MediaPipe on the rendered video):
    one way is analysed, in its own view, and every stance phase found is on the leg
    the truth has on the ground then; the turn is named in the warnings."""
    truth = json.loads((SAMPLES / f"{name}.truth.json").read_text())
    turn = truth["turn"]
    config = AnalysisConfig(cache_dir=pose_cache)
    result = screener.analyze(SAMPLES / truth["video"], view=view, config=config)  # type: ignore[arg-type]
    summary = result.summary
    assert summary["task"] == "walk"
    walking_turn = summary["view_detection"]["walking_turn"]
    assert walking_turn is not None
    start, end = walking_turn["analysed_s"]
    after = start >= turn["at_s"] + turn["duration_s"]
    assert after or end <= turn["at_s"]  # none of the turn, one way only
    assert summary["view"] == (turn["view_after"] if after else truth["view"])
    if view != "auto":
        assert summary["view"] == view
    assert any("turns around" in w for w in summary["quality"]["warnings"])
    events = result.events
    true = [
        e for e in truth["events"] if start - 0.1 <= e["t_start_s"] and e["t_end_s"] <= end + 0.1
    ]
    assert len(events) >= len(true) - 1 >= 3
    for side, t0, t1 in zip(events["side"], events["t_start_s"], events["t_end_s"], strict=True):
        match = [e for e in truth["events"] if abs(e["t_start_s"] - t0) < 0.1]
        assert match and match[0]["side"] == side and abs(match[0]["t_end_s"] - t1) < 0.1
