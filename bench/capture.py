"""How well the capture checks estimate the camera: yaw, pitch, lens height, roll and the
subject's size, against rendered clips' truth and the Pose2Sim lab calibration.

Usage::

    python -m bench.capture [FOLDER ...] [--pose2sim DIR] [--rolled DEG]

Each FOLDER holds clips ``NAME.mp4`` with ``NAME.truth.json`` (camera position, target,
field of view; format: docs/ARCHITECTURE.md). ``--pose2sim`` points at the Pose2Sim
multi-person folder (``cam01-04.mp4`` and ``Calib.qca.txt``): the lens heights and
pitches of its four calibrated cameras are known (QCA: lab metres, z up; the optical
axis is minus the third row of the rotation). ``--rolled DEG`` also rotates each clip's
image landmarks by DEG about the image centre and prints the roll read on it.

The estimates are read from the landmarks the pipeline's capture check reads
(:func:`screener.pipeline.oriented_pose`: leg labels settled, the view detected, cleaned;
the raw landmarks where the view cannot be told). A corpus clip's yaw truth is the lens'
azimuth around the point the camera looks at (:func:`bench.accuracy.camera_azimuth_deg`:
the nominal yaw plus the camera's sideways shift), + toward the subject's left in either
view (for a walk, the camera looks at a point of the walking line, so this is also the
angle between the walking line and the line of sight, which a walk's estimate reads from
its path and averages with the body's reading: ``yaw by walking line and body``, with
both readings in brackets); where the learned camera-yaw model is configured
(``CaptureConfig.yaw_model_path``, the default since session 11) its reading replaces
them as in the pipeline (``yaw by learned``, its reading in brackets); the yaw warnings
of the envelope (``warn_abs``) are counted per band of that azimuth.
The yaw and pitch errors are also printed per task and view, separately for the
training and validation folders, the hold-outs (folders named ``final*``) and any other
folder, with the yaw warnings per view.

The lens height is scored over all clips (``height``, whichever method gave it) and over
the clips where the subject's approach gave it (``height by approach``, the estimate that
is checked against the envelope).

Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bench.accuracy import camera_azimuth_deg, camera_elevation_deg
from screener.capture import (
    load_envelope,
    rotation_about_centre,
)
from screener.config import AnalysisConfig
from screener.errors import ViewError
from screener.keypoints import PoseSequence
from screener.pipeline import estimate_capture, oriented_pose
from screener.pose import estimate_pose


def capture_landmarks(raw: PoseSequence, config: AnalysisConfig) -> tuple[PoseSequence, str]:
    """The landmarks the capture check reads (:func:`screener.pipeline.oriented_pose`)
    and the view chosen; the raw landmarks and ``"not told"`` where the view cannot be
    told."""
    try:
        return oriented_pose(raw, config=config)
    except ViewError:
        return raw, "not told"


#: Bands of the lens' azimuth (degrees off the frontal axis) the yaw warnings are counted in.
AZIMUTH_BANDS = ((0.0, 5.0), (5.0, 10.0), (10.0, 15.0), (15.0, 20.0), (20.0, 90.0))


def _truth(truth: dict) -> dict[str, float]:
    cam = truth["camera"]
    pos = np.array(cam["position_m"])
    front = 1.0 if truth["view"] == "anterior" else -1.0
    # renders: the subject at the origin facing -Y (anterior camera at -Y), +X its left
    yaw = front * math.degrees(math.atan2(pos[0], abs(pos[1])))
    distance = abs(pos[1]) if truth["task"] != "walk" else cam["distance_to_nearest_m"]
    fill = truth["body"]["stature_m"] / (2 * distance * math.tan(math.radians(cam["yfov_deg"] / 2)))
    if "yaw_deg" in cam:  # the corpus states its camera (roll: the camera's, opposite sign)
        return {
            "yaw": camera_azimuth_deg(cam),
            "pitch": camera_elevation_deg(cam),
            "height": float(cam["height_m"]),
            "fill": float(cam["fill"]),
            "roll": -float(cam["roll_deg"]),
        }
    return {
        "yaw": yaw,
        "pitch": camera_elevation_deg(cam),
        "height": float(cam["height_m"]),
        "fill": fill if truth["task"] != "walk" else float("nan"),
        "roll": 0.0,
    }


def _row(name: str, est: dict[str, Any], truth: dict[str, float]) -> str:
    cells = [
        f"{name:34s}",
        f"lens by {est['height_method']:8s}",
        f"yaw by {est['yaw_method']:21s} "
        f"(body {est['body_yaw']:6.1f}, path {est['path_yaw']:6.1f}, "
        f"learned {est.get('learned_yaw', float('nan')):6.1f})",
    ]
    for key, fmt in (
        ("yaw", "{:6.1f}"),
        ("pitch", "{:6.1f}"),
        ("height", "{:5.2f}"),
        ("fill", "{:5.2f}"),
        ("roll", "{:6.2f}"),
    ):
        e, t = est.get(key, float("nan")), truth.get(key, float("nan"))
        err = e - t if np.isfinite(e) and np.isfinite(t) else float("nan")
        cells.append(f"{key} {fmt.format(e)} (truth {fmt.format(t)}, err {fmt.format(err)})")
    return " | ".join(cells)


def _estimate(
    pose: PoseSequence,
    task: str | None,
    view: str = "not told",
    config: AnalysisConfig | None = None,
) -> dict[str, Any]:
    """The capture estimate as the pipeline makes it (:func:`estimate_capture`: the learned
    yaw where a model is configured and the view is told)."""
    e, _ = estimate_capture(pose, task, view, config or AnalysisConfig())
    return {
        "learned_yaw": e.learned_yaw_deg,
        "height_method": e.camera_height_method,
        "yaw_method": e.yaw_method,
        "body_yaw": e.body_yaw_deg,
        "path_yaw": e.path_yaw_deg,
        "yaw": e.yaw_deg,
        "pitch": e.pitch_deg,
        "height": e.camera_height_m,
        "fill": e.subject_height_fraction,
        "roll": e.roll_deg,
    }


def _pose2sim_truth(folder: Path) -> dict[str, dict[str, float]]:
    text = (folder / "Calib.qca.txt").read_text()
    out = {}
    for m in re.finditer(r'serial="(cam\d+)".*?<transform (.*?)/>', text, re.S):
        d = dict(re.findall(r'(\w+)="([-\d.e]+)"', m.group(2)))
        rot = np.array([[float(d[f"r{i}{j}"]) for j in (1, 2, 3)] for i in (1, 2, 3)])
        axis = -rot[2]
        out[m.group(1)] = {
            "height": float(d["z"]) / 1000.0,
            "pitch": math.degrees(math.asin(-axis[2])),
        }
    return out


def _folder_set(folder: Path) -> str:
    """``"train/val"``, ``"hold-outs"`` (folders named ``final*``) or the folder's name."""
    if folder.name in ("train", "val"):
        return "train/val"
    return "hold-outs" if folder.name.startswith("final") else folder.name


def _print_by_task_and_view(rows: list[dict[str, Any]], warn_abs: float) -> None:
    """Yaw and pitch error (bias, SD) per task, view and set of folders
    (:func:`_folder_set`), for clips with the lens within 20° of the axis; then, per view
    and set, the yaw warnings on clips within the envelope's 10° (needless) and the clips
    beyond it not warned."""
    if not rows:
        return
    sys.stdout.write("\nestimate errors per task and view (lens within 20° of the axis)\n")
    keys = sorted({(r["task"], r["view"], r["set"]) for r in rows})
    for task, view, kind in keys:
        sel = [r for r in rows if (r["task"], r["view"], r["set"]) == (task, view, kind)]
        sel = [r for r in sel if np.isfinite(r["yaw_true"]) and abs(r["yaw_true"]) <= 20]
        cells = []
        for k in ("yaw", "pitch"):
            err = np.array([r[f"{k}_est"] - r[f"{k}_true"] for r in sel], dtype=float)
            err = err[np.isfinite(err)]
            if err.size:
                cells.append(f"{k} n={err.size} bias {err.mean():+.1f} SD {err.std():.1f}")
        if cells:
            sys.stdout.write(f"  {task:5s} {view:9s} {kind:9s} " + " | ".join(cells) + "\n")
    for view, kind in sorted({(r["view"], r["set"]) for r in rows}):
        sel = [r for r in rows if (r["view"], r["set"]) == (view, kind)]
        sel = [r for r in sel if np.isfinite(r["yaw_est"])]
        inside = [r for r in sel if abs(r["yaw_true"]) <= 10]
        outside = [r for r in sel if abs(r["yaw_true"]) > 10]
        needless = sum(abs(r["yaw_est"]) > warn_abs for r in inside)
        missed = sum(abs(r["yaw_est"]) <= warn_abs for r in outside)
        sys.stdout.write(
            f"  {view} {kind}: yaw warning on {needless} of {len(inside)} clips within 10°; "
            f"none on {missed} of {len(outside)} beyond\n"
        )


def main(argv: list[str] | None = None) -> int:
    """Print the capture estimates against the truth."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[Path("sample_videos")])
    parser.add_argument("--pose2sim", type=Path, default=None)
    parser.add_argument("--rolled", type=float, default=0.0)
    args = parser.parse_args(argv)
    config = AnalysisConfig()
    keys = ("yaw", "pitch", "height", "fill", "roll", "height by approach")
    errors: dict[str, list[float]] = {k: [] for k in keys}
    yaw_pairs: list[tuple[float, float]] = []
    by_task_view: list[dict[str, Any]] = []
    truths: dict[str, list[float]] = {k: [] for k in errors}
    for folder in args.folders:
        for tj in sorted(folder.glob("*.truth.json")):
            truth = json.loads(tj.read_text())
            keypoints = folder / str(truth.get("keypoints", ""))
            if truth.get("keypoints") and keypoints.is_file():
                pose = PoseSequence.load(keypoints)  # landmarks stored beside the truth
            else:
                pose = estimate_pose(folder / truth["video"], config.pose, config.cache_dir)
            task = truth["task"] if truth["task"] in ("walk", "jog", "sls") else None
            pose, view = capture_landmarks(pose, config)
            est, t = _estimate(pose, task, view, config), _truth(truth)
            yaw_pairs.append((abs(t["yaw"]), abs(est["yaw"])))
            by_task_view.append(
                {
                    "set": _folder_set(folder),
                    "task": truth["task"],
                    "view": truth["view"],
                    **{f"{k}_est": est[k] for k in ("yaw", "pitch")},
                    **{f"{k}_true": t[k] for k in ("yaw", "pitch")},
                }
            )
            sys.stdout.write(_row(tj.name[: -len(".truth.json")], est, t) + "\n")
            if est["height_method"] == "approach":
                est["height by approach"] = est["height"]
                t["height by approach"] = t["height"]
            for k in errors:
                if np.isfinite(est.get(k, np.nan)) and np.isfinite(t.get(k, np.nan)):
                    errors[k].append(est[k] - t[k])
                    truths[k].append(t[k])
            if args.rolled:
                rolled = pose.with_arrays(image_xy_px=rotation_about_centre(pose, args.rolled))
                r = _estimate(rolled, task)["roll"]
                sys.stdout.write(
                    f"    rotated {args.rolled:+.1f}°: roll read {r:+.2f}° "
                    f"(change {r - est['roll']:+.2f}°)\n"
                )
    for k, v in errors.items():
        if v:
            a, t_ = np.asarray(v), np.asarray(truths[k])
            r = np.corrcoef(a + t_, t_)[0, 1] if a.size > 2 and np.ptp(t_) > 0 else float("nan")
            sys.stdout.write(
                f"renders {k}: n={a.size} mean error {a.mean():+.2f}, RMSE "
                f"{np.sqrt(np.mean(a**2)):.2f}, range {a.min():+.2f} to {a.max():+.2f}, "
                f"r {r:.2f}\n"
            )
    warn_abs = load_envelope(config.capture.envelope_path).yaw_warn_abs_deg
    for lo, hi in AZIMUTH_BANDS:
        band = [est for true, est in yaw_pairs if lo <= true < hi]
        if band:
            warned = sum(est > warn_abs for est in band)
            sys.stdout.write(
                f"azimuth {lo:.0f}-{hi:.0f}°: yaw warning (estimate beyond {warn_abs:.0f}°) "
                f"on {warned} of {len(band)} clips\n"
            )
    _print_by_task_and_view(by_task_view, warn_abs)
    if args.pose2sim:
        for cam, t in _pose2sim_truth(args.pose2sim).items():
            pose = estimate_pose(args.pose2sim / f"{cam}.mp4", config.pose, config.cache_dir)
            sys.stdout.write(_row(f"pose2sim {cam}", _estimate(pose, None), t) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
