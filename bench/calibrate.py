"""Fit calibrations of event values on a training corpus; choose them on a validation one.

Usage::

    python -m bench.calibrate --train corpus/train --val corpus/val [--write]
        [--real-check docs/real_video_agreement.json]

Every clip of both corpora (``python -m screener_synth corpus``: stored MediaPipe
landmarks with exact truth, each clip its own body and camera) is analysed with its true
task, side and view and no correction. Each true event found (stance phase or
repetition) gives, per metric (:data:`METRICS`), the screener's event value and the
truth read with the same rule (``bench/accuracy.py``).

Candidates, from the simplest up, each fitted on the training corpus only:

- ``none``: the value as measured;
- ``offset``: ``truth = offset + measured``;
- ``linear``: ``truth = offset + gain * measured``, per task;
- ``linear_view``: the same per task and view.

Per task and metric the validation corpus chooses: the candidate with the lowest
validation RMSE is kept if it lowers the measured value's RMSE by at least
:data:`MIN_GAIN_IN_RMSE` and its gain lies in ``[MIN_GAIN, MAX_GAIN)`` (a gain far
below 1 replaces the reading by a constant; it lowers an RMSE by ignoring the patient).
Because every clip has its own body and camera, a split by clip is a leave-body-out and
leave-camera-out split. The validation corpus has then shaped a decision: accuracy is
reported on a final hold-out rendered after this choice (``bench/accuracy.py``).

``--write`` writes ``screener/models/corrections.toml``; an entry is ``verified`` only
when ``--real-check`` shows the same mapping, applied to real footage's frame values,
moves them toward a multi-camera reference; else it is ``renders_only``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.accuracy import (
    analyze_as_truth,
    by_condition,
    clip_conditions,
    find_clips,
    load_truth,
    match_events,
    truth_event_value,
)

METRICS = ("pelvic_drop_deg", "knee_fppa_deg", "hip_adduction_deg")
MIN_GAIN = 0.8
MAX_GAIN = 3.0
MIN_GAIN_IN_RMSE = 0.10
CANDIDATES = ("none", "offset", "linear", "linear_view")
OUT = Path("screener/models/corrections.toml")


def collect(
    folder: Path, frame_model: Path | None = None
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """One row per (found true event, metric): measured and true values, conditions.

    ``frame_model``: the learned frame model as shipped (its verified targets), or None
    for the geometric angles.
    """
    from screener.config import AnalysisConfig
    from screener.errors import ScreenerError

    config = AnalysisConfig(
        cache_dir=None,
        corrections_path=None,
        measurement_errors_path=None,
        frame_model_path=frame_model,
    )
    rows: list[dict[str, Any]] = []
    failures: list[tuple[str, str]] = []
    for truth_path in find_clips([folder]):
        truth_json, truth = load_truth(truth_path)
        if truth_json["task"] not in ("walk", "jog", "sls"):
            continue
        name = truth_json["video"]
        try:
            result = analyze_as_truth(truth_path, truth_json, config)
        except ScreenerError as exc:
            failures.append((name, exc.one_line()))
            continue
        conditions = clip_conditions(truth_json)
        for ev, found in match_events(result.events, truth_json):
            if found is None:
                continue
            for metric in METRICS:
                rows.append(
                    {
                        "clip": name,
                        "task": truth_json["task"],
                        "view": truth_json["view"],
                        "side": ev["side"],
                        "metric": metric,
                        "measured": float(found[metric]),
                        "truth": truth_event_value(truth, ev, metric),
                        **conditions,
                    }
                )
    table = pd.DataFrame(rows)
    if len(table):
        table = table[np.isfinite(table.measured) & np.isfinite(table.truth)]
    return table.reset_index(drop=True), failures


def fit_line(x: np.ndarray, y: np.ndarray, free_gain: bool) -> tuple[float, float]:
    """Least squares ``y = offset + gain * x`` (gain fixed at 1 unless ``free_gain``)."""
    if not free_gain or x.size < 3 or np.ptp(x) < 1e-6:
        return 1.0, float(np.mean(y - x))
    gain, offset = np.polyfit(x, y, 1)
    return float(gain), float(offset)


Fit = dict[tuple[str, str, str], tuple[float, float]]


def fit_candidates(train: pd.DataFrame) -> dict[str, Fit]:
    """Per candidate, ``(task, view or "any", metric) -> (gain, offset)`` from training rows."""
    fits: dict[str, Fit] = {c: {} for c in CANDIDATES}
    for (task_key, metric_key), sub in train.groupby(["task", "metric"]):
        task, metric = str(task_key), str(metric_key)
        x, y = sub.measured.to_numpy(), sub.truth.to_numpy()
        fits["none"][(task, "any", metric)] = (1.0, 0.0)
        fits["offset"][(task, "any", metric)] = fit_line(x, y, False)
        fits["linear"][(task, "any", metric)] = fit_line(x, y, True)
        for view, by_view in sub.groupby("view"):
            fits["linear_view"][(task, str(view), metric)] = fit_line(
                by_view.measured.to_numpy(), by_view.truth.to_numpy(), True
            )
    return fits


def predict(rows: pd.DataFrame, fit: Fit) -> np.ndarray:
    """Calibrated values of ``rows`` (the measured value where the fit has no entry)."""
    out = rows.measured.to_numpy(dtype=float).copy()
    tasks, views, metrics = (rows[c].astype(str).to_numpy() for c in ("task", "view", "metric"))
    for i in range(len(out)):
        default = fit.get((tasks[i], "any", metrics[i]), (1.0, 0.0))
        gain, offset = fit.get((tasks[i], views[i], metrics[i]), default)
        out[i] = offset + gain * out[i]
    return out


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    """Root mean square of ``a - b`` (NaN when empty)."""
    return float(np.sqrt(np.mean((a - b) ** 2))) if a.size else float("nan")


def choose(
    train: pd.DataFrame, val: pd.DataFrame
) -> tuple[pd.DataFrame, dict[tuple[str, str], dict[str, Any]]]:
    """Score every candidate on the validation rows; keep the best that passes the rules."""
    fits = fit_candidates(train)
    scores = []
    chosen: dict[tuple[str, str], dict[str, Any]] = {}
    for (task, metric), sub in val.groupby(["task", "metric"]):
        tr = train[(train.task == task) & (train.metric == metric)]
        base = rmse(sub.measured.to_numpy(), sub.truth.to_numpy())
        best: dict[str, Any] | None = None
        for cand in CANDIDATES:
            fit = {k: v for k, v in fits[cand].items() if k[0] == task and k[2] == metric}
            if not fit:
                continue
            value = rmse(predict(sub, fit), sub.truth.to_numpy())
            gains = [g for g, _ in fit.values()]
            ok_gain = all(MIN_GAIN <= g < MAX_GAIN for g in gains)
            passes = cand == "none" or (ok_gain and value <= (1 - MIN_GAIN_IN_RMSE) * base)
            scores.append(
                {
                    "task": task,
                    "metric": metric,
                    "candidate": cand,
                    "n_train": len(tr),
                    "n_val": len(sub),
                    "train_rmse": rmse(predict(tr, fit), tr.truth.to_numpy()),
                    "val_rmse": value,
                    "gains": ", ".join(f"{g:.2f}" for g in gains),
                    "passes": passes,
                }
            )
            if passes and (best is None or value < best["val_rmse"]):
                best = {"candidate": cand, "fit": fit, "val_rmse": value, "base": base}
        if best is not None:
            chosen[(str(task), str(metric))] = best
    return pd.DataFrame(scores), chosen


def real_video_verdicts(path: Path | None) -> dict[str, str]:
    """Per metric, what the real-video check (``bench/real_video_agreement.py``) says."""
    if path is None or not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {str(k): str(v) for k, v in data.get("calibration_check", {}).items()}


def write_corrections(
    chosen: dict[tuple[str, str], dict[str, Any]],
    train: pd.DataFrame,
    val: pd.DataFrame,
    train_dir: Path,
    val_dir: Path,
    real: dict[str, str],
    out: Path,
) -> None:
    """The chosen calibrations as ``corrections.toml`` (schema 2)."""
    lines = [
        "# Calibrations of MediaPipe's event values, fitted on rendered clips.",
        f"# Written by bench/calibrate.py on {datetime.now(UTC).date().isoformat()}:",
        f"#   fitted on {train_dir} ({train['clip'].nunique()} clips), chosen on {val_dir} "
        f"({val['clip'].nunique()} clips); every clip its own body and camera.",
        "# corrected = offset_deg + gain * measured, per task (TASK) or task and view",
        "# (TASK.VIEW), at event level (peak of a stance phase, deepest point of a rep).",
        "# status: verified = also checked on real video and on by default;",
        "# renders_only = applied only with corrections_include_unverified (research).",
        "# Regenerate with the same command after any change to pose, cleaning or angles.",
        "",
        "schema_version = 2",
        'method = "least squares truth = offset + gain * measured of event values against '
        "joint-centre truth read through a level frontal camera, fitted on a training corpus "
        'and chosen on a validation corpus (bench/calibrate.py; docs/accuracy.md)"',
        "",
    ]
    for (task, metric), best in sorted(chosen.items()):
        if best["candidate"] == "none":
            continue
        for (_, view, _), (gain, offset) in sorted(best["fit"].items()):
            table = task if view == "any" else f"{task}.{view}"
            tr = train[(train.task == task) & (train.metric == metric)]
            va = val[(val.task == task) & (val.metric == metric)]
            if view != "any":
                tr, va = tr[tr.view == view], va[va.view == view]
            check = real.get(metric, "")
            status = "verified" if check.startswith("better") else "renders_only"
            check = check or "event values cannot be checked on the real clip (no clinical task)"
            lines += [
                f'[tasks."{table}".{metric}]',
                'level = "event"',
                f"gain = {gain:.4f}",
                f"offset_deg = {offset:.3f}",
                f'fitted_on = "{train_dir}: {tr["clip"].nunique()} clips"',
                f"n_frames = {max(len(tr), 10)}",
                f"fit_rmse_before_deg = {rmse(tr.measured.to_numpy(), tr.truth.to_numpy()):.3f}",
                "fit_rmse_after_deg = "
                f"{rmse(offset + gain * tr.measured.to_numpy(), tr.truth.to_numpy()):.3f}",
                f'validated_on = "{val_dir}: {va["clip"].nunique()} clips"',
                "validation_rmse_before_deg = "
                f"{rmse(va.measured.to_numpy(), va.truth.to_numpy()):.3f}",
                "validation_rmse_after_deg = "
                f"{rmse(offset + gain * va.measured.to_numpy(), va.truth.to_numpy()):.3f}",
                f'status = "{status}"',
                f'real_video_check = "{check}"',
                "",
            ]
    out.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--val", type=Path, required=True)
    parser.add_argument("--write", action="store_true", help=f"write {OUT}")
    parser.add_argument("--real-check", type=Path, default=None)
    parser.add_argument("--pairs", type=Path, default=None, help="also write the pairs here (CSV)")
    parser.add_argument(
        "--no-frame-model",
        action="store_true",
        help="calibrate the geometric angles (default: with the shipped frame model)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    from screener.config import MODELS_DIR

    model = None if args.no_frame_model else MODELS_DIR / "frame_model.npz"
    train, fail_train = collect(args.train, model)
    val, fail_val = collect(args.val, model)
    for name, reason in fail_train + fail_val:
        print(f"not analysed: {name}: {reason}")
    if train.empty or val.empty:
        print("no event pairs: is the corpus built?", file=sys.stderr)
        return 1
    if args.pairs:
        pd.concat([train.assign(split="train"), val.assign(split="val")]).to_csv(
            args.pairs, index=False
        )
    scores, chosen = choose(train, val)
    pd.set_option("display.width", 160)
    print(f"training: {train['clip'].nunique()} clips, validation: {val['clip'].nunique()} clips")
    print(scores.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print("\nchosen per task and metric (validation RMSE before -> after):")
    for (task, metric), best in sorted(chosen.items()):
        print(
            f"  {task:5s} {metric:18s} {best['candidate']:12s} "
            f"{best['base']:.2f} -> {best['val_rmse']:.2f}"
        )
    calibrated = val.measured.to_numpy().copy()
    for (task, metric), best in chosen.items():
        mask = ((val.task == task) & (val.metric == metric)).to_numpy()
        calibrated[mask] = predict(val[mask], best["fit"])
    table = by_condition(val, calibrated)
    print("\nvalidation RMSE per condition after the chosen calibration:")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if args.write:
        real = real_video_verdicts(args.real_check)
        write_corrections(chosen, train, val, args.train, args.val, real, OUT)
        print(f"\nwrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
