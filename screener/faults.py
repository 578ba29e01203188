"""Fault flags: each side's event metrics judged against the norms file.

A fault is a movement pattern a clinician screens for (contralateral pelvic drop,
dynamic knee valgus, femoral internal rotation, ipsilateral trunk lean, narrow step
width / crossover). :func:`flag_faults` grades each side's mean over events against the
severity bands of :mod:`screener.norms` and says how far the call can be trusted.
Everything here is a pure function of its arguments.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from screener.accuracy import MeasuredError, withheld_reason
from screener.norms import SEVERITIES, Bands, MetricNorm, Norms, Severity, TaskNorms
from screener.tasks import is_unilateral

SIDES: tuple[str, str] = ("left", "right")

#: Plain-language meaning of each fault, for the clinician (never a diagnosis).
FAULT_MEANING: dict[str, str] = {
    "pelvic_drop": "the pelvis drops on the side of the lifted leg, a pattern often linked "
    "to weak or poorly controlled hip abductors",
    "knee_valgus": "the knee moves inward of the hip-ankle line (dynamic valgus); the "
    "2D angle combines hip adduction, hip internal rotation and knee rotation",
    "femoral_ir": "the thigh turns inward (femoral internal rotation), a pattern linked to "
    "weak hip external rotators",
    "hip_adduction": "the thigh moves toward the midline in running stance (hip "
    "adduction), the running pattern that preceded iliotibial band pain in a prospective study",
    "trunk_lean": "the trunk leans over the stance leg, a common compensation that "
    "off-loads weak hip abductors",
    "narrow_step_width": "the feet land close to or across the midline (narrow step or "
    "crossover), which raises iliotibial band strain",
}


def classify_severity(value: float, bands: Bands, direction: str) -> Severity:
    """Severity band of a value.

    Parameters
    ----------
    value
        The measured value.
    bands
        Band edges.
    direction
        ``"above"``: a value at or above an edge is in that band; ``"below"``: at or below.

    Returns
    -------
    str
        ``"none"``, ``"mild"``, ``"moderate"`` or ``"severe"``.

    Notes
    -----
    Edges are inclusive: a value exactly at the mild edge is mild.
    """
    edges = (("severe", bands.severe), ("moderate", bands.moderate), ("mild", bands.mild))
    for name, edge in edges:
        if (direction == "above" and value >= edge) or (direction == "below" and value <= edge):
            return name  # type: ignore[return-value]
    return "none"


def side_probability(
    mean: float, threshold: float, sd: float, n: int, error: float | None
) -> float:
    """Probability that the true mean lies on the same side of the threshold as measured.

    Parameters
    ----------
    mean, threshold
        Measured mean and the flag threshold.
    sd
        Spread of the events (NaN or 0 with one event).
    n
        Number of events.
    error
        Typical measurement error of the metric (None: unknown, ignored here).

    Returns
    -------
    float
        0.5 (a coin flip, at the threshold) to 1.

    Notes
    -----
    The uncertainty of the mean combines the standard error of the events and the
    measurement error, ``u = sqrt(sd**2 / n + error**2)``; the probability is the normal
    CDF of the margin over ``u``.
    """
    u = mean_uncertainty(sd, n, error)
    margin = abs(mean - threshold)
    if u == 0:
        return 1.0
    return 0.5 * (1.0 + math.erf(margin / (u * math.sqrt(2.0))))


def straddles(
    mean: float,
    threshold: float,
    sd: float,
    n: int,
    error: float | None,
    direction: str,
    z: float,
) -> bool:
    """Whether the uncertainty of a mean on the safe side reaches the threshold.

    Parameters
    ----------
    mean, threshold, sd, n, error
        As in :func:`side_probability`.
    direction
        ``"above"`` (larger is worse) or ``"below"``.
    z
        Multiple of the uncertainty that must clear the threshold (1.0: one error).

    Returns
    -------
    bool
        True when ``mean + z * u`` (``"above"``; ``mean - z * u`` for ``"below"``)
        reaches the threshold: the measurement cannot rule the fault out.
    """
    u = mean_uncertainty(sd, n, error)
    if direction == "above":
        return mean + z * u >= threshold
    return mean - z * u <= threshold


def mean_uncertainty(sd: float, n: int, error: float | None) -> float:
    """Uncertainty of a side's mean: the events' standard error and the measurement error.

    ``u = sqrt(sd**2 / n + error**2)``; an undefined spread (one event) counts as 0 and an
    unknown error (None) as 0.
    """
    spread = sd if math.isfinite(sd) else 0.0
    return math.sqrt(spread**2 / max(n, 1) + (error or 0.0) ** 2)


def severity_span(
    mean: float,
    bands: Bands,
    sd: float,
    n: int,
    error: float | None,
    direction: str,
    z: float,
) -> tuple[Severity, Severity]:
    """The lowest and highest severity within the uncertainty of a side's mean.

    Parameters
    ----------
    mean, sd, n, error
        As in :func:`side_probability`.
    bands, direction
        As in :func:`classify_severity`.
    z
        Multiple of the uncertainty either side of the mean (the verdicts' ``rule_out_z``).

    Returns
    -------
    tuple of str
        ``(low, high)``: the severities of ``mean - z * u`` and ``mean + z * u`` (for
        ``"below"``, of ``mean + z * u`` and ``mean - z * u``), the milder first. Equal when
        the uncertainty stays within one band.

    Notes
    -----
    The grade itself is that of the mean (:func:`classify_severity`). The span says how far
    the measurement alone could move it: on the validation renders a large true knee valgus
    is read several degrees small (docs/accuracy.md, "What limits the squat"), so a grade
    read from video can be one or two bands too mild, and the span shows when it might be.
    """
    u = mean_uncertainty(sd, n, error)
    worse = 1.0 if direction == "above" else -1.0
    low = classify_severity(mean - worse * z * u, bands, direction)
    high = classify_severity(mean + worse * z * u, bands, direction)
    return low, high


def _side_events(events: pd.DataFrame | None, side: str) -> pd.DataFrame | None:
    if events is None or len(events) == 0 or "side" not in events:
        return None
    return events[events["side"] == side]


def _mean_column(frame: pd.DataFrame | None, column: str) -> float | None:
    if frame is None or column not in frame or len(frame) == 0:
        return None
    values = frame[column].to_numpy(float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else None


def _n_empty(side_events: pd.DataFrame | None, metric: str) -> int:
    """A side's events whose ``metric`` was left empty (an angle not measurable there)."""
    if side_events is None or metric not in side_events:
        return 0
    return int(side_events[metric].isna().sum())


def _quality_factor(side_events: pd.DataFrame | None, quality: dict[str, Any]) -> float:
    """Landmark quality behind a side's events: their mean confidence, else the clip's."""
    value = _mean_column(side_events, "confidence")
    if value is None:
        value = float(quality.get("mean_quality", 1.0) or 0.0)
    return float(np.clip(value, 0.0, 1.0))


def _stats(sides: dict[str, Any], side: str, metric: str) -> tuple[float, float, float, int]:
    """Mean, sd, worst (max) and number of measured events of one side's metric."""
    side_stats = sides.get(side, {})
    stats = side_stats.get(metric)
    if not isinstance(stats, dict):
        return math.nan, math.nan, math.nan, 0
    mean = _as_float(stats.get("mean"))
    n_raw = stats.get("n", side_stats.get("n_events", 0))
    n = int(n_raw) if n_raw is not None and math.isfinite(mean) else 0
    return mean, _as_float(stats.get("sd")), _as_float(stats.get("max")), n


def _as_float(value: Any) -> float:
    """A statistic as float; None (JSON null for NaN) becomes NaN."""
    return math.nan if value is None else float(value)


def assess_metric(
    *,
    task_norms: TaskNorms,
    metric: str,
    norm: MetricNorm,
    norms: Norms,
    side: str,
    sides: dict[str, Any],
    side_events: pd.DataFrame | None,
    quality: dict[str, Any],
    sex: str | None,
    asymmetry: float | None,
    measured: MeasuredError | None = None,
    max_error: float = math.inf,
    rule_out_z: float = 1.0,
    advice: str | None = None,
    min_tracking_r: float = -1.0,
    errors_file: str = "measurement_errors.toml",
    hide_untracked: bool = False,
) -> dict[str, Any]:
    """Judge one side's metric against its norm.

    Parameters
    ----------
    measured
        The screener's own measured error for this task, view and metric (hold-out
        renders, :mod:`screener.accuracy`); it replaces the norm's literature figure.
    max_error
        A metric whose measured error exceeds this gets verdict ``"withheld"``.
    rule_out_z
        A value below the threshold is ``"no flag"`` only when ``value + z * u`` stays
        below it too (``u`` the uncertainty of the mean); else ``"cannot rule out"``.
    advice
        For a withheld verdict: how to record so that the metric can be judged (another
        view in which it is), added to the note.
    min_tracking_r
        A metric whose measured per-side means correlate with the truth below this
        (``measured.side_r``) gets verdict ``"withheld"``: its reading moves too little
        with the true angle to support either call.
    errors_file
        The measured-error file's name, for the entry's error source.
    hide_untracked
        Whether a metric withheld for tracking (``min_tracking_r``) also has its value
        left out of the clinical views, as one withheld for its error always does
        (:func:`value_hidden`).

    Returns
    -------
    dict
        One fault entry; see :func:`flag_faults`.
    """
    mean, sd, worst, n = _stats(sides, side, metric)
    bands, group = norm.band_for(sex)
    events_factor = min(1.0, n / task_norms.min_events)
    quality_factor = _quality_factor(side_events, quality)
    error = measured.rmse_deg if measured is not None else norm.measurement_error
    error_source = (
        f"screener validation renders, per task and view (screener/models/{errors_file})"
        if measured is not None
        else (norm.measurement_error_source or None)
    )
    accuracy_factor = 1.0 if error else norms.defaults.unknown_accuracy_factor
    parts: dict[str, float] = {
        "events": round(events_factor, 3),
        "landmark_quality": round(quality_factor, 3),
        "accuracy": accuracy_factor,
    }
    if metric == "femoral_ir_deg":
        ir_conf = _mean_column(side_events, "femoral_ir_confidence")
        parts["femoral_ir_method"] = round(ir_conf if ir_conf is not None else 0.0, 3)

    severity: Severity = "none"
    span: tuple[Severity, Severity] | None = None
    uncertainty: float | None = None
    threshold = bands.mild if bands else None
    tracking_r = measured.side_r if measured is not None else None
    reason = withheld_reason(error, tracking_r, max_error, min_tracking_r)
    hidden_because = hidden_reason(reason, hide_untracked) if n > 0 else None
    withheld_because: str | None = None
    if norm.status == "no_norm" or bands is None:
        verdict = "no norm"
    elif n < task_norms.min_events_verdict:
        verdict = "insufficient events"
    elif reason is not None:
        verdict, withheld_because = "withheld", reason
    else:
        severity = classify_severity(mean, bands, norm.direction)
        verdict = "flag" if severity != "none" else "no flag"
        if verdict == "no flag" and straddles(
            mean, bands.mild, sd, n, error, norm.direction, rule_out_z
        ):
            verdict = "cannot rule out"
        parts["margin"] = round(side_probability(mean, bands.mild, sd, n, error), 3)
        span = severity_span(mean, bands, sd, n, error, norm.direction, rule_out_z)
        uncertainty = mean_uncertainty(sd, n, error)
    confidence = float(np.prod(list(parts.values()))) if n else 0.0
    sdc = norm.sdc
    asym_exceeds = (
        bool(abs(asymmetry) > sdc)
        if asymmetry is not None and sdc is not None and math.isfinite(asymmetry)
        else None
    )
    entry: dict[str, Any] = {
        "fault": norm.fault,
        "side": side,
        "metric": metric,
        "label": norm.label,
        "unit": norm.unit,
        "value": _finite_or_none(mean),
        "worst": _finite_or_none(
            worst if norm.direction == "above" else _stat_min(sides, side, metric)
        ),
        "sd": _finite_or_none(sd),
        "n_events": n,
        "n_events_empty": _n_empty(side_events, metric),
        "min_events": task_norms.min_events,
        "threshold": threshold,
        "bands": bands.model_dump(include={"mild", "moderate", "severe"}) if bands else None,
        "direction": norm.direction,
        "norm_group": group,
        "status": norm.status,
        "severity": severity,
        "severity_low": span[0] if span else None,
        "severity_high": span[1] if span else None,
        "uncertainty": round(uncertainty, 2) if uncertainty is not None else None,
        "verdict": verdict,
        "confidence": round(confidence, 2),
        "confidence_parts": parts,
        "asymmetry": _finite_or_none(asymmetry) if asymmetry is not None else None,
        "asymmetry_exceeds_sdc": asym_exceeds,
        "sdc": sdc,
        "source": norms.cite(bands.source) if bands else _no_norm_source(norm, norms),
        "basis": bands.basis if bands else norm.note,
        "measurement_error": error,
        "measurement_error_source": error_source,
        "tracking_r": tracking_r,
        "tracking_n_sides": measured.n_sides if measured is not None else None,
        "withheld_because": withheld_because,
        "value_hidden": hidden_because is not None,
        "hidden_because": hidden_because,
        "max_reportable_error": max_error if math.isfinite(max_error) else None,
        "advice": advice if verdict == "withheld" else None,
    }
    entry["note"] = describe_fault(entry, norm, task_norms)
    return entry


def _stat_min(sides: dict[str, Any], side: str, metric: str) -> float:
    stats = sides.get(side, {}).get(metric)
    return _as_float(stats.get("min")) if isinstance(stats, dict) else math.nan


def _finite_or_none(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _no_norm_source(norm: MetricNorm, norms: Norms) -> str:
    keys = [norm.method_source, norm.reference_source]
    cited = [norms.cite(k) for k in keys if k]
    return "; ".join(cited) if cited else "no credible norm (see the norms file)"


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}°" if unit == "deg" else f"{value:.2f}"


def span_label(entry: dict[str, Any]) -> str:
    """A flag's severity span for a table cell (``"could be mild to severe"``), or ``""``.

    Empty unless the entry is a flag whose uncertainty reaches another grade
    (:func:`severity_span`).
    """
    low, high = entry.get("severity_low"), entry.get("severity_high")
    if entry.get("verdict") != "flag" or low is None or high is None or low == high:
        return ""
    return f"could be {_GRADE_NAMES.get(low, low)} to {high}"


#: How a span's grade reads in a sentence.
_GRADE_NAMES = {"none": "below the threshold"}


def describe_span(entry: dict[str, Any]) -> str:
    """The sentence saying how far a graded call's severity could move, or ``""``.

    Nothing when the uncertainty stays within the call's own band; for a flag, the grades
    the mean's uncertainty reaches either side (:func:`severity_span`); for a value that
    cannot be ruled out, the worst grade it reaches when that is beyond mild.
    """
    low, high = entry.get("severity_low"), entry.get("severity_high")
    if low is None or high is None or low == high:
        return ""
    u = _fmt(entry.get("uncertainty"), entry["unit"])
    if entry["verdict"] == "cannot rule out":
        if severity_rank(high) <= severity_rank("mild"):
            return ""
        return f" Within that uncertainty the grade could be as much as {high}."
    return (
        f" Within this measurement's uncertainty (about ±{u}) the grade could be anywhere "
        f"from {_GRADE_NAMES.get(low, low)} to {high}."
    )


def describe_fault(entry: dict[str, Any], norm: MetricNorm, task_norms: TaskNorms) -> str:
    """One plain-language sentence or two about a fault entry, for the clinician.

    Notes
    -----
    The wording describes what was measured and how it compares with the norm; it never
    names a diagnosis.
    """
    side, n, unit = entry["side"], entry["n_events"], entry["unit"]
    value = _fmt(entry["value"], unit)
    meaning = FAULT_MEANING.get(entry["fault"], "")
    verdict = entry["verdict"]
    if value_hidden(entry):
        if entry.get("hidden_because") == "tracking":
            why = (
                "on our validation clips for this task and view this reading followed the "
                f"true angle too weakly (r = {entry['tracking_r']:.2f} between a side's mean "
                f"and the truth, over {entry['tracking_n_sides']} sides) for its value to "
                "inform a screen"
            )
        else:
            limit = entry.get("max_reportable_error")
            why = (
                "this measurement's error for this task and view on our validation clips "
                f"({_fmt(entry['measurement_error'], unit)}) is "
                + (f"beyond the {_fmt(limit, unit)} " if limit is not None else "too large for ")
                + "a screening reading may have"
            )
        return (
            f"{side.capitalize()}: not shown: {why}; its values are in frames.csv and "
            "events.csv for research. Assess it clinically."
            + (f" {entry['advice']}" if entry.get("advice") else "")
        )
    if verdict == "insufficient events":
        empty = entry.get("n_events_empty") or 0
        what_to_do = (
            f"At {empty} event(s) this angle was left empty, not measurable there: "
            "record again as the capture warnings say, then assess it clinically."
            if empty
            else "Record more."
        )
        return (
            f"{side.capitalize()}: {n} event(s) measured; at least "
            f"{task_norms.min_events_verdict} are needed for a verdict "
            f"({task_norms.min_events} for a confident one). {what_to_do}"
        )
    if verdict == "no norm":
        return (
            f"{side.capitalize()}: mean {value} over {n} event(s), shown without a "
            f"verdict. {norm.note}"
        )
    if verdict == "withheld":
        if entry.get("withheld_because") == "tracking":
            why = (
                "on our validation clips this reading followed the true angle too weakly "
                f"(r = {entry['tracking_r']:.2f} between a side's mean and the truth, over "
                f"{entry['tracking_n_sides']} sides) for a value within the norm to rule the "
                "pattern out or one beyond it to confirm it"
            )
        else:
            why = (
                "this measurement's error on our validation clips "
                f"({_fmt(entry['measurement_error'], unit)}) is too large for a screening verdict"
            )
        return (
            f"{side.capitalize()}: mean {value} over {n} event(s), not judged: {why}. "
            "Assess it clinically." + (f" {entry['advice']}" if entry.get("advice") else "")
        )
    threshold = _fmt(entry["threshold"], unit)
    if verdict == "cannot rule out":
        return (
            f"{side.capitalize()}: mean {value} over {n} event(s), below the screening "
            f"threshold of {threshold}, but within this measurement's uncertainty "
            f"(about ±{_fmt(entry['measurement_error'], unit)}) of it: the video cannot rule "
            f"this pattern out.{describe_span(entry)} Check it clinically."
        )
    provisional = {
        "provisional": " (provisional project threshold)",
        "extrapolated": " (threshold extrapolated from a related task)",
    }.get(entry["status"], "")
    few = (
        f" Only {n} of the {task_norms.min_events} events recommended for a confident call."
        if n < task_norms.min_events
        else ""
    )
    if verdict == "flag":
        return (
            f"{side.capitalize()}: mean {value} over {n} event(s), at or beyond the "
            f"screening threshold of {threshold}{provisional}: {entry['severity']}."
            f"{describe_span(entry)} This suggests that {meaning}; confirm with a clinical "
            f"examination.{few}"
        )
    return (
        f"{side.capitalize()}: mean {value} over {n} event(s), within the screening "
        f"threshold of {threshold}{provisional}.{few}"
    )


def flag_faults(
    task: str,
    events: pd.DataFrame | None,
    sides: dict[str, Any],
    quality: dict[str, Any],
    norms: Norms,
    sex: str | None = None,
    asymmetry: dict[str, float] | None = None,
    measured_errors: dict[str, MeasuredError] | None = None,
    max_error: float = math.inf,
    rule_out_z: float = 1.0,
    advice: dict[str, str] | None = None,
    min_tracking_r: float = -1.0,
    errors_files: Mapping[str, str] | None = None,
    hide_untracked: bool = False,
) -> list[dict[str, Any]]:
    """Grade each side's movement faults against the norms.

    Parameters
    ----------
    task
        A registered task's name (:mod:`screener.tasks`).
    events
        The events table (for each side's event confidence and femoral-rotation
        confidence); may be None when only summary statistics are at hand.
    sides
        ``summary["sides"]``: per side ``n_events`` and per metric ``mean``, ``sd``,
        ``min``, ``max`` (and ``n``, the events with a value).
    quality
        ``summary["quality"]``; ``mean_quality`` is used when ``events`` is None.
    norms
        Validated norms (:func:`screener.norms.load_norms`).
    sex
        ``"female"``, ``"male"`` or None: selects sex-specific bands where they exist.
    asymmetry
        ``summary["asymmetry"]``: left minus right mean per metric.
    measured_errors, max_error, rule_out_z, min_tracking_r, errors_files, hide_untracked
        The screener's measured error per metric for this task and view, the rules that
        use it (:func:`assess_metric`) and, per metric, the file it comes from; None: the
        norms' literature figures.
    advice
        Per metric, how to record so that a withheld metric can be judged.

    Returns
    -------
    list of dict
        One entry per side and faulted metric of the task, with the spec's keys
        (``fault``, ``side``, ``value``, ``threshold``, ``severity``, ``confidence``,
        ``source``) and ``metric``, ``label``, ``n_events`` (with a value),
        ``n_events_empty`` (the side's events whose value was left empty: the angle not
        measurable there, e.g. a foreshortened thigh), ``sd``, ``worst``,
        ``asymmetry``, ``asymmetry_exceeds_sdc``, ``sdc``, ``status``, ``norm_group``,
        ``bands``, ``verdict`` (``"flag"``, ``"no flag"``, ``"cannot rule out"``,
        ``"withheld"``, ``"no norm"`` or ``"insufficient events"``),
        ``measurement_error`` and its source, ``tracking_r`` and ``tracking_n_sides``
        (how well the metric's side means followed the truth on the validation clips),
        ``withheld_because`` (``"error"``, ``"tracking"`` or None), ``value_hidden`` and
        ``hidden_because`` (whether the clinical views leave the value out, and why:
        ``"error"``, ``"tracking"`` or None), ``advice`` (withheld
        verdicts: how to record so that it can be judged, else None),
        ``confidence_parts`` and a plain-language ``note``.

    Notes
    -----
    ``value`` is the mean over the side's events (2D running needs the mean of at least
    7 steps to be repeatable, Dingenen 2018). ``severity`` is ``"none"`` unless the
    verdict is ``"flag"``. Confidence multiplies: events measured over the minimum for a
    confident call (capped at 1); the events' landmark quality; the metric's accuracy
    (a fixed factor when it was never measured); for a graded call, the probability that
    the true mean lies on the measured side of the threshold given the events' spread
    and the metric's measurement error; for femoral rotation, the method's own
    per-event confidence. In a single-leg squat only the tested (stance) leg is judged.
    """
    task_norms = norms.task(task)
    out: list[dict[str, Any]] = []
    for side in SIDES:
        n_side = int(sides.get(side, {}).get("n_events", 0) or 0)
        if is_unilateral(task) and n_side == 0:
            continue
        side_events = _side_events(events, side)
        for metric, norm in task_norms.metrics.items():
            if not norm.fault:
                continue
            out.append(
                assess_metric(
                    task_norms=task_norms,
                    metric=metric,
                    norm=norm,
                    norms=norms,
                    side=side,
                    sides=sides,
                    side_events=side_events,
                    quality=quality,
                    sex=sex,
                    asymmetry=(asymmetry or {}).get(metric),
                    measured=(measured_errors or {}).get(metric),
                    max_error=max_error,
                    rule_out_z=rule_out_z,
                    advice=(advice or {}).get(metric),
                    min_tracking_r=min_tracking_r,
                    errors_file=(errors_files or {}).get(metric, "measurement_errors.toml"),
                    hide_untracked=hide_untracked,
                )
            )
    return out


def severity_rank(severity: str) -> int:
    """0 for none up to 3 for severe."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


#: Verdicts that make a call (flag or no flag) on a value.
GRADED_VERDICTS = ("flag", "no flag")
#: Verdicts that show a value without a call on it.
NO_CALL_VERDICTS = ("withheld", "cannot rule out")
#: Research measures kept out of every clinical view (report, visit, tallies); they stay
#: in frames.csv and events.csv.
RESEARCH_ONLY_METRICS = frozenset({"femoral_ir_deg"})


def hidden_reason(withheld_because: str | None, hide_untracked: bool) -> str | None:
    """Why the clinical views leave a metric's value out, given why it is withheld
    (:func:`screener.accuracy.withheld_reason`): always for its error, for its weak
    tracking only with ``hide_untracked``; None: shown."""
    if withheld_because == "error" or (withheld_because == "tracking" and hide_untracked):
        return withheld_because
    return None


def value_hidden(entry: dict[str, Any]) -> bool:
    """Whether a fault entry's value is kept out of the clinical views.

    Notes
    -----
    A metric whose measured error for the task and view exceeds the error files'
    ``max_reportable_error_deg`` (8°) is not judged (verdict ``"withheld"``, or ``"no
    norm"`` where it has none) and its value is not shown either (issue 12: a metric
    erring by more than 8° is left out of the clinical report). Its values stay in
    frames.csv, events.csv and summary.json for research. A metric whose side means
    followed the true angle too weakly (``min_tracking_r``) is not judged either, and,
    where the error file says ``hide_untracked_values`` (the shipped files do, since
    session 18), not shown: a reading that does not move with the angle tells the
    clinician nothing, and a number shown invites a reading.
    """
    if "value_hidden" in entry:
        return bool(entry["value_hidden"])
    # a summary written before session 17
    return entry.get("verdict") == "withheld" and entry.get("withheld_because") == "error"


def clinical_faults(faults: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The fault entries the clinical views show: :data:`RESEARCH_ONLY_METRICS` left out,
    the values of entries :func:`value_hidden` blanked (their note says why)."""
    out = []
    for entry in faults:
        if entry.get("metric") in RESEARCH_ONLY_METRICS:
            continue
        if value_hidden(entry):
            entry = {**entry, "value": None, "worst": None, "sd": None, "asymmetry": None}
        out.append(entry)
    return out


def values_not_shown(
    measured_errors: Mapping[str, MeasuredError] | None,
    max_error: float,
    errors_files: Mapping[str, str] | None = None,
    min_tracking_r: float = -1.0,
    hide_untracked: bool = False,
) -> dict[str, dict[str, Any]]:
    """The event metrics whose values the clinical views leave out, with why.

    Parameters
    ----------
    measured_errors
        Per metric, the screener's measured error for the clip's task and view.
    max_error
        The error files' ``max_reportable_error_deg``.
    errors_files
        Per metric, the name of the file its error came from.
    min_tracking_r, hide_untracked
        The error files' ``min_tracking_r`` and ``hide_untracked_values``: with the
        latter, a metric whose side means correlated with the truth below the former is
        left out too.

    Returns
    -------
    dict
        Per metric left out: ``reason`` (``"error"``: its measured error exceeds
        ``max_error``; ``"tracking"``), ``measurement_error_deg``, ``limit_deg``,
        ``tracking_r``, ``min_tracking_r`` and ``errors_file`` (summary.json →
        ``values_not_shown``), whether or not the norms file has a verdict for it.
    """
    out: dict[str, dict[str, Any]] = {}
    for metric, err in (measured_errors or {}).items():
        reason = hidden_reason(
            withheld_reason(err.rmse_deg, err.side_r, max_error, min_tracking_r), hide_untracked
        )
        if reason is None:
            continue
        out[metric] = {
            "reason": reason,
            "measurement_error_deg": err.rmse_deg,
            "limit_deg": max_error if math.isfinite(max_error) else None,
            "tracking_r": err.side_r,
            "min_tracking_r": min_tracking_r,
            "errors_file": (errors_files or {}).get(metric),
        }
    return out


def hidden_metrics(summary: Mapping[str, Any]) -> frozenset[str]:
    """The metrics whose values no clinical view shows for a recording's summary:
    :data:`RESEARCH_ONLY_METRICS`, those in ``values_not_shown`` and (for a summary
    written before session 17) those :func:`value_hidden` on any side."""
    faults = summary.get("faults") or []
    return (
        RESEARCH_ONLY_METRICS
        | set(summary.get("values_not_shown") or {})
        | {str(f.get("metric")) for f in faults if value_hidden(f)}
    )


#: The groups the verdicts are tallied in, in the order a tally reads.
VERDICT_GROUPS: dict[str, tuple[str, ...]] = {
    "flagged": ("flag",),
    "not flagged": ("no flag",),
    "shown without a call": NO_CALL_VERDICTS,
    "too few events": ("insufficient events",),
    "without a norm": ("no norm",),
}
#: The tally's group of "insufficient events" entries with events whose value was left
#: empty (``n_events_empty``: the angle not measurable there, e.g. a deep squat filmed
#: from behind): too few values because of how the clip was filmed.
LEFT_EMPTY_GROUP = "left empty (see the capture warnings)"
#: The tally's group of entries whose values are not shown (:func:`value_hidden`),
#: whatever their verdict.
NOT_SHOWN_GROUP = "not shown (too uncertain)"


def count_verdicts(faults: list[dict[str, Any]]) -> dict[str, int]:
    """How many clinically shown entries fall in each of :data:`VERDICT_GROUPS`.

    :data:`RESEARCH_ONLY_METRICS`, never shown clinically, are left out; entries whose
    value is not shown (:func:`value_hidden`) are counted in :data:`NOT_SHOWN_GROUP`
    instead of their verdict's group, and "insufficient events" entries with events
    left empty (``n_events_empty``) in :data:`LEFT_EMPTY_GROUP`. The CLI's one-line
    result and the web app's recording page both read this tally, so they count alike.
    """
    counts = dict.fromkeys([*VERDICT_GROUPS, LEFT_EMPTY_GROUP, NOT_SHOWN_GROUP], 0)
    for entry in faults:
        if entry.get("metric") in RESEARCH_ONLY_METRICS:
            continue
        group = _tally_group(entry)
        if group is not None:
            counts[group] += 1
    return counts


def _tally_group(entry: dict[str, Any]) -> str | None:
    """The group of :func:`count_verdicts` a clinically shown entry falls in (None: a
    verdict no group holds)."""
    if value_hidden(entry):
        return NOT_SHOWN_GROUP
    verdict = entry.get("verdict")
    if verdict == "insufficient events" and entry.get("n_events_empty"):
        return LEFT_EMPTY_GROUP
    return next((g for g, verdicts in VERDICT_GROUPS.items() if verdict in verdicts), None)


def describe_verdicts(faults: list[dict[str, Any]]) -> str:
    """The tally of :func:`count_verdicts` in words, e.g. ``"1 flagged, 2 not flagged,
    3 shown without a call"``; empty groups are left out, except the flags."""
    counts = count_verdicts(faults)
    return ", ".join(f"{n} {group}" for group, n in counts.items() if n or group == "flagged")


def screen_headline(
    entries: Iterable[Mapping[str, Any]], findings: list[str], sides: Iterable[str], source: str
) -> str:
    """The one line of a screen that never reassures about what was not graded.

    Parameters
    ----------
    entries
        Per side and measure: ``side``, ``label`` and ``verdict`` (clinically shown
        measures only), and ``n_events_empty`` where events' values were left empty.
    findings
        The flags in words, most severe first (empty: none).
    sides
        The sides the screen should grade (both, or a squat's tested leg).
    source
        What was screened, for the sentences (``"this video"``, ``"this visit"``).

    Returns
    -------
    str
        The findings, or that none reached a threshold on the graded sides (naming the
        measures graded); the measures of those sides shown without a call; and for each
        side with nothing graded, whether its measures were withheld or had too few
        events.
    """
    entries = list(entries)

    def labels(verdicts: tuple[str, ...], on: set[str]) -> list[str]:
        return list(
            dict.fromkeys(
                e["label"].lower() for e in entries if e["verdict"] in verdicts and e["side"] in on
            )
        )

    graded_sides = {e["side"] for e in entries if e["verdict"] in GRADED_VERDICTS}
    parts = []
    if findings:
        parts.append("Movement findings: " + "; ".join(findings) + ".")
    elif graded_sides:
        parts.append(
            "No movement fault reached a screening threshold on the "
            + " and ".join(sorted(graded_sides))
            + f" side (graded: {', '.join(labels(GRADED_VERDICTS, graded_sides))})."
        )
    # a "no flag" says nothing of a measure shown without a call on the same side
    ungraded = labels(NO_CALL_VERDICTS, graded_sides)
    if ungraded:
        parts.append(
            f"Not graded from {source}: {', '.join(ungraded)} (each note says why): "
            "assess clinically."
        )
    for side in sorted(set(sides) - graded_sides):
        verdicts = {e["verdict"] for e in entries if e["side"] == side}
        if set(NO_CALL_VERDICTS) & verdicts:
            parts.append(
                f"No measure of the {side} side could be graded from {source} (each "
                "measure's note says why): assess it clinically."
            )
        elif "insufficient events" in verdicts:
            empty = any(e.get("n_events_empty") for e in entries if e["side"] == side)
            parts.append(
                f"Insufficient data for {side}: too few events to grade any measure"
                + (", some left empty as the capture warnings say." if empty else ".")
            )
        else:
            parts.append(f"Insufficient data for {side}: no measure could be graded.")
    if not parts:
        parts.append("Insufficient data: no measure could be graded.")
    return " ".join(parts)


def flagged(faults: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries whose verdict is ``"flag"``, most severe first."""
    hits = [f for f in faults if f.get("verdict") == "flag"]
    return sorted(hits, key=lambda f: (-severity_rank(f["severity"]), -f["confidence"]))
