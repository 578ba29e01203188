"""The task and metric registry: a task and a metric added from here, without editing the
library, run through ``analyze_pose`` into summary.json, events.csv, the batch's tidy
tables, the report, the CLI and the batch manifest."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from scipy.signal import find_peaks

import screener
from screener.batch import state
from screener.batch.inputs import VideoJob, read_manifest
from screener.batch.tables import build_tables
from screener.cli import build_parser
from screener.config import MODELS_DIR, AnalysisConfig
from screener.errors import ConfigError
from screener.events import Span, leg_length_px
from screener.keypoints import PoseSequence
from screener.metrics import EVENT_COLUMNS, event_columns
from screener.tasks import (
    FoundEvents,
    MetricSpec,
    TaskSpec,
    get_task,
    register_metric,
    register_task,
    task_choices,
    task_names,
    unregister_metric,
    unregister_task,
)
from tests.synthetic import (
    HIP_HALF_WIDTH,
    HIP_HEIGHT,
    _figure_from_feet,
    jog_in_place,
    make_sequence,
)

CFG = AnalysisConfig(cache_dir=None, corrections_path=None)

N_REPS = 4
REP_S = 2.0
PAUSE_S = 0.6


def double_leg_squat(depth_m: float = 0.15, knees_in_m: float = 0.06) -> PoseSequence:
    """Both feet on the floor, the pelvis lowered and raised ``N_REPS`` times, each knee
    moving ``knees_in_m`` toward the midline at the deepest point (valgus)."""
    starts = [PAUSE_S + k * (REP_S + PAUSE_S) for k in range(N_REPS)]

    def figure(t: float) -> dict[str, np.ndarray]:
        frac = 0.0
        for start in starts:
            if start <= t <= start + REP_S:
                frac = 0.5 - 0.5 * np.cos(2 * np.pi * (t - start) / REP_S)
        centre = np.array([-0.15 * frac, HIP_HEIGHT - 0.01 - depth_m * frac, 0.0])
        ankles = {
            "left": np.array([0.0, 0.06, -HIP_HALF_WIDTH]),
            "right": np.array([0.0, 0.06, HIP_HALF_WIDTH]),
        }
        points = _figure_from_feet(centre, ankles)
        points["left_knee"] = points["left_knee"] + np.array([0.0, 0.0, knees_in_m * frac])
        points["right_knee"] = points["right_knee"] - np.array([0.0, 0.0, knees_in_m * frac])
        return points

    duration = PAUSE_S + N_REPS * (REP_S + PAUSE_S)
    return make_sequence(figure, fps=30, duration_s=duration)


def detect_double_leg_reps(
    pose: PoseSequence, side: str, view: str, config: AnalysisConfig, name: str
) -> FoundEvents:
    """The test task's own detector: each dip of the pelvis (deeper than
    ``min_rep_depth_leg``) is one repetition, on both legs."""
    pelvis_y = 0.5 * (pose.xy("left_hip")[:, 1] + pose.xy("right_hip")[:, 1])
    depth = (pelvis_y - np.nanmin(pelvis_y)) / np.nanmedian(leg_length_px(pose))
    peaks, props = find_peaks(
        depth, prominence=config.events.min_rep_depth_leg, distance=int(pose.fps)
    )
    spans = []
    for peak, left, right in zip(peaks, props["left_bases"], props["right_bases"], strict=True):
        for s in ("left", "right"):
            spans.append(Span("rep", s, int(left), int(right) + 1, int(peak)))
    masks = {s: np.ones(pose.n_frames, dtype=bool) for s in ("left", "right")}
    return FoundEvents(spans, masks, None)


def valgus_sum(frames: pd.DataFrame, side: str) -> np.ndarray:
    """The test metric: both knees' FPPA added (a double-leg squat's overall valgus)."""
    left = frames["left_knee_fppa_deg"].to_numpy(float)
    return left + frames["right_knee_fppa_deg"].to_numpy(float)


DLS = TaskSpec(
    name="dls",
    label="Double-leg squat",
    title="Double-leg squat (test)",
    help="double-leg squat, registered by the tests",
    detect_events=detect_double_leg_reps,
    cutoff_hz=6.0,
    event_values="repetition: every metric at the deepest point (t_peak_s)",
    event_noun="repetition(s)",
    missing_event="repetition of the double-leg squat",
    report_notes=("A task registered by the test suite.",),
)
METRIC = MetricSpec("knee_valgus_sum_deg", valgus_sum, "left plus right knee FPPA")

NORMS_DLS = """
[tasks.dls]
min_events = 3
min_events_source = "project"
min_events_verdict = 2
min_events_verdict_source = "project"

[tasks.dls.metrics.knee_fppa_deg]
fault = "knee_valgus"
label = "Knee valgus (FPPA), double-leg squat"
status = "provisional"
[tasks.dls.metrics.knee_fppa_deg.bands.any]
mild = 12.0
moderate = 16.0
severe = 20.0
source = "project"
basis = "a test figure"

[tasks.dls.metrics.knee_valgus_sum_deg]
label = "Both knees' valgus, summed"
status = "no_norm"
note = "a test metric"
"""


@pytest.fixture()
def registered(tmp_path) -> Iterator[AnalysisConfig]:
    """The test task and metric registered, and a norms file with the task's section."""
    register_task(DLS)
    register_metric(METRIC)
    norms = tmp_path / "norms.toml"
    norms.write_text(
        (MODELS_DIR / "norms.toml").read_text(encoding="utf-8") + NORMS_DLS, encoding="utf-8"
    )
    try:
        # settings made after the registration carry the task's defaults (and hash them)
        yield AnalysisConfig(cache_dir=None, corrections_path=None, norms_path=norms)
    finally:
        unregister_metric(METRIC.name)
        unregister_task(DLS.name)


def test_built_in_tasks_are_registered():
    assert task_names()[:3] == ("walk", "sls", "jog")
    assert get_task("sls").unilateral and not get_task("walk").unilateral
    assert CFG.cutoff_for("jog") == get_task("jog").cutoff_hz
    with pytest.raises(KeyError, match="unknown task 'run'"):
        get_task("run")
    with pytest.raises(ValueError, match="already registered"):
        register_task(dataclasses.replace(DLS, name="walk"))
    with pytest.raises(ValueError, match="identifier other than 'auto'"):
        dataclasses.replace(DLS, name="auto")


def test_a_registered_task_runs_through_analyze(registered, tmp_path):
    config = registered
    assert config.cutoff_for("dls") == 6.0  # its settings section, from the registry
    result = screener.analyze_pose(double_leg_squat(), task="dls", view="anterior", config=config)
    summary = result.summary
    assert summary["task"] == "dls"
    assert summary["event_values"] == DLS.event_values
    assert summary["stance_side"] is None
    events = result.events
    assert set(events["kind"]) == {"rep"}
    for side in ("left", "right"):
        assert (events["side"] == side).sum() == N_REPS
    assert list(events.columns) == list(event_columns())
    assert "knee_valgus_sum_deg" in events.columns
    # the metric is the two knees' FPPA added at each repetition's deepest point
    frames = result.frames
    at_peak = frames.loc[events["frame_peak"].to_numpy(int)]
    expected = at_peak["left_knee_fppa_deg"] + at_peak["right_knee_fppa_deg"]
    assert (events["knee_fppa_deg"] > 5.0).all()  # the planted valgus
    np.testing.assert_allclose(events["knee_valgus_sum_deg"], expected.to_numpy())
    assert summary["sides"]["left"]["knee_valgus_sum_deg"]["n"] == N_REPS
    graded = {(f["metric"], f["side"]) for f in summary["faults"]}
    assert ("knee_fppa_deg", "left") in graded and ("knee_fppa_deg", "right") in graded

    outdir = tmp_path / "dls"
    result.write(outdir)
    written = json.loads((outdir / "summary.json").read_text())
    assert written["task"] == "dls"
    assert "knee_valgus_sum_deg" in written["sides"]["right"]
    assert "knee_valgus_sum_deg" in pd.read_csv(outdir / "events.csv").columns
    report = (outdir / "report.html").read_text(encoding="utf-8")
    assert DLS.title in report
    assert "Both knees&#39; valgus, summed" in report or "Both knees' valgus, summed" in report
    assert "A task registered by the test suite." in report


def test_a_registered_task_reaches_the_tidy_tables(registered, tmp_path):
    result = screener.analyze_pose(
        double_leg_squat(), task="dls", view="anterior", config=registered
    )
    job = VideoJob(video_id="dls1", path=tmp_path / "dls1.mp4", meta={"path": "dls1.mp4"})
    result.write(state.video_dir(tmp_path, job.video_id), report=False)
    tables = build_tables([job], {"dls1": "ok"}, {}, tmp_path)
    assert set(tables.events["task"]) == {"dls"}
    assert "knee_valgus_sum_deg" in tables.events.columns
    metrics = set(tables.summary.loc[tables.summary["task"] == "dls", "metric"])
    assert {"knee_fppa_deg", "knee_valgus_sum_deg"} <= metrics


def test_the_cli_and_the_manifest_accept_a_registered_task(registered, tmp_path):
    args = build_parser().parse_args(["analyze", "clip.mp4", "--task", "dls"])
    assert args.task == "dls"
    assert "dls" in task_choices()
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,task\nclip.mp4,dls\nother.mp4,run\n", encoding="utf-8")
    jobs = read_manifest(manifest)
    assert jobs[0].task == "dls" and jobs[0].error is None
    assert jobs[1].error is not None and "dls" in jobs[1].error
    from screener.web.models import KIND_LABELS, RECORDING_KINDS

    assert RECORDING_KINDS["dls"] == ("dls", "auto")
    assert KIND_LABELS["dls"] == "Double-leg squat"


def test_an_unregistered_task_is_refused(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["analyze", "clip.mp4", "--task", "dls"])
    assert "invalid choice: 'dls'" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="unknown task 'dls'"):
        screener.analyze_pose(double_leg_squat(), task="dls", config=CFG)
    with pytest.raises(ValueError, match=r"unknown task\(s\) \['dls'\]"):
        AnalysisConfig(cleaning={"cutoff_hz": {"dls": 6.0}})


def test_a_norms_section_of_an_unregistered_task_is_refused(tmp_path):
    from screener.norms import load_norms

    norms = tmp_path / "norms.toml"
    norms.write_text(
        (MODELS_DIR / "norms.toml").read_text(encoding="utf-8") + NORMS_DLS, encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"unknown task\(s\) \['dls'\]"):
        load_norms(norms)


def test_a_metric_added_through_the_registry_is_computed_and_graded(tmp_path):
    """A metric registered here (no library file edited) is a column of events.csv, has
    per-side statistics, and is graded where the norms file gives it bands."""
    register_metric(METRIC)
    norms = tmp_path / "norms.toml"
    text = (MODELS_DIR / "norms.toml").read_text(encoding="utf-8")
    norms.write_text(
        text
        + """
[tasks.jog.metrics.knee_valgus_sum_deg]
fault = "knee_valgus"
label = "Both knees' valgus, summed"
status = "provisional"
[tasks.jog.metrics.knee_valgus_sum_deg.bands.any]
mild = 20.0
moderate = 30.0
severe = 40.0
source = "project"
basis = "a test figure"
""",
        encoding="utf-8",
    )
    try:
        figure, _ = jog_in_place()
        pose = make_sequence(figure, fps=60, duration_s=6.0)
        config = CFG.model_copy(update={"norms_path": norms})
        result = screener.analyze_pose(pose, task="jog", config=config)
    finally:
        unregister_metric(METRIC.name)
    events = result.events
    assert list(events.columns) == [*EVENT_COLUMNS, "knee_valgus_sum_deg"]
    assert np.isfinite(events["knee_valgus_sum_deg"]).all()
    stats = result.summary["sides"]["left"]["knee_valgus_sum_deg"]
    assert stats["n"] == (events["side"] == "left").sum()
    assert "knee_valgus_sum_deg" in result.summary["asymmetry"]
    entries = [f for f in result.summary["faults"] if f["metric"] == "knee_valgus_sum_deg"]
    assert {f["side"] for f in entries} == {"left", "right"}
    assert all(f["threshold"] == 20.0 for f in entries)
    # unregistered again: the built-in columns only
    assert event_columns() == EVENT_COLUMNS
