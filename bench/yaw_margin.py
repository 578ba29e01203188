"""How a margin on the yaw warning trades warnings inside the envelope for misses outside.

Usage::

    python -m bench.accuracy FOLDER ... --skip-auto --events-csv EVENTS.csv
    python -m bench.yaw_margin EVENTS.csv [--validation-from 27] [--margins 0,0.5,1,1.5,1.8,2]
                               [--per-task-view]

Reads the per-event rows of ``bench.accuracy --events-csv`` (one clip's camera truth and
the screener's estimate repeated on each of its rows; clips without events are not in
it), keeps one row per clip, and splits the clips by folder: the opened hold-outs
numbered from ``--validation-from`` on form the validation set, every other folder the
tuning set. For each set it prints:

- the yaw estimate's error (estimate minus the lens' azimuth) per task and view, over
  the clips with the lens within 20° of the axis, and pooled (its SD is the margin the
  envelope uses, ``warn_margin`` in ``screener/models/envelope.toml``);
- per margin ``m``: the share of clips outside the envelope by their yaw alone (roll
  within ±5°, lens height 0.4-1.2 m) whose estimate exceeds ``warn_abs - m``, in all
  and 10-15° off axis, and the share of clips inside the envelope warned for their yaw.

With ``--per-task-view`` it also sets a margin per task and view, each the tuning set's
error SD for that task and view (rounded to 0.1°), scores it beside the single margins on
both sets, and counts per task and view the clips 10-20° off axis and those within 10°
(whatever their other conditions) warned for their yaw with the envelope's single margin
and with these.

Session 18 chose the margin on the tuning set and checked it on the validation set;
session 42 tried margins per task and view and did not keep them (docs/capture.md, "The
yaw's edge per task and view"). Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from screener.capture import load_envelope
from screener.config import CaptureConfig

#: The envelope's other limits a clip must meet to count as outside by its yaw alone.
ROLL_MAX_DEG = 5.0
HEIGHT_RANGE_M = (0.4, 1.2)
#: Clips farther off axis than this are left out of the error figures (the yaw model's
#: training range; beyond it the warning fires whatever the error).
ERROR_MAX_AZIMUTH_DEG = 20.0


def clips_from_events(events: pd.DataFrame, validation_from: int) -> pd.DataFrame:
    """One row per clip (folder and name) with its set: ``"validation"`` for the opened
    hold-outs numbered ``validation_from`` or more, else ``"tuning"``."""
    clips = events.groupby(["folder", "clip"], as_index=False).first()
    number = pd.to_numeric(clips["folder"].str.extract(r"final(\d+)")[0], errors="coerce")
    clips["set"] = np.where(number >= validation_from, "validation", "tuning")
    return clips


def yaw_errors(clips: pd.DataFrame) -> pd.DataFrame:
    """The estimate's error per task and view (and pooled, ``"all"``): count, mean, SD."""
    near = clips[clips["azimuth_deg"].abs() < ERROR_MAX_AZIMUTH_DEG]
    err = (near["estimated_yaw_deg"] - near["azimuth_deg"]).rename("error_deg")
    table = err.groupby([near["task"], near["view"]]).agg(["count", "mean", "std"])
    pooled = pd.DataFrame(
        [[err.count(), err.mean(), err.std()]],
        columns=["count", "mean", "std"],
        index=pd.MultiIndex.from_tuples([("all", "")], names=["task", "view"]),
    )
    return pd.concat([table, pooled]).round(2)


#: A margin for every clip, or one per (task, view).
Margin = float | Mapping[tuple[str, str], float]


def margin_per_clip(clips: pd.DataFrame, margin: Margin) -> pd.Series:
    """Each clip's margin: the one given, or its task's and view's."""
    if isinstance(margin, Mapping):
        return pd.Series(
            [margin[(task, view)] for task, view in zip(clips["task"], clips["view"], strict=True)],
            index=clips.index,
            dtype=float,
        )
    return pd.Series(float(margin), index=clips.index)


def margins_by_task_view(clips: pd.DataFrame) -> dict[tuple[str, str], float]:
    """The estimate's error SD per task and view (lens within 20° of the axis), rounded
    to 0.1°: the margins ``--per-task-view`` sets on the tuning set."""
    table = yaw_errors(clips).drop(index=("all", ""))
    return {
        (str(task), str(view)): round(float(sd), 1)
        for task, view, sd in zip(
            table.index.get_level_values("task"),
            table.index.get_level_values("view"),
            table["std"],
            strict=True,
        )
    }


def warned_by_task_view(
    clips: pd.DataFrame, warn_abs: float, margins: dict[str, Margin]
) -> pd.DataFrame:
    """Per task and view, the clips 10-20° off axis and those within 10° (whatever their
    other conditions) warned for their yaw, under each named margin."""
    azimuth = clips["azimuth_deg"].abs()
    groups = {
        "10-20 deg off": clips[(azimuth > warn_abs) & (azimuth <= ERROR_MAX_AZIMUTH_DEG)],
        "within 10 deg": clips[azimuth <= warn_abs],
    }
    columns: dict[tuple[str, str], pd.Series] = {}
    for group, part in groups.items():
        columns[(group, "clips")] = part.groupby(["task", "view"]).size()
        for name, margin in margins.items():
            warned = part["estimated_yaw_deg"].abs() > warn_abs - margin_per_clip(part, margin)
            columns[(group, name)] = warned.groupby([part["task"], part["view"]]).sum()
    table = pd.DataFrame(columns).fillna(0)
    table.loc[("all", ""), :] = table.sum()
    return table.astype(int)


def margin_table(clips: pd.DataFrame, warn_abs: float, margins: list[Margin]) -> pd.DataFrame:
    """Per margin: the shares of clips outside by their yaw alone warned (all, and 10-15°
    off axis) and of clips inside the envelope warned for their yaw."""
    azimuth = clips["azimuth_deg"].abs()
    others_inside = (clips["roll_deg"].abs() <= ROLL_MAX_DEG) & clips["camera_height_m"].between(
        *HEIGHT_RANGE_M
    )
    outside = clips[others_inside & (azimuth > warn_abs)]
    near = outside[outside["azimuth_deg"].abs() < 15.0]
    inside = clips[others_inside & (azimuth <= warn_abs)]
    rows = []
    for margin in margins:

        def warned(frame: pd.DataFrame, margin: Margin = margin) -> float:
            limit = warn_abs - margin_per_clip(frame, margin)
            return float((frame["estimated_yaw_deg"].abs() > limit).mean())

        rows.append(
            {
                "margin_deg": "per task and view" if isinstance(margin, Mapping) else margin,
                f"outside warned (n={len(outside)})": warned(outside),
                f"10-15 deg off warned (n={len(near)})": warned(near),
                f"inside warned for yaw (n={len(inside)})": warned(inside),
            }
        )
    return pd.DataFrame(rows).round(2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("events_csv", type=Path)
    parser.add_argument("--validation-from", type=int, default=27)
    parser.add_argument("--margins", default="0,0.5,1,1.5,1.8,2,3")
    parser.add_argument(
        "--per-task-view",
        action="store_true",
        help="also a margin per task and view, the tuning set's error SDs",
    )
    args = parser.parse_args(argv)
    envelope = load_envelope(CaptureConfig().envelope_path)
    warn_abs = envelope.yaw_warn_abs_deg
    margins: list[Margin] = [float(m) for m in args.margins.split(",")]
    clips = clips_from_events(pd.read_csv(args.events_csv), args.validation_from)
    named: dict[str, Margin] = {}
    if args.per_task_view:
        tuned = margins_by_task_view(clips[clips["set"] == "tuning"])
        print("margins per task and view (the tuning set's error SDs):")
        for (task, view), value in sorted(tuned.items()):
            print(f"  {task} {view}: {value:.1f} deg")
        margins.append(tuned)
        one = envelope.yaw_warn_margin_deg
        named = {f"one margin, {one:.1f}": one, "per task and view": tuned}
    for name, part in clips.groupby("set"):
        print(f"== {name}: {len(part)} clips ({', '.join(sorted(part['folder'].unique()))})")
        print("yaw estimate's error, lens within 20 deg of the axis:")
        print(yaw_errors(part).to_string())
        print(f"warnings with the limit at {warn_abs:.0f} deg minus the margin:")
        print(margin_table(part, warn_abs, margins).to_string(index=False))
        if named:
            print("clips warned for their yaw, per task and view:")
            print(warned_by_task_view(part, warn_abs, named).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
