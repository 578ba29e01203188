"""bench/accuracy.py scores found stance phases against the rendered foot's floor contact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bench.accuracy import Tally, compare_events, fallback_readings

SAMPLES = Path(__file__).resolve().parent.parent / "sample_videos"


def _truth() -> pd.DataFrame:
    t = np.arange(0.0, 2.0, 1.0 / 30.0)
    cols = {"time_s": t, "pelvic_obliquity_deg": np.zeros_like(t), "trunk_lean_deg": 0.0 * t}
    for side in ("left", "right"):
        for metric in ("knee_fppa_deg", "hip_adduction_deg", "femoral_ir_deg", "knee_flexion_deg"):
            cols[f"{side}_{metric}"] = np.zeros_like(t)
    return pd.DataFrame(cols)


def _found(start: float, end: float) -> pd.DataFrame:
    row = {"kind": "stance", "side": "left", "t_start_s": start, "t_peak_s": 0.9, "t_end_s": end}
    for metric in (
        "pelvic_drop_deg", "knee_fppa_deg", "hip_adduction_deg", "femoral_ir_deg",
        "knee_flexion_deg", "trunk_lean_deg",
    ):  # fmt: skip
        row[metric] = 0.0
    return pd.DataFrame([row])


def _walk_truth(orientation: str, fps: float = 30.0) -> dict:
    """A walk's truth with one left stance phase (label 0.5-1.4 s, floor 0.56-1.37 s)."""
    label = {"kind": "stance", "side": "left", "t_start_s": 0.5, "t_peak_s": 0.9, "t_end_s": 1.4}
    return {
        "video": "walk.mp4",
        "task": "walk",
        "view": "anterior",
        "orientation": orientation,
        "fps": fps,
        "events": [{**label, "t_floor_on_s": 0.56, "t_floor_off_s": 1.37}],
    }


def test_floor_contact_errors_are_logged_beside_the_phase_label_errors() -> None:
    tally = Tally()
    compare_events(tally, _found(0.55, 1.35), _walk_truth("landscape"), _truth())
    # the timing's splits: picture orientation and frame rate
    assert tally.conditions["walk.mp4"]["orientation"] == "landscape"
    assert len(tally.floor_log) == 1
    clip, task, _near_edge, start, end = tally.floor_log[0]
    assert (clip, task) == ("walk.mp4", "walk")
    assert abs(start - (0.55 - 0.56)) < 1e-9 and abs(end - (1.35 - 1.37)) < 1e-9
    # the phase label's errors are still the ones in the main log
    assert abs(tally.timing["end"][0] - (1.35 - 1.4)) < 1e-9


def test_a_stance_without_a_seen_floor_contact_is_left_out_of_the_floor_log() -> None:
    label = {"kind": "stance", "side": "left", "t_start_s": 0.5, "t_peak_s": 0.9, "t_end_s": 1.4}
    for extra in ({}, {"t_floor_on_s": None, "t_floor_off_s": None}):
        truth_json = {
            "video": "j.mp4",
            "task": "jog",
            "view": "anterior",
            "events": [{**label, **extra}],
        }
        tally = Tally()
        compare_events(tally, _found(0.55, 1.25), truth_json, _truth())
        assert tally.floor_log == [] and tally.events_found == 1


def test_a_stance_phase_not_found_counts_against_the_floor_timing() -> None:
    label = {"kind": "stance", "side": "left", "t_start_s": 0.5, "t_peak_s": 0.9, "t_end_s": 1.4}
    event = {**label, "t_floor_on_s": 0.56, "t_floor_off_s": 1.37}
    truth_json = {"video": "w.mp4", "task": "walk", "view": "anterior", "events": [event]}
    tally = Tally()
    compare_events(tally, _found(0.55, 1.25).iloc[0:0], truth_json, _truth())
    assert len(tally.floor_log) == 1 and np.isnan(tally.floor_log[0][3])
    assert tally.events_found == 0


def _side_rows(task: str, n_sides: int, n_events: int, noise: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for clip in range(n_sides):
        truth = rng.uniform(0.0, 12.0)
        for _ in range(n_events):
            rows.append(
                {
                    "task": task,
                    "view": "anterior",
                    "metric": "pelvic_drop_deg",
                    "clip_seed": clip,
                    "side": "left",
                    "truth": truth,
                    "measured": truth + rng.normal(0.0, noise),
                }
            )
    return pd.DataFrame(rows)


def test_side_tracking_correlates_side_means_with_the_truth() -> None:
    from bench.accuracy import MIN_SIDES_FOR_R, side_tracking

    close = side_tracking(_side_rows("jog", 20, 5, 0.5, 1), ["task", "metric"])
    blind = _side_rows("jog", 20, 5, 0.5, 2)
    blind["measured"] = np.random.default_rng(3).normal(0.0, 3.0, len(blind))
    far = side_tracking(blind, ["task", "metric"])
    assert close.side_r.item() > 0.95 and close.n_sides.item() == 20
    assert abs(far.side_r.item()) < 0.5
    # sides with fewer events than the task's verdict floor (3 for a jog) are left out,
    # and too few sides give no correlation
    few = side_tracking(_side_rows("jog", 30, 2, 0.5, 4), ["task", "metric"])
    assert few.empty or few.n_sides.item() == 0
    small = side_tracking(_side_rows("jog", MIN_SIDES_FOR_R - 1, 5, 0.5, 5), ["task", "metric"])
    assert small.n_sides.item() == MIN_SIDES_FOR_R - 1 and np.isnan(small.side_r.item())


def test_clip_bootstrap_interval_resamples_clips_and_holds_the_rmse() -> None:
    from bench.accuracy import clip_bootstrap_ci, event_rmse_with_ci

    rng = np.random.default_rng(3)
    rows = []
    # task A: 12 clips, each with its own constant error (SD 3 deg) on 4 events
    for k in range(12):
        offset = rng.normal(0.0, 3.0)
        rows += [("A", f"a{k}", 10.0 + offset, 10.0) for _ in range(4)]
    # task B: one clip only: no interval
    rows += [("B", "b0", 12.0, 10.0), ("B", "b0", 11.0, 10.0)]
    # task C: two clips with errors 1 and 3: every resample lies between them
    rows += [("C", "c0", 11.0, 10.0), ("C", "c1", 13.0, 10.0)]
    table = pd.DataFrame(rows, columns=["task", "clip", "measured", "truth"])
    out = event_rmse_with_ci(table, ["task"])
    a, b, c = out.loc["A"], out.loc["B"], out.loc["C"]
    assert a.ci_low_deg < a.rmse_deg < a.ci_high_deg
    # clips, not events, are the unit: 12 clips give a wide interval around the RMSE
    assert a.ci_high_deg - a.ci_low_deg > 1.0
    assert np.isnan(b.ci_low_deg) and np.isnan(b.ci_high_deg)
    assert 1.0 <= c.ci_low_deg <= c.rmse_deg <= c.ci_high_deg <= 3.0
    # reproducible: the generator is seeded
    again = clip_bootstrap_ci(table, ["task"])
    assert again.loc["A"].ci_low_deg == a.ci_low_deg


def test_a_stance_whose_rendered_foot_dragged_through_its_swing_is_left_out() -> None:
    def stance(side: str, start: float, end: float, on: float) -> dict:
        return {"kind": "stance", "side": side, "t_start_s": start, "t_peak_s": start + 0.3,
                "t_end_s": end, "t_floor_on_s": on, "t_floor_off_s": end - 0.01}  # fmt: skip

    truth_json = {
        "video": "walk.mp4",
        "task": "walk",
        "view": "anterior",
        "events": [
            stance("left", 0.0, 0.6, on=0.02),
            # on the floor from 0.15 s into the left foot's 0.5 s labelled swing: a drag
            stance("left", 1.1, 1.7, on=0.75),
        ],
    }
    found = pd.concat([_found(0.0, 0.6), _found(1.1, 1.7)], ignore_index=True)
    tally = Tally()
    compare_events(tally, found, truth_json, _truth())
    assert tally.floor_left_out == [("walk.mp4", "dragged")]
    assert len(tally.floor_log) == 1
    assert abs(tally.floor_log[0][3] - (0.0 - 0.02)) < 1e-9


def test_the_fallbacks_a_clip_was_read_with_are_named_from_the_summary() -> None:
    summary = {
        "view_detection": {"from_walking_direction": True},
        "provenance": {"config": {"pose": {"square_crop_x_fraction": 0.41}}},
    }
    assert fallback_readings(summary) == ["view from the walking direction", "landscape square"]
    plain = {
        "view_detection": {"from_walking_direction": False},
        "provenance": {"config": {"pose": {"model_complexity": 1}}},
    }
    assert fallback_readings(plain) == []
    assert fallback_readings({}) == []


def test_front_squats_fppa_is_split_by_the_clothing_found(capsys: pytest.CaptureFixture) -> None:
    """Events of clips the screener found in a top over the hips are reported apart, with
    their own RMSE; clips whose clothing was not read do not split anything."""
    from bench.accuracy import report_clothing_warned

    def row(clip: str, err: float, covers: float, metric: str = "knee_fppa_deg") -> dict:
        return dict(
            clip=clip, task="sls", view="anterior", metric=metric, truth=10.0,
            measured=10.0 + err, measured_top_over_hips=covers,
        )  # fmt: skip

    rows = pd.DataFrame(
        [
            row("a", 3.0, 0.0),
            row("a", -3.0, 0.0),
            row("b", 6.0, 1.0),
            row("c", 2.0, np.nan),
            row("b", 40.0, 1.0, metric="hip_adduction_deg"),
        ]
    )
    report_clothing_warned(rows)
    out = capsys.readouterr().out
    assert "no top over the hips found: knee FPPA RMSE 2.71 deg (3 events, 2 clips)" in out
    assert "top over the hips found (warned): knee FPPA RMSE 6.00 deg (1 events, 1 clips)" in out
    report_clothing_warned(rows.assign(measured_top_over_hips=np.nan))
    assert capsys.readouterr().out == ""


def test_floor_timing_is_split_by_orientation_and_by_the_clip_edges() -> None:
    from bench.accuracy import floor_timing_table

    log = pd.DataFrame(
        {
            "task": ["walk"] * 5,
            "orientation": ["portrait", "portrait", "landscape", "landscape", "landscape"],
            "near_edge": [False, True, False, False, True],
            "start": [0.01, 0.2, -0.02, 0.03, np.nan],  # the last phase not found
            "end": [0.02, 0.0, 0.08, -0.01, np.nan],
        }
    )
    whole = floor_timing_table(log, ["task"]).iloc[0]
    assert whole["stance phases"] == 5 and whole["both"] == "40%"
    assert whole["both, away from the edges"] == "67% of 3"
    split = floor_timing_table(log, ["task", "orientation"]).set_index("orientation")
    assert split.loc["landscape", "stance phases"] == 3
    assert split.loc["landscape", "both"] == "33%"
    assert split.loc["landscape", "both, away from the edges"] == "50% of 2"
    assert split.loc["portrait", "both"] == "50%"
    assert split.loc["portrait", "both, away from the edges"] == "100% of 1"
    assert split.loc["portrait", "start bias ms"] == 105


def test_floor_timing_is_also_split_by_frame_rate(capsys: pytest.CaptureFixture) -> None:
    from bench.accuracy import report_floor_timing

    tally = Tally()
    # the 24 fps clip's stance found 80 ms late at both edges, the 60 fps one on time
    compare_events(tally, _found(0.64, 1.45), _walk_truth("portrait", 24.0), _truth(), folder="a")
    compare_events(tally, _found(0.55, 1.35), _walk_truth("portrait", 60.0), _truth(), folder="b")
    report_floor_timing(tally)
    out = capsys.readouterr().out
    assert "by picture orientation:" not in out  # one orientation: no split
    table = out.split("by frame rate:")[1].splitlines()[2:4]
    assert table[0].split()[:3] == ["walk", "24.0", "1"] and " 0% " in table[0]
    assert table[1].split()[:3] == ["walk", "60.0", "1"] and " 100% " in table[1]


def test_clips_of_two_folders_with_one_name_are_tallied_as_two_clips() -> None:
    tally = Tally()
    for folder in ("final41_inside", "final42_inside"):
        compare_events(tally, _found(0.55, 1.25), _walk_truth("portrait"), _truth(), folder=folder)
    clips = {row["clip"] for row in tally.event_rows}
    assert clips == {"final41_inside/walk.mp4", "final42_inside/walk.mp4"}
    assert set(tally.conditions) == clips
    assert {entry[0] for entry in tally.floor_log} == clips
    assert {entry[0] for entry in tally.event_log} == clips


def test_per_condition_rmse_counts_clips_and_resamples_them() -> None:
    from bench.accuracy import by_condition

    rng = np.random.default_rng(5)
    rows = []
    # ten clips at each roll band; 3 events a clip sharing the clip's error; the larger
    # roll's clips err with SD 4 deg, the smaller's with SD 1 deg
    for band, roll, sd in (("low", 1.0, 1.0), ("high", 4.5, 4.0)):
        for k in range(10):
            offset = rng.normal(0.0, sd)
            for _ in range(3):
                rows.append(
                    {
                        "clip": f"{band}{k}", "metric": "knee_fppa_deg", "truth": 10.0,
                        "measured": 10.0 + offset, "azimuth_deg": 2.0, "yaw_deg": 2.0,
                        "roll_deg": roll, "camera_height_m": 0.8, "fps": 30.0,
                        "trousers": False, "long_top": False, "fill": np.nan,
                        "orientation": "portrait", "light": 1.0, "view": "anterior",
                    }
                )  # fmt: skip
    table = pd.DataFrame(rows)
    out = by_condition(table, table.measured.to_numpy())
    by_roll = out[out.condition == "roll"].set_index("level")
    assert list(by_roll.index) == ["[0, 2)", "[4, 6)"]  # the bands' order, empty one left out
    assert (by_roll.clips == 10).all() and (by_roll.n == 30).all()
    low, high = by_roll.loc["[0, 2)"], by_roll.loc["[4, 6)"]
    assert low.rmse_deg < high.rmse_deg
    for cell in (low, high):
        assert cell.ci_low_deg < cell.rmse_deg < cell.ci_high_deg
    # a condition no clip records (the subject's size here) gives no row, not a NaN level
    assert out[out.condition == "subject size (fill at the nearest)"].empty


def _condition_row(k: int, error: float, **condition: float) -> dict[str, Any]:
    """Clip ``c{k}``'s knee FPPA event, ``error`` degrees off a true 10, filmed in one
    set of conditions but ``condition``."""
    return {
        "clip": f"c{k}", "metric": "knee_fppa_deg", "truth": 10.0, "measured": 10.0 + error,
        "azimuth_deg": 2.0, "yaw_deg": 2.0, "roll_deg": 1.0, "camera_height_m": 0.8,
        "fps": 30.0, "trousers": False, "long_top": False, "fill": 0.6,
        "orientation": "portrait", "light": 1.0, "view": "anterior", **condition,
    }  # fmt: skip


def test_the_lens_elevation_above_the_aim_point_is_a_capture_condition() -> None:
    from bench.accuracy import by_condition, clip_conditions

    # a lens 1.2 m high aimed at hips 0.9 m high from 2 m away looks down atan(0.3/2)
    high = clip_conditions(
        {"camera": {"position_m": [0.0, -2.0, 1.2], "target_m": [0.0, 0.0, 0.9]}}
    )
    assert high["elevation_deg"] == pytest.approx(np.degrees(np.arctan2(0.3, 2.0)))
    level = clip_conditions({"camera": {"position_m": [0, -2, 0.9], "target_m": [0, 0, 0.9]}})
    assert level["elevation_deg"] == pytest.approx(0.0)
    assert np.isnan(clip_conditions({"camera": {}})["elevation_deg"])  # not recorded
    rows = pd.DataFrame(
        [
            _condition_row(
                k, 3.0 if k < 4 else 1.0,
                elevation_deg=high["elevation_deg"] if k < 4 else level["elevation_deg"],
            )
            for k in range(8)
        ]
    )  # fmt: skip
    out = by_condition(rows, rows.measured.to_numpy())
    table = out[out.condition == "lens elevation"].set_index("level")
    assert list(table.index) == ["[0, 5)", "[5, 10)"]
    assert table.loc["[5, 10)", "rmse_deg"] == pytest.approx(3.0)
    assert table.loc["[0, 5)", "rmse_deg"] == pytest.approx(1.0)


def test_the_patients_stature_is_a_condition_of_the_figures() -> None:
    from bench.accuracy import GLANCE_NAMES, by_condition, clip_conditions

    assert clip_conditions({"body": {"stature_m": 1.42}})["stature_m"] == pytest.approx(1.42)
    assert np.isnan(clip_conditions({})["stature_m"])  # a clip without a body record
    rows = pd.DataFrame(
        [
            _condition_row(k, 4.0 if k < 3 else 2.0, stature_m=1.4 if k < 3 else 1.9)
            for k in range(7)
        ]
    )
    table = by_condition(rows, rows.measured.to_numpy())
    stature = table[table.condition == "stature"].set_index("level")
    assert list(stature.index) == ["(1.0, 1.55]", "(1.8, 2.5]"]
    assert stature.loc["(1.0, 1.55]", "rmse_deg"] == pytest.approx(4.0)
    assert stature.loc["(1.8, 2.5]", "clips"] == 4
    assert GLANCE_NAMES["stature"] == "patient's stature (m)"


def test_the_stance_leg_reading_is_tallied_by_view_and_lens_elevation() -> None:
    from bench.accuracy import stance_leg_by_elevation

    tally = Tally()
    reads = [  # (clip, view, true side, read, elevation)
        ("a", "posterior", "left", "left", -3.0),
        ("b", "posterior", "left", "right", 17.0),
        ("c", "posterior", "right", "asked", 16.0),
        ("d", "posterior", "right", "right", 18.0),
        ("e", "anterior", "left", "left", 2.0),
        ("f", "anterior", "right", "refused: no_person", 2.5),
    ]
    for clip, view, side, read, elevation in reads:
        tally.view_side.append((clip, view, view, side, read))
        tally.conditions[clip] = {"elevation_deg": elevation}
    tally.view_side.append(("w", "anterior", "anterior", "", ""))  # a walk: no stance leg
    table = stance_leg_by_elevation(tally)
    flat = table.reset_index().assign(band=lambda f: f.elevation_deg.astype(str))

    def cell(view: str, band: str) -> pd.Series:
        return flat[(flat.view == view) & (flat.band == band)].iloc[0]

    steep = cell("posterior", "[15, 45)")
    assert (steep["right"], steep["asked"], steep["wrong"]) == (1, 1, 1)
    assert cell("posterior", "[-45, 0)")["right"] == 1
    front = cell("anterior", "[0, 5)")
    assert (front["right"], front["refused"]) == (1, 1)
    assert int(table.to_numpy().sum()) == 6  # the walk is not counted
    assert stance_leg_by_elevation(Tally()).empty


def test_the_glance_tables_give_each_task_and_condition_its_rmse_and_interval() -> None:
    from bench.accuracy import glance_markdown

    rows = []
    # walks from the front: 6 clips, errors 1 deg (FPPA), 2 deg (drop), 3 deg (adduction)
    # on every event; squats from behind: 4 clips, errors twice as large
    for task, view, scale, n_clips in (("walk", "anterior", 1.0, 6), ("sls", "posterior", 2.0, 4)):
        for k in range(n_clips):
            for metric, err in (
                ("knee_fppa_deg", 1.0), ("pelvic_drop_deg", 2.0), ("hip_adduction_deg", 3.0),
                ("femoral_ir_deg", 20.0),
            ):  # fmt: skip
                rows.append(
                    {
                        "clip": f"f/{task}{k}", "task": task, "view": view, "metric": metric,
                        "truth": 5.0, "measured": 5.0 + scale * err, "azimuth_deg": 2.0,
                        "yaw_deg": 2.0, "roll_deg": 1.0, "camera_height_m": 0.8, "fps": 30.0,
                        "trousers": False, "long_top": False, "fill": 0.6,
                        "orientation": "portrait", "light": 1.0,
                        "measured_subject_luma": 90.0,  # the screener's own: not a condition
                    }
                )  # fmt: skip
    text = glance_markdown(pd.DataFrame(rows))
    lines = text.splitlines()
    assert "| single-leg squat | behind | 4 | 2.00 (2.00-2.00) | 4.00 (4.00-4.00) | 6.00 " in text
    assert "| walk | front | 6 | 1.00 (1.00-1.00) | 2.00 (2.00-2.00) | 3.00 (3.00-3.00) |" in lines
    # one level of each condition holds every clip: RMSE over both tasks (10 clips)
    fps = [line for line in lines if line.startswith("| frame rate |")]
    assert len(fps) == 1 and fps[0].startswith("| frame rate | 30 fps | 10 | ")
    assert any(line.startswith("| long trousers | no | 10 |") for line in lines)
    # femoral IR, the nominal yaw and the screener's own readings are not in the tables
    assert "20.00" not in text and "yaw (nominal)" not in text and "luma" not in text


@pytest.mark.video
def test_a_squats_stance_leg_is_read_with_side_auto_not_echoed_from_the_truth() -> None:
    """The bench's "stance leg read" comes from an analysis given no side (before session
    34 it compared the side it had given with itself)."""
    from bench.accuracy import load_truth, read_stance_side
    from screener.config import AnalysisConfig

    truth_path = SAMPLES / "sls_left_normal_ant_30fps.truth.json"
    truth_json, _ = load_truth(truth_path)
    liar = {**truth_json, "stance_side": "right"}  # the truth's side is not looked at
    assert read_stance_side(truth_path, liar, AnalysisConfig(cache_dir=None)) == "left"


def test_a_request_for_side_is_told_apart_from_other_refusals(monkeypatch) -> None:
    import bench.accuracy as bench_accuracy
    from screener.errors import NoPersonError, ScreenerError

    def asks(*args, **kwargs):
        raise ScreenerError("could not tell the stance leg", remedy="Give it with --side left")

    def refuses(*args, **kwargs):
        raise NoPersonError("no person in the video", remedy="Film the whole body.")

    monkeypatch.setattr(bench_accuracy, "analyze_clip", asks)
    assert bench_accuracy.read_stance_side(Path("x.truth.json"), {}, None) == "asked"
    monkeypatch.setattr(bench_accuracy, "analyze_clip", refuses)
    assert bench_accuracy.read_stance_side(Path("x.truth.json"), {}, None) == "refused: no_person"


def test_task_detection_is_scored_with_the_squats_true_stance_leg_given(monkeypatch) -> None:
    """A squat whose task is read right but whose stance leg is not told is not a task
    missed: the task is scored with the true leg given, the leg by read_stance_side."""
    from types import SimpleNamespace

    import bench.accuracy as bench_accuracy
    from screener.errors import NoPersonError

    def reads(truth_path, truth_json, config, **choices):
        if choices.get("side", "auto") == "auto" and truth_json["task"] == "sls":
            raise NoPersonError("the feet are not seen together", remedy="Give --side.")
        return SimpleNamespace(summary={"task": truth_json["task"]})

    monkeypatch.setattr(bench_accuracy, "analyze_clip", reads)
    squat = {"task": "sls", "stance_side": "left"}
    assert bench_accuracy.read_task(Path("x.truth.json"), squat, None) == "sls"
    walk = {"task": "walk", "stance_side": None}
    assert bench_accuracy.read_task(Path("x.truth.json"), walk, None) == "walk"

    def refuses(*args, **kwargs):
        raise NoPersonError("no person in the video", remedy="Film the whole body.")

    monkeypatch.setattr(bench_accuracy, "analyze_clip", refuses)
    assert bench_accuracy.read_task(Path("x.truth.json"), squat, None) == "error: no_person"


def test_a_walking_stance_whose_rendered_foot_left_the_floor_early_is_left_out(
    capsys: pytest.CaptureFixture,
) -> None:
    from bench.accuracy import report_floor_timing

    # labelled stance 0.5-1.4 s; the rendered foot off the floor at 1.10 s, a third of the
    # stance before the labelled toe-off: lifted, no toe-off to time
    truth_json = _walk_truth("portrait")
    truth_json["events"][0]["t_floor_off_s"] = 1.10
    tally = Tally()
    compare_events(tally, _found(0.55, 1.35), truth_json, _truth(), folder="a")
    assert tally.floor_log == [] and tally.floor_left_out == [("a/walk.mp4", "lifted")]
    # a jog's contact ending as early is kept: the rule is for walks
    jog = {**truth_json, "video": "jog.mp4", "task": "jog"}
    compare_events(tally, _found(0.55, 1.35), jog, _truth(), folder="a")
    assert [entry[:2] for entry in tally.floor_log] == [("a/jog.mp4", "jog")]
    report_floor_timing(tally)
    assert "left out: 1 walking stance phase(s) whose rendered foot left" in capsys.readouterr().out
    # counted only among the clips a report is restricted to
    report_floor_timing(tally, clips={"a/jog.mp4"})
    assert "left out" not in capsys.readouterr().out


def test_a_settings_file_is_the_base_the_options_apply_on(monkeypatch, tmp_path: Path) -> None:
    """--config starts from the file's settings (as `screener analyze --config`), and the
    bench's own options still apply on top of it."""
    import json
    from types import SimpleNamespace

    import bench.accuracy as bench_accuracy

    truth = {"video": "stand.mp4", "task": "stand", "view": "anterior"}
    (tmp_path / "stand.truth.json").write_text(json.dumps(truth))
    settings = tmp_path / "cut.toml"
    settings.write_text("[cleaning.cutoff_hz]\njog = 12.0\n")
    seen = []

    def reads(truth_path, truth_json, config, **choices):
        seen.append(config)
        return SimpleNamespace(summary={"task": "stand"})

    monkeypatch.setattr(bench_accuracy, "load_truth", lambda p: (json.loads(p.read_text()), None))
    monkeypatch.setattr(bench_accuracy, "analyze_clip", reads)
    bench_accuracy.main([str(tmp_path), "--config", str(settings), "--geometric", "--skip-auto"])
    assert seen, "the clip was not analysed"
    assert seen[0].cleaning.cutoff_hz == {"walk": 6.0, "sls": 6.0, "jog": 12.0}
    assert seen[0].frame_model_path is None  # --geometric on top of the file


def test_a_bad_settings_file_is_one_line_naming_it(tmp_path: Path, capsys) -> None:
    import bench.accuracy as bench_accuracy

    settings = tmp_path / "bad.toml"
    settings.write_text("[cleaning.cutoff_hz]\njog = -3.0\n")
    with pytest.raises(SystemExit) as stop:
        bench_accuracy.main([str(tmp_path), "--config", str(settings)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "invalid settings" in err and "Traceback" not in err


def test_grade_table_counts_grades_read_right_milder_harsher_and_within_the_span():
    from bench.accuracy import grade_table

    columns = ["clip", "fault", "side", "verdict", "severity", "low", "high", "true_grade"]
    grades = pd.DataFrame(
        [
            ("a", "knee_valgus", "left", "flag", "mild", "none", "moderate", "mild"),  # right
            ("b", "knee_valgus", "left", "flag", "mild", "none", "moderate", "severe"),  # milder
            ("c", "knee_valgus", "left", "flag", "mild", "mild", "severe", "moderate"),  # spanned
            ("d", "trunk_lean", "left", "no flag", "none", "none", "none", "mild"),  # milder
            ("e", "trunk_lean", "left", "flag", "severe", "severe", "severe", "none"),  # harsher
        ],
        columns=columns,
    )
    table = grade_table(grades)
    knee, lean, every = table.loc["knee_valgus"], table.loc["trunk_lean"], table.loc["all"]
    assert (knee["n"], knee["milder"], knee["harsher"]) == (3, 2, 0)
    assert knee["right"] == pytest.approx(1 / 3)
    assert knee["within_span"] == pytest.approx(2 / 3)  # b's severe is beyond moderate
    assert knee["milder_within_span"] == 1 and knee["span_wider"] == pytest.approx(1.0)
    assert (lean["n"], lean["milder"], lean["harsher"], lean["within_span"]) == (2, 1, 1, 0.0)
    assert every["n"] == 5 and every["within_span"] == pytest.approx(2 / 5)
    assert every["right"] == pytest.approx(1 / 5) and every["span_wider"] == pytest.approx(3 / 5)


def test_a_squats_true_and_measured_depth_reach_the_event_rows() -> None:
    tally = Tally()
    truth_json = {**_walk_truth("portrait"), "squat": {"depth_deg": 62.5}}
    compare_events(tally, _found(0.55, 1.35), truth_json, _truth(), squat_depth_deg=70.0)
    compare_events(tally, _found(0.55, 1.35), _walk_truth("portrait"), _truth(), folder="b")
    first = [row for row in tally.event_rows if row["folder"] == ""]
    assert {row["squat_depth_deg"] for row in first} == {62.5}
    assert {row["measured_squat_depth_deg"] for row in first} == {70.0}
    other = [row for row in tally.event_rows if row["folder"] == "b"]
    assert all(np.isnan(row["squat_depth_deg"]) for row in other)  # not a squat
    assert all(np.isnan(row["measured_squat_depth_deg"]) for row in other)  # not measured
