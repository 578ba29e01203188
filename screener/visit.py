"""The visit as the unit: several recordings of one visit to one screen and one plan.

A visit is filmed as a handful of recordings: walking, a single-leg squat on each leg,
jogging in place, sometimes a retake of one of them. :func:`screen_visit` takes their
summaries (``summary.json`` of each :class:`~screener.result.AnalysisResult`) and

- groups them into slots (walk, squat left, squat right, jog) and, where a slot was
  filmed more than once, keeps the best take by recording quality; the others are
  marked as retakes and left out (never averaged with the kept take);
- sets left against right for each measure, with the asymmetry (left minus right) and
  whether it exceeds the measure's smallest detectable change;
- builds one plan from every kept take's flags and the visit's intake answers, so the
  exercises are ordered once for the visit, not once per recording;
- carries the walk's lens height over to the squats and the jog as a note: their videos
  do not give it (docs/capture.md), a walk toward the camera does, and a clinic often
  films every task from one tripod (:func:`lens_height_notes`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from screener.asymmetry import (
    DEFAULT_Z,
    call_difference,
    combined_error_deg,
    difference_limit_deg,
    exceeds,
)
from screener.capture import Envelope, load_envelope
from screener.faults import (
    RESEARCH_ONLY_METRICS,
    SIDES,
    clinical_faults,
    flagged,
    hidden_metrics,
    screen_headline,
)
from screener.intake import Intake, make_intake
from screener.norms import Norms
from screener.plan import build_plan
from screener.tasks import is_unilateral, recording_slots, slot_label, task_names


def slot_names() -> dict[str, str]:
    """Every recording slot of a visit and its title, e.g. ``walk``: "Walking",
    ``sls_left``: "Single-leg squat, left leg" (one slot per task, one per leg for a
    unilateral task: :func:`screener.tasks.recording_slots`)."""
    return {slot: slot_label(slot, long=True) for slot in recording_slots()}


def slot_of(summary: Mapping[str, Any]) -> str:
    """The slot a recording fills: the task (``walk``, ``jog``), or for a task done on one
    leg the task and the leg (``sls_left``, ``sls_right``)."""
    task = str(summary.get("task"))
    if is_unilateral(task):
        return f"{task}_{summary.get('stance_side') or 'left'}"
    return task


def take_quality(summary: Mapping[str, Any], norms: Norms) -> float:
    """How usable one take is, 0-1: landmark quality times the share of events wanted.

    Notes
    -----
    ``quality.mean_quality`` (landmark visibility and repairs) times, for the judged
    sides, the events found over the norms file's ``min_events`` (capped at 1), times
    0.5 when the pose model reported another person in view.
    """
    quality = summary.get("quality") or {}
    base = float(quality.get("mean_quality") or 0.0)
    task = str(summary.get("task"))
    wanted = norms.task(task).min_events
    sides = summary.get("sides") or {}
    judged = [s for s in SIDES if not is_unilateral(task) or s == summary.get("stance_side")]
    counts = [int((sides.get(s) or {}).get("n_events", 0) or 0) for s in judged]
    events = min((min(1.0, c / wanted) for c in counts), default=0.0)
    crowded = any("another person" in str(w) for w in quality.get("warnings", []))
    return round(base * events * (0.5 if crowded else 1.0), 4)


def choose_takes(
    takes: Sequence[tuple[str, Mapping[str, Any]]], norms: Norms
) -> tuple[dict[str, tuple[str, Mapping[str, Any]]], list[dict[str, Any]]]:
    """The best take of each slot by :func:`take_quality`, and every take marked used or not.

    Returns
    -------
    chosen, listing
        Slot -> ``(id, summary)`` of the kept take; per take ``id``, ``slot``,
        ``quality``, ``used`` and ``note``. On equal quality the first take is kept.
    """
    chosen: dict[str, tuple[str, Mapping[str, Any]]] = {}
    scores: dict[str, float] = {}
    listing: list[dict[str, Any]] = []
    for take_id, summary in takes:
        slot = slot_of(summary)
        score = take_quality(summary, norms)
        listing.append({"id": take_id, "slot": slot, "quality": score})
        if slot not in chosen or score > scores[slot]:
            chosen[slot] = (take_id, summary)
            scores[slot] = score
    for item in listing:
        kept = chosen[item["slot"]][0] == item["id"]
        item["used"] = kept
        item["note"] = (
            "used"
            if kept
            else f"retake, not used (quality {item['quality']:.2f}, below the kept take)"
        )
    return chosen, listing


def _value(summary: Mapping[str, Any], side: str, metric: str) -> tuple[float | None, int]:
    stats = ((summary.get("sides") or {}).get(side) or {}).get(metric)
    if not isinstance(stats, dict):
        return None, 0
    mean = stats.get("mean")
    n = int(stats.get("n", 0) or 0)
    if mean is None or not math.isfinite(float(mean)) or n == 0:
        return None, n
    return float(mean), n


def _verdict(summary: Mapping[str, Any], side: str, metric: str) -> dict[str, Any] | None:
    for f in summary.get("faults") or []:
        if f.get("side") == side and f.get("metric") == metric:
            return dict(f)
    return None


def _asymmetry_limit(
    per_side: Mapping[str, tuple[str, Mapping[str, Any]] | None],
    metric: str,
    sdc: float | None,
    task: str,
) -> float | None:
    """The difference beyond which a visit calls the legs different (screener.asymmetry).

    A task filming both legs in one take: the limit its analysis wrote (the take's measured
    error of a difference); a summary written before session 44 has none, and the SDC
    stands. A single-leg squat (one take per leg): the larger of the SDC and ``z`` times
    the measured error of a difference of two squats (the takes' ``asymmetry_error``, from
    pairs of rendered squats of one patient and phone; the larger where the two takes'
    views differ), or, where a take has none, the two takes' measured errors of a side
    combined as independent.
    """
    takes = [per_side[s] for s in SIDES]
    if is_unilateral(task):
        entries = [
            (_verdict(take[1], side, metric) or {}) if take else {}
            for side, take in zip(SIDES, takes, strict=True)
        ]
        pair_errors = [e.get("asymmetry_error") for e in entries]
        error: float | None
        if all(err is not None for err in pair_errors):
            error = max(float(err) for err in pair_errors if err is not None)
        else:
            sides = [e.get("measurement_error") for e in entries]
            error = combined_error_deg(sides[0], sides[1])
        limit = difference_limit_deg(sdc, error, DEFAULT_Z)
        return limit if math.isfinite(limit) else None
    take = takes[0]
    entry = _verdict(take[1], "left", metric) if take else None
    if entry is not None and "asymmetry_limit" in entry:
        return entry["asymmetry_limit"]
    return sdc


def compare_sides(
    chosen: Mapping[str, tuple[str, Mapping[str, Any]]], norms: Norms
) -> list[dict[str, Any]]:
    """Left against right for each task and graded measure of the kept takes.

    Returns
    -------
    list of dict
        Per task and metric: ``task``, ``metric``, ``label``, ``unit``, per side
        ``left``/``right`` (``value``, ``n``, ``verdict``, ``severity``, ``take``),
        ``asymmetry`` (left minus right, None when a side is missing), ``sdc``,
        ``asymmetry_exceeds_sdc``, ``asymmetry_limit`` (the SDC or, larger, ``z`` times
        the measured error of the difference: :func:`_asymmetry_limit`),
        ``asymmetry_exceeds_limit`` and ``asymmetry_call``
        (:func:`screener.asymmetry.call_difference`: beyond the limit, beyond the SDC only
        and so not ruled out, or within).
    """
    rows = []
    for task in task_names():
        if is_unilateral(task):
            per_side = {s: chosen.get(f"{task}_{s}") for s in SIDES}
        else:
            per_side = {s: chosen.get(task) for s in SIDES}
        if not any(per_side.values()):
            continue
        hidden = {side: hidden_metrics(take[1]) for side, take in per_side.items() if take}
        for metric, norm in norms.task(task).metrics.items():
            if metric in RESEARCH_ONLY_METRICS or not norm.fault:
                continue
            row: dict[str, Any] = {
                "task": task,
                "metric": metric,
                "label": norm.label,
                "unit": norm.unit,
                "sdc": norm.sdc,
            }
            values = {}
            for side in SIDES:
                take = per_side[side]
                if take is None:
                    row[side] = None
                    continue
                value, n = _value(take[1], side, metric)
                verdict = _verdict(take[1], side, metric) or {}
                if metric in hidden[side]:
                    value = None
                row[side] = {
                    "value": value,
                    "n": n,
                    "verdict": verdict.get("verdict", "not measured"),
                    "severity": verdict.get("severity", "none"),
                    "take": take[0],
                }
                values[side] = value
            left, right = values.get("left"), values.get("right")
            asym = left - right if left is not None and right is not None else None
            row["asymmetry"] = asym
            row["asymmetry_exceeds_sdc"] = (
                bool(abs(asym) > norm.sdc) if asym is not None and norm.sdc else None
            )
            row["asymmetry_limit"] = _asymmetry_limit(per_side, metric, norm.sdc, task)
            row["asymmetry_exceeds_limit"] = exceeds(asym, row["asymmetry_limit"])
            row["asymmetry_call"] = call_difference(asym, norm.sdc, row["asymmetry_limit"])
            rows.append(row)
    return rows


def visit_headline(rows: list[dict[str, Any]], faults: list[dict[str, Any]]) -> str:
    """The visit's one line (:func:`screener.faults.screen_headline` over the kept takes'
    left-against-right rows)."""
    entries = [
        {"side": side, "label": r["label"], "verdict": r[side]["verdict"]}
        for r in rows
        for side in SIDES
        if r.get(side)
    ]
    findings = [
        f"{f['label'].lower()} ({f['side']}, {f['severity']}, {f['task_name']})"
        for f in flagged(faults)
    ]
    return screen_headline(entries, findings, SIDES, "this visit")


def lens_height_notes(
    chosen: Mapping[str, tuple[str, Mapping[str, Any]]], envelope: Envelope
) -> list[str]:
    """What the visit's walk says about the lens height of its other recordings.

    Parameters
    ----------
    chosen
        Slot -> ``(id, summary)`` of the kept takes (:func:`choose_takes`).
    envelope
        The validated capture envelope (its lens height range and the walk's warning
        threshold).

    Returns
    -------
    list of str
        One note, or none: none when the walk gave no lens height from its approach or
        every other kept take's lens height was entered when filming.

    Notes
    -----
    A single-leg squat's or a jog's lens height cannot be read from its video (no
    approach: docs/capture.md, "Not handled, or not known"); a walk toward or away from
    the camera gives it (error SD 0.2 m on the renders, ``[camera_height_m]`` of the
    envelope file). The note assumes nothing: it says what the walk read and what follows
    if the other recordings were filmed from the same tripod at the same height.
    """
    walk = chosen.get("walk")
    if walk is None:
        return []
    capture = walk[1].get("capture") or {}
    height = capture.get("camera_height_m")
    if capture.get("camera_height_method") != "approach" or not (
        isinstance(height, int | float) and math.isfinite(height)
    ):
        return []
    names = slot_names()
    unread = [
        names[slot]
        for slot, (_, summary) in chosen.items()
        if slot != "walk" and (summary.get("capture") or {}).get("camera_height_stated_m") is None
    ]
    if not unread:
        return []
    which = ", ".join(name[0].lower() + name[1:] for name in unread)
    low, high = envelope.camera_height_min_m, envelope.camera_height_max_m
    read = f"The walk's lens was read at about {height:.1f} m above the floor"
    unknown = (
        f"The lens height of the other recordings ({which}) cannot be read from their "
        "videos: if they were filmed from the same tripod at the same height,"
    )
    if height > envelope.camera_height_warn_above_m:
        return [
            f"{read}, above the validated {low:.1f}-{high:.1f} m. {unknown} film them again "
            "with the lens between the patient's knee and hip height, or analyse them again "
            "with the height measured when filming."
        ]
    return [
        f"{read} (validated {low:.1f}-{high:.1f} m; the reading may be 0.2 m off). {unknown} "
        "it was the same; if not, give the height measured when filming to have it checked."
    ]


def screen_visit(
    takes: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    intake: Intake | Mapping[str, Any] | None,
    norms: Norms,
    plan_path: str | Path,
    dose_overrides: Mapping[str, Any] | None = None,
    envelope: Envelope | None = None,
) -> dict[str, Any]:
    """One screen and one plan for a visit from its recordings.

    Parameters
    ----------
    takes
        ``(id, summary)`` of each recording of the visit (its ``summary.json``), in any
        order; retakes of the same slot are allowed.
    intake
        The visit's pain and history answers.
    norms
        The norms the recordings were judged with.
    plan_path
        The exercises file.
    dose_overrides
        Per-exercise dose overrides (clinic or patient).
    envelope
        The validated capture envelope; None: the default file's
        (:attr:`screener.config.CaptureConfig.envelope_path`).

    Returns
    -------
    dict
        ``takes`` (each recording: ``slot``, ``quality``, ``used``, ``note``),
        ``slots`` (slot -> kept take id), ``missing`` (slots not filmed),
        ``comparison`` (:func:`compare_sides`), ``faults`` (the kept takes' entries,
        each with ``task`` and ``task_name``), ``headline``, ``plan``
        (:func:`screener.plan.build_plan` over every kept take's flags),
        ``capture_notes`` (:func:`lens_height_notes`).
    """
    answers = make_intake(intake)
    names = slot_names()
    chosen, listing = choose_takes(takes, norms)
    faults = []
    for slot, (take_id, summary) in chosen.items():
        judged_side = summary.get("stance_side") if is_unilateral(summary.get("task")) else None
        for f in clinical_faults(summary.get("faults") or []):
            if judged_side and f.get("side") != judged_side:
                continue
            faults.append(
                {**f, "task": summary.get("task"), "task_name": names[slot], "take": take_id}
            )
    rows = compare_sides(chosen, norms)
    plan = build_plan(faults, answers, plan_path, dose_overrides=dict(dose_overrides or {}))
    return {
        "takes": listing,
        "slots": {slot: take[0] for slot, take in chosen.items()},
        "missing": [names[s] for s in names if s not in chosen],
        "comparison": rows,
        "faults": faults,
        "headline": visit_headline(rows, faults),
        "plan": plan,
        "intake": answers.answers(),
        "capture_notes": lens_height_notes(chosen, envelope or _default_envelope()),
    }


def _default_envelope() -> Envelope:
    from screener.config import CaptureConfig

    return load_envelope(CaptureConfig().envelope_path)
