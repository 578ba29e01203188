"""A real recording against an independent reference: the check that can decide pelvic
obliquity and hip adduction.

Usage::

    python -m bench.reference_series_check VIDEO REFERENCE.csv --reference-source TEXT
        [--task walk|sls|jog] [--side left|right|auto] [--view anterior|posterior]
        --offset-s S [--refine-s 0.1] [--lens-height-cm CM] [--json OUT.json]
    python -m bench.reference_series_check --verdict OUT1.json OUT2.json ...

``REFERENCE.csv`` holds the angles of the same movement measured by something that does
not use MediaPipe (optical markers, a pelvis-mounted inertial sensor, ...): a ``time_s``
column and any of :data:`REFERENCE_COLUMNS`, in the output spec's units and signs
(degrees; pelvic obliquity positive when the subject's left hip is lower, as in
``frames.csv``). The video is screened twice, with the angles as read from the landmarks
(the frame model off) and with the frame model correcting every angle (the research
setting); each run's frame values are compared with the reference resampled at the
video's frame times (a leg's angles on the frames that leg bears weight, pelvic
obliquity on frames with a foot down), and each event's value with the reference read by
the same rule (``bench/accuracy.py``: the peak over a stance phase, the value at a
repetition's deepest point).

Synchronisation: the reference's clock is the video's plus ``--offset-s``, read from an
event seen by both (the landing of a hop before the task), then refined within
``±--refine-s`` to the offset that maximises the correlation of both runs' series with
the reference, averaged over the runs and the metrics (neither run is favoured;
``--refine-s 0`` keeps the offset given). A search wider than a quarter of a stride
could lock onto the next cycle, or onto a reversed sign half a cycle away, so the
offset is not searched from nothing. A best correlation below zero means a reversed sign
or the other side's angle and stops the check.

``--verdict`` applies the rule written before any such recording exists (session 19,
docs/real_video_agreement.md): an angle's correction is verified on real video when its
frame RMSE against the reference is lower than the uncorrected angle's on every
recording given, at least :data:`MIN_RECORDINGS`, each inside the validated envelope
(no capture warning about the camera's placement). Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.real_video_agreement import FRAME_METRICS, agreement

#: Angles a reference may give (columns of ``frames.csv``) and the metric each feeds: the
#: frontal angles of :data:`bench.real_video_agreement.FRAME_METRICS`.
REFERENCE_COLUMNS = {
    column: metric
    for metric in ("pelvic_obliquity_deg", "hip_adduction_deg", "knee_fppa_deg")
    for column in FRAME_METRICS[metric]
}
#: Event metrics read from each frame metric (``events.csv`` columns).
EVENT_METRIC = {
    "pelvic_obliquity_deg": "pelvic_drop_deg",
    "hip_adduction_deg": "hip_adduction_deg",
    "knee_fppa_deg": "knee_fppa_deg",
}
#: Recordings the verdict needs.
MIN_RECORDINGS = 2
#: Step of the offset search (s).
LAG_STEP_S = 0.005
#: Words of a capture warning about the camera's placement (as ``bench/accuracy.py``).
PLACEMENT_WORDS = ("camera", "phone", "lens", "frame height")


class ReferenceError(ValueError):
    """A reference file that cannot be used, with what is wrong and what to do."""


def read_reference(path: Path) -> pd.DataFrame:
    """The reference's ``time_s`` and angle columns, checked.

    Raises
    ------
    ReferenceError
        No ``time_s``, no angle column, times not increasing, or an angle column
        without any finite value.
    """
    table = pd.read_csv(path)
    if "time_s" not in table:
        raise ReferenceError(f"{path}: no time_s column; give each row's time in seconds")
    angles = [c for c in REFERENCE_COLUMNS if c in table]
    if not angles:
        raise ReferenceError(
            f"{path}: none of the columns {', '.join(REFERENCE_COLUMNS)}; name the reference's "
            "angles as frames.csv does (degrees, the output spec's signs)"
        )
    times = table["time_s"].to_numpy(float)
    if not (np.isfinite(times).all() and np.all(np.diff(times) > 0)):
        raise ReferenceError(f"{path}: time_s must be finite and strictly increasing")
    empty = [c for c in angles if not np.isfinite(table[c].to_numpy(float)).any()]
    if empty:
        raise ReferenceError(f"{path}: no value in {', '.join(empty)}; drop the column or fill it")
    return table[["time_s", *angles]].astype(float)


def resample(reference: pd.DataFrame, times_s: np.ndarray) -> pd.DataFrame:
    """The reference's angles at ``times_s`` (its own clock), linearly interpolated;
    NaN outside its time span and across its gaps."""
    t = reference["time_s"].to_numpy(float)
    out = {"time_s": times_s}
    for col in reference.columns.drop("time_s"):
        values = reference[col].to_numpy(float)
        ok = np.isfinite(values)
        series = np.interp(times_s, t[ok], values[ok], left=np.nan, right=np.nan)
        # a time between two rows of which one is missing has no reference value
        before = np.clip(np.searchsorted(t, times_s, side="right") - 1, 0, len(t) - 1)
        after = np.clip(before + 1, 0, len(t) - 1)
        on_row = t[before] == times_s
        usable = np.where(on_row, ok[before], ok[before] & ok[after])
        series[~usable & (times_s >= t[0]) & (times_s <= t[-1])] = np.nan
        out[col] = series
    return pd.DataFrame(out)


def compared_frames(frames: pd.DataFrame, column: str) -> np.ndarray:
    """Frames where ``column`` is read: a leg's angles while that leg bears weight, pelvic
    obliquity with a foot down."""
    left = frames["left_in_stance"].to_numpy() > 0
    right = frames["right_in_stance"].to_numpy() > 0
    if column.startswith("left_"):
        return left
    if column.startswith("right_"):
        return right
    return left | right


def frame_pairs(
    frames: pd.DataFrame, at_frames: pd.DataFrame
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per metric, the screener's frame values and the reference's at the same frames."""
    pairs: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    for column, metric in REFERENCE_COLUMNS.items():
        if column not in at_frames or column not in frames:
            continue
        keep = compared_frames(frames, column)
        measured, ref = pairs.setdefault(metric, ([], []))
        measured.append(frames[column].to_numpy(float)[keep])
        ref.append(at_frames[column].to_numpy(float)[keep])
    return {m: (np.concatenate(a), np.concatenate(b)) for m, (a, b) in pairs.items()}


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 10 or a[ok].std() == 0 or b[ok].std() == 0:
        return float("nan")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def best_offset_s(
    runs: list[pd.DataFrame], reference: pd.DataFrame, centre_s: float, half_width_s: float
) -> tuple[float, float]:
    """The offset (reference time = video time + offset) within ``centre_s ±
    half_width_s`` that maximises the mean correlation of every run's series with the
    reference, and that correlation."""
    best = (centre_s, -np.inf)
    times = runs[0]["time_s"].to_numpy(float)
    steps = np.arange(-half_width_s, half_width_s + LAG_STEP_S / 2, LAG_STEP_S)
    for offset in centre_s + (steps if half_width_s > 0 else np.zeros(1)):
        at_frames = resample(reference, times + offset)
        scores = [
            _correlation(*pair) for run in runs for pair in frame_pairs(run, at_frames).values()
        ]
        finite = [s for s in scores if np.isfinite(s)]
        if finite and np.mean(finite) > best[1]:
            best = (float(offset), float(np.mean(finite)))
    if not np.isfinite(best[1]):
        raise ReferenceError(
            "the reference and the video do not overlap in time at the offsets searched: "
            "check --offset-s (reference time = video time + offset)"
        )
    return best


def event_pairs(
    events: pd.DataFrame, reference: pd.DataFrame, offset_s: float
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per event metric, the screener's event values and the reference read with the same
    rule (:func:`bench.accuracy.truth_event_value`) on the reference's own samples."""
    from bench.accuracy import truth_event_value

    shifted = reference.assign(time_s=reference["time_s"] - offset_s)
    out: dict[str, tuple[list[float], list[float]]] = {}
    for metric in EVENT_METRIC.values():
        needed = (
            ["pelvic_obliquity_deg"]
            if metric == "pelvic_drop_deg"
            else [f"{s}_{metric}" for s in ("left", "right")]
        )
        if metric not in events or not any(c in shifted for c in needed):
            continue
        measured, ref = out.setdefault(metric, ([], []))
        for event in events.to_dict("records"):
            column = needed[0] if len(needed) == 1 else f"{event['side']}_{metric}"
            if column not in shifted:
                continue
            measured.append(float(event[metric]))
            ref.append(truth_event_value(shifted, event, metric))
    return {m: (np.asarray(a, float), np.asarray(b, float)) for m, (a, b) in out.items()}


def compare_runs(
    runs: dict[str, Any], reference: pd.DataFrame, offset_s: float
) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """Per run (``{"geometric": result, "corrected": result}``): frame and event
    agreement per metric."""
    out: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for name, result in runs.items():
        frames = result.frames
        at_frames = resample(reference, frames["time_s"].to_numpy(float) + offset_s)
        out[name] = {
            "frames": {m: agreement(*p) for m, p in frame_pairs(frames, at_frames).items()},
            "events": {
                m: agreement(*p) for m, p in event_pairs(result.events, reference, offset_s).items()
            },
        }
    return out


def verdict(recordings: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per frame metric: verified when the corrected angle's frame RMSE is lower than the
    geometric one's on every recording (at least :data:`MIN_RECORDINGS`) inside the
    envelope; recordings with a placement warning do not count, nor does a recording
    given twice."""
    distinct = {(r["video"], r["reference"]): r for r in recordings}  # one vote per recording
    usable = [r for r in distinct.values() if not r["placement_warnings"]]
    metrics = sorted({m for r in usable for m in r["comparison"]["geometric"]["frames"]})
    out = {}
    for metric in metrics:
        closer = []
        for rec in usable:
            geo = rec["comparison"]["geometric"]["frames"].get(metric)
            cor = rec["comparison"]["corrected"]["frames"].get(metric)
            if geo and cor and np.isfinite(geo["rmse_deg"]) and np.isfinite(cor["rmse_deg"]):
                closer.append(bool(cor["rmse_deg"] < geo["rmse_deg"]))
        out[metric] = {
            "recordings": len(closer),
            "closer_on": int(sum(closer)),
            "verified": len(closer) >= MIN_RECORDINGS and all(closer),
        }
    return out


def screen(video: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The video screened with the geometric angles and with every angle corrected."""
    import screener
    from screener.config import AnalysisConfig

    settings = {
        "geometric": AnalysisConfig(frame_model_path=None),
        "corrected": AnalysisConfig(frame_model_include_unverified=True),
    }
    lens = None if args.lens_height_cm is None else args.lens_height_cm / 100.0
    return {
        name: screener.analyze(
            video, task=args.task, side=args.side, view=args.view, lens_height_m=lens, config=cfg
        )
        for name, cfg in settings.items()
    }


def check_recording(video: Path, reference_csv: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One recording: both runs against the reference (see the module docstring)."""
    reference = read_reference(reference_csv)
    runs = screen(video, args)
    offset, r = best_offset_s(
        [res.frames for res in runs.values()], reference, args.offset_s, args.refine_s
    )
    if r < 0:
        raise ReferenceError(
            f"{reference_csv}: the reference correlates negatively with the video at every "
            f"offset searched (best r = {r:.2f}): check its signs and sides against the "
            "output spec"
        )
    warnings = runs["geometric"].summary["quality"]["warnings"]
    return {
        "video": str(video),
        "reference": str(reference_csv),
        "reference_source": args.reference_source,
        "task": runs["geometric"].summary.get("task"),
        "offset_s": offset,
        "offset_correlation": r,
        "placement_warnings": [w for w in warnings if any(k in w.lower() for k in PLACEMENT_WORDS)],
        "comparison": compare_runs(runs, reference, offset),
    }


def _print_recording(result: dict[str, Any]) -> None:
    print(f"{result['video']} against {result['reference']} ({result['reference_source']})")
    print(f"  offset {result['offset_s']:+.3f} s (mean r {result['offset_correlation']:.2f})")
    for warning in result["placement_warnings"]:
        print(f"  outside the envelope: {warning}")
    for level in ("frames", "events"):
        for metric in result["comparison"]["geometric"][level]:
            geo = result["comparison"]["geometric"][level][metric]
            cor = result["comparison"]["corrected"][level].get(metric, geo)
            print(
                f"  {level:6s} {metric:22s} n {geo['n']:4d}  RMSE geometric {geo['rmse_deg']:.2f}"
                f" -> corrected {cor['rmse_deg']:.2f} deg (bias {geo['bias_deg']:+.2f} -> "
                f"{cor['bias_deg']:+.2f}, r {geo['r']:.2f} -> {cor['r']:.2f})"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("video", type=Path, nargs="?")
    parser.add_argument("reference", type=Path, nargs="?")
    parser.add_argument("--reference-source", default="not stated", help="what measured it")
    parser.add_argument("--task", choices=("walk", "sls", "jog"), default="walk")
    parser.add_argument("--side", choices=("left", "right", "auto"), default="auto")
    parser.add_argument("--view", choices=("anterior", "posterior", "auto"), default="auto")
    parser.add_argument("--lens-height-cm", type=float, default=None)
    parser.add_argument(
        "--offset-s", type=float, default=None, help="reference time minus video time (s)"
    )
    parser.add_argument("--refine-s", type=float, default=0.1, help="search around it (s)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--verdict", type=Path, nargs="+", default=None, help="JSON files")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.verdict:
        recordings = [json.loads(p.read_text()) for p in args.verdict]
        for metric, v in verdict(recordings).items():
            state = "verified" if v["verified"] else "not verified"
            print(f"{metric}: corrected closer on {v['closer_on']} of {v['recordings']}: {state}")
        return 0
    if args.video is None or args.reference is None:
        parser.error("give VIDEO and REFERENCE.csv, or --verdict JSON ...")
    if args.offset_s is None:
        parser.error("give --offset-s: the reference's time of an event seen in the video too")
    try:
        result = check_recording(args.video, args.reference, args)
    except ReferenceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _print_recording(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
