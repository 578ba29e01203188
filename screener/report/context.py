"""Everything the reports show, gathered from an analysis result into plain data.

The clinician's report and the patient handout render this context as HTML; their PDFs
are printed from that same HTML, so screen and paper say the same thing. Femoral
internal rotation (no validated 2D method, about 20 deg error on renders) stays a
research column of frames.csv and events.csv and is left out of the clinical report.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from screener.capture import ROLL_FROM_ROOM
from screener.faults import (
    RESEARCH_ONLY_METRICS,
    clinical_faults,
    flag_faults,
    flagged,
    hidden_metrics,
    screen_headline,
    severity_rank,
)
from screener.intake import FIRST_LINE_LABELS, RED_FLAG_LABELS, VIDEO_CANNOT_EXCLUDE
from screener.norms import Norms, load_norms
from screener.plan import build_plan, dose_text
from screener.report.plots import time_series_svg
from screener.result import AnalysisResult
from screener.tasks import get_task, is_unilateral, task_names

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

SIDES = ("left", "right")


def _fmt(value: Any, unit: str = "deg", digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if unit == "deg":
        return f"{float(value):.{digits}f}°"
    return f"{float(value):.2f}"


def _faults(result: AnalysisResult, norms: Norms) -> list[dict[str, Any]]:
    """The summary's fault entries (recomputed for an old summary) as the clinical views
    show them (:func:`screener.faults.clinical_faults`)."""
    return clinical_faults(_all_faults(result, norms))


def _charted_frames(frames: pd.DataFrame, summary: dict[str, Any]) -> pd.DataFrame:
    """The frame table without the columns of metrics whose values are not shown (an
    event metric's frame columns: the frame model's targets for it, else the columns of
    its own name, whole-body or per side)."""
    from screener.frame_model import EVENT_METRIC_TARGETS

    def frame_columns(metric: str) -> tuple[str, ...]:
        return EVENT_METRIC_TARGETS.get(metric) or tuple(
            f"{prefix}{metric}" for prefix in ("", *(f"{side}_" for side in SIDES))
        )

    hidden = hidden_metrics(summary)
    columns = [c for m in hidden for c in frame_columns(m) if c in frames]
    return frames.drop(columns=columns) if columns else frames


def _all_faults(result: AnalysisResult, norms: Norms) -> list[dict[str, Any]]:
    faults = result.summary.get("faults")
    if isinstance(faults, list) and faults and "verdict" in faults[0]:
        return faults
    return flag_faults(
        result.summary["task"],
        result.events,
        result.summary["sides"],
        result.summary.get("quality", {}),
        norms,
        sex=_sex(result),
        asymmetry=result.summary.get("asymmetry"),
    )


def header(result: AnalysisResult) -> dict[str, Any]:
    """Task, view, date, video name and recording figures."""
    s = result.summary
    prov = s.get("provenance", {})
    video = (
        result.video_path.name if result.video_path else str(s.get("video", {}).get("path", "–"))
    )
    intake = s.get("intake") or {}
    return {
        "patient_code": intake.get("patient_code") or "not recorded",
        "visit_date": intake.get("visit_date") or "not recorded",
        "task": s.get("task"),
        "task_name": task_title(s.get("task")),
        "view": s.get("view", "–"),
        "date": prov.get("analysed_at") or datetime.now(UTC).isoformat(timespec="seconds"),
        "video": video,
        "fps": _fmt(s.get("fps"), "x", 1).replace(".00", ""),
        "n_frames": s.get("n_frames", len(result.frames)),
        "duration_s": f"{float(s.get('duration_s', 0.0)):.1f}",
        "stance_side": s.get("stance_side"),
        "stance_side_source": stance_side_source(s.get("stance_side_detection")),
        "n_events": {side: s.get("sides", {}).get(side, {}).get("n_events", 0) for side in SIDES},
    }


def stance_side_source(detection: dict[str, Any] | None) -> str | None:
    """How the report names where a unilateral task's stance leg came from: given, or
    read from the video with the cue that settled it and what to do if it is wrong."""
    if not detection:
        return None
    if detection.get("given"):
        return "given"
    cue = detection.get("cue_text")
    how = f" ({cue})" if cue else ""
    return (
        f"read from the video{how}; if it is not the leg the patient stood on, analyse again "
        "with the leg named"
    )


def norm_rows(
    result: AnalysisResult, norms: Norms, faults: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One row per metric and side: value, spread, norm, verdict, confidence, source."""
    task = result.summary["task"]
    by_key = {(f["metric"], f["side"]): f for f in faults}
    not_shown = hidden_metrics(result.summary)
    rows = []
    for metric, norm in norms.task(task).metrics.items():
        if metric in RESEARCH_ONLY_METRICS:
            continue
        for side in SIDES:
            stats = result.summary["sides"].get(side, {}).get(metric)
            if not isinstance(stats, dict):
                continue
            n = int(stats.get("n", 0) or 0)
            if is_unilateral(task) and n == 0:
                continue
            fault = by_key.get((metric, side))
            hidden = metric in not_shown
            bands, group = norm.band_for(_sex(result))
            rows.append(
                {
                    "label": norm.label,
                    "metric": metric,
                    "side": side,
                    "mean": "not shown" if hidden else _fmt(stats.get("mean"), norm.unit),
                    "sd": "–" if hidden else _fmt(stats.get("sd"), norm.unit),
                    "worst": "–"
                    if hidden
                    else _fmt(stats.get("max" if norm.direction == "above" else "min"), norm.unit),
                    "n": n,
                    "norm": _band_text(bands, norm.unit, norm.direction) if bands else "no norm",
                    "group": group,
                    "status": norm.status.replace("_", " "),
                    "evidence": evidence_label(norm.status, bands.basis if bands else norm.note),
                    "verdict": fault["verdict"] if fault else "no norm",
                    "severity": fault["severity"] if fault else "none",
                    "confidence": f"{fault['confidence']:.2f}" if fault else "–",
                    "sdc": _fmt(norm.sdc, norm.unit) if norm.sdc else "–",
                    "source": norms.cite(bands.source) if bands else norm.note,
                }
            )
    return rows


def _band_text(bands: Any, unit: str, direction: str) -> str:
    op = "≥" if direction == "above" else "≤"
    return (
        f"mild {op} {_fmt(bands.mild, unit)}, moderate {op} {_fmt(bands.moderate, unit)}, "
        f"severe {op} {_fmt(bands.severe, unit)}"
    )


def stills(result: AnalysisResult, faults: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The standing reference and one still per flagged event (:mod:`screener.report.stills`)."""
    from screener.report.stills import recording_stills

    return recording_stills(result, faults)


def caveats(result: AnalysisResult, norms: Norms, faults: list[dict[str, Any]]) -> list[str]:
    """Limits of this screen a clinician must weigh, specific to the recording."""
    s = result.summary
    out = [
        "2D video: frontal-plane angles are projections onto the image, sensitive to camera "
        "height, distance and how square the subject stands to the camera. The pose model "
        "(MediaPipe) has no published validation against motion capture for these angles.",
        "Knee FPPA is a composite of hip adduction, hip internal rotation and knee rotation, "
        "not a pure knee angle. Each verdict states the error this screener's readings had "
        "for the task and view on rendered bodies with exact truth (docs/accuracy.md); a "
        "metric whose readings followed the true angle too weakly there, or erred there beyond "
        "what a screening reading may, is neither judged nor shown (its values are in "
        "frames.csv and events.csv, for research).",
    ]
    out.append(
        "Femoral internal rotation is not shown: no validated method measures it from a single "
        "2D view and on rendered bodies its error was about 20 deg. Its research values stay in "
        "frames.csv and events.csv."
    )
    spec = get_task(str(s.get("task"))) if s.get("task") in task_names() else None
    if spec:
        out.extend(spec.report_notes)
    fps = float(s.get("fps", 0.0) or 0.0)
    if spec and spec.fast and fps < 60:
        out.append(
            f"Jogging filmed at {fps:.0f} fps: below 60 fps fast movement is blurred and "
            "under-sampled and peaks are missed; clinical running video guidance asks for "
            "120 fps or more."
        )
    provisional = sorted(
        {f["label"] for f in faults if f["status"] in ("provisional", "extrapolated")}
    )
    if provisional:
        out.append(
            "Provisional or extrapolated thresholds (no published cut-off for this task and "
            "2D measure): " + ", ".join(provisional) + ". See the norms table for each basis."
        )
    task_norms = norms.task(s["task"])
    for side in SIDES:
        n = int(s.get("sides", {}).get(side, {}).get("n_events", 0) or 0)
        if 0 < n < task_norms.min_events:
            out.append(
                f"{side.capitalize()}: {n} event(s), fewer than the {task_norms.min_events} "
                "recommended for a repeatable mean; confidence is reduced."
            )
    provenance = s.get("provenance", {})
    frame_model = provenance.get("frame_model") or {}
    corrected = frame_model_sentence(frame_model)
    timing = provenance.get("event_model")
    timed, research_timing = event_model_sentence(timing), is_research_timing(timing)
    research = [timed] if research_timing else []
    if frame_model.get("research_targets"):
        research.insert(0, corrected)
    elif corrected:  # on by default: a note, not a research flag
        out.append(corrected)
    if timed and not research_timing:  # the stance model, on by default: a note
        out.append(timed)
    out[:0] = [r for r in research if r]  # research options come first
    camera = capture_sentence(s.get("capture") or {})
    if camera:
        out.append(camera)
    out.extend(str(u) for u in (s.get("capture") or {}).get("unchecked", []))
    out.extend(str(w) for w in s.get("quality", {}).get("warnings", []))
    return out


def frame_model_sentence(info: dict[str, Any] | None) -> str:
    """What the report says when the learned frame model corrected the angles ("" if not).

    Notes
    -----
    Targets verified on real video (the model card's ``verified_targets``) are corrected
    by default; any other target corrected on request makes the values research values.
    """
    if not info or not info.get("targets_corrected"):
        return ""
    model = f"the learned frame model ({info.get('name')} {info.get('version')})"
    research = info.get("research_targets", [])
    if research:
        names = _angle_names(research)
        return (
            f"Research option: the angles ({names}) were corrected by {model}, trained on "
            "rendered bodies and not checked on real video, so these values are for "
            "research. The uncorrected values are in frames.csv (*_geometric_deg)."
        )
    names = _angle_names(info["targets_corrected"])
    return (
        f"The angles ({names}) were corrected by {model} for MediaPipe's landmark bias and "
        "the camera's placement. It was trained and validated on rendered bodies with "
        "exact truth; on real video it has been checked only against a laboratory's "
        "multi-camera reference, from cameras higher and further off axis than this set-up, "
        "where it came closer to the reference than the uncorrected angles (model card: "
        "screener/models/frame_model.md). The uncorrected values are in frames.csv "
        "(*_geometric_deg)."
    )


def _angle_names(targets: list[str]) -> str:
    """``left_knee_fppa_deg`` -> ``left knee FPPA``, joined."""
    names = (str(t).removesuffix("_deg").replace("_", " ") for t in targets)
    return ", ".join(n.replace("fppa", "FPPA") for n in names)


def is_research_timing(info: dict[str, Any] | None) -> bool:
    """True when a learned model that is a research option (the squat repetition model)
    timed the events."""
    return bool(info and info.get("applied") and "repetition" in str(info.get("name")))


def event_model_sentence(info: dict[str, Any] | None) -> str:
    """What the report says when a learned event model timed the events ("" if none did).

    Notes
    -----
    The stance model (walks, jogs) is on by default since session 15; the squat
    repetition model is a research option.
    """
    if not info or not info.get("applied"):
        return ""
    model = f"({info.get('name')} {info.get('version')})"
    if is_research_timing(info):
        return (
            f"Research option: the repetitions' start and end were timed by the learned "
            f"repetition model {model}, trained on rendered squats and not checked on real "
            "video. The values are read over these repetitions, so they are for research."
        )
    return (
        f"The stance phases were timed by the learned event model {model}, trained on "
        "rendered walks and jogs against the rendered foot's floor contact. On real video it "
        "has been checked only on one walk filmed from the side, where it found every heel "
        "strike and toe-off, 3 of 7 and 7 of 8 within 50 ms (model card: "
        "screener/models/event_model.md)."
    )


def capture_sentence(capture: dict[str, Any]) -> str:
    """One sentence on the recording as estimated from the video: where the camera was,
    the lighting and the clothing read (and what was entered: the lens height, the camera's
    distance, the patient's height)."""
    parts = []
    yaw = capture.get("yaw_deg")
    if yaw is not None:
        side = "left" if yaw > 0 else "right"
        if capture.get("path_yaw_deg") is not None:  # a walk whose walking line was read
            parts.append(f"about {abs(yaw):.0f}° to the {side} of the patient's walking line")
        else:
            parts.append(f"about {abs(yaw):.0f}° to the patient's {side} of square")
    pitch = capture.get("pitch_deg")
    if pitch is not None:
        parts.append(f"tilted {abs(pitch):.0f}° {'down' if pitch >= 0 else 'up'}")
    roll = capture.get("roll_deg")
    if roll is not None:
        from_room = capture.get("roll_source") == ROLL_FROM_ROOM
        parts.append(
            f"rolled {roll:+.1f}°" + (f" (read from the {ROLL_FROM_ROOM})" if from_room else "")
        )
    height = capture.get("camera_height_m")
    stated = capture.get("camera_height_stated_m")
    if stated is not None:
        parts.append(f"lens {stated:.2f} m above the floor (as entered)")
    elif height is not None and capture.get("camera_height_method") == "approach":
        # only the walk's estimate is stated: the other one reads where the camera aims
        parts.append(f"lens about {height:.1f} m above the floor")
    distance = capture.get("camera_distance_stated_m")
    if distance is not None:
        parts.append(f"lens {distance:.1f} m from the patient (as entered)")
    stature = capture.get("patient_height_stated_m")
    if stature is not None:
        parts.append(f"the patient {stature:.2f} m tall (as entered)")
    fill = capture.get("subject_height_fraction")
    if fill is not None:
        parts.append(f"the patient filling {fill:.0%} of the frame height")
    light = capture.get("lighting") or {}
    if light.get("checked") and light.get("subject_luma") is not None:
        parts.append(
            f"the patient lit at {light['subject_luma']:.0f} of 255 with the background "
            f"{light['backlight_ratio']:.1f} times as bright"
        )
    clothing = capture.get("clothing") or {}
    if clothing.get("checked"):
        parts.append(
            {
                True: "the top read as covering the hips",
                False: "the top read as ending above the hips",
                None: "the clothes' colours too alike to tell where the top ends",
            }[clothing.get("top_over_hips")]
        )
    if not parts:
        return ""
    return (
        "Recording, as estimated from the video (see docs/accuracy.md for the estimates' "
        "errors): " + ", ".join(parts) + "."
    )


def provenance(result: AnalysisResult, norms: Norms) -> list[tuple[str, str]]:
    """Key-value pairs naming the software, model, settings and norms behind the report."""
    prov = dict(result.summary.get("provenance", {}))
    prov.pop("config", None)
    items = [(str(k), str(v)) for k, v in prov.items() if v is not None]
    items.append(("norms", f"{norms.name} {norms.version} ({norms.path})"))
    return items


def build_context(result: AnalysisResult) -> dict[str, Any]:
    """Gather everything both report formats show.

    Returns
    -------
    dict
        ``header``, ``faults`` (all entries), ``flags`` (verdict "flag", most severe
        first), ``rows`` (values against norms), ``stills`` (standing reference and flagged
        events) and ``still_rows`` (the same, left against right), ``timeseries_svg``
        (the time-series chart, an inline SVG element), ``plan``, ``caveats``,
        ``provenance``, ``sources`` (cited references).
    """
    norms = load_norms(result.config.norms_path)
    faults = _faults(result, norms)
    plan = result.summary.get("plan") or build_plan(faults, None, result.config.plan_path)
    flags = [
        {**f, "accuracy": accuracy_text(norms, result.summary["task"], f["metric"], f)}
        for f in flagged(faults)
    ]
    ordered = sorted(faults, key=lambda f: (f["verdict"] != "flag", -severity_rank(f["severity"])))
    cited = sorted(
        {k for t in norms.tasks.values() for m in t.metrics.values() for k in m.cited_sources()}
    )
    shown = stills(result, faults)
    return {
        "header": header(result),
        "faults": ordered,
        "flags": flags,
        "headline": headline(result.summary, faults),
        "chart": chart_entry(result.summary.get("intake") or {}, plan),
        "cannot_exclude": list(VIDEO_CANNOT_EXCLUDE),
        "capture": _capture_guide(result.summary.get("task")),
        "squat_depth": result.summary.get("squat_depth"),
        "dose_text": dose_text,
        "rows": norm_rows(result, norms, faults),
        "stills": shown,
        "still_rows": _still_rows(shown, result.summary),
        "timeseries_svg": time_series_svg(
            _charted_frames(result.frames, result.summary), result.events
        ),
        "plan": plan,
        "caveats": caveats(result, norms, faults),
        "provenance": provenance(result, norms),
        "sources": [(k, norms.sources[k].short()) for k in cited],
        "fmt": _fmt,
    }


def task_title(task: Any) -> str:
    """A task's title in the report (its name if it is not registered)."""
    return get_task(str(task)).title if task in task_names() else str(task)


def _still_rows(shown: list[dict[str, Any]], summary: dict[str, Any]) -> list[dict[str, Any]]:
    from screener.report.stills import recording_still_rows

    return recording_still_rows(shown, str(summary.get("task")), summary.get("stance_side"))


def _capture_guide(task: Any) -> dict[str, Any] | None:
    from screener.capture_guide import CAPTURE_PATH, load_capture_guides

    guide = load_capture_guides(CAPTURE_PATH).get(str(task))
    return guide.model_dump() if guide else None


def evidence_label(status: str, basis: str) -> str:
    """Where a norm comes from, in words: established, or borrowed from which task."""
    if status == "established":
        return "established for this task and 2D measure"
    if status == "extrapolated":
        return f"borrowed from another task or population: {basis}"
    if status == "provisional":
        return f"provisional (no published cut-off): {basis}"
    return "no norm"


def accuracy_text(norms: Norms, task: str, metric: str, entry: dict[str, Any] | None = None) -> str:
    """The measured error of a metric and its source, or that it was never measured.

    A fault entry's own error (the screener's, measured on validation renders) and its
    side correlation come first; the norm's literature figure otherwise.
    """
    if entry is not None and entry.get("measurement_error") is not None:
        unit = "°" if entry.get("unit") == "deg" else ""
        tracking = (
            f"; side means vs truth r = {entry['tracking_r']:.2f}"
            if entry.get("tracking_r") is not None
            else ""
        )
        source = entry.get("measurement_error_source") or "source not recorded"
        return f"± {entry['measurement_error']:.1f}{unit} ({source}{tracking})"
    norm = norms.metric(task, metric)
    if norm is None or not norm.measurement_error:
        return "accuracy not measured"
    unit = "°" if norm.unit == "deg" else ""
    return f"± {norm.measurement_error:g}{unit} ({norms.cite(norm.measurement_error_source)})"


def headline(summary: dict[str, Any], faults: list[dict[str, Any]]) -> str:
    """One line that never reassures about a measure or side that could not be graded
    (:func:`screener.faults.screen_headline`)."""
    tested = {f["side"] for f in faults}
    sides = tested if is_unilateral(summary.get("task")) else tested | set(SIDES)
    findings = [f"{f['label'].lower()} ({f['side']}, {f['severity']})" for f in flagged(faults)]
    return screen_headline(faults, findings, sides, "this video")


def chart_entry(intake: dict[str, Any], plan: dict[str, Any]) -> list[tuple[str, str]]:
    """The pain and history answers as chart lines."""

    def pain(v: Any) -> str:
        return "not recorded" if v is None else f"{float(v):g}/10"

    care = intake.get("first_line_care") or []
    weeks = intake.get("first_line_weeks")
    flags = intake.get("red_flags") or []
    volume = intake.get("weekly_volume_km")
    return [
        ("Worst lateral knee pain, running, past week", pain(intake.get("running_pain"))),
        ("Pain at rest", pain(intake.get("rest_pain"))),
        ("Pain starts after", intake.get("pain_onset") or "not recorded"),
        ("Weekly running", "not recorded" if volume is None else f"{float(volume):g} km"),
        (
            "First-line care tried",
            (", ".join(FIRST_LINE_LABELS.get(c, c) for c in care) or "none recorded")
            + (f", {float(weeks):g} week(s)" if weeks is not None and care else ""),
        ),
        (
            "Red flags",
            "; ".join(RED_FLAG_LABELS.get(f, f) for f in flags) or "none reported",
        ),
        ("Stage", f"{plan['status']}"),
    ]


def _sex(result: AnalysisResult) -> str | None:
    """Sex the norms were chosen for: the summary's, else the config's."""
    sex = result.summary.get("sex") or result.config.sex
    return str(sex) if sex else None
