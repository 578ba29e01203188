"""Re-screen: how a patient's metrics and faults changed since an earlier screen.

Both screens are judged again with the same norms, so a change of norms file between the
two visits cannot masquerade as a change of the patient. A metric's change counts only
when it exceeds the metric's smallest detectable change (SDC) from the norms file.
"""

from __future__ import annotations

import math
from typing import Any

from screener.errors import ScreenerError
from screener.faults import SIDES, flag_faults, severity_rank
from screener.norms import MetricNorm, Norms


class RescreenError(ScreenerError):
    """Two screens cannot be compared (different tasks, missing statistics)."""

    code = "rescreen_mismatch"


def metric_change(
    previous: float | None, current: float | None, norm: MetricNorm
) -> tuple[float | None, str]:
    """The change of one metric and its verdict.

    Returns
    -------
    change, verdict
        ``current - previous`` (None when either is missing) and one of ``"not measured"``,
        ``"no SDC"`` (the norms give no smallest detectable change: not judged),
        ``"no detectable change"`` (within the SDC), ``"improved"`` / ``"worse"`` (for a
        faulted metric, by its direction) or ``"increased"`` / ``"decreased"`` (for a
        metric reported without a fault).

    Notes
    -----
    A change exactly equal to the SDC is not detectable; it must exceed it.
    """
    if (
        previous is None
        or current is None
        or not (math.isfinite(previous) and math.isfinite(current))
    ):
        return None, "not measured"
    change = current - previous
    if norm.sdc is None:
        return change, "no SDC"
    if abs(change) <= norm.sdc:
        return change, "no detectable change"
    if not norm.fault:
        return change, "increased" if change > 0 else "decreased"
    worse = change > 0 if norm.direction == "above" else change < 0
    return change, "worse" if worse else "improved"


def fault_status(previous: dict[str, Any], current: dict[str, Any], metric_verdict: str) -> str:
    """Status of one fault between two screens.

    Parameters
    ----------
    previous, current
        The fault's entries (:func:`screener.faults.flag_faults`) in the two screens.
    metric_verdict
        Verdict of the metric's change (:func:`metric_change`).

    Returns
    -------
    str
        ``"resolved"`` (flagged before, not now), ``"new"`` (flagged now, not before),
        ``"improved"`` / ``"worse"`` (flagged in both, severity lower / higher, or same
        severity with a change beyond the SDC), ``"unchanged"`` (flagged in both, same
        severity, change within the SDC), ``"not present"`` (flagged in neither),
        ``"not graded"`` (no norm) or ``"not comparable"`` (too few events in one screen).
    """
    before, now = previous["verdict"], current["verdict"]
    if "no norm" in (before, now):
        return "not graded"
    if "insufficient events" in (before, now):
        return "not comparable"
    if before == "flag" and now != "flag":
        return "resolved"
    if before != "flag" and now == "flag":
        return "new"
    if before != "flag":
        return "not present"
    step = severity_rank(current["severity"]) - severity_rank(previous["severity"])
    if step < 0:
        return "improved"
    if step > 0:
        return "worse"
    if metric_verdict in ("improved", "worse"):
        return metric_verdict
    return "unchanged"


def _faults_of(summary: dict[str, Any], norms: Norms, which: str) -> list[dict[str, Any]]:
    try:
        return flag_faults(
            summary["task"],
            None,
            summary["sides"],
            summary.get("quality", {}),
            norms,
            sex=summary.get("sex"),
            asymmetry=summary.get("asymmetry"),
        )
    except KeyError as exc:
        raise RescreenError(
            f"the {which} summary has no '{exc.args[0]}'",
            remedy="Compare summaries written by screener analyze (summary.json).",
        ) from exc


def _mean(summary: dict[str, Any], side: str, metric: str) -> float | None:
    stats = summary.get("sides", {}).get(side, {}).get(metric)
    if not isinstance(stats, dict) or stats.get("mean") is None:
        return None
    value = float(stats["mean"])
    return value if math.isfinite(value) else None


def compare_results(
    previous_summary: dict[str, Any], current_summary: dict[str, Any], norms: Norms
) -> dict[str, Any]:
    """Compare a screen with an earlier one of the same task.

    Parameters
    ----------
    previous_summary, current_summary
        ``summary.json`` contents (task, sides, asymmetry, quality; optionally sex and
        provenance).
    norms
        Norms both screens are judged with.

    Returns
    -------
    dict
        ``task``; ``previous`` and ``current`` (date of analysis where known); ``metrics``:
        per side and metric ``previous``, ``current``, ``change``, ``sdc``, ``verdict``;
        ``faults``: per side and fault the two severities, verdicts and ``status``;
        ``counts``: number of faults per status.

    Raises
    ------
    RescreenError
        The screens are of different tasks or lack per-side statistics.
    """
    task = previous_summary.get("task")
    if task != current_summary.get("task"):
        raise RescreenError(
            f"the screens are of different tasks ({task} before, "
            f"{current_summary.get('task')} now) and cannot be compared",
            remedy="Compare a screen with an earlier screen of the same task.",
        )
    task_norms = norms.task(str(task))
    metrics = []
    verdicts: dict[tuple[str, str], str] = {}
    for side in SIDES:
        for metric, norm in task_norms.metrics.items():
            before, now = (
                _mean(previous_summary, side, metric),
                _mean(current_summary, side, metric),
            )
            change, verdict = metric_change(before, now, norm)
            verdicts[(side, metric)] = verdict
            metrics.append(
                {
                    "side": side,
                    "metric": metric,
                    "label": norm.label,
                    "unit": norm.unit,
                    "previous": before,
                    "current": now,
                    "change": change,
                    "sdc": norm.sdc,
                    "verdict": verdict,
                }
            )
    previous_faults = {
        (f["fault"], f["side"]): f for f in _faults_of(previous_summary, norms, "previous")
    }
    faults = []
    for entry in _faults_of(current_summary, norms, "current"):
        earlier = previous_faults.get((entry["fault"], entry["side"]))
        if earlier is None:
            continue
        status = fault_status(earlier, entry, verdicts[(entry["side"], entry["metric"])])
        faults.append(
            {
                "fault": entry["fault"],
                "side": entry["side"],
                "metric": entry["metric"],
                "previous_severity": earlier["severity"],
                "current_severity": entry["severity"],
                "previous_verdict": earlier["verdict"],
                "current_verdict": entry["verdict"],
                "previous_value": earlier["value"],
                "current_value": entry["value"],
                "status": status,
            }
        )
    counts: dict[str, int] = {}
    for f in faults:
        counts[f["status"]] = counts.get(f["status"], 0) + 1
    return {
        "task": task,
        "previous": {"analysed_at": previous_summary.get("provenance", {}).get("analysed_at")},
        "current": {"analysed_at": current_summary.get("provenance", {}).get("analysed_at")},
        "norms": {"name": norms.name, "version": norms.version, "path": norms.path},
        "metrics": metrics,
        "faults": faults,
        "counts": counts,
    }
