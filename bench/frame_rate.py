"""The same rendered clips at high speed (120, 240 fps) and at the corpus' 24-60 fps.

Usage::

    python -m bench.frame_rate [HIGH_FOLDER] [PAIRED_FOLDER]

Defaults: ``corpus/fps_high`` and ``corpus/fps_paired``, rendered with::

    python -m screener_synth corpus --split final --envelope inside --seed 9000 --n 8 \\
        --fps 120,240 ...
    python -m screener_synth corpus --split final --envelope inside --seed 9000 --n 8 ...

The ``--fps`` option changes only the frame rate: each pair is the same body, camera,
task and planted faults. For every pair the screener runs with the clip's task, view and
side given, and this prints the event RMSE of pelvic drop, knee FPPA and hip adduction
and the share of events with start and end within 50 ms, per clip and pooled.

Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.accuracy import analyze_clip, load_truth, match_events, truth_event_value
from screener.config import AnalysisConfig

METRICS = ("pelvic_drop_deg", "knee_fppa_deg", "hip_adduction_deg")


def event_errors(folder: Path, label: str, config: AnalysisConfig) -> list[dict[str, Any]]:
    """One row per true event of every clip in ``folder``: value and timing errors."""
    rows: list[dict[str, Any]] = []
    for truth_path in sorted(folder.glob("*.truth.json")):
        truth_json, truth = load_truth(truth_path)
        match = re.search(r"(\d+)\.truth\.json$", truth_path.name)
        pair = match.group(1) if match else truth_path.name
        result = analyze_clip(
            truth_path,
            truth_json,
            config,
            task=truth_json["task"],
            view=truth_json["view"],
            side=truth_json.get("stance_side"),
        )
        for event, found in match_events(result.events, truth_json):
            row: dict[str, Any] = {
                "pair": pair,
                "set": label,
                "task": truth_json["task"],
                "fps": truth_json["fps"],
                "found": found is not None,
            }
            if found is not None:
                row["start_ms"] = 1000 * (found["t_start_s"] - event["t_start_s"])
                row["end_ms"] = 1000 * (found["t_end_s"] - event["t_end_s"])
                for metric in METRICS:
                    row[metric] = float(found[metric]) - truth_event_value(truth, event, metric)
            rows.append(row)
    return rows


def _rmse(values: pd.Series) -> float:
    return float(np.sqrt(np.nanmean(np.square(values.to_numpy(float)))))


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Event RMSE per metric, events found and start and end within 50 ms, per group."""
    found = rows[rows["found"]]
    keys = ["pair", "task", "set"]
    table = found.groupby(keys).agg(
        fps=("fps", "first"),
        events=("found", "size"),
        **{m: (m, _rmse) for m in METRICS},
    )
    within = (found["start_ms"].abs() <= 50) & (found["end_ms"].abs() <= 50)
    table["within_50ms"] = within.groupby([found[k] for k in keys]).mean()
    return table


def main(argv: list[str] | None = None) -> int:
    """Print the paired comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("high", nargs="?", type=Path, default=Path("corpus/fps_high"))
    parser.add_argument("paired", nargs="?", type=Path, default=Path("corpus/fps_paired"))
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    config = AnalysisConfig(cache_dir=None)
    rows = pd.DataFrame(
        event_errors(args.high, "high speed", config)
        + event_errors(args.paired, "24-60 fps", config)
    )
    pd.set_option("display.width", 200)
    sys.stdout.write(summarise(rows).round(2).to_string() + "\n\n")
    for label, sub in rows.groupby("set"):
        found = sub[sub["found"]]
        within = ((found["start_ms"].abs() <= 50) & (found["end_ms"].abs() <= 50)).mean()
        rmse = ", ".join(f"{m} {_rmse(found[m]):.2f}" for m in METRICS)
        sys.stdout.write(
            f"{label}: {len(sub)} true events, {sub['found'].mean():.0%} found; event RMSE "
            f"{rmse}; start and end within 50 ms {within:.0%}\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
