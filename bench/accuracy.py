"""Accuracy of the screener against rendered clips with exact truth.

Usage::

    python bench/accuracy.py [FOLDER ...] [--csv OUT.csv] [--no-cache]

Each FOLDER holds clips ``NAME.mp4``/``.mov`` with ``NAME.truth.json`` and
``NAME.truth.csv`` (format: docs/ARCHITECTURE.md). For every clip it runs
``screener.analyze`` with the clip's task given (and again with ``task="auto"`` to score
task detection) and prints:

- per metric, over the frames where both are present (a leg's metrics over its stance
  frames): RMSE, bias (screener - truth) and Pearson r against the joint-centre truth,
  and the RMSE against the same angles from the rendered body's surface keypoints
  (what a camera can see: a skinned body's surface follows its bones only in part);
- events: the share of true stance phases / repetitions found and the timing error of
  their start, peak and end;
- per-event values (peak in stance, deepest point in a rep) against the same rule applied
  to the truth series;
- fault flags: sensitivity and specificity against the planted faults, over every
  (clip, side, fault) pair the norms file gives a verdict for; planted faults of a metric
  with no norm for the task (femoral rotation, walking pelvic drop) are listed apart.

It prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from screener.config import EventConfig
from screener.events import locate_rep
from screener.faults import classify_severity
from screener.norms import SEVERITIES, Bands
from screener_synth.contact import posing_artefact

FRAME_METRICS = {
    "pelvic_obliquity_deg": ["pelvic_obliquity_deg"],
    "knee_fppa_deg": ["left_knee_fppa_deg", "right_knee_fppa_deg"],
    "hip_adduction_deg": ["left_hip_adduction_deg", "right_hip_adduction_deg"],
    "femoral_ir_deg": ["left_femoral_ir_deg", "right_femoral_ir_deg"],
    "knee_flexion_deg": ["left_knee_flexion_deg", "right_knee_flexion_deg"],
    "trunk_lean_deg": ["trunk_lean_deg"],
}
#: Where a clip's conditions (:func:`clip_conditions`, the events table's columns) hold
#: each envelope range that is not named alike: the envelope's yaw is judged on the lens'
#: azimuth around the subject.
ENVELOPE_CONDITION_COLUMNS = {"yaw_deg": "azimuth_deg"}
#: The repetition edge rule of the screener's event settings, applied to the truth.
REP_EDGE = EventConfig().rep_edge_fraction
#: Event values scored against the truth read with the screener's event rule; trunk lean
#: since session 6, so that its verdicts too use the screener's own measured error.
EVENT_METRICS = (
    "pelvic_drop_deg",
    "knee_fppa_deg",
    "hip_adduction_deg",
    "femoral_ir_deg",
    "trunk_lean_deg",
)
#: Faults scored against what the generator planted. Trunk lean is not among them: the
#: corpus plants at most 8 deg, the generator's own fault threshold, so it never expects
#: a lean while the screener's provisional norm flags from 5 deg; trunk-lean flags are
#: scored against that norm applied to the truth (:data:`RULE_FAULTS`).
FAULTS = ("pelvic_drop", "knee_valgus", "femoral_ir")
TARGETS = {
    "knee_fppa_deg": 3.0,
    "pelvic_obliquity_deg": 2.0,
    "pelvic_drop_deg": 2.0,
    "hip_adduction_deg": 3.0,
    "femoral_ir_deg": 6.0,
}


@dataclass
class Tally:
    """Accumulated comparisons over clips."""

    frame_pairs: dict[str, list[np.ndarray]] = field(default_factory=dict)
    #: the same frames against the truth's 2D angles from the body's surface keypoints
    surface_pairs: dict[str, list[np.ndarray]] = field(default_factory=dict)
    event_pairs: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    timing: dict[str, list[float]] = field(
        default_factory=lambda: {"start": [], "peak": [], "end": []}
    )
    rep_edges_rule: dict[str, list[float]] = field(default_factory=lambda: {"start": [], "end": []})
    events_true: int = 0
    events_found: int = 0
    #: per true event: task, whether it lies within EDGE_S of the clip's start or end,
    #: found, and the start, peak and end timing errors (s; NaN when not found)
    event_log: list[tuple[str, str, bool, bool, float, float, float]] = field(default_factory=list)
    #: per true stance phase whose truth has the rendered foot's floor contact
    #: (``t_floor_on_s``, ``t_floor_off_s``): clip, task, near the edge, start and end
    #: errors of the matching found phase against that contact (s; NaN when not found)
    floor_log: list[tuple[str, str, bool, float, float]] = field(default_factory=list)
    #: (clip, why) of each true stance phase with a seen floor contact left out of
    #: ``floor_log``: "dragged" or "lifted"
    #: (:func:`screener_synth.contact.posing_artefact`)
    floor_left_out: list[tuple[str, str]] = field(default_factory=list)
    #: each clip's capture conditions (:func:`clip_conditions`), by clip name: the timing
    #: splits (orientation, frame rate) need them for clips with no event found too
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)
    flags: list[tuple[str, str, str, bool, bool]] = field(default_factory=list)
    task_hits: list[tuple[str, str, str]] = field(default_factory=list)
    unjudged: list[tuple[str, str, str]] = field(default_factory=list)
    #: (clip, fault, side, the norm applied to truth says flag, verdict) per judged side
    rule_flags: list[tuple[str, str, str, bool, str]] = field(default_factory=list)
    #: (clip, fault, side, verdict, grade read, span's low and high, the norm's grade of
    #: the true mean) per graded side (:func:`screener.faults.severity_span`)
    grades: list[tuple[str, str, str, str, str, str, str, str]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    #: (clip, fault, side, planted) of every "cannot rule out" verdict
    cannot_rule_out: list[tuple[str, str, str, bool]] = field(default_factory=list)
    #: (clip, inside the envelope by its truth, outcome: "refused", "warned" or "clean")
    envelope: list[tuple[str, bool, str, str]] = field(default_factory=list)
    #: (clip, true view, read view, true side, read side) of clips analysed with view auto
    view_side: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    #: one row per matched event and metric: task, view, conditions, measured, truth
    event_rows: list[dict[str, Any]] = field(default_factory=list)
    #: (clip, inside the envelope, what) of each clip read by one of the screener's
    #: fallbacks (:func:`fallback_readings`)
    fallbacks: list[tuple[str, bool, str]] = field(default_factory=list)

    def inside_clips(self) -> set[str]:
        """The clips whose camera lies inside the envelope by their truth."""
        return {clip for clip, is_in, *_ in self.envelope if is_in}

    def inside_event_rows(self) -> pd.DataFrame:
        """``event_rows`` of the clips inside the envelope, with finite values."""
        rows = pd.DataFrame(self.event_rows)
        if rows.empty:
            return rows
        inside = rows["clip"].isin(self.inside_clips())
        return rows[inside & np.isfinite(rows.measured) & np.isfinite(rows.truth)]


def find_clips(folders: list[Path]) -> list[Path]:
    """Truth JSON files of every clip under the folders."""
    out: list[Path] = []
    for folder in folders:
        out.extend(sorted(folder.rglob("*.truth.json")))
    return out


def load_truth(truth_path: Path) -> tuple[dict, pd.DataFrame]:
    """A clip's truth summary and per-frame truth (``.truth.csv`` or ``.truth.csv.gz``)."""
    truth_json = json.loads(truth_path.read_text())
    stem = truth_path.name.removesuffix(".truth.json")
    table = truth_path.with_name(f"{stem}.truth.csv")
    if not table.exists():
        table = truth_path.with_name(f"{stem}.truth.csv.gz")
    return truth_json, pd.read_csv(table)


def analyze_clip(truth_path: Path, truth_json: dict, config: Any, **choices: Any) -> Any:
    """Screen one clip: its video when present, else its stored landmarks (a corpus).

    ``choices`` are :func:`screener.analyze`'s ``task``, ``side`` and ``view``.
    """
    import screener
    from screener.keypoints import PoseSequence

    video = truth_path.parent / truth_json["video"]
    if video.exists() or "keypoints" not in truth_json:
        return screener.analyze(video, config=config, **choices)
    raw = PoseSequence.load(truth_path.parent / truth_json["keypoints"])
    return screener.analyze_pose(raw, config=config, video_path=video, **choices)


def compare_frames(tally: Tally, frames: pd.DataFrame, truth: pd.DataFrame) -> None:
    """Pair every frame metric with its truth.

    A leg's metrics are compared over that leg's stance frames (the supporting leg of a
    squat), where they are read; a swinging knee flexed toward the camera has no
    meaningful frontal-plane angle. Whole-body metrics use every frame.
    """
    merged = frames.merge(truth, on="frame", suffixes=("", "_true"))
    for metric, cols in FRAME_METRICS.items():
        for col in cols:
            if col not in frames or col not in truth:
                continue
            est = merged[col].to_numpy(float)
            ref = merged[f"{col}_true"].to_numpy(float)
            ok = np.isfinite(est) & np.isfinite(ref)
            side = col.split("_", 1)[0]
            if side in ("left", "right") and f"{side}_in_stance_true" in merged:
                ok &= merged[f"{side}_in_stance_true"].to_numpy() > 0
            tally.frame_pairs.setdefault(metric, []).append(np.column_stack([est[ok], ref[ok]]))
            if f"{col}_surface" in merged:
                surf = merged[f"{col}_surface"].to_numpy(float)
                both = ok & np.isfinite(surf)
                tally.surface_pairs.setdefault(metric, []).append(
                    np.column_stack([est[both], surf[both]])
                )


def truth_event_value(truth: pd.DataFrame, event: dict, metric: str) -> float:
    """The truth series read with the screener's event rule."""
    side = event["side"]
    t = truth["time_s"].to_numpy(float)
    window = (t >= event["t_start_s"] - 1e-9) & (t <= event["t_end_s"] + 1e-9)
    sign = 1.0 if side == "right" else -1.0
    if metric == "pelvic_drop_deg":
        series = sign * truth["pelvic_obliquity_deg"].to_numpy(float)
    elif metric == "trunk_lean_deg":  # toward the stance side, as screener.metrics reads it
        series = -sign * truth["trunk_lean_deg"].to_numpy(float)
    else:
        series = truth[f"{side}_{metric}"].to_numpy(float)
    if event["kind"] == "rep":
        k = int(np.argmin(np.abs(t - event["t_peak_s"])))
        return float(series[k])
    values = series[window]
    return float(np.nanmax(values)) if np.isfinite(values).any() else float("nan")


def truth_rep_edges(truth: pd.DataFrame, event: dict) -> tuple[float, float] | None:
    """Start and end of a true repetition found by the screener's own rule
    (:func:`screener.events.locate_rep`) on the joint-centre pelvis.

    The generator's start and end are where the knee starts to bend and comes back
    straight; the pelvis a frontal camera sees lags them. This says how far the rule is
    from the true edges even on exact joint centres, apart from MediaPipe's error."""
    cols = ("left_hip_y_px", "right_hip_y_px", "left_ankle_y_px", "right_ankle_y_px")
    if not all(c in truth.columns for c in cols):
        return None
    t = truth["time_s"].to_numpy(float)
    y = 0.5 * (truth[cols[0]].to_numpy(float) + truth[cols[1]].to_numpy(float))
    ankle = np.fmax(truth[cols[2]].to_numpy(float), truth[cols[3]].to_numpy(float))
    window = np.flatnonzero((t >= event["t_start_s"] - 0.5) & (t <= event["t_end_s"] + 0.5))
    if window.size < 5 or not np.isfinite(y[window]).all():
        return None
    leg = float(np.nanmax(ankle[window]) - np.min(y[window]))  # the foot on the floor
    depth = (y[window] - y[window].min()) / leg
    peak = int(np.argmin(np.abs(t[window] - event["t_peak_s"])))
    rep = locate_rep(depth, peak, 0, window.size - 1, REP_EDGE)
    return float(t[window[rep.start]]), float(t[window[rep.end]])


def camera_azimuth_deg(camera: dict) -> float:
    """Where the lens is around the subject: the angle, about the vertical, between the
    subject's frontal axis and the line from the point the camera looks at to the lens
    (degrees, + toward the subject's left in an anterior view).

    The generator's ``yaw_deg`` swings the camera about that point and then shifts it
    sideways by ``lateral_m``: at 2-4 m a 0.3 m shift adds 4-8 degrees. The azimuth is
    what turns the 2D angles and what the screener's capture check estimates, so the
    envelope is judged on it.
    """
    if "position_m" not in camera or "target_m" not in camera:
        return float(camera.get("yaw_deg", 0.0))
    dx = camera["position_m"][0] - camera["target_m"][0]
    dy = abs(camera["position_m"][1] - camera["target_m"][1])
    return float(np.degrees(np.arctan2(dx, dy)))


def camera_elevation_deg(camera: dict) -> float:
    """The lens' elevation above the point the camera looks at, seen from that point
    (degrees, + with the lens above it).

    The generator aims a squat's, a jog's or standing clip's camera at half the
    subject's stature (about the hips) and a walk's at 0.45 of it on the walking line,
    so for the tasks in place this is the lens' elevation above the hips and the
    camera's downward pitch.
    """
    pos, tgt = np.asarray(camera["position_m"], float), np.asarray(camera["target_m"], float)
    return float(np.degrees(np.arctan2(pos[2] - tgt[2], np.hypot(*(tgt - pos)[:2]))))


def clip_conditions(truth_json: dict) -> dict[str, Any]:
    """The capture conditions of a rendered clip, for per-condition figures."""
    cam = truth_json.get("camera", {})
    look = truth_json.get("look") or {}
    return {
        "yaw_deg": float(cam.get("yaw_deg", 0.0)),
        "azimuth_deg": camera_azimuth_deg(cam),
        "roll_deg": float(cam.get("roll_deg", 0.0)),
        "camera_height_m": float(cam.get("height_m", np.nan)),
        "elevation_deg": (
            camera_elevation_deg(cam) if "position_m" in cam and "target_m" in cam else np.nan
        ),
        "fill": float(cam.get("fill", np.nan)),
        "fps": float(truth_json.get("fps", np.nan)),
        "trousers": bool(look.get("trousers", False)),
        "long_top": bool(look.get("long_top", False)),
        "orientation": truth_json.get("orientation", ""),
        "light": float(look.get("light", np.nan)),
        "stature_m": float((truth_json.get("body") or {}).get("stature_m", np.nan)),
        "squat_depth_deg": float((truth_json.get("squat") or {}).get("depth_deg", np.nan)),
    }


def clip_id(truth_json: dict, folder: str = "") -> str:
    """The name a clip is tallied under: ``folder/video`` (hold-outs rendered with the
    same generator name their clips alike, so a pooled run over several folders would
    otherwise take two clips for one), the video's name alone without a folder."""
    return f"{folder}/{truth_json['video']}" if folder else str(truth_json["video"])


def by_condition(rows: pd.DataFrame, values: np.ndarray) -> pd.DataFrame:
    """RMSE of ``values`` against truth per metric and capture condition, with the clips
    behind each figure and :func:`clip_bootstrap_ci`'s 95 % interval (clips resampled).

    Parameters
    ----------
    rows
        ``tally.event_rows`` (``clip``, ``metric``, ``truth`` and the conditions of
        :func:`clip_conditions`) with finite ``truth``.
    values
        The measured values scored, one per row (the screener's, or a calibration's).

    Returns
    -------
    pandas.DataFrame
        One row per condition, level and metric: ``n`` events, ``clips``, ``rmse_deg``,
        ``bias_deg``, ``ci_low_deg`` and ``ci_high_deg`` (NaN for one clip).
    """
    frame = rows.assign(measured=values)
    bins = {
        "azimuth": pd.cut(frame.azimuth_deg.abs(), [0, 5, 10, 15, 20, 45], right=False),
        "yaw (nominal)": pd.cut(frame.yaw_deg.abs(), [0, 10, 20, 36], right=False),
        "roll": pd.cut(frame.roll_deg.abs(), [0, 2, 4, 6], right=False),
        "camera_height_m": pd.cut(frame.camera_height_m, [0.3, 0.7, 1.1, 1.5, 1.9]),
        "lens elevation": pd.cut(
            frame.get("elevation_deg", pd.Series(np.nan, index=frame.index)),
            [-45, 0, 5, 10, 45],
            right=False,
        ),
        "fps": frame.fps,
        "trousers": frame.trousers,
        "long top": frame.long_top,
        "subject size (fill at the nearest)": pd.cut(frame.fill, [0.3, 0.55, 0.7, 0.95]),
        "orientation": frame.orientation,
        "key light": pd.cut(frame.light, [0.5, 0.8, 1.1, 1.45]),
        "stature": pd.cut(
            frame.get("stature_m", pd.Series(np.nan, index=frame.index)), [1.0, 1.55, 1.8, 2.5]
        ),
        "view": frame.view,
    }
    if "measured_subject_luma" in frame:  # the screener's own lighting figures
        bins["subject luma (measured)"] = pd.cut(
            frame.measured_subject_luma, [0, 50, 75, 100, 150, 255]
        )
        bins["backlight ratio (measured)"] = pd.cut(
            frame.measured_backlight_ratio, [0, 1.2, 1.6, 2.0, 2.5, 3.0, 100]
        )
    if "measured_top_over_hips" in frame and frame.measured_top_over_hips.notna().any():
        bins["top over the hips (measured)"] = frame.measured_top_over_hips.map(
            {1.0: "found", 0.0: "not found"}
        ).fillna("cannot tell")

    out = []
    for name, key in bins.items():
        known = key.notna().to_numpy()
        levels = key[known].astype(str)
        order = (
            [str(c) for c in key.cat.categories]
            if isinstance(key.dtype, pd.CategoricalDtype)
            else sorted(set(levels))
        )
        table = event_rmse_with_ci(frame[known].assign(level=levels), ["metric", "level"])
        table = table.reset_index().assign(condition=name)
        rank = table.level.map({level: i for i, level in enumerate(order)})
        out.append(table.assign(rank=rank).sort_values(["metric", "rank"]))
    columns = ["condition", "level", "metric", "n", "clips", "rmse_deg", "bias_deg"]
    return pd.concat(out, ignore_index=True)[[*columns, "ci_low_deg", "ci_high_deg"]]


def match_events(events: pd.DataFrame, truth_json: dict) -> list[tuple[dict, pd.Series | None]]:
    """Each true event with the found one it matches (same side and kind, largest
    overlap, each found event used once), or None when none overlaps."""
    used: set[int] = set()
    out: list[tuple[dict, pd.Series | None]] = []
    for ev in truth_json.get("events", []):
        cands = events[(events["side"] == ev["side"]) & (events["kind"] == ev["kind"])]
        best, best_overlap = None, 0.0
        for idx, row in cands.iterrows():
            overlap = min(row["t_end_s"], ev["t_end_s"]) - max(row["t_start_s"], ev["t_start_s"])
            if overlap > best_overlap and int(str(idx)) not in used:
                best, best_overlap = row, overlap
        if best is not None:
            used.add(int(str(best.name)))
        out.append((ev, best))
    return out


def compare_events(
    tally: Tally,
    events: pd.DataFrame,
    truth_json: dict,
    truth: pd.DataFrame,
    capture: dict[str, Any] | None = None,
    folder: str = "",
    squat_depth_deg: float | None = None,
) -> None:
    """Match true events to found ones (same side, overlapping) and pair their values;
    ``capture`` (the summary's camera estimate), ``folder`` (the clip's) and
    ``squat_depth_deg`` (the summary's squat depth, knee flexion at the deepest points)
    are carried into the per-event rows."""
    conditions = clip_conditions(truth_json)
    name = clip_id(truth_json, folder)
    tally.conditions[name] = conditions
    camera = capture or {}
    estimated = {
        f"estimated_{key}": float("nan") if camera.get(key) is None else float(camera[key])
        for key in ("yaw_deg", "pitch_deg", "roll_deg", "camera_height_m")
    }
    lighting = camera.get("lighting") or {}
    estimated.update(
        {
            f"measured_{key}": float(lighting.get(key, float("nan")))
            for key in ("subject_luma", "backlight_ratio")
        }
    )
    covers = (camera.get("clothing") or {}).get("top_over_hips")
    estimated["measured_top_over_hips"] = float("nan") if covers is None else float(covers)
    estimated["measured_squat_depth_deg"] = (
        float("nan") if squat_depth_deg is None else float(squat_depth_deg)
    )
    t_last = float(truth["time_s"].iloc[-1])
    true_events = truth_json.get("events", [])
    for index, (ev, best) in enumerate(match_events(events, truth_json)):
        tally.events_true += 1
        near_edge = ev["t_start_s"] < EDGE_S or ev["t_end_s"] > t_last - EDGE_S
        errors = (
            (float("nan"),) * 3
            if best is None
            else tuple(float(best[f"t_{k}_s"] - ev[f"t_{k}_s"]) for k in ("start", "peak", "end"))
        )
        tally.event_log.append((name, truth_json["task"], near_edge, best is not None, *errors))
        artefact = posing_artefact(true_events, index, truth_json["task"])
        if artefact is not None:
            tally.floor_left_out.append((name, artefact))
        elif ev.get("t_floor_on_s") is not None:
            tally.floor_log.append(
                (
                    name,
                    truth_json["task"],
                    near_edge,
                    float("nan") if best is None else float(best["t_start_s"] - ev["t_floor_on_s"]),
                    float("nan") if best is None else float(best["t_end_s"] - ev["t_floor_off_s"]),
                )
            )
        if best is None:
            continue
        tally.events_found += 1
        tally.timing["start"].append(best["t_start_s"] - ev["t_start_s"])
        tally.timing["peak"].append(best["t_peak_s"] - ev["t_peak_s"])
        tally.timing["end"].append(best["t_end_s"] - ev["t_end_s"])
        if ev["kind"] == "rep":
            edges = truth_rep_edges(truth, ev)
            if edges is not None:
                tally.rep_edges_rule["start"].append(best["t_start_s"] - edges[0])
                tally.rep_edges_rule["end"].append(best["t_end_s"] - edges[1])
        for metric in EVENT_METRICS:
            true_value = truth_event_value(truth, ev, metric)
            tally.event_pairs.setdefault(metric, []).append((float(best[metric]), true_value))
            tally.event_rows.append(
                {
                    "clip": name,
                    "folder": folder,
                    "task": truth_json["task"],
                    "view": truth_json["view"],
                    "side": ev["side"],
                    "clip_seed": truth_json.get("seed"),
                    "metric": metric,
                    "measured": float(best[metric]),
                    "truth": true_value,
                    **conditions,
                    **estimated,
                }
            )


def compare_flags(tally: Tally, name: str, summary: dict, truth_json: dict) -> None:
    """Planted faults against flags raised (severity other than none)."""
    expected = {(f["fault"], f["side"]) for f in truth_json.get("expected_faults", [])}
    raised = {
        (f["fault"], f["side"])
        for f in summary.get("faults", [])
        if f.get("severity") not in (None, "none")
    }
    no_norm = {
        (f["fault"], f["side"]) for f in summary.get("faults", []) if f.get("status") == "no_norm"
    }
    measured = {(f["fault"], f["side"]) for f in summary.get("faults", [])}
    for f in summary.get("faults", []):
        if f.get("verdict") == "cannot rule out":
            key = (f["fault"], f["side"])
            tally.cannot_rule_out.append((name, key[0], key[1], key in expected))
    for fault in FAULTS:
        for side in ("left", "right"):
            key = (fault, side)
            if key in no_norm:  # reported without a verdict: not scored as a miss or a hit
                if key in expected:
                    tally.unjudged.append((name, fault, side))
                continue
            if key not in measured and key not in expected:  # e.g. an SLS' free leg
                continue
            tally.flags.append((name, fault, side, key in expected, key in raised))


#: Faults whose metric the truth holds per event, for :func:`compare_flags_to_truth`.
RULE_FAULTS = {
    "pelvic_drop": "pelvic_drop_deg",
    "knee_valgus": "knee_fppa_deg",
    "trunk_lean": "trunk_lean_deg",
}


def compare_flags_to_truth(
    tally: Tally, name: str, summary: dict, truth_json: dict, truth: pd.DataFrame
) -> None:
    """Flags against the screener's own norm applied to the joint-centre truth.

    Planted faults say what the generator meant; this says what a perfect measurement
    would have flagged with the same threshold (the mean over a side's true events
    against the mild band's edge), which separates measurement error from the choice of
    threshold. Sides where the screener gave no verdict (too few events, values left
    empty) are counted apart.
    """
    for entry in summary.get("faults", []):
        metric = RULE_FAULTS.get(entry["fault"])
        if metric is None or entry.get("status") == "no_norm" or entry.get("threshold") is None:
            continue
        side = entry["side"]
        values = [
            truth_event_value(truth, ev, metric)
            for ev in truth_json.get("events", [])
            if ev["side"] == side
        ]
        values = [v for v in values if np.isfinite(v)]
        if not values:
            continue
        mean = float(np.mean(values))
        above = entry.get("direction", "above") == "above"
        should = mean >= entry["threshold"] if above else mean <= entry["threshold"]
        tally.rule_flags.append((name, entry["fault"], side, bool(should), entry["verdict"]))
        if entry.get("severity_low") is not None and entry.get("bands"):
            bands = Bands.model_construct(**entry["bands"])
            true_grade = classify_severity(mean, bands, entry.get("direction", "above"))
            tally.grades.append(
                (
                    name,
                    entry["fault"],
                    side,
                    entry["verdict"],
                    entry["severity"],
                    entry["severity_low"],
                    entry["severity_high"],
                    true_grade,
                )
            )


def grade_table(grades: pd.DataFrame) -> pd.DataFrame:
    """Per fault and over all: how often the grade read is the true mean's, milder or
    harsher, and how often the true grade lies within the severity span.

    ``grades`` has the columns of ``Tally.grades``. A side's true grade is the norm's band
    of its true events' mean (as in :func:`compare_flags_to_truth`).
    """
    rank = {name: i for i, name in enumerate(SEVERITIES)}
    read = grades["severity"].map(rank)
    true = grades["true_grade"].map(rank)
    within = (grades["low"].map(rank) <= true) & (true <= grades["high"].map(rank))
    table = pd.DataFrame(
        {
            "fault": grades["fault"],
            "right": read == true,
            "milder": read < true,
            "harsher": read > true,
            "within_span": within,
            "milder_within_span": (read < true) & within,
            "span_wider": grades["low"] != grades["high"],
        }
    )
    out = table.groupby("fault").agg(
        n=("right", "size"),
        right=("right", "mean"),
        milder=("milder", "sum"),
        harsher=("harsher", "sum"),
        within_span=("within_span", "mean"),
        milder_within_span=("milder_within_span", "sum"),
        span_wider=("span_wider", "mean"),
    )
    flags = table.drop(columns="fault")
    overall = {
        "n": len(table),
        "right": flags["right"].mean(),
        "milder": flags["milder"].sum(),
        "harsher": flags["harsher"].sum(),
        "within_span": flags["within_span"].mean(),
        "milder_within_span": flags["milder_within_span"].sum(),
        "span_wider": flags["span_wider"].mean(),
    }
    return pd.concat([pd.DataFrame(out), pd.DataFrame([overall], index=["all"])])


def report_grades(tally: Tally, clips: set[str]) -> None:
    """Print :func:`grade_table` over the graded sides of ``clips``."""
    if not tally.grades:
        return
    columns = ["clip", "fault", "side", "verdict", "severity", "low", "high", "true_grade"]
    grades = pd.DataFrame(tally.grades, columns=columns)
    grades = grades[grades["clip"].isin(clips)]
    if grades.empty:
        return
    print(
        "severity grades against the norm on the true angles (graded sides; within_span: "
        "the true grade between the span's low and high):"
    )
    print(grade_table(grades).to_string(float_format=lambda v: f"{v:.2f}"))
    flags = grades[grades["verdict"] == "flag"]
    if not flags.empty:
        print("the same, flags only (where the report shows the span):")
        print(grade_table(flags).to_string(float_format=lambda v: f"{v:.2f}"))


#: A true event this close to the clip's first or last frame (s) is "at the clip's edge":
#: the swing before or after it is too short for the detector to see.
EDGE_S = 0.3


def report_event_timing(tally: Tally, clips: set[str] | None = None) -> None:
    """Per task: events found (all, and away from the clip's edges) and the share found
    with start and end both within 50 ms (only ``clips`` if given)."""
    if not tally.event_log:
        return
    log = pd.DataFrame(
        tally.event_log, columns=["clip", "task", "near_edge", "found", "start", "peak", "end"]
    )
    if clips is not None:
        log = log[log["clip"].isin(clips)]
    log["both_50ms"] = (log.start.abs() <= 0.05) & (log.end.abs() <= 0.05)
    rows = []
    for task, sub in log.groupby("task"):
        inner = sub[~sub.near_edge]
        rows.append(
            {
                "task": task,
                "events": len(sub),
                "found": f"{sub.found.mean():.0%}",
                f"found, {EDGE_S:g} s from the edges": f"{inner.found.mean():.0%} of {len(inner)}",
                "start and end within 50 ms": f"{sub.both_50ms.mean():.0%}",
                "peak within 50 ms": f"{(sub.peak.abs() <= 0.05).mean():.0%}",
                "start bias ms": round(1000 * sub.start.mean()),
                "end bias ms": round(1000 * sub.end.mean()),
            }
        )
    print(pd.DataFrame(rows).to_string(index=False))
    report_floor_timing(tally, clips)


def _ms(seconds: float) -> int | str:
    """Seconds as whole milliseconds; "-" where there is no figure (an SD of one phase)."""
    return round(1000 * seconds) if np.isfinite(seconds) else "-"


def floor_timing_table(log: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Stance phases timed against the rendered foot's floor contact, per group.

    Parameters
    ----------
    log
        One row per true stance phase: ``start`` and ``end`` errors (s; NaN when the
        phase was not found), ``near_edge`` (within :data:`EDGE_S` of the clip's start or
        end) and the columns named in ``by``.
    by
        Columns to group by (e.g. ``["task"]``, ``["task", "orientation"]``).

    Returns
    -------
    pandas.DataFrame
        Per group: phases, shares with the start, the end and both within 50 ms (of every
        true phase, found or not), that share over the phases away from the clip's edges,
        and the bias and SD of the found phases' errors (ms).
    """
    rows = []
    for key, sub in log.groupby(by):
        both = (sub.start.abs() <= 0.05) & (sub.end.abs() <= 0.05)
        away = ~sub.near_edge.astype(bool)
        rows.append(
            {
                **dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)),
                "stance phases": len(sub),
                "start within 50 ms": f"{(sub.start.abs() <= 0.05).mean():.0%}",
                "end within 50 ms": f"{(sub.end.abs() <= 0.05).mean():.0%}",
                "both": f"{both.mean():.0%}",
                "both, away from the edges": (
                    f"{both[away].mean():.0%} of {int(away.sum())}" if away.any() else "-"
                ),
                "start bias ms": _ms(sub.start.mean()),
                "start SD ms": _ms(sub.start.std()),
                "end bias ms": _ms(sub.end.mean()),
                "end SD ms": _ms(sub.end.std()),
            }
        )
    return pd.DataFrame(rows)


def report_floor_timing(tally: Tally, clips: set[str] | None = None) -> None:
    """Per task, and per task and picture orientation and frame rate: stance phases timed
    against the rendered foot's floor contact.

    The generator labels stance by gait phase; where the corpus' truth also has the
    posed mesh's floor contact (``python -m screener_synth floor-contacts``), this scores
    the found phases' start and end against it (only ``clips`` if given). Shares are of
    every true stance phase with a seen contact, found or not, as in
    :func:`report_event_timing`; biases and SDs are over the found ones
    (:func:`floor_timing_table`)."""
    if not tally.floor_log:
        return
    log = pd.DataFrame(tally.floor_log, columns=["clip", "task", "near_edge", "start", "end"])
    if clips is not None:
        log = log[log["clip"].isin(clips)]
    for column in ("orientation", "fps"):
        log[column] = [tally.conditions.get(clip, {}).get(column, "") for clip in log["clip"]]
    print("stance phases against the rendered foot's floor contact (posed mesh):")
    print(floor_timing_table(log, ["task"]).to_string(index=False))
    for column, title in (("orientation", "picture orientation"), ("fps", "frame rate")):
        if log[column].nunique() > 1:
            print(f"by {title}:")
            print(floor_timing_table(log, ["task", column]).to_string(index=False))
    left_out = [why for clip, why in tally.floor_left_out if clips is None or clip in clips]
    if left_out.count("dragged"):
        print(
            f"  left out: {left_out.count('dragged')} stance phase(s) whose rendered foot was "
            "on the floor from early in its swing (dragged; no initial contact to time: "
            "screener_synth.contact.dragged_swing)"
        )
    if left_out.count("lifted"):
        print(
            f"  left out: {left_out.count('lifted')} walking stance phase(s) whose rendered "
            "foot left the floor in mid-stance (lifted; no toe-off to time: "
            "screener_synth.contact.lifted_in_walking_stance)"
        )


def _sensitivity_specificity(truth: pd.Series, flagged: pd.Series) -> str:
    """``sensitivity S% (tp/positives), specificity P% (tn/negatives)``."""
    truth, flagged = truth.astype(bool), flagged.astype(bool)
    tp, fn = int((truth & flagged).sum()), int((truth & ~flagged).sum())
    tn, fp = int((~truth & ~flagged).sum()), int((~truth & flagged).sum())
    sens = tp / (tp + fn) if tp + fn else float("nan")
    spec = tn / (tn + fp) if tn + fp else float("nan")
    return f"sensitivity {sens:.0%} ({tp}/{tp + fn}), specificity {spec:.0%} ({tn}/{tn + fp})"


def stats(pairs: np.ndarray) -> tuple[int, float, float, float]:
    """n, RMSE, bias, Pearson r of (estimate, truth) pairs."""
    if len(pairs) == 0:
        return 0, float("nan"), float("nan"), float("nan")
    err = pairs[:, 0] - pairs[:, 1]
    r = float(np.corrcoef(pairs[:, 0], pairs[:, 1])[0, 1]) if len(pairs) > 2 else float("nan")
    return len(pairs), float(np.sqrt(np.mean(err**2))), float(np.mean(err)), r


def report(tally: Tally, n_clips: int) -> pd.DataFrame:
    """Print the tables and return the per-metric one."""
    rows = []
    nan = float("nan")
    for metric, chunks in tally.frame_pairs.items():
        n, rmse, bias, r = stats(np.vstack(chunks) if chunks else np.empty((0, 2)))
        surface = tally.surface_pairs.get(metric)
        rmse_surface = stats(np.vstack(surface))[1] if surface else nan
        rows.append(("frame", metric, n, rmse, bias, r, TARGETS.get(metric), rmse_surface))
    for metric, pairs in tally.event_pairs.items():
        arr = np.array(pairs, dtype=float)
        arr = arr[np.isfinite(arr).all(axis=1)] if len(arr) else np.empty((0, 2))
        n, rmse, bias, r = stats(arr)
        rows.append(("event", metric, n, rmse, bias, r, TARGETS.get(metric), nan))
    table = pd.DataFrame(
        rows,
        columns=[
            "level", "metric", "n", "rmse_deg", "bias_deg", "r", "target_rmse",
            "rmse_vs_surface_deg",
        ],
    )  # fmt: skip
    print(f"\n== accuracy over {n_clips} clip(s) ==")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    found = tally.events_found / tally.events_true if tally.events_true else float("nan")
    print(f"\nevents found: {tally.events_found}/{tally.events_true} ({found:.1%}); target >= 95 %")
    report_event_timing(tally)
    for key, errs in tally.timing.items():
        if errs:
            e = np.abs(np.array(errs))
            print(
                f"  {key:5s} timing |error|: mean {1000 * e.mean():.0f} ms, "
                f"95th pct {1000 * np.percentile(e, 95):.0f} ms, "
                f"within 50 ms: {np.mean(e <= 0.05):.0%}"
            )
    for key, errs in tally.rep_edges_rule.items():
        if errs:
            e = np.abs(np.array(errs))
            print(
                f"  rep {key:5s} vs the same rule on the true pelvis: "
                f"mean {1000 * e.mean():.0f} ms, within 50 ms: {np.mean(e <= 0.05):.0%}"
            )
    if tally.flags:
        flags = pd.DataFrame(tally.flags, columns=["clip", "fault", "side", "planted", "flagged"])
        print(
            f"\nfault flags: {_sensitivity_specificity(flags.planted, flags.flagged)}; "
            "target >= 90 %"
        )
        for fault in FAULTS:
            sub = flags[flags.fault == fault]
            print(
                f"  {fault:12s} planted {int(sub.planted.sum())}, "
                f"flagged {int(sub.flagged.sum())}, "
                f"agree {int((sub.planted == sub.flagged).sum())}/{len(sub)}"
            )
    if tally.cannot_rule_out:
        planted = sum(1 for *_, p in tally.cannot_rule_out if p)
        print(
            f"'cannot rule out' verdicts (counted as not flagged above): "
            f"{len(tally.cannot_rule_out)}, of which {planted} on a planted fault"
        )
    if tally.rule_flags:
        rule = pd.DataFrame(
            tally.rule_flags, columns=["clip", "fault", "side", "should", "verdict"]
        )
        judged = rule[rule.verdict.isin(["flag", "no flag"])]
        print(
            "against the norm applied to joint-centre truth (pelvic drop, knee valgus, "
            f"trunk lean): {_sensitivity_specificity(judged.should, judged.verdict == 'flag')}; "
            f"no verdict given: {len(rule) - len(judged)}"
        )
        for name_, sub in judged.groupby("fault"):
            rate = _sensitivity_specificity(sub.should, sub.verdict == "flag")
            print(f"  {name_!s:12s} {rate}")
        unjudged = rule[~rule.verdict.isin(["flag", "no flag"])]
        for (fault_, verdict), sub in unjudged.groupby(["fault", "verdict"]):
            print(
                f"  no verdict ({verdict}): {fault_}, {len(sub)} side(s), "
                f"{int(sub.should.sum())} of them above the norm in the truth"
            )
    if tally.unjudged:
        print(f"planted faults without a verdict (no norm for the task): {len(tally.unjudged)}")
        for name, fault, side in tally.unjudged:
            print(f"  {name}: {fault} {side}")
    if tally.task_hits:
        hits = sum(
            1 for _, t, d in tally.task_hits if t == d or (t == "stand" and d.startswith("ref"))
        )
        print(f"\ntask detection (--task auto): {hits}/{len(tally.task_hits)} correct")
        for name, t, d in tally.task_hits:
            if t != d:
                print(f"  {name}: true {t}, detected {d}")
    for name, reason in tally.failures:
        print(f"FAILED {name}: {reason}")
    return table


def analyze_as_truth(truth_path: Path, truth_json: dict, config: Any) -> Any:
    """Screen a clip with its true task, stance side and view given (for fitting)."""
    return analyze_clip(
        truth_path,
        truth_json,
        config,
        task=truth_json["task"],
        side=truth_json.get("stance_side") or "auto",
        view=truth_json["view"],
    )


def read_stance_side(truth_path: Path, truth_json: dict, config: Any) -> str:
    """The stance leg of a single-leg squat as the screener reads it with ``--side auto``
    (the task given, the view read): ``left`` or ``right``; ``asked`` where it asks for
    ``--side`` instead of guessing; ``refused: CODE`` for any other refusal.

    Notes
    -----
    The clip's scored analysis is given its true side (its events are the true stance
    leg's); before session 34 the printed "squat side right" compared that given side with
    itself. This second analysis is what tests the reading.
    """
    from screener.errors import ScreenerError

    try:
        auto = analyze_clip(truth_path, truth_json, config, task="sls")
    except ScreenerError as exc:
        return "asked" if "--side" in exc.remedy else f"refused: {exc.code}"
    return str(auto.summary.get("stance_side") or "")


def read_task(truth_path: Path, truth_json: dict, config: Any) -> str:
    """The task as the screener reads it with ``--task auto`` (a squat's true stance leg
    given, the view read): ``walk``, ``sls`` or ``jog``; ``error: CODE`` for a refusal.

    Notes
    -----
    Until session 39 this analysis was also given ``--side auto``, so a squat whose task
    was read right but whose stance leg could not be told (scored on its own by
    :func:`read_stance_side`) counted as a task missed.
    """
    from screener.errors import ScreenerError

    try:
        auto = analyze_clip(
            truth_path, truth_json, config, side=truth_json.get("stance_side") or "auto"
        )
    except ScreenerError as exc:
        return f"error: {exc.code}"
    return str(auto.summary["task"])


def inside_envelope(truth_json: dict) -> bool:
    """Whether a rendered clip's camera lies inside the validated envelope."""
    from screener_synth.sets import ENVELOPE_RANGES

    cond = clip_conditions(truth_json)
    return all(
        lo - 1e-9 <= cond[ENVELOPE_CONDITION_COLUMNS.get(key, key)] <= hi + 1e-9
        for key, (lo, hi) in ENVELOPE_RANGES.items()
    )


def fallback_readings(summary: dict) -> list[str]:
    """The fallbacks the screener read a clip with, from its summary: the view taken from
    the walking direction (labels and face disagreeing), a landscape picture read through
    a square around a small patient (the pose settings in the provenance carry its centre).
    The bench does not print the screener's log, so these are listed from here."""
    out = []
    if (summary.get("view_detection") or {}).get("from_walking_direction"):
        out.append("view from the walking direction")
    pose = ((summary.get("provenance") or {}).get("config") or {}).get("pose") or {}
    if pose.get("square_crop_x_fraction") is not None:
        out.append("landscape square")
    return out


def placement_warnings(summary: dict) -> list[str]:
    """The summary's warnings about the camera's placement (yaw, pitch, roll, size)."""
    words = ("camera", "phone", "lens", "frame height")
    return [t for t in summary["quality"]["warnings"] if any(w in t.lower() for w in words)]


def capture_outcome(summary: dict | None) -> str:
    """How the capture check handled a clip.

    ``"refused"``; ``"warned"``: a camera-placement warning; ``"unchecked"``: only a
    notice that the camera's tilt could not be checked (no frame with both feet down);
    ``"clean"``: none of these.
    """
    if summary is None:
        return "refused"
    found = placement_warnings(summary)
    if any("could not be checked" not in text for text in found):
        return "warned"
    return "unchecked" if found else "clean"


def report_envelope(tally: Tally) -> None:
    """Print how clips inside and outside the envelope were handled, and view/side."""
    if tally.envelope:
        table = pd.DataFrame(tally.envelope, columns=["clip", "inside", "outcome", "warnings"])
        print("\n== capture envelope: outcome per clip ==")
        print(pd.crosstab(table.inside, table.outcome).to_string())
        for row in table[~table.inside & table.outcome.isin(["clean", "unchecked"])].itertuples():
            print(f"  outside the envelope, neither refused nor warned: {row.clip}")
        for row in table[table.inside & (table.outcome == "warned")].itertuples():
            print(f"  inside the envelope, warned: {row.clip}: {row.warnings}")
    for clip, inside, what in tally.fallbacks:
        where = "inside" if inside else "outside"
        print(f"  read with a fallback ({where} the envelope): {clip}: {what}")
    if tally.view_side:
        vs = pd.DataFrame(tally.view_side, columns=["clip", "view", "read_view", "side", "read"])
        ok_view = int((vs.view == vs.read_view).sum())
        sided = vs[vs.side != ""]
        ok_side = int((sided.side == sided.read).sum())
        asked = int((sided.read == "asked").sum())
        refused = int(sided.read.str.startswith("refused").sum())
        print(
            f"view right: {ok_view}/{len(vs)}; squat stance leg read with --side auto: "
            f"right {ok_side}/{len(sided)}, --side asked for {asked}, other refusal "
            f"{refused}, wrong {len(sided) - ok_side - asked - refused}"
        )
        wrong = (vs.view != vs.read_view) | ((vs.side != "") & (vs.side != vs.read))
        for row in vs[wrong].itertuples():
            print(f"  {row.clip}: view {row.view}->{row.read_view}, side {row.side}->{row.read}")
        by_elevation = stance_leg_by_elevation(tally)
        if not by_elevation.empty:
            print("squat stance leg read with --side auto, by view and lens elevation (°):")
            print(by_elevation.to_string())


def stance_leg_by_elevation(tally: Tally) -> pd.DataFrame:
    """How the squats' stance leg was read with ``--side auto`` (right, asked, wrong,
    refused), per true view and band of the lens' elevation above the point it aims at
    (:func:`camera_elevation_deg`): filmed from behind, a lens looking down makes the
    lifted foot, bent behind the body, look like the planted one (docs/capture.md)."""
    rows = [
        (view, side, read, tally.conditions.get(clip, {}).get("elevation_deg", np.nan))
        for clip, view, _, side, read in tally.view_side
        if side
    ]
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows, columns=["view", "side", "read", "elevation_deg"])
    outcome = np.select(
        [table.read == table.side, table.read == "asked", table.read.str.startswith("refused")],
        ["right", "asked", "refused"],
        default="wrong",
    )
    band = pd.cut(table.elevation_deg, [-45, 0, 5, 10, 15, 45], right=False)
    return pd.crosstab([table.view, band], pd.Series(outcome, name="read"))


def event_rmse(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Event RMSE, bias, events and clips of ``tally.event_rows`` grouped by ``keys``."""
    err = rows.measured - rows.truth
    out = (
        rows.assign(err=err, sq=err**2)
        .groupby(keys)
        .agg(n=("err", "size"), clips=("clip", "nunique"), rmse_deg=("sq", "mean"),
             bias_deg=("err", "mean"))
    )  # fmt: skip
    out["rmse_deg"] = np.sqrt(out["rmse_deg"])
    return out


#: Resamples of :func:`clip_bootstrap_ci`, and its generator's seed (fixed: the printed
#: intervals are reproducible).
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20261205


def clip_bootstrap_ci(rows: pd.DataFrame, keys: list[str], level: float = 0.95) -> pd.DataFrame:
    """Percentile bootstrap interval of each group's event RMSE, resampling clips.

    Parameters
    ----------
    rows
        ``tally.event_rows`` with finite ``measured`` and ``truth``.
    keys
        The grouping columns (as for :func:`event_rmse`).
    level
        Coverage of the interval.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``keys``: ``ci_low_deg`` and ``ci_high_deg`` (NaN for a group of one
        clip).

    Notes
    -----
    A clip's events share its body and camera, and most of a clip's error is common to
    its events (docs/accuracy.md), so the unit resampled is the clip, not the event:
    :data:`BOOTSTRAP_RESAMPLES` draws of the group's clips with replacement, each giving
    the RMSE over the events of the clips drawn. With a handful of clips per task and
    view the interval is wide, and says how far a hold-out's figure could move on
    another draw of bodies and cameras.
    """
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    tail = 50.0 * (1.0 - level)
    err = (rows.measured - rows.truth).to_numpy(float)
    per_clip = (
        rows.assign(sq=err**2)
        .groupby([*keys, "clip"])
        .agg(sse=("sq", "sum"), n=("sq", "size"))
        .reset_index()
    )
    out = []
    for key, group in per_clip.groupby(keys):
        sse, n = group.sse.to_numpy(float), group.n.to_numpy(float)
        low = high = float("nan")
        if len(group) > 1:
            draws = rng.integers(0, len(group), size=(BOOTSTRAP_RESAMPLES, len(group)))
            rmse = np.sqrt(sse[draws].sum(axis=1) / n[draws].sum(axis=1))
            low, high = np.percentile(rmse, [tail, 100.0 - tail])
        out.append((*(key if isinstance(key, tuple) else (key,)), float(low), float(high)))
    return pd.DataFrame(out, columns=[*keys, "ci_low_deg", "ci_high_deg"]).set_index(keys)


def event_rmse_with_ci(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """:func:`event_rmse` with :func:`clip_bootstrap_ci`'s 95 % interval beside it."""
    return event_rmse(rows, keys).join(clip_bootstrap_ci(rows, keys))


def report_by_condition(tally: Tally) -> pd.DataFrame:
    """Print and return event RMSE per task and view, and per capture condition."""
    rows = pd.DataFrame(tally.event_rows)
    if rows.empty:
        return rows
    rows = rows[np.isfinite(rows.measured) & np.isfinite(rows.truth)]
    per_task = event_rmse_with_ci(rows, ["task", "view", "metric"])
    print("\n== event RMSE per task and view (95 % interval: clips resampled) ==")
    print(per_task.to_string(float_format=lambda v: f"{v:.2f}"))
    conditions = by_condition(rows, rows.measured.to_numpy())
    print("\n== event RMSE per capture condition ==")
    print(conditions.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    return per_task.reset_index()


#: The metrics, views and tasks of :func:`glance_markdown`'s tables, as the docs name them.
GLANCE_METRICS = ("knee_fppa_deg", "pelvic_drop_deg", "hip_adduction_deg")
GLANCE_NAMES = {
    "anterior": "front", "posterior": "behind", "sls": "single-leg squat", "azimuth":
    "lens azimuth (°)", "roll": "roll (°)", "camera_height_m": "lens height (m)",
    "lens elevation": "lens above the point aimed at (°)", "fps": "frame rate",
    "trousers": "long trousers", "long top": "long top",
    "subject size (fill at the nearest)": "patient's share of the frame height, nearest",
    "key light": "key light (scale)", "stature": "patient's stature (m)",
    "True": "yes", "False": "no",
}  # fmt: skip


def glance_markdown(rows: pd.DataFrame) -> str:
    """docs/accuracy.md's "At a glance" tables: event RMSE of knee FPPA, pelvic drop and
    hip adduction with :func:`clip_bootstrap_ci`'s interval, per task and view and per
    capture condition (:func:`by_condition`; the screener's own readings left out).

    Parameters
    ----------
    rows
        ``tally.event_rows`` of the clips inside the envelope, finite values only.

    Returns
    -------
    str
        Two Markdown tables; a cell reads ``RMSE (low-high)``, the clips those of the
        knee FPPA figure.
    """
    rows = rows[rows.metric.isin(GLANCE_METRICS)]

    def line(labels: list[str], table: pd.DataFrame) -> str:
        columns = ["rmse_deg", "ci_low_deg", "ci_high_deg", "clips"]
        figures = table.set_index("metric").loc[list(GLANCE_METRICS), columns].to_numpy(float)
        cells = " | ".join(f"{rmse:.2f} ({low:.2f}-{high:.2f})" for rmse, low, high, _ in figures)
        names = " | ".join(GLANCE_NAMES.get(x, x) for x in labels)
        return f"| {names} | {int(figures[0, 3])} | {cells} |"

    head = "| {} | {} | clips | knee FPPA | pelvic drop | hip adduction |\n" + "|---" * 6 + "|"
    out = [head.format("task", "view")]
    per_task = event_rmse_with_ci(rows, ["task", "view", "metric"]).reset_index()
    for (task, view), table in per_task.groupby(["task", "view"], sort=True):
        if set(GLANCE_METRICS) <= set(table.metric):
            out.append(line([str(task), str(view)], table))
    out += ["", head.format("condition", "level")]
    own = [c for c in rows.columns if c.startswith("measured_")]
    conditions = by_condition(rows.drop(columns=own), rows.measured.to_numpy())
    for (name, level), table in conditions.groupby(["condition", "level"], sort=False):
        if name == "yaw (nominal)" or not set(GLANCE_METRICS) <= set(table.metric):
            continue
        shown = f"{float(str(level)):g} fps" if name == "fps" else str(level)
        out.append(line([str(name), shown], table))
    return "\n".join(out) + "\n"


def report_inside(tally: Tally) -> None:
    """The reported figures: events, timing and flags over the clips whose camera lies
    inside the validated envelope (lens azimuth, roll, height: :func:`inside_envelope`)."""
    inside = tally.inside_clips()
    if not inside or not tally.event_rows:
        return
    rows = tally.inside_event_rows()
    print(f"\n===== inside the envelope: {len(inside)} clips =====")
    out = []
    for metric, sub in rows.groupby("metric"):
        err = sub.measured - sub.truth
        out.append(
            {
                "metric": metric,
                "n": len(sub),
                "rmse_deg": float(np.sqrt(np.mean(err**2))),
                "bias_deg": float(err.mean()),
                "r": float(np.corrcoef(sub.measured, sub.truth)[0, 1]) if len(sub) > 2 else np.nan,
                "target_rmse": TARGETS.get(str(metric), np.nan),
            }
        )
    overall = pd.DataFrame(out).merge(
        clip_bootstrap_ci(rows, ["metric"]).reset_index(), on="metric"
    )
    print(overall.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    per_task = event_rmse_with_ci(rows, ["task", "view", "metric"])
    print("per task and view (95 % interval: clips resampled):")
    print(per_task.to_string(float_format=lambda v: f"{v:.2f}"))
    print("per capture condition (inside the envelope):")
    print(
        by_condition(rows, rows.measured.to_numpy()).to_string(
            index=False, float_format=lambda v: f"{v:.2f}"
        )
    )
    report_clothing_warned(rows)
    print("events (inside the envelope):")
    report_event_timing(tally, inside)
    if tally.flags:
        flags = pd.DataFrame(tally.flags, columns=["clip", "fault", "side", "planted", "flagged"])
        flags = flags[flags["clip"].isin(inside)]
        print(f"fault flags (planted): {_sensitivity_specificity(flags.planted, flags.flagged)}")
    if tally.rule_flags:
        rule = pd.DataFrame(
            tally.rule_flags, columns=["clip", "fault", "side", "should", "verdict"]
        )
        rule = rule[rule["clip"].isin(inside)]
        judged = rule[rule.verdict.isin(["flag", "no flag"])]
        print(
            "fault flags (norm on the truth): "
            f"{_sensitivity_specificity(judged.should, judged.verdict == 'flag')}; "
            f"no verdict: {len(rule) - len(judged)}"
        )
    report_grades(tally, inside)


def report_clothing_warned(rows: pd.DataFrame) -> None:
    """Knee FPPA of single-leg squats filmed from the front, split by whether the
    screener found the top over the hips (and so warned: ``screener.clothing``); only
    for clips analysed from their videos (stored landmarks have no pixels)."""
    if "measured_top_over_hips" not in rows or not rows.measured_top_over_hips.notna().any():
        return
    cell = rows[(rows.task == "sls") & (rows.view == "anterior") & (rows.metric == "knee_fppa_deg")]
    for label, keep in (
        ("no top over the hips found", cell.measured_top_over_hips != 1.0),
        ("top over the hips found (warned)", cell.measured_top_over_hips == 1.0),
    ):
        sub = cell[keep]
        if sub.empty:
            continue
        rmse = float(np.sqrt(np.mean((sub.measured - sub.truth) ** 2)))
        print(
            f"single-leg squat from the front, {label}: knee FPPA RMSE {rmse:.2f} deg "
            f"({len(sub)} events, {sub['clip'].nunique()} clips)"
        )


#: A task and view needs clips from at least this many bodies and cameras for its own
#: measured errors (fewer: the task's errors over both views apply).
MIN_CLIPS_PER_VIEW = 5
#: Fewest clip sides for a correlation of side means with the truth.
MIN_SIDES_FOR_R = 10
#: A metric whose side means correlate with the truth below this gets no verdict.
MIN_TRACKING_R = 0.5
MIN_TRACKING_R_SOURCE = (
    "a side's mean reading must correlate at least moderately with the true angle, "
    "r >= 0.5 (rule of thumb: 0.5-0.7 moderate, 0.3-0.5 low; Mukaka 2012, Malawi Med J "
    "24(3):69-71); 2D clinical video measures in use correlate with 3D at r = 0.64-0.78 "
    "(FPPA in single-leg squat, Gwynne and Curran; shared/clinical-evidence.md)"
)
#: Whether such a metric's value is also left out of the clinical views.
HIDE_UNTRACKED_VALUES = True
HIDE_UNTRACKED_VALUES_SOURCE = (
    "session 18 (docs/accuracy.md): a reading whose side means barely follow the true "
    "angle tells the clinician nothing about it, and a number shown, even unjudged, "
    "invites a reading; issue 12 leaves out of the clinical report what cannot be "
    "measured well enough. The values stay in frames.csv and events.csv"
)


def side_tracking(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """How well a side's mean follows the truth, per group of ``keys``.

    Each clip's side with at least its task's ``min_events_verdict`` events (the fewest
    that get a verdict, ``screener/models/norms.toml``) gives one pair: the mean of its
    measured event values and the mean of their true values. Returns, per group, the
    Pearson ``side_r`` of those pairs and ``n_sides`` (groups with fewer than
    ``MIN_SIDES_FOR_R`` sides get no ``side_r``).
    """
    from screener.config import MODELS_DIR
    from screener.norms import load_norms

    norms = load_norms(MODELS_DIR / "norms.toml")
    sides = (
        rows.groupby([*keys, "clip_seed", "side"], dropna=False)
        .agg(measured=("measured", "mean"), truth=("truth", "mean"), n=("measured", "size"))
        .reset_index()
    )
    floor = sides.task.map(lambda t: norms.task(t).min_events_verdict)
    sides = sides[sides.n >= floor]
    out = []
    for key, group in sides.groupby(keys):
        enough = len(group) >= MIN_SIDES_FOR_R and group.truth.std() > 0
        r = float(np.corrcoef(group.measured, group.truth)[0, 1]) if enough else float("nan")
        out.append({**dict(zip(keys, key, strict=True)), "side_r": r, "n_sides": len(group)})
    return pd.DataFrame(out, columns=[*keys, "side_r", "n_sides"])


def envelope_errors(tally: Tally) -> pd.DataFrame:
    """Per task and metric event RMSE over the clips the screener accepts without a
    placement warning it can check: camera yaw inside the envelope, any roll (corrected)
    and any lens height (not checkable from the image: docs/accuracy.md). Rows with a
    ``view`` are that view's own figures (``MIN_CLIPS_PER_VIEW`` clips or more). Each row
    also has the side means' correlation with the truth (:func:`side_tracking`)."""
    from screener_synth.sets import ENVELOPE_RANGES

    rows = pd.DataFrame(tally.event_rows)
    if rows.empty:
        return rows
    lo, hi = ENVELOPE_RANGES["yaw_deg"]
    inside = ((rows.azimuth_deg >= lo) & (rows.azimuth_deg <= hi)).to_numpy()
    rows = rows[inside & np.isfinite(rows.measured) & np.isfinite(rows.truth)]

    def figures(keys: list[str]) -> pd.DataFrame:
        rmse = event_rmse(rows, keys).reset_index()
        return rmse.merge(side_tracking(rows, keys), on=keys, how="left")

    per_task = figures(["task", "metric"]).assign(view="")
    per_view = figures(["task", "view", "metric"])
    per_view = per_view[per_view.clips >= MIN_CLIPS_PER_VIEW]
    return pd.concat([per_task, per_view], ignore_index=True)


def write_measured_errors(
    per_task: pd.DataFrame, folders: list[Path], path: Path, settings: str = "default settings"
) -> None:
    """Per task and metric event RMSE (inside the envelope) as ``measurement_errors.toml``
    (``settings``: what the angles were measured with)."""
    from datetime import UTC, datetime

    names = ", ".join(str(f) for f in folders) + " (clips with the camera azimuth in the envelope)"
    lines = [
        f"# The screener's own measured event errors (RMSE against exact truth), {settings}.",
        f"# Written by bench/accuracy.py --write-errors on {datetime.now(UTC).date()}",
        f"# from {names}: rendered clips that trained nothing (docs/accuracy.md).",
        "# The verdicts use them: a value below a threshold by less than rule_out_z",
        "# errors is 'cannot rule out'; a metric whose error exceeds",
        "# max_reportable_error_deg, or whose side means correlate with the truth",
        "# (side_r, over n_sides clip sides) below min_tracking_r, gets no clinical verdict;",
        "# the clinical views leave out the values of the former, and of the latter too",
        "# with hide_untracked_values.",
        "",
        "schema_version = 1",
        f'measured_on = "{names}; {settings}"',
        'method = "RMSE of event values (peak in stance, deepest point of a rep) against '
        "joint-centre truth read with the same rule, per task and per task and view "
        f"(a view with {MIN_CLIPS_PER_VIEW} clips or more), over the clips whose camera "
        "azimuth (the lens' place around the subject) is inside the envelope, any roll and "
        'lens height (bench/accuracy.py)"',
        "max_reportable_error_deg = 8.0",
        "rule_out_z = 1.0",
        f"min_tracking_r = {MIN_TRACKING_R}",
        f'min_tracking_r_source = "{MIN_TRACKING_R_SOURCE}"',
        f"hide_untracked_values = {str(HIDE_UNTRACKED_VALUES).lower()}",
        f'hide_untracked_values_source = "{HIDE_UNTRACKED_VALUES_SOURCE}"',
        "",
    ]
    for row in per_task.to_dict("records"):
        key = f"{row['task']}.{row['view']}" if row["view"] else str(row["task"])
        lines += [
            f'[tasks."{key}".{row["metric"]}]',
            f"rmse_deg = {row['rmse_deg']:.2f}",
            f"bias_deg = {row['bias_deg']:.2f}",
            f"n_events = {row['n']}",
            f"n_clips = {row['clips']}",
        ]
        if np.isfinite(row.get("side_r", np.nan)):
            lines += [f"side_r = {row['side_r']:.3f}", f"n_sides = {int(row['n_sides'])}"]
        lines.append("")
    path.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folders", nargs="*", type=Path, default=[Path("sample_videos")])
    parser.add_argument("--csv", type=Path, default=None, help="write the per-metric table here")
    parser.add_argument(
        "--events-csv",
        type=Path,
        default=None,
        help="write every matched event's measured and true values, the clip's capture "
        "conditions, whether they lie inside the envelope and the screener's camera "
        "estimate here (one row per event and metric)",
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        default=None,
        help="write docs/accuracy.md's 'At a glance' tables (knee FPPA, pelvic drop, hip "
        "adduction per task and view and per capture condition, inside the envelope) here",
    )
    parser.add_argument("--no-cache", action="store_true", help="run pose estimation again")
    parser.add_argument("--skip-auto", action="store_true", help="do not score task detection")
    parser.add_argument(
        "--write-errors",
        type=Path,
        default=None,
        help="write the per task/view event errors here (screener/models/measurement_errors.toml)",
    )
    parser.add_argument(
        "--no-corrections",
        action="store_true",
        help="measured angles as MediaPipe gives them (screener/models/corrections.toml off)",
    )
    parser.add_argument(
        "--geometric",
        action="store_true",
        help="the angles as read from the landmarks: the learned frame model (on by default "
        "for the angles verified on real video) off",
    )
    parser.add_argument(
        "--frame-model",
        action="store_true",
        help="apply the learned frame model to every angle it corrects, verified on real "
        "video or not (research option frame_model_include_unverified)",
    )
    parser.add_argument(
        "--frame-model-path",
        type=Path,
        default=None,
        help="with --frame-model: this model file instead of the shipped ones (to compare; "
        "for every task, the single-leg squat's own model too)",
    )
    parser.add_argument(
        "--event-models",
        action="store_true",
        help="also re-time squat repetitions' edges with the shipped repetition model "
        "(research option: events.rep_model_path); stance is timed by the learned event "
        "model by default",
    )
    parser.add_argument(
        "--rule-events",
        action="store_true",
        help="time stance phases with the stance rule instead of the learned event model "
        "(the default before session 15)",
    )
    parser.add_argument(
        "--event-model-path",
        type=Path,
        help="time stance with this stance model instead of the shipped one (a candidate)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="settings file (JSON or TOML, as `screener analyze --config`) to start from; "
        "the options above apply on top of it",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)

    from screener.config import (
        EVENT_MODEL_PATH,
        REP_MODEL_PATH,
        AnalysisConfig,
        EventConfig,
        load_config,
    )
    from screener.errors import ConfigError, ScreenerError

    try:
        base = load_config(args.config)
    except ConfigError as exc:
        parser.error(exc.one_line())
    settings: dict[str, Any] = {}
    if args.no_cache:
        settings["cache_dir"] = None
    if args.no_corrections:
        settings["corrections_path"] = None
    if args.geometric and args.frame_model:
        parser.error("--geometric and --frame-model exclude each other")
    if args.geometric:
        settings["frame_model_path"] = None
    elif args.frame_model:
        settings["frame_model_include_unverified"] = True
        if args.frame_model_path is not None:
            settings["frame_model_path"] = args.frame_model_path
            settings["frame_model_by_task"] = {}
    if args.write_errors and not args.geometric:
        # the file being written is not read while it is measured
        settings["frame_model_measurement_errors_path"] = None
    if args.event_models and args.rule_events:
        parser.error("--event-models and --rule-events exclude each other")
    if args.event_models:
        settings["events"] = EventConfig(
            event_model_path=EVENT_MODEL_PATH, rep_model_path=REP_MODEL_PATH
        )
    elif args.rule_events:
        settings["events"] = EventConfig(event_model_path=None)
    if args.event_model_path is not None:
        if args.rule_events:
            parser.error("--event-model-path and --rule-events exclude each other")
        events = settings.get("events", base.events)
        settings["events"] = events.model_copy(update={"event_model_path": args.event_model_path})
    config = AnalysisConfig.model_validate({**base.model_dump(), **settings})
    clips = find_clips(args.folders)
    if not clips:
        print(f"no *.truth.json under {', '.join(map(str, args.folders))}", file=sys.stderr)
        return 1
    tally = Tally()
    for truth_path in clips:
        truth_json, truth = load_truth(truth_path)
        name = clip_id(truth_json, truth_path.parent.name)
        side: Any = truth_json.get("stance_side") or "auto"
        inside = inside_envelope(truth_json)
        if truth_json["task"] == "stand":  # no task of ours: only what auto makes of it
            try:
                auto = analyze_clip(truth_path, truth_json, config)
                tally.task_hits.append((name, "stand", auto.summary["task"]))
            except ScreenerError as exc:
                tally.task_hits.append((name, "stand", f"refused: {exc.code}"))
            continue
        try:
            result = analyze_clip(
                truth_path, truth_json, config, task=truth_json["task"], side=side
            )
        except ScreenerError as exc:
            tally.failures.append((name, exc.one_line()))
            tally.envelope.append((name, inside, "refused", exc.one_line()))
            continue
        tally.envelope.append(
            (
                name,
                inside,
                capture_outcome(result.summary),
                " | ".join(placement_warnings(result.summary)),
            )
        )
        for what in fallback_readings(result.summary):
            tally.fallbacks.append((name, inside, what))
        tally.view_side.append(
            (
                name,
                truth_json["view"],
                result.summary["view"],
                truth_json.get("stance_side") or "",
                read_stance_side(truth_path, truth_json, config)
                if truth_json["task"] == "sls"
                else "",
            )
        )
        compare_frames(tally, result.frames, truth)
        compare_events(
            tally,
            result.events,
            truth_json,
            truth,
            result.summary["capture"],
            folder=truth_path.parent.name,
            squat_depth_deg=(result.summary.get("squat_depth") or {}).get("mean_knee_flexion_deg"),
        )
        compare_flags(tally, name, result.summary, truth_json)
        compare_flags_to_truth(tally, name, result.summary, truth_json, truth)
        if not args.skip_auto:
            tally.task_hits.append(
                (name, truth_json["task"], read_task(truth_path, truth_json, config))
            )
        print(f"{name}: {len(result.events)} events, task {truth_json['task']}", file=sys.stderr)
    if args.events_csv:
        events = pd.DataFrame(tally.event_rows)
        events.assign(inside_envelope=events["clip"].isin(tally.inside_clips())).to_csv(
            args.events_csv, index=False
        )
    if args.markdown:
        args.markdown.write_text(glance_markdown(tally.inside_event_rows()))
    table = report(tally, len(clips))
    per_task = report_by_condition(tally)
    report_envelope(tally)
    report_inside(tally)
    if args.write_errors and not per_task.empty:
        write_measured_errors(
            envelope_errors(tally),
            args.folders,
            args.write_errors,
            (
                "geometric angles (the frame model off)"
                if args.geometric
                else "with the frame model applied"
                + (" to every angle it corrects" if args.frame_model else "")
            ),
        )
        print(f"wrote {args.write_errors}")
    if args.csv:
        table.to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
