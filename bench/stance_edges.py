"""Stance phases found and timed under alternative event settings (session 17).

Usage::

    python -m bench.stance_edges FOLDER [FOLDER ...] [--setting NAME=JSON ...]

For every walk and jog in the folders (clips ``NAME.truth.json`` with stored landmarks or
videos, as for ``bench/accuracy.py``) it runs the screener with its task given, once per
setting (``NAME={"edge_swing_confident_frames": 1000}``: :class:`screener.config.EventConfig`
fields over the defaults; ``default`` is always run), and prints per task:

- the true stance phases with a seen floor contact (``t_floor_on_s``, ``t_floor_off_s``),
  the share found, and the share whose start and end are both within 50 ms of the
  contact (found or not, as in ``bench/accuracy.py``'s floor-contact table);
- the found phases that match no true phase (a phase cut by the clip's edge and reported
  as complete, or a false one).

It prints figures and asserts nothing. The table of docs/accuracy.md ("Stance phases at
the clip's edge") was made with::

    python -m bench.stance_edges corpus/val corpus/final2{0..6}_{inside,outside} \\
        --setting before='{"edge_swing_confident_frames": 1000}' \\
        --setting two_frames='{"edge_swing_min_frames": 2, "edge_swing_min_s": 0.02}' \\
        --setting one_frame='{"edge_swing_min_frames": 1, "edge_swing_min_s": 0}'
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from bench.accuracy import (
    Tally,
    analyze_clip,
    compare_events,
    find_clips,
    load_truth,
    match_events,
)

WITHIN_S = 0.05


def score_clip(truth_path: Path, config: Any) -> tuple[list[tuple[Any, ...]], int]:
    """Per true stance phase with a seen contact, ``bench.accuracy``'s floor-contact log
    entry (clip, task, near the edge, start and end errors in s, NaN when not found);
    and the number of found phases matching no true phase."""
    truth_json, truth = load_truth(truth_path)
    result = analyze_clip(truth_path, truth_json, config, task=truth_json["task"], side="auto")
    tally = Tally()
    compare_events(tally, result.events, truth_json, truth)
    matched = {
        (best["side"], float(best["t_start_s"]))
        for _, best in match_events(result.events, truth_json)
        if best is not None
    }
    unmatched = sum(
        (row.side, float(row.t_start_s)) not in matched for row in result.events.itertuples()
    )
    return tally.floor_log, unmatched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)

    from screener.config import AnalysisConfig, EventConfig
    from screener.errors import ScreenerError

    settings: dict[str, dict[str, Any]] = {"default": {}}
    for item in args.setting:
        name, _, text = item.partition("=")
        settings[name] = json.loads(text)
    clips = [  # the truth summary says the task; the frame table is read once, per setting
        path
        for path in find_clips(args.folders)
        if json.loads(path.read_text())["task"] in ("walk", "jog")
    ]
    table = []
    for name, fields in settings.items():
        config = AnalysisConfig(events=EventConfig(**fields))
        rows: list[tuple[Any, ...]] = []
        unmatched = 0
        for path in clips:
            try:
                clip_rows, clip_unmatched = score_clip(path, config)
            except ScreenerError as exc:
                logging.getLogger(__name__).error("%s", exc.one_line())
                continue
            rows.extend(clip_rows)
            unmatched += clip_unmatched
        phases = pd.DataFrame(rows, columns=["clip", "task", "near_edge", "start", "end"])
        phases["found"] = phases["start"].notna()
        for task, sub in phases.groupby("task"):
            both = (sub["start"].abs() <= WITHIN_S) & (sub["end"].abs() <= WITHIN_S)
            table.append(
                {
                    "setting": name,
                    "task": task,
                    "phases": len(sub),
                    "found": f"{sub['found'].mean():.0%}",
                    "start and end within 50 ms": f"{both.mean():.0%}",
                    "unmatched found phases (all tasks)": unmatched,
                }
            )
    print(pd.DataFrame(table).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
