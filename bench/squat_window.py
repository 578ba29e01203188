"""Single-leg squat values read over a window around the deepest point (session 39).

A repetition's values are read at one frame, its deepest point. This bench reads them
instead as the mean over the frames within ``±w`` seconds of that frame, for several
``w``, and pairs each with the truth ``bench.accuracy`` scores against (the rendered angle
at the true deepest frame), over the squats inside the envelope of the folders given::

    python -m bench.squat_window corpus/final41_inside ... --out squat_window.csv

It prints the event RMSE per metric, view and ``w`` (``w = 0`` is the default reading).
Findings: docs/accuracy.md, "The squat's value over a window around its deepest point".
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.accuracy import (
    analyze_clip,
    find_clips,
    inside_envelope,
    load_truth,
    match_events,
    truth_event_value,
)

#: Half-widths of the window, seconds (0: the deepest frame alone, the default reading).
HALF_WIDTHS_S = (0.0, 0.033, 0.067, 0.1, 0.15, 0.2)
#: The metrics read.
METRICS = ("knee_fppa_deg", "pelvic_drop_deg", "hip_adduction_deg")


def window_readings(
    frames: pd.DataFrame,
    events: pd.DataFrame,
    truth_json: dict,
    truth: pd.DataFrame,
    half_widths_s: Sequence[float] = HALF_WIDTHS_S,
) -> list[dict[str, Any]]:
    """Each matched repetition's readings over each window, with its truth.

    Parameters
    ----------
    frames, events
        The screener's per-frame and per-event tables of one clip.
    truth_json, truth
        The clip's truth summary (its true events) and per-frame truth.
    half_widths_s
        Half-widths of the window, seconds.

    Returns
    -------
    list of dict
        One row per repetition, metric and half-width: ``w_s``, ``metric``, ``side``,
        ``measured`` (the window's mean; NaN where no frame of it has a value), ``truth``.

    Notes
    -----
    The window is centred on the found deepest frame (``frame_peak``); the truth stays at
    the true deepest frame, as ``bench.accuracy`` scores a repetition.
    """
    from screener.metrics import event_series

    t = frames["time_s"].to_numpy(float)
    rows: list[dict[str, Any]] = []
    for ev, best in match_events(events, truth_json):
        if best is None or ev["kind"] != "rep":
            continue
        series = event_series(frames, ev["side"])
        peak = int(best["frame_peak"])
        for w in half_widths_s:
            near = np.abs(t - t[peak]) <= w + 1e-9
            for metric in METRICS:
                values = series[metric][near]
                finite = values[np.isfinite(values)]
                rows.append(
                    {
                        "t_peak_s": float(ev["t_peak_s"]),
                        "side": ev["side"],
                        "w_s": float(w),
                        "metric": metric,
                        "measured": float(finite.mean()) if finite.size else float("nan"),
                        "truth": truth_event_value(truth, ev, metric),
                    }
                )
    return rows


def rmse_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Event RMSE per metric, view and half-width (columns: the half-widths)."""
    sq = (rows["measured"] - rows["truth"]) ** 2
    return sq.groupby([rows["metric"], rows["view"], rows["w_s"]]).mean().pow(0.5).unstack()


def main(argv: list[str] | None = None) -> int:
    from screener.config import AnalysisConfig
    from screener.errors import ScreenerError

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="corpus folders")
    parser.add_argument("--out", type=Path, help="write every reading to this CSV")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    config = AnalysisConfig()
    rows: list[dict[str, Any]] = []
    for truth_path in find_clips(args.folders):
        truth_json, truth = load_truth(truth_path)
        if truth_json["task"] != "sls" or not inside_envelope(truth_json):
            continue
        try:
            result = analyze_clip(
                truth_path, truth_json, config, task="sls", side=truth_json["stance_side"]
            )
        except ScreenerError as exc:
            print(f"skipped {exc.one_line()}", file=sys.stderr)
            continue
        for row in window_readings(result.frames, result.events, truth_json, truth):
            rows.append(
                {"folder": truth_path.parent.name, "clip": truth_path.name, **row}
                | {"view": truth_json["view"]}
            )
    if not rows:
        print("no squat repetition inside the envelope was matched", file=sys.stderr)
        return 1
    table = pd.DataFrame(rows)
    if args.out:
        table.to_csv(args.out, index=False)
    n = int(((table.metric == METRICS[0]) & (table.w_s == 0.0)).sum())
    print(f"event RMSE (deg) of {n} repetitions, per half-width w (s):")
    print(rmse_table(table).round(2).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
