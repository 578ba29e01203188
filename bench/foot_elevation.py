"""The foot's foreshortening as a cue to the lens' elevation and height (squat, jog, standing).

Usage::

    python -m bench.foot_elevation FOLDER ...

A foot on the floor pointing at the lens shows its toe below its heel (image rows) by an
amount that grows with the lens' elevation over the floor, whatever the phone's tilt. For
every squat, jog and standing clip in the folders (stored landmarks beside a
``.truth.json``; the landmarks the capture check reads, :func:`bench.capture.capture_landmarks`),
this reads, per frame, the standing foot's toe-to-heel image drop over the foot's length
(MediaPipe's world landmarks) and the leg's vertical image scale (hip-to-ankle image rows
over their world distance), takes the clip's median, and prints per task and view its
correlation with the tangent of the true elevation, ``(H - 0.05) / D`` (lens height ``H``,
horizontal distance ``D``).

Turning the elevation into a height needs the distance: the leg's image scale gives it
as ``f / scale`` in the body's own metres, with ``f`` from the rendered camera's true
field of view or from the assumed one (``CaptureConfig.assumed_long_side_fov_deg``); both
are printed against the true distance scaled to a 1.7 m body.

Session 8 ran it on ``corpus/train`` and ``corpus/val`` (docs/capture.md, "The lens height
of a squat or jog in place is not known"). An exploration: nothing in the screener uses it.

Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bench.capture import capture_landmarks
from screener.capture import focal_px
from screener.config import AnalysisConfig
from screener.keypoints import FloatArray, PoseSequence
from screener.landmarks import SIDES


def foot_drop_ratio(pose: PoseSequence, side: str) -> FloatArray:
    """Per frame, the toe-to-heel image drop over the foot's length times the leg's image
    scale (dimensionless: the tangent of the elevation for a foot pointing at the lens)."""
    drop = pose.xy(f"{side}_foot_index")[:, 1] - pose.xy(f"{side}_heel")[:, 1]
    length = np.linalg.norm(pose.xyz(f"{side}_foot_index") - pose.xyz(f"{side}_heel"), axis=1)
    with np.errstate(all="ignore"):
        return np.asarray(drop / (leg_scale_px_per_m(pose, side) * length))


def leg_scale_px_per_m(pose: PoseSequence, side: str) -> FloatArray:
    """Per frame, hip-to-ankle image rows over their world (metric) vertical distance."""
    rows = np.abs(pose.xy(f"{side}_hip")[:, 1] - pose.xy(f"{side}_ankle")[:, 1])
    metres = np.abs(pose.xyz(f"{side}_hip")[:, 1] - pose.xyz(f"{side}_ankle")[:, 1])
    with np.errstate(all="ignore"):
        return np.asarray(rows / metres)


def clip_row(folder: Path, truth: dict[str, Any], config: AnalysisConfig) -> dict[str, Any]:
    """The clip's median cue and distance estimates against its truth."""
    raw = PoseSequence.load(folder / truth["keypoints"])
    pose, view = capture_landmarks(raw, config)
    ratios = np.stack([foot_drop_ratio(pose, s) for s in SIDES])
    scales = np.stack([leg_scale_px_per_m(pose, s) for s in SIDES])
    frames = np.arange(pose.n_frames)
    if truth["task"] == "sls" and truth.get("stance_side") in SIDES:
        standing = np.full(pose.n_frames, SIDES.index(truth["stance_side"]))
    else:  # the lower heel in the image stands
        heel_rows = np.stack([pose.xy(f"{s}_heel")[:, 1] for s in SIDES])
        standing = np.argmax(np.nan_to_num(heel_rows, nan=-np.inf), axis=0)
    sign = 1.0 if view == "anterior" else -1.0  # from behind the heel is the nearer end
    cue = sign * float(np.nanmedian(ratios[standing, frames]))
    scale = float(np.nanmedian(scales[standing, frames]))
    camera = truth["camera"]
    position = np.asarray(camera["position_m"], dtype=float)
    distance = float(np.hypot(position[0], position[1]))
    height = float(camera["height_m"])
    image_height = pose.image_size_px[1]
    true_focal = 0.5 * image_height / math.tan(math.radians(camera["yfov_deg"] / 2))
    assumed_focal = focal_px(pose.image_size_px, config.capture.assumed_long_side_fov_deg)
    return {
        "task": truth["task"],
        "view": view,
        "cue": cue,
        "tan_true": (height - 0.05) / distance,
        "distance_body_m": distance * 1.7 / float(truth["body"]["stature_m"]),
        "distance_true_focal": true_focal / scale,
        "distance_assumed_focal": assumed_focal / scale,
    }


def _r(x: list[float], y: list[float]) -> float:
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[ok], b[ok])[0, 1]) if ok.sum() > 2 else float("nan")


def main(argv: list[str] | None = None) -> int:
    """Print the cue's correlations per task and view, and the distance estimates'."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args(argv)
    config = AnalysisConfig()
    rows = []
    for folder in args.folders:
        for truth_path in sorted(folder.glob("*.truth.json")):
            truth = json.loads(truth_path.read_text())
            if truth["task"] in ("sls", "jog", "stand") and truth.get("keypoints"):
                rows.append(clip_row(folder, truth, config))
    for task, view in sorted({(r["task"], r["view"]) for r in rows}):
        sel = [r for r in rows if (r["task"], r["view"]) == (task, view)]
        r = _r([s["cue"] for s in sel], [s["tan_true"] for s in sel])
        sys.stdout.write(f"{task:5s} {view:10s} n={len(sel):3d}: cue vs tan(elevation) r {r:.2f}\n")
    truth_d = [r["distance_body_m"] for r in rows]
    r_true = _r(truth_d, [r["distance_true_focal"] for r in rows])
    r_assumed = _r(truth_d, [r["distance_assumed_focal"] for r in rows])
    sys.stdout.write(
        f"distance (body metres), {len(rows)} clips: r {r_true:.2f} with the rendered "
        f"camera's focal length, r {r_assumed:.2f} with the assumed one\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
