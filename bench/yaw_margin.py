"""How a margin on the yaw warning trades warnings inside the envelope for misses outside.

Usage::

    python -m bench.accuracy FOLDER ... --skip-auto --events-csv EVENTS.csv
    python -m bench.yaw_margin EVENTS.csv [--validation-from 27] [--margins 0,0.5,1,1.5,1.8,2]

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

Session 18 chose the margin on the tuning set and checked it on the validation set
(docs/capture.md, "The yaw's edge"). Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
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


def margin_table(clips: pd.DataFrame, warn_abs: float, margins: list[float]) -> pd.DataFrame:
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
        limit = warn_abs - margin

        def warned(frame: pd.DataFrame, limit: float = limit) -> float:
            return float((frame["estimated_yaw_deg"].abs() > limit).mean())

        rows.append(
            {
                "margin_deg": margin,
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
    args = parser.parse_args(argv)
    warn_abs = load_envelope(CaptureConfig().envelope_path).yaw_warn_abs_deg
    margins = [float(m) for m in args.margins.split(",")]
    clips = clips_from_events(pd.read_csv(args.events_csv), args.validation_from)
    for name, part in clips.groupby("set"):
        print(f"== {name}: {len(part)} clips ({', '.join(sorted(part['folder'].unique()))})")
        print("yaw estimate's error, lens within 20 deg of the axis:")
        print(yaw_errors(part).to_string())
        print(f"warnings with the limit at {warn_abs:.0f} deg minus the margin:")
        print(margin_table(part, warn_abs, margins).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
