"""A single-leg squat's camera elevation read from MediaPipe's world landmarks.

Prints figures; asserts nothing; nothing in ``screener/`` uses it (a session-49
exploration). MediaPipe's world axes follow the camera, so a lens ``p`` degrees above the
body, looking down at it, sees the body's long axis lean its top toward the lens by about
``p`` (:func:`screener.capture.estimate_pitch_deg`). A squat leans its trunk forward and
bends its knee, so the tilt is read only on upright frames: frames with a pose whose
pelvis is within :data:`DEPTH_MAX_LEG` leg lengths of its standing level in the image
(mid-hip image height below its 5th percentile over the clip, over the leg's image
length: the depth signal of :func:`screener.events.detect_sls_reps`). Over those frames
each reading is the median of ``atan2(-dz, -dy)`` of one vector (degrees, + with the lens
above, looking down):

- ``a``: stance ankle → mid-shoulder;
- ``b``: mid-hip → mid-shoulder (the trunk);
- ``c``: stance ankle → stance hip (the stance leg);
- ``d``: stance ankle → mid-hip;
- ``e``: mid-ankle → mid-shoulder (``estimate_pitch_deg``'s vector, on these frames).

The stance leg is the one a user gives (``--side``): the clip's ``stance_side``; nothing
else of the truth is read but to score. For comparison, ``pitch_today`` is what
:func:`screener.capture.estimate_camera` reads today on the same clip
(``estimate_pitch_deg`` on its frames: a squat's stand on both feet of at least 10
frames, else none; a jog's frames with both feet down, at most ``PNP_MAX_FRAMES``), and
stored jogs are read on those frames too (``b`` and ``e`` = ``pitch_today``).

Every reading is fitted against the truth, the lens' elevation above the point the
camera looks at (about the hips: :func:`bench.accuracy.camera_elevation_deg`), per view,
over all clips and those inside the envelope (:func:`bench.accuracy.inside_envelope`):
``reading = intercept + slope × truth``, with n, r and the residual SD. Then, for the
squats filmed from behind, how many with a true elevation over 10° and over 15°, and how
many at or under, read ``a`` and ``e`` over each threshold (``--thresholds``), over all
of them and over those inside the envelope; and how many squats had no upright frame.

Usage::

    python -m bench.squat_elevation FOLDER [...] [--csv OUT.csv]
                                    [--thresholds T,T,...]

``--thresholds``: degrees, by default 0 to 30 in steps of 2.5.

Session 49's run (the hold-outs, the *otherleg* folders left out: the same bodies and
cameras, other leg)::

    python -m bench.squat_elevation $(ls -d corpus/final* | grep -v otherleg)

It read 3118 squats (every one with upright frames, median 109) and 1108 jogs. From
behind, ``a`` had the highest r (0.87, slope 0.67, residual SD 3.2°; ``e`` 0.86,
0.59, 3.0°); from in front every reading was weaker (``a`` 0.69, ``e`` 0.72). Today's
pitch exists for the 1267 squats with a stand on both feet, and on those it reads no
better than ``a`` or ``e`` (from behind r 0.82 against 0.85 and 0.83).

Notes
-----
Frames chosen instead by MediaPipe's world joint angles, the stance knee and the
thigh-to-trunk angle both under 15°, found none in 1980 of 3118 squats (about two thirds:
MediaPipe's world knee reads 17-35° on a straight knee).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from bench.accuracy import clip_conditions, inside_envelope
from screener.capture import (
    camera_frame_pool,
    estimate_pitch_deg,
    lean_toward_lens_deg,
    task_stand_frames,
    usable_frames,
)
from screener.events import pelvis_depth_leg
from screener.keypoints import BoolArray, FloatArray, PoseSequence
from screener.landmarks import INDEX

log = logging.getLogger(__name__)

#: Largest depth of the pelvis below its standing level (leg lengths in the image) for a
#: frame to count as upright.
DEPTH_MAX_LEG = 0.03
#: Fewest pairs for a line to be fitted.
FIT_MIN_PAIRS = 5
#: The readings and their vectors (from → to).
READINGS: dict[str, str] = {
    "a": "stance ankle -> mid-shoulder",
    "b": "mid-hip -> mid-shoulder",
    "c": "stance ankle -> stance hip",
    "d": "stance ankle -> mid-hip",
    "e": "mid-ankle -> mid-shoulder",
}
#: The readings the threshold table counts.
THRESHOLD_READINGS: tuple[str, ...] = ("a", "e")
#: True elevations (degrees) that split the squats filmed from behind in the threshold table.
ELEVATION_LIMITS: tuple[float, ...] = (10.0, 15.0)
#: Default thresholds of the readings (degrees).
THRESHOLDS: tuple[float, ...] = tuple(float(t) for t in np.arange(0.0, 30.1, 2.5))
#: The per-clip table's columns.
COLUMNS = [
    "folder",
    "clip",
    "task",
    "view",
    "side",
    "n_frames",
    "n_used",
    *READINGS,
    "n_stand",
    "pitch_today",
    "elevation_deg",
    "inside",
]


def _median(values: FloatArray) -> float:
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else float("nan")


def upright_frames(pose: PoseSequence, depth_max_leg: float = DEPTH_MAX_LEG) -> BoolArray:
    """Frames of a single-leg squat in which the body stands upright.

    Parameters
    ----------
    pose
        The clip's landmarks, as stored.
    depth_max_leg
        Largest depth of the pelvis below its standing level
        (:func:`screener.events.pelvis_depth_leg`).

    Returns
    -------
    numpy.ndarray
        Boolean per frame: usable (:func:`screener.capture.usable_frames`) and the pelvis within
        ``depth_max_leg`` leg lengths of its standing level.
    """
    depth = pelvis_depth_leg(pose)
    if depth is None:
        return np.zeros(pose.n_frames, dtype=bool)
    return np.asarray(usable_frames(pose) & (depth < depth_max_leg))


def elevation_readings(
    pose: PoseSequence, side: str | None, frames: BoolArray | np.ndarray | None = None
) -> dict[str, float]:
    """The readings ``a``-``e`` of the lens' elevation (:data:`READINGS`), degrees.

    Parameters
    ----------
    pose
        The clip's landmarks.
    side
        The stance leg (``"left"``, ``"right"``); None: ``a``, ``c`` and ``d`` are NaN.
    frames
        The frames to read (a boolean mask or indices); None: :func:`upright_frames`.

    Returns
    -------
    dict
        Reading name → median over the frames of its vector's lean
        (:func:`screener.capture.lean_toward_lens_deg`; +: lens above, looking down); NaN
        without frames.
    """
    chosen = upright_frames(pose) if frames is None else np.asarray(frames)
    w = pose.world_xyz_m[chosen].astype(np.float64)

    def point(name: str) -> FloatArray:
        return w[:, INDEX[name]]

    def mid(part: str) -> FloatArray:
        return 0.5 * (point(f"left_{part}") + point(f"right_{part}"))

    shoulders, hips = mid("shoulder"), mid("hip")
    vectors = {"b": shoulders - hips, "e": shoulders - mid("ankle")}
    if side is not None:
        ankle = point(f"{side}_ankle")
        vectors.update(a=shoulders - ankle, c=point(f"{side}_hip") - ankle, d=hips - ankle)
    return {
        key: _median(lean_toward_lens_deg(vectors[key]))
        if key in vectors and len(w)
        else float("nan")
        for key in READINGS
    }


def fit_line(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Least-squares line ``y = intercept + slope × x`` over the finite pairs.

    Parameters
    ----------
    x, y
        Truth and reading, same length; pairs with a NaN are left out.

    Returns
    -------
    dict
        ``n``, ``r`` (Pearson), ``intercept``, ``slope`` and ``resid_sd`` (residual SD on
        ``n - 2`` degrees of freedom); all but ``n`` NaN under :data:`FIT_MIN_PAIRS`.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    out = {"n": float(x.size), "r": np.nan, "intercept": np.nan, "slope": np.nan}
    out["resid_sd"] = np.nan
    if x.size < FIT_MIN_PAIRS:
        return out
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (intercept + slope * x)
    out.update(
        r=float(np.corrcoef(x, y)[0, 1]),
        intercept=float(intercept),
        slope=float(slope),
        resid_sd=float(resid.std(ddof=2)),
    )
    return out


def fit_table(table: pd.DataFrame, readings: Sequence[str]) -> pd.DataFrame:
    """:func:`fit_line` of each reading against ``elevation_deg`` per view, over all clips
    and those inside the envelope (``inside``)."""
    rows = []
    for view in ("anterior", "posterior"):
        for subset in ("all", "inside"):
            rows_view = table[table["view"] == view]
            if subset == "inside":
                rows_view = rows_view[rows_view["inside"].astype(bool)]
            for key in readings:
                fit = fit_line(
                    rows_view["elevation_deg"].to_numpy(float), rows_view[key].to_numpy(float)
                )
                rows.append({"view": view, "subset": subset, "reading": key, **fit})
    out = pd.DataFrame(rows)
    out["n"] = out["n"].astype(int)
    return out


def threshold_table(
    table: pd.DataFrame,
    thresholds: Sequence[float],
    readings: Sequence[str] = THRESHOLD_READINGS,
    limits: Sequence[float] = ELEVATION_LIMITS,
) -> pd.DataFrame:
    """How many squats read over each threshold, split by their true elevation.

    Parameters
    ----------
    table
        Per-clip rows (``elevation_deg`` and the readings), e.g. the squats from behind.
    thresholds
        Reading thresholds, degrees.
    readings
        The reading columns counted.
    limits
        True elevations, degrees, that split the rows.

    Returns
    -------
    pandas.DataFrame
        One row per reading and threshold: ``reading``, ``threshold_deg`` and, per limit
        ``L``, ``elev>L`` and ``elev<=L``: the rows with a true elevation over ``L`` (at
        or under) whose reading is over the threshold. Rows without the reading are left
        out (:func:`group_sizes` gives the groups' sizes).
    """
    rows = []
    for key in readings:
        have = table[np.isfinite(table[key].to_numpy(float))]
        truth, value = have["elevation_deg"].to_numpy(float), have[key].to_numpy(float)
        for threshold in thresholds:
            row: dict[str, object] = {"reading": key, "threshold_deg": float(threshold)}
            over = value > threshold
            for lim in limits:
                row[f"elev>{lim:g}"] = int((over & (truth > lim)).sum())
                row[f"elev<={lim:g}"] = int((over & (truth <= lim)).sum())
            rows.append(row)
    return pd.DataFrame(rows)


def group_sizes(table: pd.DataFrame, key: str, limits: Sequence[float] = ELEVATION_LIMITS) -> str:
    """The sizes of :func:`threshold_table`'s groups for one reading, as text."""
    have = table[np.isfinite(table[key].to_numpy(float))]["elevation_deg"].to_numpy(float)
    return "; ".join(
        f"elev>{lim:g}: {int((have > lim).sum())}, elev<={lim:g}: {int((have <= lim).sum())}"
        for lim in limits
    )


def read_clip(pose: PoseSequence, task: str, side: str | None) -> dict[str, object]:
    """One clip's row of readings: a squat's :func:`elevation_readings` on its upright
    frames, a jog's ``b`` and ``e`` on today's frames, and ``pitch_today`` for both.

    Today's frames are :func:`screener.capture.estimate_camera`'s
    (:func:`screener.capture.camera_frame_pool`); a squat without a stand on both feet
    has none (its pitch is not read).
    """
    stand = task_stand_frames(pose, task)
    _, today = camera_frame_pool(pose, stand, task)
    if task == "sls":
        used = upright_frames(pose)
        readings = elevation_readings(pose, side, used)
        n_used = int(used.sum())
    else:
        readings = elevation_readings(pose, None, today)
        n_used = int(today.size)
    pitch = estimate_pitch_deg(pose, today)
    return {
        "n_frames": pose.n_frames,
        "n_used": n_used,
        **readings,
        "n_stand": int((usable_frames(pose) & stand).sum()),
        "pitch_today": pitch,
    }


def read_corpus(folders: Iterable[Path], tasks: Sequence[str] = ("sls", "jog")) -> pd.DataFrame:
    """One row per stored clip of ``tasks`` under the folders (:data:`COLUMNS`): its
    readings (:func:`read_clip`) and, for scoring only, the true elevation and whether
    the camera lies inside the envelope."""
    rows = []
    for folder in folders:
        for truth_path in sorted(Path(folder).rglob("*.truth.json")):
            truth = json.loads(truth_path.read_text())
            task = truth.get("task")
            if task not in tasks:
                continue
            name = truth_path.name.removesuffix(".truth.json")
            keypoints = truth_path.with_name(truth.get("keypoints", f"{name}.keypoints.npz"))
            if not keypoints.exists():
                log.warning("%s: no stored landmarks, left out", truth_path)
                continue
            side = truth.get("stance_side") if task == "sls" else None
            row: dict[str, object] = {
                "folder": truth_path.parent.name,
                "clip": name,
                "task": task,
                "view": truth.get("view"),
                "side": side or "",
            }
            row.update(read_clip(PoseSequence.load(keypoints), task, side))
            row["elevation_deg"] = clip_conditions(truth)["elevation_deg"]
            row["inside"] = inside_envelope(truth)
            rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def _print_fits(title: str, fits: pd.DataFrame) -> None:
    print(f"\n=== {title} ===")
    print(fits.round(3).to_string(index=False))


def main(argv: list[str] | None = None) -> int:
    """Print the fits and the threshold tables; write the per-clip table with ``--csv``."""
    parser = argparse.ArgumentParser(prog="python -m bench.squat_elevation")
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--csv", type=Path, help="write the per-clip table here")
    parser.add_argument(
        "--thresholds",
        default=",".join(f"{t:g}" for t in THRESHOLDS),
        help="reading thresholds of the flag table, degrees, comma-separated",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    thresholds = [float(v) for v in args.thresholds.split(",") if v]
    table = read_corpus(args.folders)
    if args.csv:
        table.to_csv(args.csv, index=False)
    squats = table[table["task"] == "sls"]
    jogs = table[table["task"] == "jog"]
    by_view = squats.groupby("view")
    views = ", ".join(f"{v} {n}" for v, n in by_view.size().items())
    inside = ", ".join(f"{v} {int(n)}" for v, n in by_view["inside"].sum().items())
    print(f"squats: {len(squats)} ({views}; inside the envelope: {inside}); jogs: {len(jogs)}")
    n_used = squats["n_used"].to_numpy(int)
    median_used = f"{np.median(n_used):.0f}" if n_used.size else "-"
    print(
        f"squats with no usable upright frame: {int((n_used == 0).sum())}; "
        f"under 5: {int((n_used < 5).sum())}; median upright frames: {median_used}"
    )
    with_today = squats[squats["pitch_today"].notna()]
    print(f"squats with today's pitch (a stand on both feet of >= 10 frames): {len(with_today)}")

    readings = [*READINGS, "pitch_today"]
    _print_fits(
        "squats: reading = intercept + slope * true elevation above the hips (deg)",
        fit_table(squats, readings),
    )
    _print_fits(
        f"squats with today's pitch (n={len(with_today)}): the readings on the same squats",
        fit_table(with_today, ["pitch_today", "a", "e"]),
    )
    _print_fits(
        "jogs: today's frames (e = pitch_today = estimate_pitch_deg) against the elevation",
        fit_table(jogs, ["e", "b"]),
    )

    behind = squats[squats["view"] == "posterior"]
    for subset, rows in (("all", behind), ("inside the envelope", behind[behind["inside"]])):
        print(f"\n=== squats from behind, {subset}: readings over each threshold (deg) ===")
        for key in THRESHOLD_READINGS:
            print(f"reading {key} ({READINGS[key]}): {group_sizes(rows, key)}")
        print(threshold_table(rows, thresholds).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
