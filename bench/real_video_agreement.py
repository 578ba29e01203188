"""Each camera's monocular readings against a 4-camera triangulation of real video.

Usage::

    python -m bench.real_video_agreement [--folder DIR] [--json OUT.json] [--cache-dir DIR]

``DIR`` (default ``../shared/real_videos/pose2sim_multiperson``) holds ``cam01.mp4`` ...
and their Qualisys calibration ``Calib.qca.txt``. The benchmark

1. runs the screener's pose stage on every camera (``screener.pose.estimate_pose``, its
   keypoint cache makes re-runs quick);
2. checks the cameras' synchronisation: for each camera, the frame lag against the
   first that minimises the reprojection error of pairwise triangulations;
3. decides per frame which cameras track the same person (MediaPipe follows one person
   per camera and two are in view) and whether a camera's left/right labels are
   mirrored, by reprojection consistency (:func:`bench.multiview.consistent_views`);
4. triangulates all 33 landmarks from those views (DLT weighted by visibility, a view
   reprojecting worse than ``--max-error-px`` dropped point by point), fills short
   gaps and low-passes the 3D paths like the screener (Butterworth, zero lag);
5. computes the output spec's angles from the 3D joints in the body frame (the lab's
   vertical from the calibration, the frontal plane through the inter-hip line), with
   the screener's own angle definitions (:func:`bench.multiview.reference_angles`);
6. runs the screener as a user gets it (``screener.pipeline.analyze_pose``, task,
   side and view detected; where it refuses to guess the task, as for a subject standing
   still, with ``--task jog`` as a user told so would; with the envelope's refusals
   opened, :func:`open_envelope`, since every lab camera is outside it) on each camera
   alone, with and
   without the corrections of ``screener/models/corrections.toml`` and with the learned
   frame model, and compares its ``frames.csv`` values with the reference: RMSE, bias
   (camera - reference) and Pearson r per metric, over the
   frames where that camera tracks the reference person (a leg's metrics over the
   frames its foot is on the floor in 3D); its events against the same rule applied to
   the reference series; and where the camera stands relative to the subject.

It prints a table, writes everything as JSON with ``--json``, and asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.signal import butter, sosfiltfilt

from bench.capture import capture_landmarks
from bench.multiview import (
    Camera,
    body_axes,
    camera_placement,
    consistent_views,
    nanmedian,
    read_qca,
    reference_angles,
    triangulate_robust,
)
from screener.capture import estimate_camera
from screener.cleaning import mirror_all_labels
from screener.config import AnalysisConfig
from screener.errors import ScreenerError, TooFewEventsError
from screener.events import Span
from screener.frame_model import TARGET_GROUPS
from screener.keypoints import PoseSequence
from screener.landmarks import INDEX, LANDMARK_NAMES, SIDES
from screener.metrics import event_row
from screener.pipeline import analyze_pose
from screener.pose import estimate_pose
from screener.result import to_jsonable

REPO_DIR = Path(__file__).resolve().parents[1]
DEFAULT_FOLDER = REPO_DIR.parent / "shared" / "real_videos" / "pose2sim_multiperson"
CALIBRATION = "Calib.qca.txt"
#: The task given when the screener refuses to guess one (the lab's subject stands on
#: both feet since session 6's rule that standing is never a squat): frame values are
#: compared either way; jog, because its stance frames are read with both feet down.
FALLBACK_TASK = "jog"
#: The lab's vertical in the calibration's world frame (z up; checked on the body).
LAB_UP = np.array([0.0, 0.0, 1.0])
#: Landmarks that decide which cameras see the same person.
ASSOCIATION_LANDMARKS = tuple(
    f"{s}_{p}" for s in SIDES for p in ("shoulder", "hip", "knee", "ankle")
)
JOINTS = tuple(f"{s}_{p}" for s in SIDES for p in ("shoulder", "hip", "knee", "ankle"))
#: The 17 COCO keypoints, in the COCO order, of a second pose model's reference.
COCO_KEYPOINTS = (
    "nose",
    *(
        f"{s}_{p}"
        for p in ("eye", "ear", "shoulder", "elbow", "wrist", "hip", "knee", "ankle")
        for s in SIDES
    ),
)
#: A second model's keypoint scored under this is not triangulated (MoveNet's own demos
#: draw keypoints from 0.3).
DETECTOR_MIN_SCORE = 0.3
FRAME_METRICS: dict[str, tuple[str, ...]] = {
    "pelvic_obliquity_deg": ("pelvic_obliquity_deg",),
    "hip_adduction_deg": ("left_hip_adduction_deg", "right_hip_adduction_deg"),
    "knee_fppa_deg": ("left_knee_fppa_deg", "right_knee_fppa_deg"),
    "knee_flexion_deg": ("left_knee_flexion_deg", "right_knee_flexion_deg"),
    "trunk_lean_deg": ("trunk_lean_deg",),
    "femoral_ir_deg": ("left_femoral_ir_deg", "right_femoral_ir_deg"),
}
EVENT_METRICS = ("pelvic_drop_deg", "knee_fppa_deg", "hip_adduction_deg", "trunk_lean_deg")
#: A foot is on the floor when its lowest point is this close to the floor (m) ...
STANCE_HEIGHT_M = 0.06
#: ... and its ankle moves slower than this (m/s).
STANCE_SPEED_M_S = 0.3
#: The triangulated mid-hip farther than this from its median is another person.
SAME_PERSON_RADIUS_M = 0.5
#: Gaps in a triangulated path up to this many frames are interpolated.
MAX_GAP_FRAMES = 6
#: Landmarks (those moving most) and frames in common a lag is estimated from.
SYNC_LANDMARK_COUNT = 6
MIN_SYNC_FRAMES = 20
#: Fewer frame pairs than this are not summarised in the printed table.
MIN_PAIRS = 10
#: A frame-model target is verified on real video when it is closer to the reference than
#: the geometric angle on every camera it is applied to, and on at least this many.
MIN_VERIFYING_CAMERAS = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--cache-dir", type=Path, default=None, help="keypoint cache")
    parser.add_argument("--max-error-px", type=float, default=20.0)
    parser.add_argument("--max-lag-frames", type=int, default=8)
    parser.add_argument("--cutoff-hz", type=float, default=6.0)
    parser.add_argument(
        "--verify-frame-model",
        type=Path,
        default=None,
        metavar="MODEL",
        help="write this check's outcome into the frame model's card: the targets it "
        "brings closer to the reference on every camera it is applied to (at least "
        f"{MIN_VERIFYING_CAMERAS}) become its verified targets, corrected by default",
    )
    parser.add_argument(
        "--frame-model-path",
        type=Path,
        default=None,
        metavar="MODEL",
        help="check this frame model file instead of the shipped one (a candidate, before "
        "it replaces screener/models/frame_model.npz)",
    )
    parser.add_argument(
        "--detector-keypoints",
        type=Path,
        default=None,
        metavar="CSV",
        help="another pose model's 2D keypoints of the clip (read_detector_keypoints; "
        "bench/data/pose2sim_movenet_thunder.csv.gz, made by python -m "
        "bench.detector_keypoints): triangulated as a second reference, not from MediaPipe",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    calib = args.folder / CALIBRATION
    if not calib.is_file():
        print(f"{calib}: calibration not found; give --folder", file=sys.stderr)
        return 2
    tmp = tempfile.TemporaryDirectory()
    config = check_config(Path(tmp.name), args.cache_dir, args.frame_model_path)
    detector = None
    if args.detector_keypoints is not None:
        try:
            detector = read_detector_keypoints(args.detector_keypoints, read_qca(calib))
        except (OSError, ValueError) as exc:
            print(f"{exc}", file=sys.stderr)
            return 2
    result = run(
        args.folder,
        config,
        max_error_px=args.max_error_px,
        max_lag=args.max_lag_frames,
        cutoff_hz=args.cutoff_hz,
        detector=detector,
    )
    print(format_report(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(to_jsonable(result), indent=2), encoding="utf-8")
        print(f"\nwritten: {args.json}")
    if args.verify_frame_model is not None:
        write_verification(args.verify_frame_model, verify_frame_model(result))
    return 0


# --------------------------------------------------------------------------- the stages


def check_config(
    scratch: Path, cache_dir: Path | None = None, frame_model_path: Path | None = None
) -> AnalysisConfig:
    """The settings the check analyses each camera with: the defaults, with the envelope's
    refusals opened (:func:`open_envelope`, its copy written under ``scratch``), the keypoint
    cache in ``cache_dir`` and, to check a candidate before it is shipped, the frame model
    ``frame_model_path`` instead of the shipped one."""
    config = AnalysisConfig()
    if frame_model_path is not None:
        config = config.model_copy(
            update={"frame_model_path": frame_model_path, "frame_model_by_task": {}}
        )
    if cache_dir is not None:
        config = config.model_copy(update={"cache_dir": cache_dir})
    capture = config.capture.model_copy(
        update={"envelope_path": open_envelope(config.capture.envelope_path, scratch)}
    )
    return config.model_copy(update={"capture": capture})


def open_envelope(envelope: Path, folder: Path) -> Path:
    """A copy of the envelope file that refuses nothing (it still warns and corrects).

    These lab cameras are 1.7-2.1 m high and tilted 17-32 deg, which the screener refuses
    to measure; the comparison needs its readings anyway. Only this benchmark uses it.
    """
    text = envelope.read_text(encoding="utf-8")
    opened, n = re.subn(r"(?m)^(refuse_abs|refuse_min) = .*$", r"\1 = 1000.0", text)
    if n != 3:
        raise ValueError(f"{envelope}: expected 3 refusal limits, found {n}")
    opened = opened.replace("refuse_min = 1000.0", "refuse_min = 0.0")
    out = folder / "envelope_refusing_nothing.toml"
    out.write_text(opened, encoding="utf-8")
    return out


def load_poses(folder: Path, cameras: list[Camera], config: AnalysisConfig) -> list[PoseSequence]:
    """MediaPipe landmarks of every camera's video (``{camera name}.mp4``), cached."""
    poses = []
    for cam in cameras:
        video = folder / f"{cam.name}.mp4"
        pose = estimate_pose(video, config.pose, config.cache_dir)
        if pose.image_size_px != cam.size_px:
            raise ValueError(
                f"{video}: frames are {pose.image_size_px} px but the calibration says "
                f"{cam.size_px}; use the videos the calibration was made for"
            )
        poses.append(pose)
    return poses


def estimate_lags(
    poses: list[PoseSequence], cameras: list[Camera], members: np.ndarray, max_lag: int
) -> dict[str, Any]:
    """Frame lag between every pair of cameras that track the reference person.

    For a pair (a, b) and each lag in ``-max_lag..max_lag`` (frame ``f`` of a against
    frame ``f + lag`` of b), the pair is triangulated over the frames where both track
    the person, using the :data:`SYNC_LANDMARK_COUNT` landmarks that move most in the
    images (a static landmark cannot show a lag); the lag with the smallest median
    reprojection error wins, refined to a fraction of a frame by a parabola through its
    neighbours. ``gain`` is how much lower that error is than at lag 0.
    """
    tracked = [int(c) for c in np.flatnonzero(members.sum(axis=1) >= MIN_SYNC_FRAMES)]
    speed = np.nanmedian(
        np.concatenate(
            [
                np.linalg.norm(np.diff(poses[c].image_xy_px, axis=0), axis=2)[members[c, 1:]]
                for c in tracked
            ]
        ),
        axis=0,
    )
    cols = [int(i) for i in np.argsort(-np.nan_to_num(speed))[:SYNC_LANDMARK_COUNT]]
    out: dict[str, Any] = {
        "landmarks": [LANDMARK_NAMES[i] for i in cols],
        "cameras_tracking": [cameras[c].name for c in tracked],
        "pairs": {},
    }
    for a, b in itertools.combinations(tracked, 2):
        errors = []
        for lag in range(-max_lag, max_lag + 1):
            fa = np.arange(poses[a].n_frames)
            fb = fa + lag
            ok = (fb >= 0) & (fb < poses[b].n_frames)
            fa, fb = fa[ok], fb[ok]
            both = members[a, fa] & members[b, fb]
            fa, fb = fa[both], fb[both]
            px = np.stack(
                [poses[a].image_xy_px[fa][:, cols], poses[b].image_xy_px[fb][:, cols]]
            ).reshape(2, -1, 2)
            w = np.stack(
                [poses[a].visibility[fa][:, cols], poses[b].visibility[fb][:, cols]]
            ).reshape(2, -1)
            _, _, err = triangulate_robust(px, [cameras[a], cameras[b]], w, np.inf)
            errors.append(float(np.nanmedian(err)) if fa.size else np.nan)
        e = np.array(errors)
        k = int(np.nanargmin(e))
        best = float(k - max_lag)
        if 0 < k < e.size - 1 and e[k - 1] - 2 * e[k] + e[k + 1] > 0:
            best += 0.5 * (e[k - 1] - e[k + 1]) / (e[k - 1] - 2 * e[k] + e[k + 1])
        out["pairs"][f"{cameras[a].name}-{cameras[b].name}"] = {
            "lag_frames": int(k - max_lag),
            "lag_frames_subframe": best,
            "gain_vs_lag0": float(1.0 - e[k] / e[max_lag]),
            "median_error_px_by_lag": dict(zip(range(-max_lag, max_lag + 1), errors, strict=True)),
        }
    # shift a camera only on clear evidence: 2+ frames and 10 % lower error than in sync
    ref = tracked[0]
    shifts = {}
    for c in tracked[1:]:
        pair = out["pairs"][f"{cameras[ref].name}-{cameras[c].name}"]
        clear = abs(pair["lag_frames"]) >= 2 and pair["gain_vs_lag0"] >= 0.1
        shifts[cameras[c].name] = pair["lag_frames"] if clear else 0
    out["reference_camera"] = cameras[ref].name
    out["applied_lag_frames"] = shifts
    return out


def associate(
    poses: list[PoseSequence], cameras: list[Camera], max_error_px: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which cameras track the same person in each frame, and with mirrored labels or not."""
    cols = [INDEX[n] for n in ASSOCIATION_LANDMARKS]
    px, w = [], []
    for pose in poses:
        mirrored = mirror_all_labels(pose)
        px.append([pose.image_xy_px[:, cols], mirrored.image_xy_px[:, cols]])
        w.append([pose.visibility[:, cols], mirrored.visibility[:, cols]])
    return consistent_views(np.array(px), cameras, np.array(w), max_error_px)


def triangulate_person(
    poses: list[PoseSequence],
    cameras: list[Camera],
    members: np.ndarray,
    option: np.ndarray,
    max_error_px: float,
) -> dict[str, Any]:
    """All 33 landmarks in 3D from the member views, with their chosen labelling."""
    n_frames = poses[0].n_frames
    px = np.full((len(cameras), n_frames, len(LANDMARK_NAMES), 2), np.nan)
    w = np.zeros((len(cameras), n_frames, len(LANDMARK_NAMES)))
    for c, pose in enumerate(poses):
        mirrored = mirror_all_labels(pose)
        for opt, seq in ((0, pose), (1, mirrored)):
            sel = members[c] & (option[c] == opt)
            px[c, sel] = seq.image_xy_px[sel]
            w[c, sel] = seq.visibility[sel]
    flat_px = px.reshape(len(cameras), -1, 2)
    points, used, err = triangulate_robust(
        flat_px, cameras, w.reshape(len(cameras), -1), max_error_px
    )
    shape = (n_frames, len(LANDMARK_NAMES))
    return {
        "points": points.reshape(*shape, 3),
        "used": used.reshape(len(cameras), *shape),
        "error_px": err.reshape(len(cameras), *shape),
    }


def smooth_paths(points: np.ndarray, fps: float, cutoff_hz: float) -> tuple[np.ndarray, int]:
    """Fill gaps up to :data:`MAX_GAP_FRAMES` and low-pass each coordinate (zero lag).

    Returns the smoothed ``(n_frames, n_landmarks, 3)`` and the number of values filled.
    Runs shorter than the filter's padding are left unfiltered.
    """
    out = points.copy()
    filled = 0
    sos = butter(2, cutoff_hz, output="sos", fs=fps)
    t = np.arange(points.shape[0])
    for j in range(points.shape[1]):
        for k in range(3):
            y = out[:, j, k]
            ok = np.isfinite(y)
            if ok.sum() < 2:
                continue
            gaps = _short_gaps(~ok, MAX_GAP_FRAMES)
            y[gaps] = np.interp(t[gaps], t[ok], y[ok])
            filled += int(gaps.sum())
            for start, stop in _runs(np.isfinite(y)):
                if stop - start > 15:
                    y[start:stop] = sosfiltfilt(sos, y[start:stop])
    return out, filled // 3


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def _short_gaps(missing: np.ndarray, max_len: int) -> np.ndarray:
    out = np.zeros_like(missing)
    for start, stop in _runs(missing):
        if start > 0 and stop < missing.size and stop - start <= max_len:
            out[start:stop] = True
    return out


def stance_masks(points: np.ndarray, fps: float, floor_m: float) -> dict[str, np.ndarray]:
    """Frames where each foot is on the floor (low and slow) in the triangulated body."""
    out = {}
    for s in SIDES:
        feet = np.stack([points[:, INDEX[f"{s}_{p}"]] @ LAB_UP for p in ("heel", "foot_index")])
        low = np.min(np.where(np.isfinite(feet), feet, np.inf), axis=0)
        ankle = points[:, INDEX[f"{s}_ankle"]]
        speed = np.linalg.norm(np.gradient(ankle, axis=0), axis=1) * fps
        with np.errstate(invalid="ignore"):
            out[s] = (low - floor_m < STANCE_HEIGHT_M) & (speed < STANCE_SPEED_M_S)
    return out


def agreement(measured: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """RMSE, bias (measured - reference), Pearson r and n over pairs where both exist."""
    ok = np.isfinite(measured) & np.isfinite(reference)
    m, r = measured[ok], reference[ok]
    if m.size == 0:
        nan = float("nan")
        return {"n": 0, "rmse_deg": nan, "bias_deg": nan, "r": nan, "reference_sd_deg": nan}
    d = m - r
    corr = float(np.corrcoef(m, r)[0, 1]) if m.size > 2 and m.std() > 0 and r.std() > 0 else None
    return {
        "n": int(m.size),
        "rmse_deg": float(np.sqrt(np.mean(d**2))),
        "bias_deg": float(d.mean()),
        "r": float("nan") if corr is None else corr,
        "reference_sd_deg": float(r.std()),
    }


def compare_frames(
    frames: pd.DataFrame,
    reference: pd.DataFrame,
    tracked: np.ndarray,
    stance: dict[str, np.ndarray],
    column_suffix: str = "",
) -> dict[str, dict[str, float]]:
    """Per metric: a camera's frame values against the reference on the tracked frames.

    Whole-body metrics over every tracked frame, a leg's metrics over the tracked frames
    in which that foot is on the floor. ``column_suffix`` picks e.g. the uncorrected
    columns (``{col without _deg}_uncorrected_deg``) when present.
    """
    out = {}
    for metric, cols in FRAME_METRICS.items():
        m_all, r_all = [], []
        for col in cols:
            side = col.split("_")[0] if col.startswith(("left_", "right_")) else None
            sel = tracked & (stance[side] if side else True)
            src = col
            if column_suffix:
                alt = col.removesuffix("_deg") + column_suffix
                src = alt if alt in frames else col
            m_all.append(frames[src].to_numpy(float)[sel])
            r_all.append(reference[col].to_numpy(float)[sel])
        out[metric] = agreement(np.concatenate(m_all), np.concatenate(r_all))
    return out


def compare_events(
    events: pd.DataFrame,
    reference: pd.DataFrame,
    time_s: np.ndarray,
    tracked: np.ndarray,
    lag: int = 0,
) -> list[dict[str, Any]]:
    """Each event of a camera against the reference read with the screener's own rule.

    ``tracked``: frames where the camera follows the reference person (each event says
    in which share of its frames it does); ``lag``: the camera's frame ``f + lag`` is
    the reference's frame ``f``.
    """
    ref = reference.copy()
    ref["time_s"] = time_s
    ref["quality"] = 1.0
    rows = []
    for _, ev in events.iterrows():
        span = Span(
            kind=str(ev["kind"]),
            side=str(ev["side"]),
            start=max(0, int(ev["frame_start"]) - lag),
            stop=min(len(ref), int(ev["frame_end"]) + 1 - lag),
            peak=int(ev["frame_peak"]) - lag if ev["kind"] == "rep" else None,
        )
        truth = event_row(span, ref)
        row: dict[str, Any] = {
            "kind": span.kind,
            "side": span.side,
            "frames": [span.start, span.stop - 1],
            "frame_peak": int(ev["frame_peak"]) - lag,
            "tracked_fraction": float(tracked[span.start : span.stop].mean()),
        }
        for metric in EVENT_METRICS:
            row[metric] = {
                "camera": float(ev[metric]),
                "reference": float(np.asarray(truth[metric])),
            }
            unc = metric.removesuffix("_deg") + "_uncorrected_deg"
            if unc in ev and np.isfinite(ev[unc]) and ev[unc] != ev[metric]:
                row[metric]["camera_uncorrected"] = float(ev[unc])
        rows.append(row)
    return rows


def capture_estimate(raw: PoseSequence, config: AnalysisConfig) -> dict[str, Any]:
    """What the screener's capture check reads of this camera (yaw folded to ±90° from
    the nearer frontal axis, + toward the subject's left; pitch, roll, lens height), from
    the landmarks it reads (:func:`screener.pipeline.oriented_pose`; the raw landmarks
    when the view cannot be told). Over the whole clip: the camera may follow another
    person in some frames."""
    pose, view = capture_landmarks(raw, config)
    camera = estimate_camera(pose, None)
    return {
        "view": view,
        "yaw_deg": camera.yaw_deg,
        "pitch_deg": camera.pitch_deg,
        "roll_deg": camera.roll_deg,
        "camera_height_m": camera.camera_height_m,
    }


@dataclass(frozen=True)
class Subject:
    """The reference person of the lab clip in 3D, triangulated from MediaPipe's landmarks
    (:func:`triangulate_subject`); arrays are per frame of the synchronised clip."""

    cameras: list[Camera]
    #: each camera's landmarks as estimated, and shifted by its lag
    originals: list[PoseSequence]
    poses: list[PoseSequence]
    fps: float
    sync: dict[str, Any]
    #: the camera's frame ``f + lag`` is the reference's frame ``f``
    lags: dict[str, int]
    #: ``(cameras, frames)``: which cameras track the reference person, with which labelling
    members: np.ndarray
    option: np.ndarray
    assoc_err: np.ndarray
    tri: dict[str, Any]
    same_person: np.ndarray
    n_filled: int
    #: ``(frames, 33, 3)`` smoothed, labelled anatomically
    points: np.ndarray
    left: np.ndarray
    labels_mirrored: bool
    height_m: float
    floor_m: float
    stance: dict[str, np.ndarray]


def triangulate_subject(
    folder: Path, config: AnalysisConfig, *, max_error_px: float, max_lag: int, cutoff_hz: float
) -> Subject:
    """Steps 1-4 of the module docstring: every camera's pose, their lags, which cameras
    track the same person, and that person's landmarks in 3D."""
    cameras = read_qca(folder / CALIBRATION)
    poses = load_poses(folder, cameras, config)
    n_frames = min(p.n_frames for p in poses)
    poses = [_first_frames(p, n_frames) for p in poses]
    fps = poses[0].fps

    originals = poses
    members, option, assoc_err = associate(poses, cameras, 2 * max_error_px)
    sync = estimate_lags(poses, cameras, members, max_lag)
    lags = {cam.name: sync["applied_lag_frames"].get(cam.name, 0) for cam in cameras}
    if any(lags.values()):
        poses = [_shift(p, lags[cam.name]) for p, cam in zip(poses, cameras, strict=True)]
        members, option, assoc_err = associate(poses, cameras, 2 * max_error_px)

    tri = triangulate_person(poses, cameras, members, option, max_error_px)
    raw_points = tri["points"]
    mid_hip = 0.5 * (raw_points[:, INDEX["left_hip"]] + raw_points[:, INDEX["right_hip"]])
    centre = nanmedian(mid_hip, axis=0)
    with np.errstate(invalid="ignore"):
        same_person = np.linalg.norm(mid_hip - centre, axis=1) < SAME_PERSON_RADIUS_M
    same_person &= members.sum(axis=0) >= 2
    raw_points[~same_person] = np.nan
    members = members & same_person

    points, n_filled = smooth_paths(raw_points, fps, cutoff_hz)
    # the lab's vertical: the head must be above the feet along LAB_UP
    height = nanmedian((points[:, INDEX["nose"]] - points[:, INDEX["left_ankle"]]) @ LAB_UP, axis=0)
    if not float(height) > 1.0:
        raise ValueError(f"{folder}: the triangulated body is not upright along z ({height:.2f} m)")
    points, option, left, labels_mirrored = anatomical_labels(
        points, option, members, mid_hip, LAB_UP
    )
    floor = float(
        np.nanpercentile(
            points[:, [INDEX[f"{s}_{p}"] for s in SIDES for p in ("heel", "foot_index")]] @ LAB_UP,
            2,
        )
    )
    stance = stance_masks(points, fps, floor)
    return Subject(
        cameras=cameras,
        originals=originals,
        poses=poses,
        fps=fps,
        sync=sync,
        lags=lags,
        members=members,
        option=option,
        assoc_err=assoc_err,
        tri=tri,
        same_person=same_person,
        n_filled=n_filled,
        points=points,
        left=left,
        labels_mirrored=labels_mirrored,
        height_m=float(height),
        floor_m=floor,
        stance=stance,
    )


def run(
    folder: Path,
    config: AnalysisConfig,
    *,
    max_error_px: float = 20.0,
    max_lag: int = 8,
    cutoff_hz: float = 6.0,
    detector: DetectorKeypoints | None = None,
) -> dict[str, Any]:
    """The whole benchmark; returns every figure (see the module docstring).

    ``detector``: another pose model's 2D keypoints of the same clip
    (:func:`read_detector_keypoints`), triangulated as a second reference that does not
    come from MediaPipe (:func:`detector_reference`), each camera against the other
    cameras' (``frames_detector_leave_out``).
    """
    sub = triangulate_subject(
        folder, config, max_error_px=max_error_px, max_lag=max_lag, cutoff_hz=cutoff_hz
    )
    cameras, originals, poses, fps = sub.cameras, sub.originals, sub.poses, sub.fps
    members, option, same_person, points = sub.members, sub.option, sub.same_person, sub.points
    lags, stance, floor, labels_mirrored = sub.lags, sub.stance, sub.floor_m, sub.labels_mirrored
    n_frames = points.shape[0]
    joints = {n: points[:, INDEX[n]] for n in JOINTS}
    reference = reference_angles(joints, LAB_UP)
    left = sub.left
    tri = sub.tri
    pelvis = nanmedian(0.5 * (joints["left_hip"] + joints["right_hip"]), axis=0)
    left_axis = nanmedian(left, axis=0)
    left_axis /= np.linalg.norm(left_axis)

    # how far the reference itself moves when triangulated from two cameras only
    pair_spread: dict[str, Any] = {}
    tracked_cams = [c for c in range(len(cameras)) if members[c].sum() >= MIN_SYNC_FRAMES]
    for a, b in itertools.combinations(tracked_cams, 2):
        both = members[a] & members[b]
        pair_ref = reference_from_cameras(
            poses, cameras, members & both, option, [a, b], fps, cutoff_hz, labels_mirrored
        )
        name = f"{cameras[a].name}+{cameras[b].name}"
        pair_spread[name] = compare_frames(pair_ref, reference, both, stance)
    # each camera against the other cameras' triangulation: a camera's own landmarks pull
    # the full reference toward its geometric reading
    leave_out: dict[int, tuple[pd.DataFrame, np.ndarray]] = {}
    for c in tracked_cams:
        others = [k for k in tracked_cams if k != c]
        if len(others) < 2:
            continue
        seen = (members[others].sum(axis=0) >= 2) & members[c]
        ref_c = reference_from_cameras(
            poses, cameras, members & seen, option, others, fps, cutoff_hz, labels_mirrored
        )
        leave_out[c] = (ref_c, seen)
    detector_out: dict[str, Any] | None = None
    detector_leave_out: dict[int, tuple[pd.DataFrame, np.ndarray]] = {}
    if detector is not None:
        own = detector.keypoints[:, :n_frames]  # each camera's own frames, as the clip's
        own = np.concatenate(
            [own, np.full((len(cameras), n_frames - own.shape[1], *own.shape[2:]), np.nan)],
            axis=1,
        )
        synced = np.stack([_shift_rows(own[c], lags[cam.name]) for c, cam in enumerate(cameras)])
        labelled, swapped = label_as_subject(synced, cameras, points)
        everyone = list(range(len(cameras)))
        full, full_ok = detector_reference(labelled, cameras, everyone, same_person, fps, cutoff_hz)
        for c in tracked_cams:
            others = [k for k in everyone if k != c]
            ref_c, ok_c = detector_reference(labelled, cameras, others, same_person, fps, cutoff_hz)
            detector_leave_out[c] = (ref_c, ok_c & members[c])
        detector_out = {
            "source": detector.source,
            "min_score": DETECTOR_MIN_SCORE,
            "frames_swapped_to_subject_labels": swapped,
            "frames_triangulated": int(full_ok.sum()),
            "against_mediapipe_reference": compare_frames(full, reference, full_ok, stance),
        }

    used = tri["used"]
    err = tri["error_px"]
    cams_out: dict[str, Any] = {}
    for c, cam in enumerate(cameras):
        tracked = members[c]
        seen = used[c] & members[c][:, None]
        cam_err = np.where(seen, err[c], np.nan)
        entry: dict[str, Any] = {
            "placement": camera_placement(cam, pelvis, left_axis, LAB_UP, floor),
            "capture_estimate": capture_estimate(originals[c], config),
            "frames_tracking_reference_person": int(tracked.sum()),
            "frames_labels_mirrored": int((tracked & (option[c] == 1)).sum()),
            "reprojection_error_px": {
                "median": float(np.nanmedian(cam_err)) if seen.any() else float("nan"),
                "p90": float(np.nanpercentile(cam_err, 90)) if seen.any() else float("nan"),
                "joints_median": float(np.nanmedian(cam_err[:, [INDEX[n] for n in JOINTS]]))
                if seen.any()
                else float("nan"),
            },
        }
        tilt = entry["placement"]["image_tilt_deg"]
        plain = {"corrections_path": None, "frame_model_path": None}
        learned = {"corrections_path": None, "frame_model_include_unverified": True}
        for label, update, raw in (
            ("with_corrections", {"frame_model_path": None}, originals[c]),
            ("without_corrections", plain, originals[c]),
            ("frame_model", learned, originals[c]),
            ("tilt_removed", {"frame_model_path": None}, rotate_image(originals[c], tilt)),
        ):
            cfg = config.model_copy(update=update)
            video = folder / f"{cam.name}.mp4"
            refused_auto = None
            timing = "default"
            try:
                res = analyze_pose(raw, config=cfg, video_path=video)
            except TooFewEventsError as exc:
                # the subject stands: as a user told so would, give a task; only the
                # frame values are compared, and no task is performed
                refused_auto = str(exc)
                try:
                    res, timing = _analyze_standing(raw, cfg, video)
                except ScreenerError as exc2:
                    entry[label] = {"error": str(exc2), "auto_refused": refused_auto}
                    continue
            except ScreenerError as exc:
                entry[label] = {"error": str(exc)}
                continue
            s = res.summary
            shifted = _shift_frames(res.frames, lags[cam.name])
            entry[label] = {
                "auto_refused": refused_auto,
                "stance_timing": timing,
                "task": s["task"],
                "view": s["view"],
                "view_confidence": s["view_detection"]["confidence"],
                "stance_side": s["stance_side"],
                "faults": [
                    {k: f[k] for k in ("fault", "side", "severity", "value")}
                    for f in s["faults"]
                    if f["severity"] != "none"
                ],
                "warnings": s["quality"]["warnings"],
                "corrections": sorted({c_["metric"] for c_ in s["provenance"]["corrections"]}),
                "frame_model_targets": list(
                    (s["provenance"].get("frame_model") or {}).get("targets_corrected", [])
                ),
                "frames": compare_frames(shifted, reference, tracked, stance),
                "frames_leave_out": compare_frames(shifted, *leave_out[c], stance)
                if c in leave_out
                else None,
                "frames_detector_leave_out": compare_frames(shifted, *detector_leave_out[c], stance)
                if c in detector_leave_out
                else None,
                "events": compare_events(
                    res.events, reference, poses[c].time_s, tracked, lags[cam.name]
                ),
            }
        cams_out[cam.name] = entry

    return {
        "folder": str(folder),
        "n_frames": n_frames,
        "fps": fps,
        "frames_used": int(same_person.sum()),
        "frames_stance": {s: int((stance[s] & same_person).sum()) for s in SIDES},
        "sync": sub.sync,
        "association": {
            "max_error_px": 2 * max_error_px,
            "cameras_per_frame": np.bincount(members.sum(axis=0), minlength=len(cameras) + 1)
            .astype(int)
            .tolist(),
            "median_worst_camera_error_px": float(np.nanmedian(sub.assoc_err)),
        },
        "triangulation": {
            "max_error_px": max_error_px,
            "values_gap_filled": sub.n_filled,
            "cutoff_hz": cutoff_hz,
            "labels_mirrored_in_all_views": labels_mirrored,
            "floor_m": floor,
            "pelvis_m": pelvis.tolist(),
            "subject_height_nose_to_ankle_m": sub.height_m,
        },
        "reference_pair_spread": pair_spread,
        "reference_ranges_deg": {
            col: [float(np.nanmin(reference[col])), float(np.nanmax(reference[col]))]
            for col in reference.columns
            if np.isfinite(reference[col]).any()
        },
        "detector_reference": detector_out,
        "cameras": cams_out,
    }


@dataclass(frozen=True)
class DetectorKeypoints:
    """Another pose model's 2D keypoints of every camera of the clip.

    ``keypoints``: ``(cameras, frames, 17, 3)``, the COCO keypoints
    (:data:`COCO_KEYPOINTS`) as pixel x, pixel y and the model's score, NaN where the
    model was not run; frames are each camera's own (before any lag is applied), from 0
    to the last one given;
    ``source``: which model, which weights, how run.
    """

    keypoints: np.ndarray
    source: str


def read_detector_keypoints(path: Path, cameras: list[Camera]) -> DetectorKeypoints:
    """Read a CSV (``.csv`` or ``.csv.gz``) with columns ``camera, frame, keypoint, x_px,
    y_px, score`` (``keypoint`` one of :data:`COCO_KEYPOINTS`); its provenance is the
    ``source`` of the JSON file beside it (``NAME.json`` for ``NAME.csv[.gz]``).

    Raises
    ------
    ValueError
        Naming the file: a missing column or provenance file, an unknown camera or
        keypoint, a negative frame.
    """
    table = pd.read_csv(path)
    missing = {"camera", "frame", "keypoint", "x_px", "y_px", "score"} - set(table.columns)
    if missing:
        raise ValueError(f"{path}: columns {sorted(missing)} missing")
    sidecar = path.with_name(path.name.removesuffix(".gz").removesuffix(".csv") + ".json")
    if not sidecar.is_file():
        raise ValueError(f"{path}: its provenance {sidecar.name} is missing beside it")
    source = str(json.loads(sidecar.read_text(encoding="utf-8"))["source"])
    names = [c.name for c in cameras]
    unknown = set(table["camera"]) - set(names)
    bad_kp = set(table["keypoint"]) - set(COCO_KEYPOINTS)
    if unknown or bad_kp:
        raise ValueError(f"{path}: unknown cameras {sorted(unknown)} or keypoints {sorted(bad_kp)}")
    frames = table["frame"].to_numpy(int)
    if frames.min() < 0:
        raise ValueError(f"{path}: negative frame numbers")
    out = np.full((len(cameras), frames.max() + 1, len(COCO_KEYPOINTS), 3), np.nan)
    cam = table["camera"].map({n: i for i, n in enumerate(names)}).to_numpy(int)
    kp = table["keypoint"].map({n: i for i, n in enumerate(COCO_KEYPOINTS)}).to_numpy(int)
    out[cam, frames, kp] = table[["x_px", "y_px", "score"]].to_numpy(float)
    return DetectorKeypoints(out, source)


def label_as_subject(
    keypoints: np.ndarray, cameras: list[Camera], points: np.ndarray
) -> tuple[np.ndarray, dict[str, int]]:
    """The detector's keypoints with left and right exchanged in the camera frames where
    the exchanged labels lie closer to the MediaPipe triangulation's reprojection (the
    reference's anatomical labels; positions are never taken from it). ``keypoints`` as
    :class:`DetectorKeypoints` but in the synchronised frames; ``points`` the subject's
    ``(frames, 33, 3)``. Returns the keypoints and the frames exchanged per camera."""
    joints = [COCO_KEYPOINTS.index(j) for j in JOINTS]
    swap = [COCO_KEYPOINTS.index(other_side_name(k)) for k in COCO_KEYPOINTS]
    out = keypoints.copy()
    swapped = {}
    for c, cam in enumerate(cameras):
        proj = cam.project(points[:, [INDEX[j] for j in JOINTS]])
        with np.errstate(invalid="ignore"):
            as_is = np.nanmean(np.linalg.norm(out[c][:, joints, :2] - proj, axis=2), axis=1)
            other = np.nanmean(
                np.linalg.norm(out[c][:, swap][:, joints, :2] - proj, axis=2), axis=1
            )
        exchange = other < as_is
        out[c, exchange] = out[c, exchange][:, swap]
        swapped[cam.name] = int(exchange.sum())
    return out, swapped


def detector_reference(
    keypoints: np.ndarray,
    cameras: list[Camera],
    use: list[int],
    frames: np.ndarray,
    fps: float,
    cutoff_hz: float,
    max_error_px: float = 20.0,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The reference angles from the detector's eight joints (:data:`JOINTS`) triangulated
    from the cameras ``use`` on ``frames``: keypoints scored under
    :data:`DETECTOR_MIN_SCORE` are not used, a joint needs two views, paths are smoothed as
    the MediaPipe reference's (:func:`smooth_paths`). Returns the angles and the frames
    where every joint was triangulated."""
    joints = [COCO_KEYPOINTS.index(j) for j in JOINTS]
    n_frames = keypoints.shape[1]
    sel = keypoints[use][:, :, joints]
    score = np.nan_to_num(sel[..., 2])
    weights = np.where((score >= DETECTOR_MIN_SCORE) & frames[None, :, None], score, 0.0)
    pts, used, _ = triangulate_robust(
        sel[..., :2].reshape(len(use), -1, 2),
        [cameras[u] for u in use],
        weights.reshape(len(use), -1),
        max_error_px,
    )
    pts = pts.reshape(n_frames, len(joints), 3)
    enough = used.reshape(len(use), n_frames, len(joints)).sum(axis=0) >= 2
    pts[~enough] = np.nan
    smooth, _ = smooth_paths(pts, fps, cutoff_hz)
    angles = reference_angles({j: smooth[:, i] for i, j in enumerate(JOINTS)}, LAB_UP)
    return angles, enough.all(axis=1)


def reference_from_cameras(
    poses: list[PoseSequence],
    cameras: list[Camera],
    members: np.ndarray,
    option: np.ndarray,
    use: list[int],
    fps: float,
    cutoff_hz: float,
    labels_mirrored: bool,
) -> pd.DataFrame:
    """The reference angles triangulated from the cameras ``use`` only (on the frames
    ``members`` gives them), smoothed and labelled as the full reference is."""
    subset = members & np.isin(np.arange(len(cameras)), use)[:, None]
    tri = triangulate_person(poses, cameras, subset, option, np.inf)
    points, _ = smooth_paths(tri["points"], fps, cutoff_hz)
    if labels_mirrored:
        points = points[:, [INDEX[other_side_name(n)] for n in LANDMARK_NAMES]]
    return reference_angles({n: points[:, INDEX[n]] for n in JOINTS}, LAB_UP)


def _analyze_standing(raw: PoseSequence, config: AnalysisConfig, video: Path) -> tuple[Any, str]:
    """A standing subject analysed with :data:`FALLBACK_TASK`; where the default stance
    timing finds no complete phase, the rule's (only frame values are compared, so which
    cameras are compared must not depend on how stance phases are timed)."""
    try:
        return analyze_pose(raw, task=FALLBACK_TASK, config=config, video_path=video), "default"
    except TooFewEventsError:
        if config.events.event_model_path is None:
            raise
        rule = config.model_copy(
            update={"events": config.events.model_copy(update={"event_model_path": None})}
        )
        return analyze_pose(raw, task=FALLBACK_TASK, config=rule, video_path=video), "rule"


def verify_frame_model(result: dict[str, Any], key: str = "frames_leave_out") -> dict[str, Any]:
    """Per frame metric the frame model corrects: each camera's frame RMSE against the
    other cameras' triangulation (leave-one-camera-out) without the model and with it,
    and whether the model is closer on every camera it was applied to (at least
    :data:`MIN_VERIFYING_CAMERAS`). ``key``: ``frames_leave_out`` (MediaPipe's
    triangulation, the check that decides) or ``frames_detector_leave_out`` (a second
    model's, :func:`detector_reference`)."""
    out: dict[str, Any] = {}
    for metric, targets in TARGET_GROUPS.items():  # by the frame metric that compares them
        cameras = {}
        for name, entry in result["cameras"].items():
            plain, learned = entry.get("without_corrections", {}), entry.get("frame_model", {})
            if not set(targets) <= set(learned.get("frame_model_targets", [])):
                continue  # not applied (outside its applicability) or no analysis
            if not plain.get(key) or not learned.get(key):
                continue  # no reference without this camera
            before = plain[key][metric]["rmse_deg"]
            after = learned[key][metric]["rmse_deg"]
            if np.isfinite(before) and np.isfinite(after):
                placement = entry["placement"]
                cameras[name] = {
                    "geometric_rmse_deg": round(float(before), 1),
                    "model_rmse_deg": round(float(after), 1),
                    "off_axis_deg": round(float(placement["off_axis_deg"])),
                    "lens_height_m": round(float(placement["lens_height_m"]), 2),
                }
        verified = len(cameras) >= MIN_VERIFYING_CAMERAS and all(
            c["model_rmse_deg"] < c["geometric_rmse_deg"] for c in cameras.values()
        )
        out[metric] = {"targets": list(targets), "cameras": cameras, "verified": verified}
    return out


def write_verification(model_path: Path, verification: dict[str, Any]) -> None:
    """Record the real-video check in the frame model's card: its verified targets (those
    corrected by default) and the figures, in a sentence."""
    from datetime import UTC, datetime

    from bench.train_frame_model import DEFAULT_POLICY, update_model
    from screener.frame_model import load_frame_model

    card = dict(load_frame_model(model_path).card)
    card.pop("default_off_reason", None)  # cards written before the check decided
    card["default_policy"] = DEFAULT_POLICY
    parts = []
    for metric, v in verification.items():
        figures = ", ".join(
            f"{name} ({c['off_axis_deg']} deg off axis, lens {c['lens_height_m']} m) "
            f"{c['geometric_rmse_deg']} -> {c['model_rmse_deg']}"
            for name, c in v["cameras"].items()
        )
        outcome = "verified" if v["verified"] else "not verified"
        parts.append(f"{metric.removesuffix('_deg')}: {figures or 'no camera'} ({outcome})")
    card["verified_targets"] = [
        t for v in verification.values() if v["verified"] for t in v["targets"]
    ]
    card["real_video_check"] = (
        "Pose2Sim 4-camera lab clip (a standing subject) against its triangulated "
        "MediaPipe reference (each camera against the other cameras' triangulation), "
        f"python -m bench.real_video_agreement, "
        f"{datetime.now(UTC):%Y-%m-%d}; frame RMSE, geometric -> model, deg: "
        + "; ".join(parts)
        + ". The lab cameras are outside the validated envelope (higher, further off axis)."
    )
    card["real_video_verification"] = verification
    update_model(model_path, card)
    print(f"\n{model_path}: verified targets {card['verified_targets']}")


def rotate_image(pose: PoseSequence, tilt_deg: float) -> PoseSequence:
    """The landmarks as a camera rolled by ``-tilt_deg`` would see them (about the centre).

    With the calibration's ``image_tilt_deg`` this levels the lab vertical at the
    subject: what a perfect roll correction could give a single camera.
    """
    w, h = pose.image_size_px
    centre = np.array([w / 2.0, h / 2.0])
    a = np.radians(tilt_deg)
    # rotate counter-clockwise on screen (y down) by the tilt: the vertical's top goes left
    rot = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    xy = (pose.image_xy_px - centre) @ rot.T + centre
    return pose.with_arrays(image_xy_px=xy)


def anatomical_labels(
    points: np.ndarray, option: np.ndarray, members: np.ndarray, mid_hip: np.ndarray, up: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Triangulated landmarks labelled anatomically: the nose must be in front of the
    frontal plane (through ``mid_hip``, ``(frames, 3)``), else every left and right label
    is exchanged, and so is each member camera's label ``option``. Returns the points,
    the options, the body's left axis per frame and whether the labels were exchanged."""
    left, forward = body_axes(points[:, INDEX["left_hip"]], points[:, INDEX["right_hip"]], up)
    nose_ahead = np.sum((points[:, INDEX["nose"]] - mid_hip) * forward, axis=1)
    mirrored = bool(np.nanmedian(nose_ahead) < 0)
    if mirrored:
        points = points[:, [INDEX[other_side_name(n)] for n in LANDMARK_NAMES]]
        option = np.where(members, 1 - option, 0)
        left = -left
    return points, option, left, mirrored


def other_side_name(name: str) -> str:
    """The landmark of the other side (``left_hip`` -> ``right_hip``); a midline one as is."""
    if name.startswith("left_"):
        return "right_" + name.removeprefix("left_")
    if name.startswith("right_"):
        return "left_" + name.removeprefix("right_")
    return name


def _first_frames(pose: PoseSequence, n: int) -> PoseSequence:
    if pose.n_frames == n:
        return pose
    return pose.take(slice(0, n))


def _shift(pose: PoseSequence, lag: int) -> PoseSequence:
    """Frame ``f`` of the result is frame ``f + lag`` of ``pose`` (empty outside)."""
    if lag == 0:
        return pose
    idx = np.arange(pose.n_frames) + lag
    ok = (idx >= 0) & (idx < pose.n_frames)
    idx = np.clip(idx, 0, pose.n_frames - 1)
    xy = np.where(ok[:, None, None], pose.image_xy_px[idx], np.nan)
    xyz = np.where(ok[:, None, None], pose.world_xyz_m[idx], np.nan)
    vis = np.where(ok[:, None], pose.visibility[idx], 0.0)
    return pose.with_arrays(
        image_xy_px=xy, world_xyz_m=xyz, visibility=vis, detected=pose.detected[idx] & ok
    )


def _shift_rows(values: np.ndarray, lag: int) -> np.ndarray:
    """Row ``f`` of the result is row ``f + lag`` of ``values`` (NaN outside)."""
    idx = np.arange(values.shape[0]) + lag
    ok = (idx >= 0) & (idx < values.shape[0])
    out = values[np.clip(idx, 0, values.shape[0] - 1)].astype(float)
    out[~ok] = np.nan
    return out


def _shift_frames(frames: pd.DataFrame, lag: int) -> pd.DataFrame:
    """Row ``f`` of the result is row ``f + lag`` of ``frames`` (NaN outside)."""
    if lag == 0:
        return frames
    idx = np.arange(len(frames)) + lag
    ok = (idx >= 0) & (idx < len(frames))
    out = frames.iloc[np.clip(idx, 0, len(frames) - 1)].reset_index(drop=True)
    numeric = out.select_dtypes("number").columns
    out.loc[~ok, numeric] = np.nan
    return out


# --------------------------------------------------------------------------- report


def format_report(result: dict[str, Any]) -> str:
    """The printed table."""
    lines = [
        f"{result['folder']}: {result['n_frames']} frames at {result['fps']:.0f} fps; "
        f"{result['frames_used']} triangulated from >= 2 cameras tracking the same person; "
        f"feet on the floor: {result['frames_stance']}",
    ]
    sync = result["sync"]
    lags = ", ".join(
        f"{k} {v['lag_frames']:+d} ({v['lag_frames_subframe']:+.2f}, "
        f"error {100 * v['gain_vs_lag0']:.0f}% below lag 0)"
        for k, v in sync["pairs"].items()
    )
    lines.append(f"sync, lag in frames by pair (landmarks {', '.join(sync['landmarks'])}): {lags}")
    lines.append(f"applied: {sync['applied_lag_frames']}")
    tri = result["triangulation"]
    lines.append(
        f"body: nose-ankle {tri['subject_height_nose_to_ankle_m']:.2f} m, floor at "
        f"{tri['floor_m']:.3f} m, labels mirrored in every view: "
        f"{tri['labels_mirrored_in_all_views']}"
    )
    lines.append(
        "reference ranges (deg): "
        + ", ".join(
            f"{k} {lo:.1f}..{hi:.1f}" for k, (lo, hi) in result["reference_ranges_deg"].items()
        )
    )
    lines.append("")
    lines.append(
        f"{'camera':7} {'frames':>6} {'reproj px':>9} {'yaw':>6} {'off-axis':>8} "
        f"{'pitch':>6} {'lens m':>6} {'dist m':>6} {'tilt':>5}  task/view (auto)"
    )
    lines.append(
        "  then what the capture check reads: yaw off the nearer frontal axis (signed, + to "
        "the subject's left; truth in brackets), pitch, roll, lens height"
    )
    for name, cam in result["cameras"].items():
        p = cam["placement"]
        wc = cam["with_corrections"]
        tv = wc.get("error") or f"{wc['task']} {wc['view']} side={wc['stance_side']}"
        lines.append(
            f"{name:7} {cam['frames_tracking_reference_person']:6d} "
            f"{cam['reprojection_error_px']['median']:9.1f} {p['yaw_deg']:6.0f} "
            f"{p['off_axis_deg']:8.0f} {p['pitch_deg']:6.0f} {p['lens_height_m']:6.2f} "
            f"{p['distance_m']:6.2f} {p['image_tilt_deg']:5.1f}  {tv}"
        )
        est = cam["capture_estimate"]
        folded = (
            p["yaw_deg"]
            if abs(p["yaw_deg"]) <= 90
            else np.sign(p["yaw_deg"]) * (180.0 - abs(p["yaw_deg"]))
        )
        lines.append(
            f"  {'':7} read ({est['view']}): yaw {est['yaw_deg']:+.0f}° [{folded:+.0f}°], "
            f"pitch {est['pitch_deg']:+.0f}° [lens elevation {p['pitch_deg']:+.0f}°], roll "
            f"{est['roll_deg']:+.1f}°, lens {est['camera_height_m']:.2f} m "
            f"[{p['lens_height_m']:.2f} m]"
        )
    lines.append("")
    lines.append(
        "frame values, camera - reference: RMSE / bias / r (n)   "
        "[with corrections | without | learned frame model | with, image tilt removed]"
    )
    columns = ("with_corrections", "without_corrections", "frame_model", "tilt_removed")
    for metric in FRAME_METRICS:
        lines.append(f"  {metric}")
        lines.extend(_camera_rows(result, metric, "frames", columns))
        for pair, spread in result["reference_pair_spread"].items():
            lines.append(f"    ref {pair}: {_fmt(spread[metric])}")
    lines.append("")
    lines.append(
        "the same against the OTHER cameras' triangulation (leave-one-camera-out; the frame "
        "model's check): [without corrections | learned frame model]"
    )
    for metric in FRAME_METRICS:
        lines.append(f"  {metric}")
        lines.extend(
            _camera_rows(result, metric, "frames_leave_out", ("without_corrections", "frame_model"))
        )
    detector = result.get("detector_reference")
    if detector:
        lines.append("")
        lines.append(
            f"a second reference, not from MediaPipe: {detector['source']}; triangulated on "
            f"{detector['frames_triangulated']} frames (keypoints scored >= "
            f"{detector['min_score']}); labels exchanged to the subject's in "
            f"{detector['frames_swapped_to_subject_labels']} camera frames"
        )
        lines.append("  its 4-camera reference against MediaPipe's: RMSE / bias / r (n)")
        for metric, fr in detector["against_mediapipe_reference"].items():
            if fr["n"] >= MIN_PAIRS:
                lines.append(f"    {metric}: {_fmt(fr)}")
        lines.append(
            "  each camera against the OTHER cameras' triangulation of it: "
            "[without corrections | learned frame model]"
        )
        for metric in FRAME_METRICS:
            lines.append(f"  {metric}")
            lines.extend(
                _camera_rows(
                    result,
                    metric,
                    "frames_detector_leave_out",
                    ("without_corrections", "frame_model"),
                )
            )
        outcome = verify_frame_model(result, "frames_detector_leave_out")
        lines.append(
            "  the frame model's rule against it (closer on every camera it applies to, at "
            f"least {MIN_VERIFYING_CAMERAS}): "
            + ", ".join(
                f"{m.removesuffix('_deg')} {'verified' if v['verified'] else 'not verified'}"
                for m, v in outcome.items()
            )
            + " (reported only: the card's verified targets come from MediaPipe's reference)"
        )
    lines.append("")
    lines.append("events (screener's own rule on the reference): camera vs reference")
    for name, cam in result["cameras"].items():
        for ev in cam["with_corrections"].get("events", []):
            vals = []
            for metric in EVENT_METRICS:
                v = ev[metric]
                unc = (
                    f" (uncorr {v['camera_uncorrected']:.1f})" if "camera_uncorrected" in v else ""
                )
                vals.append(f"{metric} {v['camera']:.1f}{unc} vs {v['reference']:.1f}")
            who = (
                ""
                if ev["tracked_fraction"] >= 0.8
                else f" [tracks the reference person in {100 * ev['tracked_fraction']:.0f}%]"
            )
            lines.append(
                f"  {name} {ev['kind']} {ev['side']} {ev['frames']}{who}: " + "; ".join(vals)
            )
    return "\n".join(lines)


def _camera_rows(
    result: dict[str, Any], metric: str, key: str, columns: tuple[str, ...]
) -> list[str]:
    """One table row per camera: ``metric``'s agreement (``key``: against the full
    reference or the other cameras') in each analysis of ``columns``, or a dash where it
    has too few pairs."""
    rows = []
    for name, cam in result["cameras"].items():
        cells = []
        for label in columns:
            fr = (cam[label].get(key) or {}).get(metric)
            cells.append(f"{'-':^28}" if not fr or fr["n"] < MIN_PAIRS else _fmt(fr))
        rule = cam["frame_model"].get("stance_timing") == "rule"
        rows.append(
            f"    {name:7} " + " | ".join(cells) + (" (stance timed by the rule)" if rule else "")
        )
    return rows


def _fmt(fr: dict[str, float]) -> str:
    return f"{fr['rmse_deg']:5.1f} / {fr['bias_deg']:+5.1f} / {fr['r']:+.2f} ({fr['n']:3d})"


if __name__ == "__main__":
    sys.exit(main())
