"""Whether a task's error is larger in short patients: RMSE by the truth body's stature.

Usage::

    python -m bench.accuracy FOLDER ... --skip-auto --events-csv EVENTS.csv
    python -m bench.stature_check EVENTS.csv [EVENTS.csv ...] [--task sls]
                                  [--metric knee_fppa_deg] [--edge-m 1.55]
                                  [--column stature_m]

Reads the per-event rows of ``bench.accuracy --events-csv`` (several tables are
concatenated), keeps the events of ``--task`` inside the envelope with a reading and a
truth, splits them by the rendered body's stature (``stature_m``) at ``--edge-m`` (at or
under, above) and prints, for both views pooled and for each view:

- clips, events and RMSE of each group;
- the difference of the two RMSEs (short minus tall) with a 95 % percentile bootstrap
  interval that resamples clips within each group (a clip's events share its body and
  camera, so the clip is the unit).

Session 45 saw the squat's knee FPPA err most in bodies at or under 1.55 m on hold-outs
65-86, with the edge chosen after looking; hold-out 87 was pre-registered to check it
(docs/accuracy.md, "A squat's knee FPPA and the patient's stature"). Prints figures and
asserts nothing. ``--column`` splits by another column of the table the same way (session
47: ``measured_squat_depth_deg`` at 60, the squat depth the screener read).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from bench.error_by_truth import inside_events

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 46


def _clip_sums(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each clip's sum of squared errors and its number of events."""
    grouped = rows.groupby("clip_key")["error_deg"]
    return (
        grouped.agg(lambda e: float(np.sum(np.square(e)))).to_numpy(float),
        grouped.size().to_numpy(float),
    )


def _rmse_of(sq: np.ndarray, n: np.ndarray) -> float:
    return float(np.sqrt(sq.sum() / n.sum()))


def rmse_difference(
    short: pd.DataFrame, tall: pd.DataFrame, level: float = 0.95
) -> dict[str, float]:
    """RMSE of each group, their difference (short minus tall) and its bootstrap interval.

    Parameters
    ----------
    short, tall
        Rows of :func:`bench.error_by_truth.inside_events` (``clip_key``, ``error_deg``).
    level
        Coverage of the interval.

    Returns
    -------
    dict
        ``clips_short``, ``clips_tall``, ``events_short``, ``events_tall``,
        ``rmse_short_deg``, ``rmse_tall_deg``, ``difference_deg``, ``ci_low_deg``,
        ``ci_high_deg`` (NaN where a group has under two clips).

    Notes
    -----
    Clips are drawn with replacement within each group, :data:`BOOTSTRAP_RESAMPLES`
    times, and the difference of the two groups' RMSEs over the events of the clips
    drawn is taken each time; the interval is its percentiles.
    """
    out: dict[str, float] = {
        "clips_short": float(short["clip_key"].nunique()),
        "clips_tall": float(tall["clip_key"].nunique()),
        "events_short": float(len(short)),
        "events_tall": float(len(tall)),
        "rmse_short_deg": np.nan,
        "rmse_tall_deg": np.nan,
        "difference_deg": np.nan,
        "ci_low_deg": np.nan,
        "ci_high_deg": np.nan,
    }
    if short.empty or tall.empty:
        return out
    sq_s, n_s = _clip_sums(short)
    sq_t, n_t = _clip_sums(tall)
    out["rmse_short_deg"] = _rmse_of(sq_s, n_s)
    out["rmse_tall_deg"] = _rmse_of(sq_t, n_t)
    out["difference_deg"] = out["rmse_short_deg"] - out["rmse_tall_deg"]
    if len(sq_s) < 2 or len(sq_t) < 2:
        return out
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    diffs = np.empty(BOOTSTRAP_RESAMPLES)
    for k in range(BOOTSTRAP_RESAMPLES):
        i = rng.integers(0, len(sq_s), len(sq_s))
        j = rng.integers(0, len(sq_t), len(sq_t))
        diffs[k] = _rmse_of(sq_s[i], n_s[i]) - _rmse_of(sq_t[j], n_t[j])
    tail = 50.0 * (1.0 - level)
    out["ci_low_deg"], out["ci_high_deg"] = (
        float(v) for v in np.percentile(diffs, [tail, 100 - tail])
    )
    return out


def stature_table(rows: pd.DataFrame, edge: float, column: str = "stature_m") -> pd.DataFrame:
    """:func:`rmse_difference` of the rows at or under ``edge`` of ``column`` against those
    above, for the views pooled (``view = "both"``) and per view."""
    if rows[column].isna().any():
        missing = rows.loc[rows[column].isna(), "clip_key"].nunique()
        raise ValueError(
            f"{missing} clips have no {column}: run bench.accuracy again to write events "
            "tables with it (stature_m from session 45 on, measured_squat_depth_deg from "
            "session 47 on; a clip the screener read no squat depth for has none)"
        )
    parts = [("both", rows)] + [(str(v), part) for v, part in rows.groupby("view")]
    table = []
    for view, part in parts:
        short = part[part[column] <= edge]
        tall = part[part[column] > edge]
        table.append({"view": view, **rmse_difference(short, tall)})
    return pd.DataFrame(table).set_index("view").round(2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("events", nargs="+", type=Path, help="bench.accuracy --events-csv tables")
    parser.add_argument("--task", default="sls", help="task to look at (default sls)")
    parser.add_argument("--metric", default="knee_fppa_deg", help="event metric")
    parser.add_argument(
        "--edge-m", "--edge", dest="edge_m", type=float, default=1.55, help="the split's edge"
    )
    parser.add_argument(
        "--column",
        default="stature_m",
        help="events-table column split at the edge (default stature_m, the truth body's "
        "stature; e.g. measured_squat_depth_deg, the squat depth the screener read)",
    )
    args = parser.parse_args(argv)
    for path in args.events:
        if not path.is_file():
            parser.error(
                f"{path}: no such events table (write it with bench.accuracy --events-csv)"
            )
    frames = []
    for path in args.events:
        frame = pd.read_csv(path)
        folder = frame["folder"].fillna("") if "folder" in frame.columns else ""
        # the table's path keeps apart clips of the same name from two tables
        frame["folder"] = [f"{path}:{f}" for f in np.broadcast_to(folder, len(frame))]
        frames.append(frame)
    rows = inside_events(pd.concat(frames, ignore_index=True), args.metric)
    rows = rows[rows["task"] == args.task]
    if rows.empty:
        parser.error(f"no {args.task} events of {args.metric} inside the envelope in these tables")
    if args.column not in rows.columns:
        parser.error(f"the events tables have no column {args.column!r}")
    try:
        table = stature_table(rows, args.edge_m, args.column)
    except ValueError as exc:
        parser.error(str(exc))
    sys.stdout.write(
        f"{args.task} {args.metric}: {args.column} <= {args.edge_m} (short) against above "
        "(tall); difference = short minus tall RMSE, 95 % interval resampling clips\n"
    )
    sys.stdout.write(table.to_string() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
