"""A single-leg squat's lifted foot as a cue to a lens looking down (from behind), tried.

Usage::

    python -m bench.lifted_foot FOLDER ...

Filmed from behind, the squat's lifted foot is held back, nearer the lens than the planted
one; the higher the lens looks down from, the lower that nearer foot looks in the picture
(what makes a lens looking down from behind read the wrong stance leg, docs/capture.md,
"Where the three cues fail"). With the stance leg named, it could tell a lens above the
envelope's 1.2 m. For every single-leg squat in the folders (stored landmarks beside a
``.truth.json``; the true stance leg) this reads :func:`lifted_foot_rise` and prints,
per view, its correlation with the lens' elevation above the point it aims at and with
its height, and, from behind, how a threshold on it trades lenses above
:data:`LENS_LIMIT_M` caught against lenses below flagged (:func:`threshold_table`).

Session 40 ran it on hold-outs 41-64: from behind r -0.63 with the elevation, -0.57 with
the height, and no threshold separates the lenses (docs/capture.md, "the lifted foot from
behind"). Nothing in the screener uses it. Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from bench.accuracy import camera_elevation_deg, find_clips, load_truth
from screener.keypoints import PoseSequence
from screener.landmarks import SIDES

#: The envelope's highest lens (m).
LENS_LIMIT_M = 1.2
#: Thresholds on the rise printed (leg lengths; a lower rise: the lens looks down more
#: from behind).
THRESHOLDS = (-0.05, 0.0, 0.03, 0.05, 0.08)
#: The share of the clip's frames left out at each end (standing, lifting the foot).
EDGE_FRACTION = 0.1


def lifted_foot_rise(pose: PoseSequence, stance_side: str) -> float:
    """How far above the planted ankle the lifted one looks in the picture: the planted
    ankle's image row less the lifted one's, over the planted leg's median hip-to-ankle
    image length, median over the clip's frames but the first and last
    :data:`EDGE_FRACTION` (NaN where the ankles are unknown)."""
    lifted = SIDES[1 - SIDES.index(stance_side)]
    planted_ankle = pose.xy(f"{stance_side}_ankle")
    legs_px = np.linalg.norm(pose.xy(f"{stance_side}_hip") - planted_ankle, axis=1)
    if not np.isfinite(legs_px).any():
        return float("nan")
    rise = (planted_ankle[:, 1] - pose.xy(f"{lifted}_ankle")[:, 1]) / float(np.nanmedian(legs_px))
    n = len(rise)
    middle = rise[int(EDGE_FRACTION * n) : int((1 - EDGE_FRACTION) * n)]
    return float(np.nanmedian(middle)) if np.isfinite(middle).any() else float("nan")


def clip_rows(folders: list[Path]) -> pd.DataFrame:
    """One row per single-leg squat with landmarks: clip, view, lens height and elevation,
    and the lifted foot's rise."""
    rows = []
    for truth_path in find_clips(folders):
        if not truth_path.name.startswith("sls_"):
            continue
        truth, _ = load_truth(truth_path)
        if "keypoints" not in truth or truth.get("stance_side") not in SIDES:
            continue
        pose = PoseSequence.load(truth_path.parent / truth["keypoints"])
        rows.append(
            {
                "clip": f"{truth_path.parent.name}/{truth_path.name}",
                "view": truth["view"],
                "lens_height_m": float(truth["camera"]["height_m"]),
                "elevation_deg": camera_elevation_deg(truth["camera"]),
                "rise": lifted_foot_rise(pose, truth["stance_side"]),
            }
        )
    return pd.DataFrame(rows)


def threshold_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Per threshold: lenses above :data:`LENS_LIMIT_M` whose rise is below it (caught) and
    lenses at or below the limit whose rise is below it (flagged needlessly)."""
    high = rows["lens_height_m"] > LENS_LIMIT_M
    table = []
    for threshold in THRESHOLDS:
        below = rows["rise"] < threshold
        table.append(
            {
                "threshold": threshold,
                "high_caught": int((below & high).sum()),
                "high": int(high.sum()),
                "low_flagged": int((below & ~high).sum()),
                "low": int((~high).sum()),
            }
        )
    return pd.DataFrame(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folders", type=Path, nargs="+")
    args = parser.parse_args(argv)
    rows = clip_rows(args.folders).dropna(subset=["rise"])
    for view, group in rows.groupby("view"):
        r_elevation = np.corrcoef(group["rise"], group["elevation_deg"])[0, 1]
        r_height = np.corrcoef(group["rise"], group["lens_height_m"])[0, 1]
        print(
            f"{view}: {len(group)} squats; r with the lens' elevation {r_elevation:.2f}, "
            f"with its height {r_height:.2f}"
        )
        if view == "posterior":  # from the front the lifted foot is the farther one
            print(threshold_table(group).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
