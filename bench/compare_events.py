"""Two readings of the same events compared, paired event by event (a candidate model
against the shipped one).

Usage::

    python -m bench.accuracy FOLDERS ... --events-csv before.csv [options]
    python -m bench.accuracy FOLDERS ... --events-csv after.csv [other options]
    python -m bench.compare_events before.csv after.csv [--task sls] [--metric knee_fppa_deg]

Both files are ``bench/accuracy.py --events-csv`` outputs over the same clips. Only the
events inside the envelope are compared, each event paired with its counterpart (the
same clip, metric and order within the clip, the same truth). Prints, overall and per
view: events, clips, both RMSEs, the change in per cent and the difference with a 95 %
interval that resamples clips (a clip's events share its body and camera; as
:func:`bench.accuracy.clip_bootstrap_ci`).

Session 38 ran it on the squats of hold-outs 65-71 to decide whether the squat's frame
model retrained on more data ships (docs/accuracy.md, "The squat's frame model on more
data"). Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from bench.accuracy import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED


def paired_events(
    before: pd.DataFrame, after: pd.DataFrame, task: str, metric: str
) -> pd.DataFrame:
    """The events of ``task`` and ``metric`` inside the envelope read in both tables, one
    row per event: ``clip``, ``view``, ``truth`` and the squared errors ``sq_before`` and
    ``sq_after``.

    Raises
    ------
    ValueError
        If a paired event's truth differs between the tables (not the same clips or not
        the same events found).
    """

    def pick(table: pd.DataFrame) -> pd.DataFrame:
        rows = table[
            (table["task"] == task) & (table["metric"] == metric) & table["inside_envelope"]
        ].copy()
        rows = rows[np.isfinite(rows["measured"]) & np.isfinite(rows["truth"])]
        rows["order"] = rows.groupby("clip").cumcount()
        rows["sq"] = (rows["measured"] - rows["truth"]) ** 2
        return rows[["clip", "view", "order", "truth", "sq"]]

    pairs = pick(before).merge(
        pick(after).drop(columns="view"), on=["clip", "order"], suffixes=("_before", "_after")
    )
    if not np.allclose(pairs["truth_before"], pairs["truth_after"]):
        raise ValueError("the two tables' events do not pair: not the same clips or events")
    return pairs.rename(columns={"truth_before": "truth"}).drop(columns="truth_after")


def paired_change(pairs: pd.DataFrame, level: float = 0.95) -> dict[str, float]:
    """RMSE before and after over ``pairs`` (:func:`paired_events`), the change in per
    cent and the difference (after − before, deg) with a percentile interval over
    :data:`bench.accuracy.BOOTSTRAP_RESAMPLES` resamples of the clips."""
    per_clip = pairs.groupby("clip").agg(
        before=("sq_before", "sum"), after=("sq_after", "sum"), n=("sq_before", "size")
    )
    sse_b, sse_a, n = (per_clip[c].to_numpy(float) for c in ("before", "after", "n"))
    rmse_b, rmse_a = np.sqrt(sse_b.sum() / n.sum()), np.sqrt(sse_a.sum() / n.sum())
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    draws = rng.integers(0, len(per_clip), size=(BOOTSTRAP_RESAMPLES, len(per_clip)))
    events = n[draws].sum(axis=1)
    diff = np.sqrt(sse_a[draws].sum(axis=1) / events) - np.sqrt(sse_b[draws].sum(axis=1) / events)
    tail = 50.0 * (1.0 - level)
    low, high = np.percentile(diff, [tail, 100.0 - tail])
    return {
        "events": float(n.sum()),
        "clips": float(len(per_clip)),
        "rmse_before_deg": float(rmse_b),
        "rmse_after_deg": float(rmse_a),
        "change_pct": float(100.0 * (rmse_a / rmse_b - 1.0)),
        "difference_deg": float(rmse_a - rmse_b),
        "ci_low_deg": float(low),
        "ci_high_deg": float(high),
    }


def compare(before: pd.DataFrame, after: pd.DataFrame, task: str, metric: str) -> pd.DataFrame:
    """:func:`paired_change` over every paired event and per view."""
    pairs = paired_events(before, after, task, metric)
    groups = [("all", pairs), *((str(view), sub) for view, sub in pairs.groupby("view"))]
    table = pd.DataFrame([{"view": name, **paired_change(sub)} for name, sub in groups])
    return table.astype({"events": int, "clips": int})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("before", type=Path, help="events CSV of the reading compared against")
    parser.add_argument("after", type=Path, help="events CSV of the candidate reading")
    parser.add_argument("--task", default="sls")
    parser.add_argument("--metric", default="knee_fppa_deg")
    args = parser.parse_args(argv)
    table = compare(pd.read_csv(args.before), pd.read_csv(args.after), args.task, args.metric)
    print(f"{args.task} {args.metric}, inside the envelope, paired by event:")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
