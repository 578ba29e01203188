"""`--task auto` on stored landmarks: which task it reads, and what the standing rule sees.

Usage::

    python -m bench.task_detection [--csv OUT.csv] FOLDER ...

For every clip in the folders whose truth names its stored landmarks (``keypoints``), the
landmarks are oriented and cleaned as :func:`screener.analyze_pose` does before it
detects the task (:func:`screener.pipeline.oriented_pose`), and
:func:`screener.events.detect_task` and :func:`screener.events.read_stillness` read them
(on the frames the task is read from: a stand on both feet before or after a one-leg task
is left out, its length in ``stand_left_out_s``). Prints the true task against the task
read ("none" where the confidence is below ``checks.min_task_confidence``: the user is
asked for ``--task``; "view refused" where the view could not be told), how many were
read with less than
``checks.sure_task_confidence`` (analysed with a warning), and, for the clips whose feet
and pelvis move as little as a standing person's, per true task: the pelvis' range and
rhythm and how many hold a foot up.

Session 20 ran it on every stored corpus and opened hold-out (docs/accuracy.md, "A
shallow squat told from standing by its rhythm"). Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import pandas as pd

from bench.accuracy import find_clips
from screener.config import AnalysisConfig
from screener.errors import ViewError
from screener.events import detect_task, read_stillness, single_leg_span
from screener.keypoints import PoseSequence
from screener.pipeline import oriented_pose

COLUMNS = [
    "folder",
    "clip",
    "task",
    "view",
    "read",
    "confidence",
    "still",
    "held_up",
    "foot_range_leg",
    "pelvis_range_leg",
    "lift_leg",
    "same_foot_up",
    "rhythm_hz",
    "stand_left_out_s",
]


def read_clip(truth_path: Path, config: AnalysisConfig) -> dict[str, object] | None:
    """One clip's row of :data:`COLUMNS`; None when the truth stores no landmarks."""
    truth = json.loads(truth_path.read_text())
    if "keypoints" not in truth:
        return None
    row: dict[str, object] = {
        "folder": truth_path.parent.name,
        "clip": truth["video"],
        "task": truth["task"],
        "view": truth["view"],
    }
    raw = PoseSequence.load(truth_path.parent / truth["keypoints"])
    try:
        pose, _ = oriented_pose(raw, config=config)
    except ViewError:
        return {**row, "read": "view refused", "confidence": 0.0}
    estimate = detect_task(pose, config.events)
    start, stop = single_leg_span(pose, config.events)  # the frames detect_task reads
    still = read_stillness(pose.take(slice(start, stop)), config.events)
    read = estimate.task if estimate.confidence >= config.checks.min_task_confidence else "none"
    return {
        **row,
        "read": read,
        "confidence": estimate.confidence,
        "still": still.still,
        "held_up": still.held_up,
        "foot_range_leg": still.foot_range_leg,
        "pelvis_range_leg": still.pelvis_range_leg,
        "lift_leg": still.lift_leg,
        "same_foot_up": still.same_foot_up,
        "rhythm_hz": still.rhythm_hz,
        "stand_left_out_s": float(
            pose.time_s[start] - pose.time_s[0] + pose.time_s[-1] - pose.time_s[stop - 1]
        ),
    }


def summarise(table: pd.DataFrame, config: AnalysisConfig) -> str:
    """The printed tables of a :func:`read_clip` table."""
    lines = ["true task (rows) against the task read (columns):"]
    lines.append(pd.crosstab(table["task"], table["read"]).to_string())
    guessed = table[(table["read"] != "none") & (table["read"] != "view refused")]
    weak = guessed[guessed["confidence"] < config.checks.sure_task_confidence]
    lines.append(
        f"read below confidence {config.checks.sure_task_confidence:g} (analysed with a "
        f"warning): {len(weak)} of {len(guessed)}; by true task: "
        + ", ".join(f"{t} {n}" for t, n in weak["task"].value_counts().sort_index().items())
    )
    still = table[table["still"].fillna(False).astype(bool)]
    lines.append("clips whose feet and pelvis move as little as a standing person's:")
    rows = []
    for task, sub in still.groupby("task"):
        rows.append(
            {
                "task": task,
                "clips": len(sub),
                "foot held up": int(sub["held_up"].astype(bool).sum()),
                "pelvis range, leg": f"{sub.pelvis_range_leg.min():.3f}-"
                f"{sub.pelvis_range_leg.max():.3f}",
                "rhythm, Hz": f"{sub.rhythm_hz.min():.2f}-{sub.rhythm_hz.max():.2f}",
                "read as sls": int((sub["read"] == "sls").sum()),
            }
        )
    lines.append(pd.DataFrame(rows).to_string(index=False) if rows else "  none")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--csv", type=Path, help="also write one row per clip here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    config = AnalysisConfig(cache_dir=None)
    clips = find_clips(args.folders)
    rows = [row for path in clips if (row := read_clip(path, config)) is not None]
    if not rows:
        print(f"no stored landmarks under {', '.join(map(str, args.folders))}", file=sys.stderr)
        return 1
    table = pd.DataFrame(rows, columns=COLUMNS)
    if args.csv:
        table.to_csv(args.csv, index=False)
    print(f"{len(table)} clips")
    print(summarise(table, config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
