"""Per task and view calibrations of event values, scored leave-one-set-out.

Usage::

    python -m bench.accuracy FOLDER ... --skip-auto --events-csv EVENTS.csv
    python -m bench.calibrate_by_set EVENTS.csv

Reads the per-event rows of ``bench.accuracy --events-csv``, keeps the events of clips
whose camera lies inside the envelope (``screener_synth.sets.ENVELOPE_RANGES``, the yaw
judged on the lens' azimuth, as ``bench.accuracy.inside_envelope`` does) and, per metric,
task and view, fits ``truth = a + b * measured`` (issue 12's option (a)) on every set but
one and scores it on the one left out. A set is a rendered corpus (``final13_inside``
and ``final13_outside`` are one set, ``val`` another): each has its own bodies and
cameras, so leaving one out is leave-body-out and leave-camera-out. Prints, per cell, the
RMSE of the values as measured, the RMSE of the left-out predictions, and the line
fitted on every set (its gain ``b``: far below 1, the calibration replaces the reading
by an average and says little about the patient; ``bench/calibrate.py`` refuses gains
under 0.8 for that reason).

Session 19 ran it on ``corpus/val`` and the opened hold-outs 13-30 (docs/accuracy.md).
Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from bench.accuracy import ENVELOPE_CONDITION_COLUMNS

#: The metrics scored (the frontal angles with accuracy targets).
METRICS = ("knee_fppa_deg", "pelvic_drop_deg", "hip_adduction_deg")


def inside_events(events: pd.DataFrame, ranges: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """The rows with finite values whose clip's conditions all lie in ``ranges``, with a
    ``set`` column: the folder without its ``_inside`` / ``_outside`` suffix."""
    keep = np.isfinite(events["measured"]) & np.isfinite(events["truth"])
    for key, (lo, hi) in ranges.items():
        values = events[ENVELOPE_CONDITION_COLUMNS.get(key, key)]
        keep &= (values >= lo - 1e-9) & (values <= hi + 1e-9)
    out = events[keep].copy()
    out["set"] = out["folder"].str.replace(r"_(inside|outside)$", "", regex=True)
    return out


def leave_one_set_out(cell: pd.DataFrame) -> np.ndarray:
    """Each row's prediction by the line fitted on the other sets' rows (NaN where the
    other sets have fewer than 3 rows)."""
    predicted = np.full(len(cell), np.nan)
    sets = cell["set"].to_numpy()
    measured = cell["measured"].to_numpy(float)
    truth = cell["truth"].to_numpy(float)
    for name in np.unique(sets):
        train = sets != name
        if train.sum() < 3:
            continue
        gain, offset = np.polyfit(measured[train], truth[train], 1)
        predicted[~train] = offset + gain * measured[~train]
    return predicted


def calibration_table(events: pd.DataFrame) -> pd.DataFrame:
    """Per metric, task and view: events, clips, sets, RMSE as measured and left-out
    calibrated, and the line fitted on every set."""
    rows = []
    for (metric, task, view), cell in events.groupby(["metric", "task", "view"]):
        if metric not in METRICS or cell["set"].nunique() < 2:
            continue
        predicted = leave_one_set_out(cell)
        scored = np.isfinite(predicted)
        gain, offset = np.polyfit(cell["measured"], cell["truth"], 1)
        truth = cell["truth"].to_numpy(float)
        rows.append(
            {
                "metric": metric,
                "task": task,
                "view": view,
                "events": len(cell),
                "clips": cell[["folder", "clip"]].drop_duplicates().shape[0],
                "sets": cell["set"].nunique(),
                "rmse_measured_deg": float(
                    np.sqrt(np.mean((cell["measured"].to_numpy(float) - truth)[scored] ** 2))
                ),
                "rmse_calibrated_deg": float(np.sqrt(np.mean((predicted - truth)[scored] ** 2))),
                "gain": float(gain),
                "offset_deg": float(offset),
            }
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("events_csv", type=Path)
    args = parser.parse_args(argv)
    from screener_synth.sets import ENVELOPE_RANGES

    events = inside_events(pd.read_csv(args.events_csv), ENVELOPE_RANGES)
    table = calibration_table(events)
    print(f"{events['set'].nunique()} sets, {len(events)} events inside the envelope")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
