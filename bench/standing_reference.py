"""Does a stand on both feet before a single-leg squat cancel the squat's angle errors?

Usage::

    python -m bench.standing_reference [--csv OUT.csv] FOLDER ...

For every single-leg squat in the folders that opens standing on both feet (rendered with
``python -m screener_synth corpus --protocol guide``, as the capture guide asks), the
screener runs with the task given (:func:`bench.accuracy.analyze_clip`). The stand is
the frames before :func:`screener.events.active_span`'s start, less
:data:`MARGIN_S` at each end. Per repetition and metric (pelvic drop, knee FPPA, hip
adduction, with the events table's sign conventions, :func:`screener.metrics.event_series`):

- the event value as the screener reads it, and the truth
  (:func:`bench.accuracy.truth_event_value`);
- the stand's median, measured and true;
- **referenced**: the event value less the stand's measured median, plus the stand's
  assumed truth, which for pelvic drop is 0 (a level pelvis on both feet: what a
  screener could do on a patient) and for the others is left out;
- **oracle**: the event value less the stand's error (measured less true): the best any
  standing reference could do, also where the stand's truth is not known.

Prints, per metric and view, RMSE and bias of each, and the correlation of the stand's
error with the event's error (a reference helps only as far as they go together). The
issue that asked for the corrections (12) listed "a standing reference before each squat
rep" as worth measuring; session 21 did. Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from bench.accuracy import analyze_clip, find_clips, load_truth, match_events, truth_event_value
from screener.config import AnalysisConfig
from screener.errors import ScreenerError
from screener.events import active_span
from screener.metrics import event_series

#: Frames this close to either end of the stand are left out (the foot starts to lift).
MARGIN_S = 0.2
#: Metrics compared; pelvic drop's stand is assumed level (0°).
METRICS = ("pelvic_drop_deg", "knee_fppa_deg", "hip_adduction_deg")
ASSUMED_STAND_DEG = {"pelvic_drop_deg": 0.0}


def stand_frames(time_s: np.ndarray, start: int) -> np.ndarray:
    """Indices of the stand before frame ``start``, less :data:`MARGIN_S` at each end."""
    t = time_s[:start]
    if t.size == 0:
        return np.zeros(0, dtype=int)
    keep = (t >= t[0] + MARGIN_S) & (t <= t[-1] - MARGIN_S)
    return np.flatnonzero(keep)


def clip_rows(truth_path: Path, config: AnalysisConfig) -> list[dict[str, object]]:
    """One row per matched repetition and metric (empty without a stand)."""
    truth_json, truth = load_truth(truth_path)
    if truth_json["task"] != "sls":
        return []
    result = analyze_clip(truth_path, truth_json, config, task="sls")
    start, _ = active_span(result.pose, config.events)
    stand = stand_frames(result.pose.time_s, start)
    if stand.size < 5:
        return []
    frames = result.frames.set_index("frame").reindex(np.arange(result.pose.n_frames))
    true_frames = truth.set_index("frame").reindex(np.arange(result.pose.n_frames))
    rows = []
    for ev, found in match_events(result.events, truth_json):
        if found is None:
            continue
        side = ev["side"]
        measured_series = event_series(frames.reset_index(), side)
        true_series = _truth_series(true_frames, side)
        for metric in METRICS:
            rows.append(
                {
                    "clip": truth_json["video"],
                    "view": truth_json["view"],
                    "side": side,
                    "metric": metric,
                    "event": float(found[metric]),
                    "event_true": truth_event_value(truth, ev, metric),
                    "stand": float(np.nanmedian(measured_series[metric][stand])),
                    "stand_true": float(np.nanmedian(true_series[metric][stand])),
                    "stand_s": float(result.pose.time_s[start] - result.pose.time_s[0]),
                }
            )
    return rows


def _truth_series(truth: pd.DataFrame, side: str) -> dict[str, np.ndarray]:
    """The truth table's series of one stance leg, with the events' sign conventions."""
    sign = 1.0 if side == "right" else -1.0
    return {
        "pelvic_drop_deg": sign * truth["pelvic_obliquity_deg"].to_numpy(float),
        "knee_fppa_deg": truth[f"{side}_knee_fppa_deg"].to_numpy(float),
        "hip_adduction_deg": truth[f"{side}_hip_adduction_deg"].to_numpy(float),
    }


def summarise(table: pd.DataFrame) -> str:
    """RMSE and bias of the event values as read, referenced and oracle, per metric and
    view, and how the stand's error goes with the event's."""
    table = table.assign(
        error=table["event"] - table["event_true"],
        stand_error=table["stand"] - table["stand_true"],
    )
    table["oracle_error"] = table["error"] - table["stand_error"]
    assumed = table["metric"].map(ASSUMED_STAND_DEG)
    table["referenced_error"] = table["event"] - table["stand"] + assumed - table["event_true"]
    lines = []
    for (metric, view), group in table.groupby(["metric", "view"]):
        ok = np.isfinite(group["error"]) & np.isfinite(group["stand_error"])
        g = group[ok]
        if g.empty:
            continue
        r = float(np.corrcoef(g["error"], g["stand_error"])[0, 1]) if len(g) > 2 else float("nan")
        parts = [f"{metric:18s} {view:9s} n {len(g):3d} clips {g['clip'].nunique():3d}"]
        for label, col in (
            ("as read", "error"),
            ("referenced", "referenced_error"),
            ("oracle", "oracle_error"),
        ):
            e = g[col].to_numpy(float)
            if np.isfinite(e).any():
                rmse = float(np.sqrt(np.nanmean(e**2)))
                parts.append(f"{label} {rmse:5.2f} ({float(np.nanmean(e)):+5.2f})")
        parts.append(f"r(stand error, event error) {r:+.2f}")
        parts.append(f"stand truth {g['stand_true'].min():+.1f}..{g['stand_true'].max():+.1f}")
        lines.append("  ".join(parts))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison over the folders; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--csv", type=Path, default=None, help="write the per-event rows here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    config = AnalysisConfig()
    rows: list[dict[str, object]] = []
    skipped = 0
    for truth_path in find_clips(args.folders):
        try:
            found = clip_rows(truth_path, config)
        except ScreenerError as exc:
            logging.getLogger(__name__).warning("%s: %s", truth_path.name, exc)
            skipped += 1
            continue
        rows.extend(found)
    table = pd.DataFrame(rows)
    if table.empty:
        sys.stdout.write("no single-leg squat with a stand on both feet\n")
        return 0
    if args.csv:
        table.to_csv(args.csv, index=False)
    sys.stdout.write(
        f"{table['clip'].nunique()} squats with a stand on both feet "
        f"({skipped} could not be screened)\n{summarise(table)}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
