"""How an event metric's error depends on the true value, and what a line fitted to it gains.

Usage::

    python -m bench.accuracy FOLDER ... --skip-auto --events-csv EVENTS.csv
    python -m bench.error_by_truth EVENTS.csv [EVENTS.csv ...] [--metric knee_fppa_deg]
                                   [--bins -30,0,5,10,15,20,40]

Reads the per-event rows of ``bench.accuracy --events-csv`` (several tables are
concatenated), keeps the events of clips inside the envelope with both a reading and a
truth, and prints per task and view:

- the RMSE and mean error (reading minus truth) per bin of the true value: whether large
  true values are read too small (a reading that shrinks toward the average) or the error
  is the same everywhere;
- the slope of the reading on the truth (1 for a reading that follows the truth; below 1
  when it shrinks), its correlation with the truth, and the error split into the part
  shared by a clip's events (its body and camera) and the part within a clip;
- the RMSE of the reading and of the line ``truth = a + b × reading`` fitted *in sample*
  on the same events: the most any linear recalibration of that task and view could gain
  on these events (a fit scored on other clips gains less, ``bench.calibrate_by_set``).

Session 43 used it on hold-outs 41-80 (docs/accuracy.md, "Where it stands (session 43)").
Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_BINS_DEG = (-30.0, 0.0, 5.0, 10.0, 15.0, 20.0, 40.0)


def inside_events(events: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The rows of ``metric`` from clips inside the envelope with a reading and a truth,
    with their error (reading minus truth) as ``error_deg`` and the clip's folder and name
    as ``clip_key``."""
    rows = events[(events["metric"] == metric) & events["inside_envelope"].astype(bool)]
    rows = rows.dropna(subset=["measured", "truth"]).copy()
    rows["error_deg"] = rows["measured"] - rows["truth"]
    # a clip's name may repeat across folders (hold-outs draw names afresh)
    clip = [str(c) for c in rows["clip"]]
    folder = [str(f) for f in rows["folder"]] if "folder" in rows.columns else [""] * len(clip)
    rows["clip_key"] = [f"{f}/{c}" for f, c in zip(folder, clip, strict=True)]
    return rows


def _rmse(errors: pd.Series) -> float:
    return float(np.sqrt(np.mean(np.square(errors))))


def error_by_truth_bin(rows: pd.DataFrame, bins_deg: Sequence[float]) -> pd.DataFrame:
    """Per task, view and bin of the true value: events, RMSE and mean error (degrees)."""
    binned = pd.cut(rows["truth"], list(bins_deg))
    grouped = rows.groupby([rows["task"], rows["view"], binned], observed=True)["error_deg"]
    table = pd.DataFrame(grouped.agg(events="size", rmse_deg=_rmse, bias_deg="mean"))
    table.index = table.index.set_names(["task", "view", "truth_deg"])
    return table.round(2)


def linear_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per task and view: the reading's slope on the truth, r, the error shared within a
    clip and the rest, and the RMSE before and after an in-sample line ``truth = a + b x``.

    Notes
    -----
    ``between_clip_deg`` is the RMS of each clip's mean error (over its events) and
    ``within_clip_deg`` the RMS of the events' errors about their clip's mean; their squares
    add up to the squared RMSE. The in-sample line is fitted and scored on the same
    events, so its RMSE is a floor for any linear recalibration, not an estimate of one.
    """
    out = []
    for (task, view), part in rows.groupby(["task", "view"]):
        truth = part["truth"].to_numpy(float)
        reading = part["measured"].to_numpy(float)
        err = part["error_deg"]
        clip_mean = err.groupby(part["clip_key"]).transform("mean")
        slope = float(np.polyfit(truth, reading, 1)[0]) if np.ptp(truth) > 0 else np.nan
        b, a = np.polyfit(reading, truth, 1) if np.ptp(reading) > 0 else (np.nan, np.nan)
        fitted = a + b * reading
        out.append(
            {
                "task": task,
                "view": view,
                "clips": part["clip_key"].nunique(),
                "events": len(part),
                "slope_reading_on_truth": slope,
                "r": float(np.corrcoef(truth, reading)[0, 1]) if len(part) > 2 else np.nan,
                "between_clip_deg": _rmse(clip_mean),
                "within_clip_deg": _rmse(err - clip_mean),
                "rmse_deg": _rmse(err),
                "rmse_line_in_sample_deg": _rmse(pd.Series(fitted - truth)),
                "line_b": b,
                "line_a": a,
            }
        )
    return pd.DataFrame(out).set_index(["task", "view"]).round(2)


def _bins(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--bins wants numbers separated by commas: {exc}"
        ) from exc
    if len(values) < 2 or any(b <= a for a, b in itertools.pairwise(values)):
        raise argparse.ArgumentTypeError("--bins wants two or more increasing edges")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("events", nargs="+", type=Path, help="bench.accuracy --events-csv tables")
    parser.add_argument("--metric", default="knee_fppa_deg", help="the event metric")
    parser.add_argument(
        "--bins", type=_bins, default=list(DEFAULT_BINS_DEG), help="edges of the truth's bins"
    )
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.events if not p.is_file()]
    if missing:
        sys.stderr.write(f"error_by_truth: no such events table: {', '.join(missing)}\n")
        return 2
    events = pd.concat([pd.read_csv(p) for p in args.events], ignore_index=True)
    needed = {"metric", "inside_envelope", "measured", "truth", "task", "view", "clip"}
    absent = needed - set(events.columns)
    if absent:
        sys.stderr.write(
            f"error_by_truth: not a bench.accuracy events table (no {', '.join(sorted(absent))})\n"
        )
        return 2
    rows = inside_events(events, args.metric)
    if rows.empty:
        sys.stderr.write(f"error_by_truth: no events of {args.metric} inside the envelope\n")
        return 2
    clips = rows["clip_key"].nunique()
    print(f"== {args.metric}: {len(rows)} events, {clips} clips inside the envelope")
    print("error by the true value (reading minus truth, degrees):")
    print(error_by_truth_bin(rows, args.bins).to_string())
    print("the reading against the truth, and an in-sample line truth = a + b x reading:")
    print(linear_summary(rows).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
