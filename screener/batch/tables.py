"""The combined, tidy tables of a batch, rebuilt from the per-video result folders.

Every table starts with ``video_id`` and the metadata columns (``path``, ``subject``,
``session``, ``pain`` and every extra manifest column, in manifest order), so it can be
joined with the manifest or filtered by subject without a lookup.

``events``
    One row per event (stance phase or repetition): metadata, ``task``, ``view``, then the
    columns of the video's ``events.csv``.
``summary``
    One row per video x side x metric (sides with at least one event): ``n_events``,
    ``n`` (events with a value), ``mean``, ``sd``, ``min``, ``max``, ``median``, and the
    fault graded on that metric and side, if any (``fault``, ``fault_verdict``,
    ``fault_severity``, ``fault_value``, ``fault_threshold``, ``fault_confidence``,
    ``fault_source``).
``faults``
    One row per video x fault entry of ``summary.json``.
``videos``
    One row per video of the batch with its status and headline numbers;
    ``analysed_part`` says when only part of the clip was analysed (:func:`analysed_part`).
``failures``
    ``path``, ``reason``, ``code`` of every video that failed, then ``video_id`` and the
    metadata.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from screener.batch import state
from screener.batch.inputs import META_COLUMNS, VideoJob
from screener.fileio import atomic_write
from screener.metrics import EVENT_COLUMNS

log = logging.getLogger(__name__)

#: Fault name -> the event metric it is judged on (when the fault entry names no metric).
FAULT_METRIC: dict[str, str] = {
    "pelvic_drop": "pelvic_drop_deg",
    "knee_valgus": "knee_fppa_deg",
    "femoral_ir": "femoral_ir_deg",
    "hip_adduction": "hip_adduction_deg",
    "trunk_lean": "trunk_lean_deg",
    "knee_flexion": "knee_flexion_deg",
    "step_width": "step_width_m",
}

STAT_COLUMNS: tuple[str, ...] = ("n_events", "n", "mean", "sd", "min", "max", "median")
FAULT_COLUMNS: tuple[str, ...] = (
    "fault",
    "fault_verdict",
    "fault_severity",
    "fault_value",
    "fault_threshold",
    "fault_confidence",
    "fault_source",
)
FAILURE_COLUMNS: tuple[str, ...] = ("path", "reason", "code", "video_id")
VIDEO_COLUMNS: tuple[str, ...] = (
    "status",
    "task",
    "view",
    "stance_side",
    "fps",
    "n_frames",
    "duration_s",
    "n_events_left",
    "n_events_right",
    "n_faults",
    "detected_fraction",
    "mean_quality",
    "analysed_part",
    "camera_yaw_deg",
    "camera_pitch_deg",
    "camera_roll_deg",
    "subject_height_fraction",
    "subject_luma",
    "backlight_ratio",
    "top_over_hips",
    "n_warnings",
    "video_sha256",
    "config_sha256",
    "result_dir",
)


@dataclass(frozen=True)
class BatchTables:
    """The combined tables of a batch (see the module notes)."""

    events: pd.DataFrame
    summary: pd.DataFrame
    faults: pd.DataFrame
    videos: pd.DataFrame
    failures: pd.DataFrame


def meta_columns(jobs: Iterable[VideoJob]) -> list[str]:
    """``video_id``, the standard metadata columns, then extra manifest columns in order."""
    cols = ["video_id", *META_COLUMNS]
    for job in jobs:
        for key in job.meta:
            if key not in cols:
                cols.append(key)
    return cols


def _meta_row(job: VideoJob, columns: list[str], reserved: set[str]) -> dict[str, Any]:
    row: dict[str, Any] = {"video_id": job.video_id}
    for col in columns[1:]:
        row[_meta_name(col, reserved)] = job.meta.get(col)
    return row


def _meta_name(col: str, reserved: set[str]) -> str:
    """Extra manifest columns named like a result column get a ``manifest_`` prefix."""
    return f"manifest_{col}" if col in reserved and col not in META_COLUMNS else col


def build_tables(
    jobs: list[VideoJob],
    statuses: dict[str, str],
    failures: dict[str, dict[str, Any]],
    outdir: Path,
) -> BatchTables:
    """Build the combined tables from the result folders of the given videos.

    Parameters
    ----------
    jobs
        The batch's videos, in order.
    statuses
        ``video_id`` -> ``ok``, ``skipped`` (unchanged result, included) or ``failed``;
        videos not in it (not finished, e.g. after Ctrl-C) are listed in ``videos`` as
        ``not_run`` and left out of the other tables.
    failures
        ``video_id`` -> failure outcome (``reason``, ``code``).
    outdir
        The batch's output folder.

    Returns
    -------
    BatchTables
    """
    meta_cols = meta_columns(jobs)
    reserved = {"task", "view", "side", "metric", *EVENT_COLUMNS, *VIDEO_COLUMNS}
    reserved |= set(STAT_COLUMNS) | set(FAULT_COLUMNS) | {"reason", "code", "severity", "value"}
    meta_names = [meta_cols[0], *(_meta_name(c, reserved) for c in meta_cols[1:])]
    event_frames: list[pd.DataFrame] = []
    summary_rows: list[dict[str, Any]] = []
    fault_rows: list[dict[str, Any]] = []
    video_rows: list[dict[str, Any]] = []
    failure_rows: list[dict[str, Any]] = []
    event_cols: list[str] = list(EVENT_COLUMNS)
    for job in jobs:
        meta = _meta_row(job, meta_cols, reserved)
        status = statuses.get(job.video_id, "not_run")
        folder = state.video_dir(outdir, job.video_id)
        if status == "failed":
            fail = failures.get(job.video_id, {})
            failure_rows.append(
                {
                    "path": meta.get("path") or str(job.path),
                    "reason": fail.get("reason", ""),
                    "code": fail.get("code", ""),
                    **meta,
                }
            )
            video_rows.append({**meta, "status": "failed"})
            continue
        if status not in ("ok", "skipped"):
            video_rows.append({**meta, "status": status})
            continue
        summary = state.read_json(folder / "summary.json")
        done = state.read_json(folder / state.DONE_MARKER) or {}
        if summary is None:
            log.warning("%s: result folder has no readable summary.json", job.video_id)
            video_rows.append({**meta, "status": "missing_result"})
            continue
        context = {"task": summary.get("task"), "view": summary.get("view")}
        events = pd.read_csv(folder / "events.csv")
        for c in events.columns:
            if c not in event_cols:
                event_cols.append(str(c))
        if len(events):
            head = pd.DataFrame([{**meta, **context}] * len(events))
            event_frames.append(pd.concat([head, events.reset_index(drop=True)], axis=1))
        summary_rows.extend(_summary_rows(summary, {**meta, **context}))
        for fault in summary.get("faults") or []:
            fault_rows.append({**meta, **context, **_flat(fault)})
        video_rows.append(_video_row(meta, status, summary, done, folder, outdir))
    context_cols = ["task", "view"]
    events_df = _frame(event_frames, [*meta_names, *context_cols, *event_cols])
    summary_df = pd.DataFrame(
        summary_rows,
        columns=[*meta_names, *context_cols, "side", "metric", *STAT_COLUMNS, *FAULT_COLUMNS],
    )
    fault_keys = sorted({k for r in fault_rows for k in r} - set(meta_names) - set(context_cols))
    lead = [k for k in ("fault", "side", "severity", "value", "threshold") if k in fault_keys]
    faults_df = pd.DataFrame(
        fault_rows,
        columns=[
            *meta_names,
            *context_cols,
            *lead,
            *[k for k in fault_keys if k not in lead],
        ],
    )
    videos_df = pd.DataFrame(video_rows, columns=[*meta_names, *VIDEO_COLUMNS])
    failures_df = pd.DataFrame(
        failure_rows,
        columns=list(dict.fromkeys([*FAILURE_COLUMNS, *meta_names])),
    )
    return BatchTables(
        events=events_df,
        summary=summary_df,
        faults=faults_df,
        videos=videos_df,
        failures=failures_df,
    )


def _frame(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True)
    return table.reindex(columns=list(dict.fromkeys(columns)))


def _flat(fault: dict[str, Any]) -> dict[str, Any]:
    """A fault entry with nested values (lists, dicts) as JSON text, for a flat table."""
    return {
        k: json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v
        for k, v in fault.items()
    }


def _summary_rows(summary: dict[str, Any], lead: dict[str, Any]) -> list[dict[str, Any]]:
    faults: dict[tuple[str, str], dict[str, Any]] = {}
    for fault in summary.get("faults") or []:
        metric = fault.get("metric") or FAULT_METRIC.get(str(fault.get("fault")))
        if metric and fault.get("side") in ("left", "right"):
            key = (str(fault["side"]), str(metric))
            previous = faults.get(key)
            if previous is None or _severity_rank(fault) > _severity_rank(previous):
                faults[key] = fault
    rows = []
    for side, stats in (summary.get("sides") or {}).items():
        if not isinstance(stats, dict) or not stats.get("n_events"):
            continue
        for metric, values in stats.items():
            if not isinstance(values, dict):
                continue
            row = {**lead, "side": side, "metric": metric, "n_events": stats["n_events"]}
            for stat in STAT_COLUMNS[1:]:
                row[stat] = values.get(stat)
            fault = faults.get((side, metric))
            if fault is not None:
                row.update(
                    fault=fault.get("fault"),
                    fault_verdict=fault.get("verdict"),
                    fault_severity=fault.get("severity"),
                    fault_value=fault.get("value"),
                    fault_threshold=fault.get("threshold"),
                    fault_confidence=fault.get("confidence"),
                    fault_source=fault.get("source"),
                )
            rows.append(row)
    return rows


_SEVERITY = {"none": 0, "mild": 1, "moderate": 2, "severe": 3}


def _severity_rank(fault: dict[str, Any]) -> int:
    return _SEVERITY.get(str(fault.get("severity")), -1)


def _video_row(
    meta: dict[str, Any],
    status: str,
    summary: dict[str, Any],
    done: dict[str, Any],
    folder: Path,
    outdir: Path,
) -> dict[str, Any]:
    sides = summary.get("sides") or {}
    quality = summary.get("quality") or {}
    faults = summary.get("faults") or []
    return {
        **meta,
        "status": status,
        "task": summary.get("task"),
        "view": summary.get("view"),
        "stance_side": summary.get("stance_side"),
        "fps": summary.get("fps"),
        "n_frames": summary.get("n_frames"),
        "duration_s": summary.get("duration_s"),
        "n_events_left": (sides.get("left") or {}).get("n_events"),
        "n_events_right": (sides.get("right") or {}).get("n_events"),
        "n_faults": sum(1 for f in faults if f.get("severity") not in (None, "none")),
        "detected_fraction": quality.get("detected_fraction"),
        "mean_quality": quality.get("mean_quality"),
        "analysed_part": analysed_part(summary),
        **_capture_columns(summary.get("capture") or {}),
        "n_warnings": len(quality.get("warnings") or []) if summary else None,
        "video_sha256": done.get("video_sha256"),
        "config_sha256": done.get("config_sha256"),
        "result_dir": folder.relative_to(outdir).as_posix(),
    }


def _capture_columns(capture: dict[str, Any]) -> dict[str, Any]:
    """The capture conditions the screener read (``summary.json`` → ``capture``): the
    camera's estimated yaw, pitch and roll, the patient's share of the frame height, the
    lighting and whether the top covers the hips (None where not read)."""
    lighting = capture.get("lighting") or {}
    clothing = capture.get("clothing") or {}
    return {
        "camera_yaw_deg": capture.get("yaw_deg"),
        "camera_pitch_deg": capture.get("pitch_deg"),
        "camera_roll_deg": capture.get("roll_deg"),
        "subject_height_fraction": capture.get("subject_height_fraction"),
        "subject_luma": lighting.get("subject_luma"),
        "backlight_ratio": lighting.get("backlight_ratio"),
        "top_over_hips": clothing.get("top_over_hips"),
    }


def analysed_part(summary: dict[str, Any]) -> str | None:
    """What part of the clip was analysed, when not all of it (None: the whole clip).

    A walk that turns round is analysed one way (``view_detection.walking_turn``), squats
    on both legs for one leg (``other_leg_left_out``; :mod:`screener.segments`).
    """
    turn = (summary.get("view_detection") or {}).get("walking_turn")
    if turn:
        start, end = turn["analysed_s"]
        return f"one way of a walk that turns round: {start:.1f}-{end:.1f} s"
    legs = summary.get("other_leg_left_out")
    if legs:
        return f"the {legs['analysed_leg']} leg's squats of a clip with both legs'"
    return None


def write_tables(tables: BatchTables, outdir: Path) -> list[Path]:
    """Write the tables to ``outdir``: parquet and CSV of each, CSV only for failures.

    Each file is written to a temporary name and renamed into place.

    Returns
    -------
    list of Path
        The files written.
    """
    written = []
    for name in ("events", "summary", "faults", "videos"):
        table = _parquet_safe(getattr(tables, name))
        written.append(atomic_write(outdir / f"{name}.parquet", _writer(table, "parquet")))
        written.append(atomic_write(outdir / f"{name}.csv", _writer(table, "csv")))
    written.append(atomic_write(outdir / "failures.csv", _writer(tables.failures, "csv")))
    return written


def _writer(table: pd.DataFrame, kind: str) -> Callable[[Path], object]:
    """A function writing ``table`` as CSV or parquet to the path it is given."""
    if kind == "parquet":
        return lambda path: table.to_parquet(path, index=False)
    return lambda path: table.to_csv(path, index=False)


def _parquet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """Columns of mixed Python types (e.g. a manifest column of numbers and text) as text."""
    out = table.copy()
    for col in out.columns:
        if out[col].dtype == object:
            kinds = {type(v) for v in out[col].dropna()}
            if len(kinds) > 1:
                out[col] = out[col].map(lambda v: None if v is None else str(v))
            elif not kinds:
                out[col] = out[col].astype("string")
    return out
