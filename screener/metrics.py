"""Per-event values, per-side statistics and left/right asymmetry.

An event's values are read from the per-frame angles:

- stance phase (walk, jog): each metric's peak over the stance phase (peak contralateral
  pelvic drop, peak valgus, peak adduction, peak internal rotation, peak flexion, peak
  lean toward the stance leg); ``t_peak_s`` is the instant of peak pelvic drop;
- repetition (single-leg squat): every metric at the deepest point (``t_peak_s``).

Metrics registered with :func:`screener.tasks.register_metric` are read the same way and
follow the built-in ones (:func:`event_metrics`, :func:`event_columns`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from screener.events import Span, foot_point_px
from screener.keypoints import FloatArray, PoseSequence
from screener.tasks import extra_metrics

#: Built-in event metrics with per-side statistics, in report order.
EVENT_METRICS: tuple[str, ...] = (
    "pelvic_drop_deg",
    "knee_fppa_deg",
    "hip_adduction_deg",
    "femoral_ir_deg",
    "knee_flexion_deg",
    "trunk_lean_deg",
    "step_width_m",
    "step_width_hip_ratio",
)

EVENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "kind",
    "side",
    "t_start_s",
    "t_peak_s",
    "t_end_s",
    "frame_start",
    "frame_peak",
    "frame_end",
    "pelvic_drop_deg",
    "pelvic_drop_uncorrected_deg",
    "knee_fppa_deg",
    "hip_adduction_deg",
    "femoral_ir_deg",
    "femoral_ir_confidence",
    "knee_flexion_deg",
    "trunk_lean_deg",
    "step_width_m",
    "step_width_hip_ratio",
    "quality",
    "confidence",
)


def event_metrics() -> tuple[str, ...]:
    """Every event metric: the built-in ones, then the registered ones."""
    return EVENT_METRICS + tuple(m.name for m in extra_metrics())


def event_columns() -> tuple[str, ...]:
    """Columns of the events table: :data:`EVENT_COLUMNS`, then the registered metrics."""
    return EVENT_COLUMNS + tuple(m.name for m in extra_metrics())


def event_series(frames: pd.DataFrame, side: str) -> dict[str, FloatArray]:
    """Per-frame series of one stance leg, with event sign conventions.

    Parameters
    ----------
    frames
        Per-frame angle table (spec columns).
    side
        The stance leg.

    Returns
    -------
    dict
        ``pelvic_drop_deg`` (positive = pelvis drops on the side opposite ``side``),
        ``trunk_lean_deg`` (positive toward ``side``) and the leg's own angles.
    """
    obliquity = frames["pelvic_obliquity_deg"].to_numpy(float)
    lean = frames["trunk_lean_deg"].to_numpy(float)
    sign = 1.0 if side == "right" else -1.0
    extra = {m.name: np.asarray(m.series(frames, side), dtype=float) for m in extra_metrics()}
    return {
        "pelvic_drop_deg": sign * obliquity,
        "trunk_lean_deg": -sign * lean,
        "knee_fppa_deg": frames[f"{side}_knee_fppa_deg"].to_numpy(float),
        "hip_adduction_deg": frames[f"{side}_hip_adduction_deg"].to_numpy(float),
        "femoral_ir_deg": frames[f"{side}_femoral_ir_deg"].to_numpy(float),
        "femoral_ir_confidence": frames[f"{side}_femoral_ir_confidence"].to_numpy(float),
        "knee_flexion_deg": frames[f"{side}_knee_flexion_deg"].to_numpy(float),
        **extra,
    }


def _nanargmax(values: FloatArray) -> int | None:
    if not np.isfinite(values).any():
        return None
    return int(np.nanargmax(values))


def event_row(span: Span, frames: pd.DataFrame) -> dict[str, object]:
    """Values of one event (without step width and id).

    Parameters
    ----------
    span
        The event.
    frames
        Per-frame table with ``time_s``, ``quality`` and the angle columns.

    Returns
    -------
    dict
        One row of ``events.csv``.
    """
    series = event_series(frames, span.side)
    t = frames["time_s"].to_numpy(float)
    window = slice(span.start, span.stop)
    if span.kind == "rep" and span.peak is not None:
        peak = span.peak
        values = {name: float(s[peak]) for name, s in series.items()}
    else:
        rel = _nanargmax(series["pelvic_drop_deg"][window])
        peak = span.start + rel if rel is not None else (span.start + span.stop - 1) // 2
        values = {}
        for name, s in series.items():
            if name == "femoral_ir_confidence":
                continue
            rel_k = _nanargmax(s[window])
            values[name] = float(s[span.start + rel_k]) if rel_k is not None else float("nan")
            if name == "femoral_ir_deg":
                conf = series["femoral_ir_confidence"]
                values["femoral_ir_confidence"] = (
                    float(conf[span.start + rel_k]) if rel_k is not None else 0.0
                )
    quality = frames["quality"].to_numpy(float)[window]
    core = ("pelvic_drop_deg", "knee_fppa_deg", "hip_adduction_deg")
    complete = np.mean([np.isfinite(series[c][window]).mean() for c in core])
    return {
        "kind": span.kind,
        "side": span.side,
        "t_start_s": float(t[span.start] if span.t_start_s is None else span.t_start_s),
        "t_peak_s": float(t[peak]),
        "t_end_s": float(t[span.stop - 1] if span.t_end_s is None else span.t_end_s),
        "frame_start": span.start,
        "frame_peak": int(peak),
        "frame_end": span.stop - 1,
        **values,
        "quality": float(np.nanmean(quality)) if quality.size else 0.0,
        "confidence": float(np.clip(np.nanmean(quality) * complete, 0.0, 1.0)),
    }


def step_widths(spans: list[Span], pose: PoseSequence) -> list[tuple[float, float]]:
    """Step width of each stance phase against the previous stance of the other foot.

    Parameters
    ----------
    spans
        Stance phases, in time order.
    pose
        Cleaned landmarks.

    Returns
    -------
    list of (metres, hip-width ratio)
        Per span; NaN for the first step of the clip and for repetitions. The ratio is
        the medio-lateral distance between the two foot placements over the image
        distance between the hips: positive when each foot lands on its own side,
        negative when it crosses the other foot's line (crossover).

    Notes
    -----
    Measured in the image, where the distance to the camera scales both the step and
    the hips alike, and converted to metres with MediaPipe's world hip width (the
    model's estimate of the subject's size: an approximation).
    """
    lh, rh = pose.xy("left_hip"), pose.xy("right_hip")
    world_hip_w = np.linalg.norm(pose.xyz("left_hip") - pose.xyz("right_hip"), axis=1)
    feet = {side: foot_point_px(pose, side)[:, 0] for side in ("left", "right")}
    out: list[tuple[float, float]] = []
    last: dict[str, float] = {}
    for span in spans:
        w = slice(span.start, span.stop)
        placement = _finite_median(feet[span.side][w])
        hip_dx = _finite_median(lh[w, 0] - rh[w, 0])
        hip_w_m = _finite_median(world_hip_w[w])
        other = "right" if span.side == "left" else "left"
        if span.kind != "stance" or other not in last or not np.isfinite(hip_dx) or hip_dx == 0:
            out.append((float("nan"), float("nan")))
        else:
            toward_own_side = np.sign(hip_dx) * (1.0 if span.side == "left" else -1.0)
            ratio = (placement - last[other]) * toward_own_side / abs(hip_dx)
            out.append((float(ratio * hip_w_m), float(ratio)))
        if np.isfinite(placement):
            last[span.side] = placement
    return out


def _finite_median(values: FloatArray) -> float:
    """The median of the finite values, NaN if there are none (without numpy's
    "All-NaN slice" warning)."""
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else float("nan")


def event_table(spans: list[Span], frames: pd.DataFrame, pose: PoseSequence) -> pd.DataFrame:
    """The events table of the output spec, one row per span, in time order."""
    spans = sorted(spans, key=lambda s: s.start)
    rows = [event_row(span, frames) for span in spans]
    for row, (width_m, ratio) in zip(rows, step_widths(spans, pose), strict=True):
        row["step_width_m"] = width_m
        row["step_width_hip_ratio"] = ratio
    table = pd.DataFrame(rows, columns=[c for c in event_columns() if c != "event_id"])
    table.insert(0, "event_id", np.arange(len(table), dtype=int))
    table["pelvic_drop_uncorrected_deg"] = table["pelvic_drop_deg"]  # until corrected
    return table


def side_statistics(events: pd.DataFrame) -> dict[str, dict[str, object]]:
    """Per-side statistics over events: n, mean, sd, min, max, median of each metric.

    Returns
    -------
    dict
        ``{"left": {"n_events": n, metric: {"n", "mean", "sd", "min", "max", "median"}},
        "right": ...}``; statistics over events whose value is present (``n`` counts
        them); NaN where none is.
    """
    out: dict[str, dict[str, object]] = {}
    for side in ("left", "right"):
        sel = events[events["side"] == side] if len(events) else events
        stats: dict[str, object] = {"n_events": len(sel)}
        for metric in event_metrics():
            values = sel[metric].to_numpy(float) if len(sel) else np.array([])
            values = values[np.isfinite(values)]
            stats[metric] = _describe(values)
        out[side] = stats
    return out


def asymmetry(sides: dict[str, dict[str, object]]) -> dict[str, float]:
    """Left minus right mean of each metric (NaN where a side has no value)."""
    out = {}
    for metric in event_metrics():
        left, right = sides["left"][metric], sides["right"][metric]
        assert isinstance(left, dict) and isinstance(right, dict)
        out[metric] = float(left["mean"]) - float(right["mean"])
    return out


def _describe(values: FloatArray) -> dict[str, float]:
    if values.size == 0:
        nan = float("nan")
        return {"n": 0, "mean": nan, "sd": nan, "min": nan, "max": nan, "median": nan}
    return {
        "n": int(values.size),
        "mean": float(values.mean()),
        "sd": float(values.std(ddof=1)) if values.size > 1 else float("nan"),
        "min": float(values.min()),
        "max": float(values.max()),
        "median": float(np.median(values)),
    }
