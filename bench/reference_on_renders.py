"""The real-video check of the frame model, run on renders where the truth is known.

Usage::

    PYOPENGL_PLATFORM=osmesa python -m bench.reference_on_renders --out DIR [--n 10]

``bench/real_video_agreement.py --verify-frame-model`` verifies a frame-model target when
its per-frame values are closer (RMSE) than the geometric angles to a reference
triangulated from the OTHER lab cameras' MediaPipe landmarks, on every camera. That
reference carries MediaPipe's own landmark bias, which the model was trained to remove.
This benchmark asks whether such a check can tell that the model is closer to the
truth, by running it on synthetic bodies:

1. per body (drawn as :func:`screener_synth.sets.corpus_specs` draws bodies, looks and
   planted faults; the task alternates single-leg squat and jog in place), the SAME
   motion is rendered from three cameras placed like the lab's usable ones
   (:data:`LAB_PLACEMENTS`: yaw, lens height and horizontal distance to the pelvis, each
   looking at the pelvis, portrait, level; the field of view fitted to frame the body);
2. each camera is analysed by the screener with the true task, side and view, the
   frame model off (geometric angles) and with every target corrected (research
   setting), with the envelope's refusals opened as in the real check;
3. each camera's leave-one-camera-out reference is triangulated from the two others'
   MediaPipe landmarks with the exact synthetic projections, low-passed and read with
   :func:`bench.multiview.reference_angles`, with the real check's own functions; a
   reference from all three cameras and one from the TRUE joint centres are made too;
4. per camera and metric, on weight-bearing frames (the truth's ``in_stance``), the RMSE
   of the geometric and model angles against the truth and against the reference, the
   reference's own error, and the check's verdict against the truth's verdict.

Outputs in ``--out``: ``clips/`` (videos, landmarks, truth; reused on a re-run),
``results.json`` and ``results.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict, final

import numpy as np
import numpy.typing as npt
import pandas as pd

from bench.multiview import Camera, reference_angles
from screener.result import to_jsonable

if TYPE_CHECKING:
    from screener.config import AnalysisConfig, SideChoice
    from screener.keypoints import PoseSequence
    from screener_synth.body import AnnyBody, PosedBody
    from screener_synth.clips import ClipSpec
    from screener_synth.geometry import PinholeCamera

LOGGER = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
#: The side of the subject a camera films.
View = Literal["anterior", "posterior"]

#: The synthetic world's vertical (anny: +X the subject's left, +Y posterior, +Z up).
UP = np.array([0.0, 0.0, 1.0])
#: Upright frame size (the corpus' portrait frames) and frame rate of the renders.
FRAME_SIZE = (360, 640)
FPS = 30.0
#: Seed of the drawn bodies: none of the corpus splits' (1000, 2000, 3000).
DEFAULT_SEED = 1919
#: The body's extremes stay within this fraction of the half-frame from the centre.
FRAME_MARGIN = 0.85
#: The compared frame metrics and their truth / screener columns (as the real check).
METRICS: dict[str, tuple[str, ...]] = {
    "pelvic_obliquity_deg": ("pelvic_obliquity_deg",),
    "knee_fppa_deg": ("left_knee_fppa_deg", "right_knee_fppa_deg"),
    "hip_adduction_deg": ("left_hip_adduction_deg", "right_hip_adduction_deg"),
}
#: Series compared per camera: the screener's two readings and the three references.
SERIES = ("geometric", "model", "truth", "ref_loo", "ref_all", "ref_joint_centres")
#: (a, b) pairs whose agreement (a - b) is reported.
PAIRS = (
    ("geometric", "truth"),
    ("model", "truth"),
    ("geometric", "ref_loo"),
    ("model", "ref_loo"),
    ("geometric", "ref_all"),
    ("model", "ref_all"),
    ("ref_loo", "truth"),
    ("ref_all", "truth"),
    ("ref_joint_centres", "truth"),
)
JOINTS = tuple(f"{s}_{p}" for s in ("left", "right") for p in ("shoulder", "hip", "knee", "ankle"))


@dataclass(frozen=True)
class LabPlacement:
    """Where a lab camera stands relative to the subject's pelvis.

    Parameters
    ----------
    name
        The lab camera's name.
    view
        ``anterior`` or ``posterior``.
    yaw_deg
        Horizontal angle from the subject's anterior axis to the camera, positive toward
        the subject's left (0 straight in front, +-180 straight behind).
    lens_height_m
        Lens height above the floor.
    distance_m
        Horizontal distance from the lens to the mid-hip.
    """

    name: str
    view: View
    yaw_deg: float
    lens_height_m: float
    distance_m: float


#: The real lab's usable cameras (docs/real_video_agreement.md, "Where the cameras stand").
LAB_PLACEMENTS = (
    LabPlacement("cam01", "posterior", 121.0, 1.94, 1.96),
    LabPlacement("cam02", "posterior", -164.0, 1.73, 2.64),
    LabPlacement("cam04", "anterior", 5.0, 1.92, 4.08),
)


# --------------------------------------------------------------------------- result types


class Agreement(TypedDict):
    """How closely one series follows another (:func:`agreement`).

    Attributes
    ----------
    n
        Frames where both are finite.
    rmse_deg, bias_deg, sd_deg
        RMSE, mean and SD of ``a - b`` over those frames (NaN when ``n`` is 0).
    """

    n: int
    rmse_deg: float
    bias_deg: float
    sd_deg: float


class CameraVerdict(TypedDict):
    """Whether the model reads closer than the geometric angle on one camera.

    Attributes
    ----------
    check_closer
        Closer (RMSE) to the leave-one-camera-out reference.
    truth_closer
        Closer (RMSE) to the truth.
    all_closer
        Closer (RMSE) to the reference from every camera.
    centred_closer
        Closer to the leave-one-camera-out reference by the SD of the differences.
    """

    check_closer: bool
    truth_closer: bool
    all_closer: bool
    centred_closer: bool


class Verdict(TypedDict):
    """The real check's verdict and the truth's on one metric (:func:`verdicts`).

    Attributes
    ----------
    cameras
        Camera -> :class:`CameraVerdict`.
    check
        The model is closer to the leave-one-out reference on every camera (and there
        are enough cameras).
    truth
        The same against the truth.
    agree
        ``check == truth``.
    check_all_cameras_reference
        The check with the reference from every camera (before session 16).
    check_centred
        The check on the SD of the differences.
    """

    cameras: dict[str, CameraVerdict]
    check: bool
    truth: bool
    agree: bool
    check_all_cameras_reference: bool
    check_centred: bool


class PooledMetric(TypedDict):
    """One metric's figures over every body's weight-bearing frames.

    Attributes
    ----------
    figures
        Camera -> pair name (``"model-ref_loo"`` ...) -> :class:`Agreement`.
    verdict
        :func:`verdicts` of ``figures``.
    shared
        Camera -> :func:`shared_error`.
    """

    figures: dict[str, dict[str, Agreement]]
    verdict: Verdict
    shared: dict[str, dict[str, float]]


class AgreementRate(TypedDict):
    """How often, over the bodies judged, the check's verdicts match the truth's.

    Attributes
    ----------
    bodies_judged
        Bodies with a camera where the model was applied.
    verdicts_agree, check_verified, truth_verified
        Bodies where the check's verdict is the truth's, where the check verifies, where
        the truth does.
    check_all3_verified, check_all3_agrees
        The same with the reference from every camera.
    check_centred_verified, check_centred_agrees
        The same for the centred check.
    camera_directions_agree, camera_cases
        Cameras where the check and the truth say the same direction, out of
        ``camera_cases``.
    """

    bodies_judged: int
    verdicts_agree: int
    check_verified: int
    check_all3_verified: int
    check_all3_agrees: int
    check_centred_verified: int
    check_centred_agrees: int
    truth_verified: int
    camera_directions_agree: int
    camera_cases: int


class Summary(TypedDict):
    """:func:`summarise`'s result.

    Attributes
    ----------
    per_body
        Body -> metric -> :class:`Verdict`.
    pooled
        Metric -> :class:`PooledMetric`.
    agreement
        Metric -> :class:`AgreementRate`.
    """

    per_body: dict[str, dict[str, Verdict]]
    pooled: dict[str, PooledMetric]
    agreement: dict[str, AgreementRate]


class MetricResult(TypedDict):
    """One camera's series and figures of one metric.

    Attributes
    ----------
    values
        Series (``geometric``, ``model``, ``truth``, references) -> its values on the
        weight-bearing frames (:func:`metric_series`); left out of ``results.json``.
    figures
        Pair name (``"model-ref_loo"`` ...) -> :class:`Agreement` (:func:`compare`).
    """

    values: NotRequired[dict[str, list[float]]]
    figures: dict[str, Agreement]


class CameraResult(TypedDict):
    """One camera's part of :class:`BodyResult`.

    Attributes
    ----------
    analysis
        Configuration (``geometric``, ``model``) -> :class:`AnalysisInfo`, or
        :class:`AnalysisError` when the screener failed.
    metrics
        Metric -> :class:`MetricResult`; empty unless every configuration's analysis
        succeeded.
    """

    analysis: dict[str, AnalysisInfo | AnalysisError]
    metrics: dict[str, MetricResult]


class BodyResult(TypedDict):
    """:func:`run_body`'s result for one rendered body.

    Attributes
    ----------
    task, stance_side
        The clip's task and stance side (None: not single-leg).
    n_frames
        Frames rendered.
    labels_mirrored
        Whether the triangulated body's left/right labels were swapped.
    frames_per_camera_consistent
        Per camera, the frames it tracked the same person as the others.
    checks
        :func:`geometry_checks`.
    cameras
        Camera -> :class:`CameraResult`.
    """

    task: str
    stance_side: str | None
    n_frames: int
    labels_mirrored: bool
    frames_per_camera_consistent: list[int]
    checks: GeometryChecks
    cameras: dict[str, CameraResult]


class Results(TypedDict):
    """What ``main`` writes to ``results.json`` (and :func:`format_markdown` reads).

    Attributes
    ----------
    settings
        The run's arguments, frame rate, frame size and camera placements.
    bodies
        Body -> :func:`run_body`'s result (without the per-frame series in the file).
    summary
        :func:`summarise` of the bodies.
    """

    settings: dict[str, Any]
    bodies: dict[str, BodyResult]
    summary: Summary


@final
class AnalysisInfo(TypedDict):
    """What :func:`analyse` reports besides the frames.

    Attributes
    ----------
    stance_timing
        ``default`` or ``rule`` (the stance timing the analysis used).
    frame_model_targets
        The targets the frame model corrected.
    applicability
        The frame model's applicability distance and limit, None without a check.
    """

    stance_timing: str
    frame_model_targets: list[str]
    applicability: dict[str, float] | None


@final
class AnalysisError(TypedDict):
    """A camera's analysis that failed: ``error`` is the exception's type and message."""

    error: str


class References(TypedDict):
    """:func:`triangulated_references`'s result.

    Attributes
    ----------
    all
        Reference angles from every camera.
    loo
        Camera index -> reference angles from the other cameras.
    members
        ``(n_cameras, n_frames)``: the cameras tracking the same person per frame.
    points
        ``(n_frames, n_landmarks, 3)``: the smoothed all-camera 3D landmarks.
    error_px, used
        ``(n_cameras, n_frames, n_landmarks)``: the triangulation's reprojection errors
        and the views it used.
    labels_mirrored
        Whether the triangulated body's left/right labels were swapped.
    """

    all: pd.DataFrame
    loo: dict[int, pd.DataFrame]
    members: BoolArray
    points: FloatArray
    error_px: FloatArray
    used: BoolArray
    labels_mirrored: bool


class CameraCheck(TypedDict):
    """One camera's part of :class:`GeometryChecks`.

    Attributes
    ----------
    triangulation_median_px
        Median reprojection error of the joints used.
    landmark_to_joint_centre_px
        Joint -> median image distance from MediaPipe's landmark to the projected true
        joint centre.
    """

    triangulation_median_px: float
    landmark_to_joint_centre_px: dict[str, float]


class GeometryChecks(TypedDict):
    """:func:`geometry_checks`'s result.

    Attributes
    ----------
    cameras
        Camera -> :class:`CameraCheck`.
    convention_max_px
        Largest difference between the synthetic and :class:`Camera`'s projections.
    hip_3d_error_cm
        Triangulated hips' median distance to the true hip centres.
    """

    cameras: dict[str, CameraCheck]
    convention_max_px: float
    hip_3d_error_cm: float


# --------------------------------------------------------------------------- geometry


def camera_position(placement: LabPlacement, pelvis_m: FloatArray) -> FloatArray:
    """The lens position of ``placement`` around a subject whose mid-hip is ``pelvis_m``.

    The subject faces -Y with +X on their left (anny's world), so the horizontal
    direction from the pelvis to the camera is ``(sin yaw, -cos yaw)``.
    """
    yaw = np.radians(placement.yaw_deg)
    horizontal = np.array([np.sin(yaw), -np.cos(yaw), 0.0]) * placement.distance_m
    position = np.asarray(pelvis_m, dtype=float) + horizontal
    position[2] = placement.lens_height_m
    return position


def _xyz(point: FloatArray) -> tuple[float, float, float]:
    """A 3D point as the ``(x, y, z)`` tuple :class:`PinholeCamera` takes."""
    return (float(point[0]), float(point[1]), float(point[2]))


def fitted_yfov_deg(
    position: FloatArray, target: FloatArray, points: FloatArray, size: tuple[int, int]
) -> float:
    """The vertical field of view that frames ``points`` within :data:`FRAME_MARGIN`.

    Parameters
    ----------
    position, target
        The camera's lens and the point it looks at (level, no roll).
    points
        ``(..., 3)`` world points to keep in the frame (the body's vertices).
    size
        ``(width, height)`` of the upright frame.
    """
    from screener_synth.geometry import PinholeCamera

    cam = PinholeCamera(_xyz(position), _xyz(target), 50.0, size[0], size[1])
    pose = cam.pose()
    local = (np.asarray(points, dtype=float) - pose[:3, 3]) @ pose[:3, :3]
    depth = -local[..., 2]
    aspect = size[0] / size[1]
    need = max(
        float(np.max(np.abs(local[..., 1] / depth))),
        float(np.max(np.abs(local[..., 0] / depth))) / aspect,
    )
    return float(2.0 * np.degrees(np.arctan(need / FRAME_MARGIN)))


def pinhole_to_camera(name: str, pinhole: PinholeCamera) -> Camera:
    """A :class:`bench.multiview.Camera` (OpenCV) projecting as a synthetic camera does.

    Parameters
    ----------
    name
        The camera's name.
    pinhole
        A :class:`screener_synth.geometry.PinholeCamera` (OpenGL: looks along its -Z,
        y up; pixels x right, y down, continuous coordinates).

    Returns
    -------
    Camera
        Square pixels, focal length ``(height / 2) / tan(yfov / 2)``, principal point at
        the frame's centre, no distortion; ``R = diag(1, -1, -1) @ R_gl^T`` (OpenCV's
        camera frame looks along +z with y down), ``t = -R @ position``.
    """
    pose = pinhole.pose()
    rotation = np.diag([1.0, -1.0, -1.0]) @ pose[:3, :3].T
    focal = 0.5 * pinhole.height / np.tan(np.radians(pinhole.yfov_deg) / 2.0)
    matrix = np.array(
        [[focal, 0.0, 0.5 * pinhole.width], [0.0, focal, 0.5 * pinhole.height], [0.0, 0.0, 1.0]]
    )
    return Camera(
        name=name,
        size_px=(int(pinhole.width), int(pinhole.height)),
        matrix=matrix,
        distortion=np.zeros(5),
        rotation=rotation,
        translation_m=-rotation @ pose[:3, 3],
    )


# --------------------------------------------------------------------------- statistics


def agreement(a: FloatArray, b: FloatArray) -> Agreement:
    """RMSE, bias (``a - b``), SD of ``a - b`` (the RMSE once the bias is removed) and n
    over the pairs where both are finite."""
    from bench.real_video_agreement import agreement as paired

    fig = paired(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    rmse, bias = fig["rmse_deg"], fig["bias_deg"]
    return {
        "n": int(fig["n"]),
        "rmse_deg": rmse,
        "bias_deg": bias,
        "sd_deg": float(np.sqrt(max(rmse**2 - bias**2, 0.0))) if fig["n"] else float("nan"),
    }


def verdicts(cameras: Mapping[str, Mapping[str, Agreement]], min_cameras: int = 2) -> Verdict:
    """The real check's verdict and the truth's, from per-camera agreements.

    Parameters
    ----------
    cameras
        Camera -> pair name (``"model-ref_loo"`` ...) -> :func:`agreement`; only the
        cameras the model was applied to.
    min_cameras
        Cameras needed for a verdict (the real check's ``MIN_VERIFYING_CAMERAS``).

    Returns
    -------
    Verdict
        ``check``: the model is closer to the leave-one-out reference than the geometric
        angle on every camera (and there are ``min_cameras``); ``truth``: the same
        against the truth; ``agree``; ``check_all_cameras_reference``: the check with the
        reference from every camera (before session 16); ``check_centred``: the check on
        the SD of the differences (each series' constant offset from the reference
        ignored); per camera whether each says closer.
    """
    per_camera: dict[str, CameraVerdict] = {}
    for name, pairs in cameras.items():
        per_camera[name] = {
            "check_closer": bool(
                pairs["model-ref_loo"]["rmse_deg"] < pairs["geometric-ref_loo"]["rmse_deg"]
            ),
            "truth_closer": bool(
                pairs["model-truth"]["rmse_deg"] < pairs["geometric-truth"]["rmse_deg"]
            ),
            "all_closer": bool(
                pairs["model-ref_all"]["rmse_deg"] < pairs["geometric-ref_all"]["rmse_deg"]
            ),
            "centred_closer": bool(
                pairs["model-ref_loo"]["sd_deg"] < pairs["geometric-ref_loo"]["sd_deg"]
            ),
        }
    enough = len(per_camera) >= min_cameras
    check = enough and all(c["check_closer"] for c in per_camera.values())
    truth = enough and all(c["truth_closer"] for c in per_camera.values())
    check_all = enough and all(c["all_closer"] for c in per_camera.values())
    centred = enough and all(c["centred_closer"] for c in per_camera.values())
    return {
        "cameras": per_camera,
        "check": bool(check),
        "truth": bool(truth),
        "agree": bool(check == truth),
        "check_all_cameras_reference": bool(check_all),
        "check_centred": bool(centred),
    }


def metric_series(
    series: dict[str, pd.DataFrame], truth: pd.DataFrame, metric: str
) -> dict[str, FloatArray]:
    """Each series' values of ``metric`` on weight-bearing frames, legs pooled.

    A leg's metrics are taken on the frames its foot bears weight (the truth's
    ``{side}_in_stance``); pelvic obliquity on the frames with a foot down.
    """
    out: dict[str, list[FloatArray]] = {k: [] for k in series}
    for col in METRICS[metric]:
        side = col.split("_")[0] if col.startswith(("left_", "right_")) else None
        if side:
            sel = truth[f"{side}_in_stance"].to_numpy() > 0
        else:
            sel = (truth["left_in_stance"].to_numpy() > 0) | (
                truth["right_in_stance"].to_numpy() > 0
            )
        for key, frame in series.items():
            values = frame[col].to_numpy(float) if col in frame else np.full(len(sel), np.nan)
            out[key].append(values[sel])
    pooled = {k: np.concatenate(v) for k, v in out.items()}
    common = np.logical_and.reduce([np.isfinite(v) for v in pooled.values()])
    return {k: np.where(common, v, np.nan) for k, v in pooled.items()}


def shared_error(values: dict[str, FloatArray]) -> dict[str, float]:
    """Pearson r of the reference's error with each reading's error (all against truth).

    A reference whose error follows the geometric angle's (MediaPipe's landmark bias in
    both) rewards the geometric angle, whatever the model does.
    """
    ref = values["ref_loo"] - values["truth"]
    out: dict[str, float] = {}
    for key in ("geometric", "model"):
        err = values[key] - values["truth"]
        ok = np.isfinite(ref) & np.isfinite(err)
        enough = ok.sum() > 2 and np.std(ref[ok]) > 0 and np.std(err[ok]) > 0
        out[f"r_{key}_error_ref_error"] = (
            float(np.corrcoef(err[ok], ref[ok])[0, 1]) if enough else float("nan")
        )
    return out


def compare(values: dict[str, FloatArray]) -> dict[str, Agreement]:
    """:func:`agreement` of every pair of :data:`PAIRS`, keyed ``"a-b"``."""
    return {f"{a}-{b}": agreement(values[a], values[b]) for a, b in PAIRS}


# --------------------------------------------------------------------------- specs


def draw_specs(n: int, seed: int, tasks: tuple[str, ...] = ("sls", "jog")) -> list[ClipSpec]:
    """``n`` clips with bodies, looks and planted faults drawn as the corpus draws them.

    The task cycles through ``tasks``: single-leg squat (two repetitions, alternating
    stance side when the draw gave none), jog in place (3 s) or quiet standing with a
    weight shift (3 s, like the lab's subject); 30 fps, portrait 360 x 640, truth read
    through a level frontal camera. The drawn camera only sets the distance of that
    truth camera (as in the corpus); the render cameras are :data:`LAB_PLACEMENTS`.
    """
    from screener_synth.sets import corpus_specs

    specs = []
    for k, spec in enumerate(corpus_specs("val", n, seed=seed)):
        task = tasks[k % len(tasks)]
        side = None
        if task == "sls":
            side = spec.stance_side or ("left" if k % 4 == 0 else "right")
        specs.append(
            dataclasses.replace(
                spec,
                name=f"refsim{k:02d}_{task}{'_' + side if side else ''}",
                task=task,
                stance_side=side,
                view="anterior",
                fps=FPS,
                orientation="portrait",
                frame_size=FRAME_SIZE,
                duration_s=3.0,
                n_reps=2,
                rep_s=min(spec.rep_s, 1.5),
                truth_view="level_frontal",
                rotation_meta=False,
            )
        )
    return specs


# --------------------------------------------------------------------------- rendering


def render_lab(spec: ClipSpec, folder: Path) -> None:
    """Render ``spec``'s motion from every lab camera; store landmarks, truth and cameras.

    Writes into ``folder``: ``{camera}.mp4`` and ``{camera}.keypoints.npz`` (MediaPipe
    through the screener's pose stage), ``truth_{view}.csv`` (the truth through a level
    frontal camera on each side), ``joints.npz`` (the true 3D joint centres) and
    ``cameras.json``.
    """
    from screener.config import PoseConfig
    from screener.pose import estimate_pose
    from screener_synth.body import AnnyBody
    from screener_synth.clips import build_motion
    from screener_synth.corpus import save_keypoints_compact
    from screener_synth.truth import truth_frames

    folder.mkdir(parents=True, exist_ok=True)
    motion = build_motion(spec)
    body = AnnyBody(spec.phenotype)
    posed = body.pose(motion)
    hips = 0.5 * (posed.joints["left_hip"] + posed.joints["right_hip"])
    pelvis = np.median(hips, axis=0)
    for view in ("anterior", "posterior"):
        camera = _level_truth_camera(spec, view, hips, body.stature)
        truth_frames(motion, posed, camera).to_csv(folder / f"truth_{view}.csv", index=False)
    np.savez_compressed(folder / "joints.npz", **{n: posed.joints[n] for n in JOINTS})
    cameras = {}
    sample = posed.vertices[::3, ::9]
    for placement in LAB_PLACEMENTS:
        pinhole = _lab_pinhole(placement, pelvis, sample)
        video = folder / f"{placement.name}.mp4"
        _render_video(spec, body, posed, pinhole, placement.view, video)
        sequence = estimate_pose(video, PoseConfig(), None)
        save_keypoints_compact(sequence, folder / f"{placement.name}.keypoints.npz")
        cameras[placement.name] = {
            **dataclasses.asdict(placement),
            "position_m": [float(c) for c in pinhole.position],
            "target_m": [float(c) for c in pinhole.target],
            "yfov_deg": pinhole.yfov_deg,
            "size_px": [pinhole.width, pinhole.height],
        }
    meta = {
        "spec": dataclasses.asdict(spec),
        "stature_m": float(body.stature),
        "n_frames": int(motion.n_frames),
        "cameras": cameras,
    }
    (folder / "cameras.json").write_text(json.dumps(to_jsonable(meta), indent=1))


def _lab_pinhole(
    placement: LabPlacement, pelvis: FloatArray, vertices: FloatArray
) -> PinholeCamera:
    from screener_synth.geometry import PinholeCamera

    position = camera_position(placement, pelvis)
    yfov = fitted_yfov_deg(position, pelvis, vertices, FRAME_SIZE)
    return PinholeCamera(_xyz(position), _xyz(pelvis), yfov, FRAME_SIZE[0], FRAME_SIZE[1])


def _level_truth_camera(
    spec: ClipSpec, view: View, hips: FloatArray, stature: float
) -> PinholeCamera:
    from screener_synth.clips import level_frontal_camera

    hip_z = float(np.median(hips[:, 2]))
    return level_frontal_camera(dataclasses.replace(spec, view=view), hips[:, :2], stature, hip_z)


def _render_video(
    spec: ClipSpec,
    body: AnnyBody,
    posed: PosedBody,
    pinhole: PinholeCamera,
    view: View,
    video: Path,
) -> None:
    """Encode the posed body as ``pinhole`` sees it, in a room as :func:`render_clip`'s."""
    from screener_synth.clips import with_sensor_noise
    from screener_synth.encode import write_h264
    from screener_synth.render import Look, SceneRenderer, vertex_colours

    os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
    look = Look(**spec.look)
    colours = vertex_colours(
        body.labels, body.dominant_bone, body.neutral_vertices, body.neutral_hip_z, look
    )
    pelvis = 0.5 * (posed.joints["left_hip"] + posed.joints["right_hip"])
    far_y = pelvis[:, 1].max() + 1.2 if view == "anterior" else pelvis[:, 1].min() - 1.2
    room = (float(pelvis[:, 0].mean()), float(far_y))
    renderer = SceneRenderer(body.faces, colours, pinhole, room, look, spec.seed)
    try:
        frames = (renderer.render(v) for v in posed.vertices)
        write_h264(
            video,
            with_sensor_noise(frames, look.sensor_noise, spec.seed),
            spec.fps,
            (pinhole.width, pinhole.height),
        )
    finally:
        renderer.close()


# --------------------------------------------------------------------------- analysis


def analysis_configs(scratch: Path) -> dict[str, AnalysisConfig]:
    """The geometric and the model's configuration, the envelope's refusals opened."""
    from bench.real_video_agreement import open_envelope
    from screener.config import AnalysisConfig

    config = AnalysisConfig(cache_dir=None)
    capture = config.capture.model_copy(
        update={"envelope_path": open_envelope(config.capture.envelope_path, scratch)}
    )
    config = config.model_copy(update={"capture": capture})
    return {
        "geometric": config.model_copy(update={"corrections_path": None, "frame_model_path": None}),
        "model": config.model_copy(
            update={"corrections_path": None, "frame_model_include_unverified": True}
        ),
    }


def analyse(
    raw: PoseSequence, spec: ClipSpec, view: View, config: AnalysisConfig
) -> tuple[pd.DataFrame, AnalysisInfo]:
    """The screener's frames for one camera with the true task, side and view.

    Where the default stance timing finds no complete phase, the rule's is used (as the
    real check does); only frame values are compared.
    """
    from bench.real_video_agreement import FALLBACK_TASK
    from screener.errors import TooFewEventsError
    from screener.pipeline import analyze_pose

    # a standing subject is analysed as the real check analyses the lab's (as a jog)
    task = FALLBACK_TASK if spec.task == "stand" else spec.task
    side = _side_choice(spec.stance_side)
    timing = "default"
    try:
        res = analyze_pose(raw, config=config, task=task, side=side, view=view)
    except TooFewEventsError:
        events = config.events.model_copy(update={"event_model_path": None})
        rule = config.model_copy(update={"events": events})
        res = analyze_pose(raw, config=rule, task=task, side=side, view=view)
        timing = "rule"
    fm = res.summary["provenance"].get("frame_model") or {}
    info: AnalysisInfo = {
        "stance_timing": timing,
        "frame_model_targets": list(fm.get("targets_corrected", [])),
        "applicability": fm.get("applicability"),
    }
    frames = res.frames.set_index("frame").reindex(np.arange(raw.n_frames))
    return frames.reset_index(drop=True), info


def _side_choice(stance_side: str | None) -> SideChoice:
    """A clip's stance side as :func:`screener.pipeline.analyze_pose`'s ``side``.

    None (or empty) is ``auto``; anything but ``left`` or ``right`` otherwise is a
    ``ValueError``.
    """
    if stance_side == "left":
        return "left"
    if stance_side == "right":
        return "right"
    if not stance_side:
        return "auto"
    raise ValueError(f"unknown stance side: {stance_side!r}")


def triangulated_references(
    poses: list[PoseSequence],
    cameras: list[Camera],
    fps: float,
    max_error_px: float,
    cutoff_hz: float,
) -> References:
    """The all-camera and leave-one-camera-out references, with the real check's code.

    Returns
    -------
    References
        ``all``: reference angles from every camera (robust, ``max_error_px``);
        ``loo``: camera index -> angles from the others; ``members``; ``points`` (the
        smoothed all-camera 3D landmarks); ``error_px`` and ``used`` of the
        triangulation; ``labels_mirrored``.
    """
    from bench.real_video_agreement import (
        anatomical_labels,
        associate,
        reference_from_cameras,
        smooth_paths,
        triangulate_person,
    )
    from screener.landmarks import INDEX

    members, option, _ = associate(poses, cameras, 2 * max_error_px)
    tri = triangulate_person(poses, cameras, members, option, max_error_px)
    points, _ = smooth_paths(tri["points"], fps, cutoff_hz)
    mid_hip = 0.5 * (points[:, INDEX["left_hip"]] + points[:, INDEX["right_hip"]])
    points, option, _, mirrored = anatomical_labels(points, option, members, mid_hip, UP)
    everything = reference_angles({n: points[:, INDEX[n]] for n in JOINTS}, UP)
    loo: dict[int, pd.DataFrame] = {}
    for c in range(len(cameras)):
        others = [k for k in range(len(cameras)) if k != c]
        seen = (members[others].sum(axis=0) >= 2) & members[c]
        loo[c] = reference_from_cameras(
            poses, cameras, members & seen, option, others, fps, cutoff_hz, mirrored
        )
        loo[c].loc[~seen] = np.nan
    return {
        "all": everything,
        "loo": loo,
        "members": members,
        "points": points,
        "error_px": tri["error_px"],
        "used": tri["used"],
        "labels_mirrored": mirrored,
    }


def geometry_checks(
    cameras: list[Camera],
    pinholes: list[PinholeCamera],
    poses: list[PoseSequence],
    joints: dict[str, FloatArray],
    refs: References,
) -> GeometryChecks:
    """How well the camera conversion, the triangulation and MediaPipe fit the truth.

    ``convention_max_px``: the largest difference between the synthetic projection of
    the true joint centres and :class:`Camera`'s (0 when the conversion is right);
    ``triangulation_median_px``: each camera's median reprojection error of the joints
    used; ``landmark_to_joint_centre_px``: median image distance between MediaPipe's
    landmark and the projected true joint centre per joint; ``hip_3d_error_cm``: the
    triangulated hips' median distance to the true hip centres.
    """
    from screener.landmarks import INDEX

    cols = [INDEX[n] for n in JOINTS]
    per_camera: dict[str, CameraCheck] = {}
    worst = 0.0
    for c, (cam, pin, pose) in enumerate(zip(cameras, pinholes, poses, strict=True)):
        per_joint: dict[str, float] = {}
        for name in JOINTS:
            a, b = cam.project(joints[name]), pin.project(joints[name])
            worst = max(worst, float(np.nanmax(np.abs(a - b))))
            n = min(len(a), pose.n_frames)
            d = np.linalg.norm(pose.image_xy_px[:n, INDEX[name]] - a[:n], axis=1)
            per_joint[name] = round(float(np.nanmedian(d)), 1)
        err = np.where(refs["used"][c][:, cols], refs["error_px"][c][:, cols], np.nan)
        per_camera[cam.name] = {
            "triangulation_median_px": round(float(np.nanmedian(err)), 2),
            "landmark_to_joint_centre_px": per_joint,
        }
    hips = []
    for side in ("left", "right"):
        tri = refs["points"][:, INDEX[f"{side}_hip"]]
        hips.append(np.linalg.norm(tri - joints[f"{side}_hip"][: len(tri)], axis=1))
    return {
        "cameras": per_camera,
        "convention_max_px": worst,
        "hip_3d_error_cm": round(100 * float(np.nanmedian(np.concatenate(hips))), 1),
    }


def run_body(
    folder: Path, configs: dict[str, AnalysisConfig], args: argparse.Namespace
) -> BodyResult:
    """Everything for one rendered body: per camera and metric the series and figures."""
    from screener.keypoints import PoseSequence
    from screener_synth.geometry import PinholeCamera

    meta = json.loads((folder / "cameras.json").read_text())
    spec = _spec_from_meta(meta["spec"])
    names = [p.name for p in LAB_PLACEMENTS]
    pinholes = [
        PinholeCamera(
            tuple(meta["cameras"][n]["position_m"]),
            tuple(meta["cameras"][n]["target_m"]),
            meta["cameras"][n]["yfov_deg"],
            *meta["cameras"][n]["size_px"],
        )
        for n in names
    ]
    cameras = [pinhole_to_camera(n, p) for n, p in zip(names, pinholes, strict=True)]
    poses = [PoseSequence.load(folder / f"{n}.keypoints.npz") for n in names]
    with np.load(folder / "joints.npz") as data:
        joints = {k: data[k] for k in data.files}
    truth = {v: pd.read_csv(folder / f"truth_{v}.csv") for v in ("anterior", "posterior")}
    refs = triangulated_references(poses, cameras, FPS, args.max_error_px, args.cutoff_hz)
    jc_ref = reference_angles(joints, UP)
    out: BodyResult = {
        "task": spec.task,
        "stance_side": spec.stance_side,
        "n_frames": int(meta["n_frames"]),
        "labels_mirrored": refs["labels_mirrored"],
        "frames_per_camera_consistent": refs["members"].sum(axis=1).tolist(),
        "checks": geometry_checks(cameras, pinholes, poses, joints, refs),
        "cameras": {},
    }
    for c, placement in enumerate(LAB_PLACEMENTS):
        frames: dict[str, pd.DataFrame] = {}
        info: dict[str, AnalysisInfo | AnalysisError] = {}
        for label, cfg in configs.items():
            try:
                frames[label], info[label] = analyse(poses[c], spec, placement.view, cfg)
            except Exception as exc:  # noqa: BLE001 - one camera's failure is a result
                LOGGER.warning("%s %s %s: %s", folder.name, placement.name, label, exc)
                info[label] = {"error": f"{type(exc).__name__}: {exc}"}
        entry: CameraResult = {"analysis": info, "metrics": {}}
        if len(frames) == len(configs):
            series = {
                "geometric": frames["geometric"],
                "model": frames["model"],
                "truth": truth[placement.view],
                "ref_loo": refs["loo"][c],
                "ref_all": refs["all"],
                "ref_joint_centres": jc_ref,
            }
            for metric in METRICS:
                values = metric_series(series, truth[placement.view], metric)
                entry["metrics"][metric] = {
                    "values": {k: v.tolist() for k, v in values.items()},
                    "figures": compare(values),
                }
        out["cameras"][placement.name] = entry
    return out


def _spec_from_meta(data: dict[str, Any]) -> ClipSpec:
    from screener_synth import kinematics as kin
    from screener_synth.clips import CameraSpec, ClipSpec

    fields = dict(data)
    fields["camera"] = CameraSpec(**data["camera"])
    fields["faults"] = {s: kin.SideFaults(**f) for s, f in data["faults"].items()}
    if fields.get("frame_size") is not None:
        fields["frame_size"] = tuple(fields["frame_size"])
    return ClipSpec(**fields)


# --------------------------------------------------------------------------- summary


def model_applied(entry: CameraResult, metric: str) -> bool:
    """Whether the model corrected every target of ``metric`` on this camera."""
    from screener.frame_model import TARGET_GROUPS

    model = entry["analysis"].get("model")
    targets = model["frame_model_targets"] if model and "frame_model_targets" in model else []
    return metric in entry["metrics"] and set(TARGET_GROUPS[metric]) <= set(targets)


def summarise(bodies: dict[str, BodyResult]) -> Summary:
    """Per body and pooled: per camera and metric the figures and both verdicts."""
    per_body: dict[str, dict[str, Verdict]] = {}
    pooled_values: dict[str, dict[str, dict[str, list[float]]]] = {}
    for name, body in bodies.items():
        per_body[name] = {}
        for metric in METRICS:
            applied: dict[str, dict[str, Agreement]] = {}
            for cam, entry in body["cameras"].items():
                if not model_applied(entry, metric):
                    continue
                applied[cam] = entry["metrics"][metric]["figures"]
                store = pooled_values.setdefault(metric, {}).setdefault(cam, {})
                for key, vals in entry["metrics"][metric]["values"].items():
                    store.setdefault(key, []).extend(vals)
            per_body[name][metric] = verdicts(applied)
    pooled: dict[str, PooledMetric] = {}
    for metric, cams in pooled_values.items():
        figures = {
            cam: compare({k: np.asarray(v, dtype=float) for k, v in vals.items()})
            for cam, vals in cams.items()
        }
        shared = {
            cam: shared_error({k: np.asarray(v, dtype=float) for k, v in vals.items()})
            for cam, vals in cams.items()
        }
        pooled[metric] = {"figures": figures, "verdict": verdicts(figures), "shared": shared}
    agreement_rate: dict[str, AgreementRate] = {}
    for metric in METRICS:
        rows = [per_body[b][metric] for b in per_body]
        judged = [r for r in rows if r["cameras"]]
        camera_verdicts = [c for r in judged for c in r["cameras"].values()]
        agreement_rate[metric] = {
            "bodies_judged": len(judged),
            "verdicts_agree": sum(r["agree"] for r in judged),
            "check_verified": sum(r["check"] for r in judged),
            "check_all3_verified": sum(r["check_all_cameras_reference"] for r in judged),
            "check_all3_agrees": sum(
                r["check_all_cameras_reference"] == r["truth"] for r in judged
            ),
            "check_centred_verified": sum(r["check_centred"] for r in judged),
            "check_centred_agrees": sum(r["check_centred"] == r["truth"] for r in judged),
            "truth_verified": sum(r["truth"] for r in judged),
            "camera_directions_agree": sum(
                c["check_closer"] == c["truth_closer"] for c in camera_verdicts
            ),
            "camera_cases": len(camera_verdicts),
        }
    return {"per_body": per_body, "pooled": pooled, "agreement": agreement_rate}


def format_markdown(result: Results) -> str:
    """The results as markdown tables.

    Parameters
    ----------
    result
        The results as ``main`` writes them to ``results.json``.
    """
    s = result["summary"]
    lines = [
        "# The frame model's real-video check, on renders",
        "",
        f"{len(result['bodies'])} bodies, cameras {', '.join(p.name for p in LAB_PLACEMENTS)}; "
        "RMSE / bias (a - b) in degrees, weight-bearing frames (truth's in_stance).",
        "",
        "## Pooled over bodies (cameras where the model was applied)",
        "",
        "| metric | camera | n | geo-truth | model-truth | geo-LOO | model-LOO | geo-all3 "
        "| model-all3 | LOO-truth | all3-truth | jointcentres-truth |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for metric, pooled in s["pooled"].items():
        for cam, fig in pooled["figures"].items():
            cells = [_cell(fig[f"{a}-{b}"]) for a, b in PAIRS]
            n = fig["geometric-truth"]["n"]
            lines.append(f"| {metric} | {cam} | {n} | " + " | ".join(cells) + " |")
        v = pooled["verdict"]
        lines.append(
            f"| {metric} | **verdict** | | check (closer to LOO on every camera): "
            f"**{v['check']}** | truth: **{v['truth']}** | check with all3: "
            f"{v['check_all_cameras_reference']} | centred check: {v['check_centred']} "
            "| | | | | |"
        )
    lines += [
        "",
        "Pearson r, pooled, of the LOO reference's error (reference - truth) with the "
        "geometric angle's error and with the model's:",
        "",
        "| metric | camera | r(geometric error, reference error) | r(model error, reference "
        "error) |",
        "|---|---|---|---|",
    ]
    for metric, pooled in s["pooled"].items():
        for cam, sh in pooled["shared"].items():
            lines.append(
                f"| {metric} | {cam} | {sh['r_geometric_error_ref_error']:+.2f} "
                f"| {sh['r_model_error_ref_error']:+.2f} |"
            )
    lines += [
        "",
        "## Verdicts per body",
        "",
        "check = model closer to the LOO reference than geometric on every camera; "
        "truth = model closer to the truth on every camera. Per camera: "
        "check/truth says closer (C/T, lower case = not closer).",
        "",
        "| body | task | " + " | ".join(METRICS) + " |",
        "|---|---|" + "---|" * len(METRICS),
    ]
    for name, per_metric in s["per_body"].items():
        cells = []
        for metric in METRICS:
            v = per_metric[metric]
            cams = " ".join(
                f"{c}:{'C' if d['check_closer'] else 'c'}{'T' if d['truth_closer'] else 't'}"
                for c, d in v["cameras"].items()
            )
            cells.append(f"check {_yn(v['check'])} truth {_yn(v['truth'])} ({cams})")
        lines.append(f"| {name} | {result['bodies'][name]['task']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## How often the check agrees with the truth",
        "",
        "| metric | bodies judged | verdicts agree | check verified | truth verified "
        "| per-camera directions agree | all3 check verified | all3 check agrees "
        "| centred check verified | centred check agrees |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for metric, a in s["agreement"].items():
        lines.append(
            f"| {metric} | {a['bodies_judged']} | {a['verdicts_agree']} | "
            f"{a['check_verified']} | {a['truth_verified']} | "
            f"{a['camera_directions_agree']}/{a['camera_cases']} | "
            f"{a['check_all3_verified']} | {a['check_all3_agrees']} | "
            f"{a['check_centred_verified']} | {a['check_centred_agrees']} |"
        )
    lines += ["", "## Geometry checks per body", ""]
    lines.append(
        "| body | convention max px | triangulation median px (cam01/02/04) | hip 3D error cm "
        "| MediaPipe hip to joint centre px (L/R, cam01/02/04) | model applied (po/fppa/add) |"
    )
    lines.append("|---|---|---|---|---|---|")
    for name, body in result["bodies"].items():
        ch = body["checks"]
        tri = "/".join(f"{c['triangulation_median_px']:.1f}" for c in ch["cameras"].values())
        hip = " ".join(
            f"{c['landmark_to_joint_centre_px']['left_hip']:.0f}/"
            f"{c['landmark_to_joint_centre_px']['right_hip']:.0f}"
            for c in ch["cameras"].values()
        )
        applied = " ".join(
            "".join("y" if model_applied(e, m) else "n" for m in METRICS)
            for e in body["cameras"].values()
        )
        lines.append(
            f"| {name} | {ch['convention_max_px']:.1e} | {tri} | {ch['hip_3d_error_cm']:.1f} "
            f"| {hip} | {applied} |"
        )
    lines += per_body_rows(result["bodies"])
    return "\n".join(lines) + "\n"


def per_body_rows(bodies: dict[str, BodyResult]) -> list[str]:
    """Appendix: every body's, camera's and metric's RMSE / bias of the main pairs."""
    keys = ("geometric-truth", "model-truth", "geometric-ref_loo", "model-ref_loo", "ref_loo-truth")
    lines = [
        "",
        "## Per body and camera (RMSE / bias; model applied: y/n)",
        "",
        "| body | camera | metric | applied | n | " + " | ".join(keys) + " |",
        "|---|---|---|---|---|" + "---|" * len(keys),
    ]
    for name, body in bodies.items():
        for cam, entry in body["cameras"].items():
            for metric, data in entry["metrics"].items():
                fig = data["figures"]
                applied = "y" if model_applied(entry, metric) else "n"
                cells = " | ".join(_cell(fig[k]) for k in keys)
                lines.append(
                    f"| {name} | {cam} | {metric} | {applied} | {fig[keys[0]]['n']} | {cells} |"
                )
    return lines


def _cell(fig: Agreement) -> str:
    return f"{fig['rmse_deg']:.1f} / {fig['bias_deg']:+.1f}"


def _yn(flag: bool) -> str:
    return "yes" if flag else "no"


def _strip_values(bodies: dict[str, BodyResult]) -> dict[str, BodyResult]:
    """The bodies' results without the per-frame series (kept in a separate file)."""
    out: dict[str, BodyResult] = {}
    for name, body in bodies.items():
        cams: dict[str, CameraResult] = {}
        for cam, entry in body["cameras"].items():
            metrics: dict[str, MetricResult] = {
                m: {"figures": v["figures"]} for m, v in entry["metrics"].items()
            }
            cams[cam] = {**entry, "metrics": metrics}
        out[name] = {**body, "cameras": cams}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--n", type=int, default=10, help="bodies")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--max-error-px", type=float, default=20.0)
    parser.add_argument("--cutoff-hz", type=float, default=6.0)
    parser.add_argument(
        "--tasks",
        default="sls,jog",
        help="tasks the bodies cycle through (sls, jog, stand; stand is analysed as a jog)",
    )
    parser.add_argument("--render-only", action="store_true", help="stop after rendering")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    clips = args.out / "clips"
    specs = draw_specs(args.n, args.seed, tuple(args.tasks.split(",")))
    for spec in specs:
        folder = clips / spec.name
        if not (folder / "cameras.json").exists():
            print(f"rendering {spec.name}", flush=True)
            render_lab(spec, folder)
    if args.render_only:
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        configs = analysis_configs(Path(tmp))
        bodies = {s.name: run_body(clips / s.name, configs, args) for s in specs}
    result: Results = {
        "settings": {
            "n": args.n,
            "seed": args.seed,
            "tasks": args.tasks,
            "fps": FPS,
            "frame_size": FRAME_SIZE,
            "max_error_px": args.max_error_px,
            "cutoff_hz": args.cutoff_hz,
            "placements": [dataclasses.asdict(p) for p in LAB_PLACEMENTS],
        },
        "bodies": bodies,
        "summary": summarise(bodies),
    }
    markdown = format_markdown(result)
    print(markdown)
    series = {n: {c: e["metrics"] for c, e in b["cameras"].items()} for n, b in bodies.items()}
    (args.out / "series.json").write_text(json.dumps(to_jsonable(series)))
    result["bodies"] = _strip_values(bodies)
    (args.out / "results.json").write_text(json.dumps(to_jsonable(result), indent=1))
    (args.out / "results.md").write_text(markdown)
    print(f"written: {args.out / 'results.json'}, {args.out / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
