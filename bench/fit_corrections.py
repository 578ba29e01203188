"""Fit corrections of MediaPipe's under-reading on rendered clips; validate on others.

Usage::

    python -m bench.fit_corrections FIT_FOLDER --validate FOLDER [FOLDER ...]
        [--out screener/models/corrections.toml]

Every clip of FIT_FOLDER (rendered with truth, format of docs/ARCHITECTURE.md) is
analysed with its true task and no correction. Per task and metric, the screener's
per-frame angle is paired with the joint-centre truth on the frames that matter:

- ``pelvic_obliquity_deg``: frames where a foot is in stance (all frames of a squat);
  fitted through the origin (left and right drop alike);
- ``knee_fppa_deg``, ``hip_adduction_deg``: the stance leg's frames, both sides pooled;
- ``pelvic_drop_deg`` (event level): each found stance phase or rep's peak contralateral
  drop against the truth read with the same rule (``bench/accuracy.py``).

``truth = offset + gain * measured`` is fitted by least squares, and, for the per-leg
metrics, ``truth = offset + measured`` (a landmark sitting off the joint centre shifts a
reading without scaling it); the first model that passes is kept. The same pairs on the
validation folders (other bodies and cameras) give RMSE before and after. A correction
is written only where

- its gain lies between ``MIN_GAIN`` and ``MAX_GAIN``: a gain far below 1 replaces the
  reading by a constant (it lowers an RMSE by ignoring the patient), a large one
  amplifies MediaPipe's noise as much as it removes bias;
- it lowers the validation RMSE by at least ``MIN_GAIN_IN_RMSE`` (10 %).

Every fit is printed, kept or not, with its reason.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from bench.accuracy import Tally, compare_events

#: Gains written to the corrections file lie in [MIN_GAIN, MAX_GAIN).
MIN_GAIN = 0.8
MAX_GAIN = 3.0
#: Smallest relative fall of the validation RMSE for a correction to be kept.
MIN_GAIN_IN_RMSE = 0.10
#: The event-level metric: the peak contralateral pelvic drop of a stance phase or rep.
EVENT_DROP = "pelvic_drop_deg"
METRICS = ("pelvic_obliquity_deg", "knee_fppa_deg", "hip_adduction_deg", EVENT_DROP)


@dataclass
class Pairs:
    """(measured, truth) per task and metric, with the clip names they come from."""

    values: dict[tuple[str, str], list[np.ndarray]] = field(default_factory=dict)
    clips: dict[str, set[str]] = field(default_factory=dict)

    def add(self, task: str, metric: str, measured: np.ndarray, truth: np.ndarray) -> None:
        ok = np.isfinite(measured) & np.isfinite(truth)
        self.values.setdefault((task, metric), []).append(np.column_stack([measured, truth])[ok])

    def get(self, task: str, metric: str) -> np.ndarray:
        chunks = self.values.get((task, metric), [])
        return np.vstack(chunks) if chunks else np.empty((0, 2))


def collect(folders: list[Path]) -> Pairs:
    """Analyse every clip with truth under the folders; pair frames with truth."""
    import screener
    from screener.config import AnalysisConfig
    from screener.errors import ScreenerError

    config = AnalysisConfig(corrections_path=None)
    pairs = Pairs()
    for folder in folders:
        for truth_path in sorted(folder.rglob("*.truth.json")):
            meta = json.loads(truth_path.read_text())
            video = truth_path.parent / meta["video"]
            truth = pd.read_csv(truth_path.with_name(video.stem + ".truth.csv"))
            task = meta["task"]
            try:
                result = screener.analyze(
                    video, task=task, side=meta.get("stance_side") or "auto", config=config
                )
            except ScreenerError as exc:
                print(f"skipped {video.name}: {exc.one_line()}", file=sys.stderr)
                continue
            pairs.clips.setdefault(task, set()).add(video.name)
            merged = result.frames.merge(truth, on="frame", suffixes=("", "_true"))
            stance = {s: merged[f"{s}_in_stance_true"].to_numpy() > 0 for s in ("left", "right")}
            any_stance = stance["left"] | stance["right"]
            col = "pelvic_obliquity_deg"
            pairs.add(
                task,
                col,
                merged[col].to_numpy(float)[any_stance],
                merged[f"{col}_true"].to_numpy(float)[any_stance],
            )
            for metric in ("knee_fppa_deg", "hip_adduction_deg"):
                for side in ("left", "right"):
                    c = f"{side}_{metric}"
                    pairs.add(
                        task,
                        metric,
                        merged[c].to_numpy(float)[stance[side]],
                        merged[f"{c}_true"].to_numpy(float)[stance[side]],
                    )
            tally = Tally()
            compare_events(tally, result.events, meta, truth)
            drop = np.array(tally.event_pairs.get("pelvic_drop_deg", []), dtype=float)
            if len(drop):
                pairs.add(task, EVENT_DROP, drop[:, 0], drop[:, 1])
            print(f"{video.name}: paired", file=sys.stderr)
    return pairs


def rmse(pairs: np.ndarray, gain: float = 1.0, offset: float = 0.0) -> float:
    if len(pairs) == 0:
        return float("nan")
    return float(np.sqrt(np.mean((offset + gain * pairs[:, 0] - pairs[:, 1]) ** 2)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("fit", type=Path, help="folder of rendered clips to fit on")
    parser.add_argument("--validate", type=Path, nargs="+", required=True)
    parser.add_argument("--out", type=Path, default=None, help="corrections TOML to write")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)

    from screener.corrections import fit_linear

    fit = collect([args.fit])
    val = collect(args.validate)
    kept: dict[str, dict[str, dict[str, object]]] = {}
    print(
        f"\n{'task':5s} {'metric':22s} {'model':6s} {'n fit':>6s} {'gain':>5s} {'offset':>6s} "
        f"{'fit before/after':>17s} {'n val':>6s} {'val before/after':>17s}  decision"
    )
    for task in sorted({t for t, _ in fit.values}):
        for metric in METRICS:
            p_fit, p_val = fit.get(task, metric), val.get(task, metric)
            if len(p_fit) < 10:
                continue
            symmetric = metric == "pelvic_obliquity_deg"
            level = "event" if metric == EVENT_DROP else "frame"
            models = [("linear", *fit_linear(p_fit[:, 0], p_fit[:, 1], through_origin=symmetric))]
            if not symmetric:  # the same reading shifted: a landmark offset from the joint
                models.append(("offset", 1.0, float(np.mean(p_fit[:, 1] - p_fit[:, 0]))))
            for model, gain, offset in models:
                fb, fa = rmse(p_fit), rmse(p_fit, gain, offset)
                vb, va = rmse(p_val), rmse(p_val, gain, offset)
                decision = _decide(gain, vb, va)
                if decision == "kept" and metric not in kept.get(task, {}):
                    kept.setdefault(task, {})[metric] = {
                        "level": level,
                        "gain": round(gain, 3),
                        "offset_deg": round(offset, 2),
                        "fitted_on": f"{args.fit.name}: {len(fit.clips.get(task, ()))} clips",
                        "n_frames": len(p_fit),  # events, at event level
                        "fit_rmse_before_deg": round(fb, 2),
                        "fit_rmse_after_deg": round(fa, 2),
                        "validated_on": ", ".join(f"{v.name}" for v in args.validate)
                        + f": {len(val.clips.get(task, ()))} clips",
                        "validation_rmse_before_deg": round(vb, 2),
                        "validation_rmse_after_deg": round(va, 2),
                    }
                elif decision == "kept":
                    decision = "not kept: a model above was kept"
                print(
                    f"{task:5s} {metric:22s} {model:6s} {len(p_fit):6d} {gain:5.2f} "
                    f"{offset:+6.1f} {fb:8.2f}/{fa:<8.2f} {len(p_val):6d} {vb:8.2f}/{va:<8.2f}"
                    f"  {decision}"
                )
    if args.out:
        args.out.write_text(_toml(kept, args), encoding="utf-8")
        print(f"\nwrote {args.out}")
    return 0


def _decide(gain: float, val_before: float, val_after: float) -> str:
    """Whether a fitted correction is kept, or why not."""
    if gain >= MAX_GAIN:
        return f"not kept: gain >= {MAX_GAIN}"
    if gain < MIN_GAIN:
        return f"not kept: gain < {MIN_GAIN} (reading replaced by a constant)"
    if not val_after <= (1 - MIN_GAIN_IN_RMSE) * val_before:
        return f"not kept: validation RMSE not {MIN_GAIN_IN_RMSE:.0%} lower"
    return "kept"


def _toml(kept: dict[str, dict[str, dict[str, object]]], args: argparse.Namespace) -> str:
    lines = [
        "# Corrections of MediaPipe's under-reading, fitted on rendered clips.",
        f"# Written by bench/fit_corrections.py on {datetime.now(UTC).date().isoformat()}:",
        f"#   fitted on {args.fit}, validated on {', '.join(map(str, args.validate))}.",
        "# corrected = offset_deg + gain * measured, per task, per frame; RMSE over the",
        "# stance leg's frames (pelvic obliquity: frames with a foot in stance) against",
        "# joint-centre truth. Only corrections with a gain in "
        f"[{MIN_GAIN}, {MAX_GAIN}) that lowered",
        f"# the validation RMSE by {MIN_GAIN_IN_RMSE:.0%} or more are here (docs/accuracy.md "
        "has every fit).",
        "# Regenerate with the same command after any change to pose, cleaning or angles.",
        "",
        "schema_version = 1",
        'method = "least squares truth = offset + gain * measured, or truth = offset + '
        "measured, on per-frame angles of rendered clips (screener_synth) against "
        'joint-centre truth; pelvic obliquity through the origin"',
        "",
    ]
    for task, metrics in sorted(kept.items()):
        for metric, fields in sorted(metrics.items()):
            lines.append(f"[tasks.{task}.{metric}]")
            for key, value in fields.items():
                lines.append(f"{key} = {json.dumps(value)}")
            lines.append("")
    if not kept:
        lines.append("[tasks]")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
