"""A single-leg squat's camera roll read from its stand on both feet (session 39).

The roll of a squat is read from the line mid-ankle to mid-shoulder over frames in which
the patient stands on both feet. Until session 39 those were the frames with the feet at
one image height (``screener.capture.both_feet_down``); seen from behind, a lifted foot
held back looks level with the planted one, and the body leaning over one leg was read
as a rolled camera. Since then they are the stands on both feet that last
(``screener.capture.squat_stand_frames``). This bench reads each squat's roll both ways,
from its stored landmarks, against the rendered camera's::

    python -m bench.squat_roll corpus/final41_inside ... [--out squat_roll.csv]

It prints, per view and protocol (``guide``: a stand on both feet before the first
repetition), the clips, those with a roll read, its RMS error and how many are off by
more than 3°. Findings: docs/capture.md, "A squat's roll from its stand on both feet".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from bench.accuracy import clip_conditions, find_clips, inside_envelope, load_truth
from screener.capture import both_feet_down, estimate_roll_deg
from screener.keypoints import PoseSequence

#: A roll read further than this from the camera's (degrees) counts as misread.
MISREAD_DEG = 3.0


def roll_errors_deg(pose: PoseSequence, camera_roll_deg: float) -> dict[str, float]:
    """A squat's roll read by the rule before session 39 and by today's, minus the truth.

    Parameters
    ----------
    pose
        The clip's landmarks.
    camera_roll_deg
        The rendered camera's roll. The screener's roll is the picture's tilt, of the
        opposite sign, so the error is ``read + camera_roll_deg``.

    Returns
    -------
    dict
        ``before`` and ``now``: the error in degrees, NaN where no roll is read.
    """
    before, _ = estimate_roll_deg(pose, "sls", stand_frames=both_feet_down(pose))
    now, _ = estimate_roll_deg(pose, "sls")
    return {"before": before + camera_roll_deg, "now": now + camera_roll_deg}


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """Per rule, view and protocol: clips, rolls read, RMS error, misread (> 3°)."""
    long = rows.melt(
        id_vars=["clip", "view", "guide"], value_vars=["before", "now"], var_name="rule"
    )
    return pd.DataFrame(
        long.groupby(["rule", "view", "guide"])["value"].agg(
            clips="size",
            read="count",
            rms_deg=lambda x: float(np.sqrt(np.nanmean(x**2))) if x.notna().any() else np.nan,
            misread=lambda x: int((x.abs() > MISREAD_DEG).sum()),
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="corpus folders")
    parser.add_argument("--out", type=Path, help="write each clip's errors to this CSV")
    args = parser.parse_args(argv)
    rows = []
    for truth_path in find_clips(args.folders):
        truth_json, _ = load_truth(truth_path)
        if truth_json["task"] != "sls" or not inside_envelope(truth_json):
            continue
        pose = PoseSequence.load(truth_path.parent / truth_json["keypoints"])
        errors = roll_errors_deg(pose, clip_conditions(truth_json)["roll_deg"])
        rows.append(
            {
                "clip": f"{truth_path.parent.name}/{truth_path.name}",
                "view": truth_json["view"],
                "guide": "guide" in truth_path.parent.name,
                **errors,
            }
        )
    if not rows:
        print("no single-leg squat inside the envelope", file=sys.stderr)
        return 1
    table = pd.DataFrame(rows)
    if args.out:
        table.to_csv(args.out, index=False)
    print(summarize(table).round(2).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
