"""Train a learned lens-height model on corpora, score it, and read the real lab cameras.

Usage (needs the synth extra's torch for training; reading runs with numpy)::

    python -m bench.train_lens_model --train CORPUS ... --val CORPUS ...
        [--members 5] [--epochs 20] [--warn-above 1.3] [--pose2sim DIR]
        [--write OUT.npz]

Research: can a squat's or a jog's lens height, which the capture check
does not read (only a walk's approach gives one, docs/capture.md), be read by a model
made like the learned camera yaw (``bench/train_camera_model.py``)? Every clip is
analysed with its true task, side and view (:func:`bench.train_frame_model.collect`);
each frame gives the inputs of :func:`screener.frame_model.frame_features` and two
targets from the clip's truth: the lens height above the floor
(:func:`bench.accuracy.clip_conditions`) and the lens' elevation above the point the
camera looks at (:func:`bench.accuracy.camera_elevation_deg`: for squats and jogs, above
the hips). Each clip is also used mirrored (both targets unchanged). An ensemble of small
MLPs (:func:`bench.train_frame_model.train_member`) reads both; a clip's reading is the
median over its frames.

Prints, on the validation folders: per task and view, the RMSE, bias and r of both
readings; for squats and jogs read as a check of the envelope's lens height (true lens
above 1.2 m or not), the lenses above it warned and the clips within it warned
needlessly at each threshold of the height read (and of the elevation read), per task
and view at ``--warn-above``, and the high lenses missed by their true height.

``--pose2sim DIR`` (the calibrated Pose2Sim lab clip, cameras 1.7-2.1 m high) also reads
each camera: as filmed (landmarks roll-corrected by the body's reading, as the capture
check would within its limits), and re-aimed (the image landmarks turned, with the
calibration, into those of a camera at the same place aimed level at the subject's
mid-hip, as every rendered camera is aimed; MediaPipe's world landmarks turned alike),
beside the camera's true lens height and elevation above the hips
(:func:`bench.real_video_agreement.run`'s triangulation) and the clip's applicability
distance (:func:`bench.train_frame_model.fit_applicability`).

Nothing is written in ``screener/``; ``--write`` writes the ensemble
(:func:`bench.train_frame_model.write_model`) for research.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.accuracy import camera_elevation_deg, clip_conditions
from bench.multiview import Camera, read_qca
from bench.train_camera_model import clip_truths
from bench.train_frame_model import (
    by_clip,
    collect,
    ensemble_card,
    fit_applicability,
    mirror,
    train_ensemble,
    training_parser,
    write_model,
)
from screener.angles import compute_frame_angles
from screener.config import AngleConfig
from screener.frame_model import ANGLE_SCALE_DEG, Applicability, FrameModel, frame_features
from screener.keypoints import FloatArray, PoseSequence
from screener_synth.sets import ENVELOPE_RANGES

#: What the model reads (one value each per frame).
TARGETS = ("camera_height_m", "camera_elevation_deg")
#: The ensemble's units per unit of each target: :func:`train_member` and
#: :meth:`FrameModel.predict` work in degrees (the networks' outputs times
#: ``ANGLE_SCALE_DEG``), so a height is carried as that many units per metre (one metre
#: weighs in the loss as 30 degrees of elevation).
UNITS = np.array([ANGLE_SCALE_DEG, 1.0])
#: The envelope's highest validated lens, metres (the generator's envelope, which
#: ``screener/models/envelope.toml`` states).
ENVELOPE_MAX_M = ENVELOPE_RANGES["camera_height_m"][1]
#: Thresholds of the height read whose trade-off is printed (metres) ...
HEIGHT_THRESHOLDS_M = (1.15, 1.2, 1.25, 1.3, 1.35, 1.4, 1.45, 1.5)
#: ... and of the elevation read (degrees).
ELEVATION_THRESHOLDS_DEG = (6.0, 8.0, 10.0, 12.0, 14.0, 16.0)
#: The tasks a lens-height warning would serve (walks keep their approach check).
IN_PLACE = ("sls", "jog")


def clip_targets(truths: dict[str, dict[str, Any]]) -> dict[str, FloatArray]:
    """Per clip: the lens height (m) and its elevation above the camera's aim (deg)."""
    return {
        clip: np.array([clip_conditions(t)["camera_height_m"], camera_elevation_deg(t["camera"])])
        for clip, t in truths.items()
    }


def read_frames(model: FrameModel, features: FloatArray) -> FloatArray:
    """Each frame's height (m) and elevation (deg): the ensemble's mean."""
    mean, _ = model.predict(features)
    return np.asarray(mean / UNITS)


def read_clips(model: FrameModel, features: FloatArray, clips: list[str]) -> dict[str, FloatArray]:
    """Per clip: the median over its frames of :func:`read_frames`."""
    values = read_frames(model, features)
    return {c: np.median(v, axis=0) for c, v in by_clip(values, clips).items()}


def read_pose(
    model: FrameModel, pose: PoseSequence, view: str, angles: AngleConfig
) -> tuple[FloatArray, float]:
    """A clip's height and elevation from its landmarks (upright, cleaned), and its
    applicability distance (NaN when the model has no applicability check)."""
    features = frame_features(pose, compute_frame_angles(pose, angles), view)
    usable = np.isfinite(features).any(axis=1)
    guard = model.applicability
    distance = guard.distance(model.standardise(features)) if guard is not None else np.nan
    return np.median(read_frames(model, features[usable]), axis=0), float(distance)


def _errors(pred: FloatArray, true: FloatArray) -> tuple[float, float, float]:
    """RMSE, bias and r of ``pred`` against ``true``."""
    err = pred - true
    r = float(np.corrcoef(pred, true)[0, 1]) if len(err) > 2 else float("nan")
    return float(np.sqrt(np.mean(err**2))), float(err.mean()), r


def _fmt_errors(errors: tuple[float, float, float], unit: str) -> str:
    rmse, bias, r = errors
    return f"RMSE {rmse:5.2f} {unit} bias {bias:+5.2f} r {r:4.2f}"


def _groups(
    truths: dict[str, dict[str, Any]],
) -> Iterable[tuple[str, list[str]]]:
    """(label, clips) per task and view, per task, and squats with jogs."""
    for task in ("sls", "jog", "walk"):
        for view in ("anterior", "posterior"):
            sel = [c for c, t in truths.items() if t["task"] == task and t["view"] == view]
            yield f"{task} {view}", sel
        yield f"{task} both views", [c for c, t in truths.items() if t["task"] == task]
    yield "sls + jog", [c for c, t in truths.items() if t["task"] in IN_PLACE]


def print_validation(
    readings: dict[str, FloatArray],
    targets: dict[str, FloatArray],
    truths: dict[str, dict[str, Any]],
    warn_above: float,
) -> dict[str, Any]:
    """Print the validation figures (module docstring); return them for the card."""
    out: dict[str, Any] = {"per_task_view": {}, "tradeoff_height_m": {}}
    print("\nper task and view (clip = median over frames): lens height | elevation")
    for label, clips in _groups(truths):
        if not clips:
            continue
        p = np.array([readings[c] for c in clips])
        t = np.array([targets[c] for c in clips])
        high = t[:, 0] > ENVELOPE_MAX_M
        warned = p[:, 0] > warn_above
        height, elevation = _errors(p[:, 0], t[:, 0]), _errors(p[:, 1], t[:, 1])
        print(
            f"  {label:19s} {len(clips):3d} clips: {_fmt_errors(height, 'm')} | "
            f"{_fmt_errors(elevation, 'deg')} | above {warn_above:.2f} m read: "
            f"{int((warned & high).sum())}/{int(high.sum())} high, "
            f"{int((warned & ~high).sum())}/{int((~high).sum())} inside"
        )
        out["per_task_view"][label] = {
            "n": len(clips),
            "height_rmse_m": round(height[0], 3),
            "elevation_rmse_deg": round(elevation[0], 2),
            "high_warned": [int((warned & high).sum()), int(high.sum())],
            "inside_warned": [int((warned & ~high).sum()), int((~high).sum())],
        }
    clips = [c for c, t in truths.items() if t["task"] in IN_PLACE]
    p = np.array([readings[c] for c in clips])
    t = np.array([targets[c] for c in clips])
    high = t[:, 0] > ENVELOPE_MAX_M
    print(
        f"\nsquats and jogs as a check of the lens height ({int(high.sum())} lenses above "
        f"{ENVELOPE_MAX_M} m, {int((~high).sum())} within):"
    )
    for k, name, unit, thresholds in (
        (0, "height", "m", HEIGHT_THRESHOLDS_M),
        (1, "elevation", "deg", ELEVATION_THRESHOLDS_DEG),
    ):
        for th in thresholds:
            warned = p[:, k] > th
            a, b = int((warned & high).sum()), int((warned & ~high).sum())
            print(
                f"  {name} read above {th:5.2f} {unit}: high warned {a:3d}/{int(high.sum())} "
                f"({a / high.sum():4.0%}), inside warned {b:3d}/{int((~high).sum())} "
                f"({b / (~high).sum():5.1%})"
            )
            if k == 0:
                out["tradeoff_height_m"][f"{th:.2f}"] = [a, b]
    print(f"  high lenses missed at {warn_above:.2f} m, by true height:")
    for lo, hi in ((1.2, 1.4), (1.4, 1.6), (1.6, 2.0)):
        band = high & (t[:, 0] > lo) & (t[:, 0] <= hi)
        missed = band & (p[:, 0] <= warn_above)
        print(f"    {lo:.1f}-{hi:.1f} m: {int(missed.sum())} of {int(band.sum())}")
    return out


def reaimed(raw: PoseSequence, camera: Camera, target_m: FloatArray) -> PoseSequence:
    """The landmarks a camera at ``camera``'s place would give aimed level at ``target_m``.

    Parameters
    ----------
    raw
        The camera's landmarks.
    camera
        Its calibration (:class:`bench.multiview.Camera`).
    target_m
        The point to aim at (world, z up), e.g. the subject's mid-hip.

    Returns
    -------
    PoseSequence
        Image landmarks undistorted, turned by the rotation from the camera's frame to
        the aimed one (no roll: its image x axis horizontal) and projected with the same
        focal lengths about the frame's centre; world landmarks turned alike.

    Notes
    -----
    Every rendered camera looks at the subject (half its stature, about the hips); the
    lab cameras look past her, which tilts her in the image (up to 22°) by perspective.
    This makes the lab views geometrically like the renders' without re-running the pose
    model (whose landmarks came from the original picture).
    """
    forward = np.asarray(target_m, float) - camera.position_m
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    aimed = np.stack([right, np.cross(forward, right), forward])
    turn = aimed @ camera.rotation.T
    normal = camera.normalize(raw.image_xy_px)
    rays = np.concatenate([normal, np.ones((*normal.shape[:-1], 1))], axis=-1) @ turn.T
    width, height = raw.image_size_px
    focal = np.array([camera.matrix[0, 0], camera.matrix[1, 1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        xy = focal * rays[..., :2] / rays[..., 2:] + np.array([width, height]) / 2.0
    return raw.with_arrays(
        time_s=raw.time_s,
        image_xy_px=xy,
        world_xyz_m=raw.world_xyz_m @ turn.T,
        visibility=raw.visibility,
        detected=raw.detected,
    )


def real_check(model: FrameModel, folder: Path) -> dict[str, Any]:
    """Read each calibrated lab camera of ``folder`` (module docstring); print and return."""
    from bench.capture import capture_landmarks
    from bench.real_video_agreement import CALIBRATION, run
    from screener.capture import correct_roll, estimate_camera
    from screener.config import AnalysisConfig
    from screener.pose import estimate_pose

    config = AnalysisConfig()
    reference = run(folder, config)
    pelvis = np.asarray(reference["triangulation"]["pelvis_m"])
    out: dict[str, Any] = {}
    print(f"\nreal video: {folder} (true placement from the 4-camera triangulation)")
    for camera in read_qca(folder / CALIBRATION):
        placement = reference["cameras"][camera.name]["placement"]
        raw = estimate_pose(folder / f"{camera.name}.mp4", config.pose, config.cache_dir)
        entry: dict[str, Any] = {
            "true_lens_height_m": round(float(placement["lens_height_m"]), 2),
            "true_elevation_deg": round(float(placement["pitch_deg"]), 1),
            "off_axis_deg": round(float(placement["off_axis_deg"]), 1),
            "frames_tracking_reference_person": reference["cameras"][camera.name][
                "frames_tracking_reference_person"
            ],
        }
        for label, landmarks in (("as filmed", raw), ("re-aimed", reaimed(raw, camera, pelvis))):
            pose, view = capture_landmarks(landmarks, config)
            roll = estimate_camera(pose).roll_deg
            upright = correct_roll(pose, -roll) if np.isfinite(roll) else pose
            told = view if view in ("anterior", "posterior") else "anterior"
            (height, elevation), distance = read_pose(model, upright, told, config.angles)
            entry[label] = {
                "view": view,
                "roll_read_deg": round(float(roll), 1),
                "height_m": round(float(height), 2),
                "elevation_deg": round(float(elevation), 1),
                "applicability_distance": round(distance, 2),
            }
        out[camera.name] = entry
        cells = "; ".join(
            f"{label} ({e['view']}, roll {e['roll_read_deg']:+.1f}°): {e['height_m']:.2f} m, "
            f"{e['elevation_deg']:.1f}° (applicability {e['applicability_distance']:.2f})"
            for label, e in ((k, entry[k]) for k in ("as filmed", "re-aimed"))
        )
        print(
            f"  {camera.name}: lens {entry['true_lens_height_m']:.2f} m, "
            f"{entry['true_elevation_deg']:.1f}° above the hips, "
            f"{entry['off_axis_deg']:.0f}° off axis, on the reference person in "
            f"{entry['frames_tracking_reference_person']} frames | read {cells}"
        )
    if model.applicability is not None:
        print(f"  applicability limit {model.applicability.limit:.2f}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = training_parser(__doc__, epochs=20)
    parser.add_argument(
        "--warn-above",
        type=float,
        default=1.3,
        help="height read (m) above which a squat or jog would be warned (per-task figures)",
    )
    parser.add_argument(
        "--pose2sim", type=Path, default=None, help="the calibrated Pose2Sim lab folder"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    x, y5, m5, clips = collect(args.train)
    truths = clip_truths(args.train, clips)
    targets = clip_targets(truths)
    y = np.array([targets[c] for c in clips]) * UNITS
    xm, _, _ = mirror(x, y5, m5)
    x_all, y_all = np.vstack([x, xm]), np.vstack([y, y])
    card: dict[str, Any] = {
        **ensemble_card("screener lens height model (research, not shipped)", TARGETS, args, clips),
        "units_per_target": UNITS.tolist(),
    }
    model, xs = train_ensemble(x_all, y_all, np.ones_like(y_all, dtype=bool), args, card)
    xv, _, _, vclips = collect(args.val)
    vtruths = clip_truths(args.val, vclips)
    print(f"train {len(set(clips))} clips / {len(x)} frames; val {len(vtruths)} clips")
    card["validation"] = print_validation(
        read_clips(model, xv, vclips), clip_targets(vtruths), vtruths, args.warn_above
    )
    centre, basis, card["applicability"] = fit_applicability(
        xs, by_clip(model.standardise(xv), vclips)
    )
    if args.pose2sim is not None:
        guard = Applicability(
            centre, basis, card["applicability"]["limit"], card["applicability"]["source"]
        )
        card["real_video_check"] = real_check(replace(model, applicability=guard), args.pose2sim)
    if args.write:
        write_model(args.write, model, centre, basis)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
