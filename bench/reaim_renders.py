"""Knee FPPA of rendered squats as filmed (the camera tilted down at the hips) and with the
phone held upright at the same place: the landmarks re-aimed level.

Usage::

    python -m bench.reaim_renders FOLDER ... [--csv OUT.csv]

Every stored single-leg squat filmed from the front (landmarks and truth, no video) inside
the envelope is screened twice from its landmarks: as filmed, and with its image landmarks
turned into those of a camera at the same place, with the same field of view and roll,
aimed level (at the height of the lens instead of the hips) and MediaPipe's world landmarks
turned alike (:func:`reaim_level`). Prints the knee FPPA RMSE per band of the lens'
elevation above the point it aimed at (:func:`bench.accuracy.camera_elevation_deg`), over
every repetition read, and paired over the repetitions both readings kept.

Session 37 (docs/accuracy.md, "Not known": a phone held upright above the hips). The pose
model is not run again on an upright picture, so this says what the landmarks' geometry
does, not what MediaPipe would see. Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from bench.accuracy import (
    camera_elevation_deg,
    event_rmse,
    inside_envelope,
    load_truth,
    match_events,
    truth_event_value,
)
from screener.keypoints import PoseSequence
from screener_synth.geometry import PinholeCamera

#: From the renderer's camera axes (OpenGL: x right, y up, z toward the viewer) to
#: MediaPipe's (x right, y down, z away), and back.
GL_TO_MEDIAPIPE = np.diag([1.0, -1.0, -1.0])

#: Bands of the lens' elevation above the point aimed at (degrees).
ELEVATION_BANDS = [-45, 0, 5, 10, 45]


def render_cameras(truth_json: dict) -> tuple[PinholeCamera, PinholeCamera]:
    """The clip's render camera and the same camera aimed level (its target raised or
    lowered to the lens' height), both with the clip's field of view, frame and roll."""
    cam = truth_json["camera"]
    width, height = truth_json["frame_size_upright"]
    px, py, pz = (float(v) for v in cam["position_m"])
    tx, ty, tz = (float(v) for v in cam["target_m"])
    position, target = (px, py, pz), (tx, ty, tz)
    roll = float(cam.get("roll_deg", 0.0))
    filmed = PinholeCamera(position, target, cam["yfov_deg"], width, height, roll)
    level_target = (tx, ty, pz)
    level = PinholeCamera(position, level_target, cam["yfov_deg"], width, height, roll)
    return filmed, level


def reaim_pixels(xy_px: np.ndarray, filmed: PinholeCamera, aimed: PinholeCamera) -> np.ndarray:
    """Pixels ``(..., 2)`` of ``filmed`` as ``aimed`` (same centre, field of view and frame,
    another orientation) would see the same rays."""
    focal = 1.0 / np.tan(np.radians(filmed.yfov_deg) / 2.0)
    aspect = filmed.width / filmed.height
    x_ndc = 2.0 * xy_px[..., 0] / filmed.width - 1.0
    y_ndc = 1.0 - 2.0 * xy_px[..., 1] / filmed.height
    rays = np.stack([x_ndc * aspect / focal, y_ndc / focal, -np.ones_like(x_ndc)], axis=-1)
    cam = (rays @ filmed.pose()[:3, :3].T) @ aimed.pose()[:3, :3]
    with np.errstate(invalid="ignore", divide="ignore"):
        x = cam[..., 0] / -cam[..., 2] * focal / aspect
        y = cam[..., 1] / -cam[..., 2] * focal
    return np.stack([(x + 1.0) / 2.0 * filmed.width, (1.0 - y) / 2.0 * filmed.height], axis=-1)


def reaim_level(raw: PoseSequence, truth_json: dict) -> PoseSequence:
    """``raw`` as a level camera at the render camera's place would give it.

    Notes
    -----
    MediaPipe's world landmarks follow the camera's axes (docs/capture.md), so they are
    turned by the same rotation as the rays. :func:`bench.train_lens_model.reaimed` does
    the same for the calibrated lab cameras (OpenCV's conventions, with distortion); this
    one takes the renderer's pinhole camera (:class:`screener_synth.geometry.PinholeCamera`).
    """
    filmed, level = render_cameras(truth_json)
    turn = GL_TO_MEDIAPIPE @ level.pose()[:3, :3].T @ filmed.pose()[:3, :3] @ GL_TO_MEDIAPIPE
    return raw.with_arrays(
        time_s=raw.time_s,
        image_xy_px=reaim_pixels(raw.image_xy_px, filmed, level),
        world_xyz_m=raw.world_xyz_m @ turn.T,
        visibility=raw.visibility,
        detected=raw.detected,
    )


def knee_fppa_rows(folders: list[Path]) -> pd.DataFrame:
    """One row per repetition read: clip, reading (``"as filmed"`` or ``"level"``), the
    index of the true repetition it matched (:func:`bench.accuracy.match_events`; the same
    repetition in both readings, whichever others either left unread), the lens'
    elevation, measured and true knee FPPA."""
    import screener
    from screener.errors import ScreenerError

    rows = []
    for folder in folders:
        for truth_path in sorted(folder.glob("sls_*_ante_*.truth.json")):
            truth_json, truth = load_truth(truth_path)
            if not inside_envelope(truth_json) or "keypoints" not in truth_json:
                continue
            raw = PoseSequence.load(truth_path.parent / truth_json["keypoints"])
            filmed, _ = render_cameras(truth_json)
            if tuple(raw.image_size_px) != (filmed.width, filmed.height):
                logging.warning("%s: landmarks not in the upright frame; skipped", truth_path)
                continue
            clip = f"{folder.name}/{truth_json['video']}"
            elevation = camera_elevation_deg(truth_json["camera"])
            for reading, pose in (("as filmed", raw), ("level", reaim_level(raw, truth_json))):
                try:
                    result = screener.analyze_pose(
                        pose, task="sls", side=truth_json["stance_side"], view="anterior"
                    )
                except ScreenerError as exc:
                    logging.warning("%s (%s): %s", clip, reading, exc.one_line())
                    continue
                for k, (event, best) in enumerate(match_events(result.events, truth_json)):
                    if best is None or not np.isfinite(best["knee_fppa_deg"]):
                        continue
                    rows.append(
                        {
                            "clip": clip,
                            "reading": reading,
                            "k": k,
                            "elevation_deg": elevation,
                            "measured": float(best["knee_fppa_deg"]),
                            "truth": truth_event_value(truth, event, "knee_fppa_deg"),
                        }
                    )
    return pd.DataFrame(rows)


def summarise(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Knee FPPA RMSE per reading and elevation band: over every repetition read, and
    paired over the repetitions (clip, index) both readings kept."""
    rows = rows.assign(
        sq=(rows.measured - rows.truth) ** 2,
        band=pd.cut(rows.elevation_deg, ELEVATION_BANDS, right=False),
    )
    every = event_rmse(rows, ["reading", "band"])
    wide = rows.pivot_table(index=["clip", "k", "band"], columns="reading", values="sq",
                            observed=True).dropna()  # fmt: skip
    paired = wide.groupby(level="band", observed=True).agg(["size", "mean"])
    out = pd.DataFrame(
        {
            "n": paired[("as filmed", "size")],
            "as_filmed_rmse_deg": np.sqrt(paired[("as filmed", "mean")]),
            "level_rmse_deg": np.sqrt(paired[("level", "mean")]),
        }
    )
    return every, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--csv", type=Path, help="write every repetition's readings here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rows = knee_fppa_rows(args.folders)
    if rows.empty:
        print("no stored squat filmed from the front inside the envelope", file=sys.stderr)
        return 1
    if args.csv:
        rows.to_csv(args.csv, index=False)
    every, paired = summarise(rows)
    print("knee FPPA per reading and lens elevation (°), every repetition read:")
    print(every.to_string(float_format=lambda v: f"{v:.2f}"))
    print("\npaired over the repetitions both readings kept:")
    print(paired.to_string(float_format=lambda v: f"{v:.2f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
