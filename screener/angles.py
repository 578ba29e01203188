"""Per-frame joint angles in the conventions of the output spec.

All functions are vectorised over frames and take plain arrays, so they can be checked
against analytic answers. Image coordinates: x right, y down (pixels). World coordinates:
MediaPipe's right-handed frame (x right, y down, z away from the camera, metres).

Sign conventions (``shared/spec/outputs.md``):

- pelvic obliquity: positive when the subject's LEFT hip is lower, in any view;
- knee FPPA: positive = valgus (knee medial to the hip-ankle line);
- hip adduction: positive = adduction (knee toward the midline);
- femoral rotation: positive = internal rotation;
- trunk lean: positive toward the subject's LEFT;
- knee flexion: 0 = straight.

Frontal-plane angles are 2D, in the image. They use each frame's own left/right hip
positions to know which image direction is medial, so they hold whether the subject
faces the camera or turns their back to it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from screener.config import AngleConfig
from screener.keypoints import BoolArray, FloatArray, PoseSequence
from screener.landmarks import INDEX, SIDES


def _unit(v: FloatArray) -> FloatArray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(norm > 0, v / norm, np.nan))


def _dot(a: FloatArray, b: FloatArray) -> FloatArray:
    return np.asarray(np.sum(a * b, axis=-1))


def pelvic_obliquity_deg(left_hip: FloatArray, right_hip: FloatArray) -> FloatArray:
    """Angle of the inter-hip line against the image horizontal.

    Parameters
    ----------
    left_hip, right_hip
        Image coordinates ``(n, 2)`` of the subject's left and right hips.

    Returns
    -------
    ndarray
        Degrees, positive when the LEFT hip is lower in the image (larger y).
    """
    d = left_hip - right_hip
    return np.degrees(np.arctan2(d[:, 1], np.abs(d[:, 0])))


def knee_fppa_deg(
    hip: FloatArray, knee: FloatArray, ankle: FloatArray, other_hip: FloatArray
) -> FloatArray:
    """Knee frontal plane projection angle (2D), positive = valgus.

    Parameters
    ----------
    hip, knee, ankle
        Image coordinates ``(n, 2)`` of one leg.
    other_hip
        Image coordinates of the other hip: the direction from this hip to it is medial.

    Returns
    -------
    ndarray
        ``180 - angle(hip, knee, ankle)`` in degrees, signed: positive when the knee lies
        on the medial side of the hip-ankle line (valgus), negative when lateral (varus).

    Notes
    -----
    The FPPA is a composite of hip adduction, hip internal rotation and knee rotation as
    seen by one camera; it is not a pure knee angle.
    """
    a = _unit(hip - knee)
    b = _unit(ankle - knee)
    inner = np.degrees(np.arccos(np.clip(_dot(a, b), -1.0, 1.0)))
    magnitude = 180.0 - inner
    line = ankle - hip
    t = _dot(knee - hip, line) / _dot(line, line)
    offset = knee - (hip + t[:, None] * line)
    medial = _unit(other_hip - hip)
    sign = np.sign(_dot(offset, medial))
    return np.asarray(np.where(sign < 0, -magnitude, magnitude))


def hip_adduction_deg(hip: FloatArray, knee: FloatArray, other_hip: FloatArray) -> FloatArray:
    """Frontal-plane angle of the femur against the pelvis (2D), positive = adduction.

    Parameters
    ----------
    hip, knee
        Image coordinates ``(n, 2)`` of one leg's hip and knee.
    other_hip
        Image coordinates of the other hip.

    Returns
    -------
    ndarray
        Degrees between the thigh and the perpendicular to the inter-hip line (pointing
        down the image); positive when the knee is toward the midline.
    """
    u = _unit(other_hip - hip)
    n = np.stack([-u[:, 1], u[:, 0]], axis=-1)
    n = np.where((n[:, 1] < 0)[:, None], -n, n)
    thigh = knee - hip
    return np.degrees(np.arctan2(_dot(thigh, u), _dot(thigh, n)))


def trunk_lean_deg(
    left_hip: FloatArray,
    right_hip: FloatArray,
    left_shoulder: FloatArray,
    right_shoulder: FloatArray,
) -> FloatArray:
    """Lateral lean of the trunk from the image vertical, positive toward the subject's LEFT.

    Parameters
    ----------
    left_hip, right_hip, left_shoulder, right_shoulder
        Image coordinates ``(n, 2)``.

    Returns
    -------
    ndarray
        Degrees of the mid-hip to mid-shoulder line from vertical; NaN where the two hips
        are at the same image x, so the subject's left is unknown (never 0).
    """
    v = 0.5 * (left_shoulder + right_shoulder) - 0.5 * (left_hip + right_hip)
    left_dir = np.sign(left_hip[:, 0] - right_hip[:, 0])
    left_dir = np.where(left_dir == 0, np.nan, left_dir)
    return np.degrees(np.arctan2(v[:, 0] * left_dir, -v[:, 1]))


def knee_flexion_deg(hip: FloatArray, knee: FloatArray, ankle: FloatArray) -> FloatArray:
    """Knee flexion from 3D points: ``180 - angle(hip, knee, ankle)``, 0 = straight."""
    a = _unit(hip - knee)
    b = _unit(ankle - knee)
    return 180.0 - np.degrees(np.arccos(np.clip(_dot(a, b), -1.0, 1.0)))


def femoral_internal_rotation_deg(
    hip: FloatArray,
    knee: FloatArray,
    ankle: FloatArray,
    left_hip: FloatArray,
    right_hip: FloatArray,
    side: str,
    config: AngleConfig | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Axial rotation of the femur relative to the pelvis from 3D landmarks.

    Parameters
    ----------
    hip, knee, ankle
        World coordinates ``(n, 3)`` of the leg (right-handed frame).
    left_hip, right_hip
        World coordinates of both hips (the pelvis' medio-lateral axis).
    side
        ``"left"`` or ``"right"``: the leg measured.
    config
        Where the angle is measurable (:class:`~screener.config.AngleConfig`); the
        defaults if None.

    Returns
    -------
    ir_deg
        Femoral internal rotation in degrees (positive = internal); NaN where the knee is
        flexed less than ``femoral_ir_min_flexion_deg``.
    confidence
        0-1, rising linearly with knee flexion from the minimum to
        ``femoral_ir_full_confidence_flexion_deg``.

    Notes
    -----
    The knee's flexion axis is taken as the normal of the plane through hip, knee and
    ankle (``thigh x shank``), which points to the subject's left for either leg when the
    knee bends forward. The angle about the femur's long axis from the pelvis'
    left-pointing axis to that knee axis, both projected on the plane perpendicular to
    the femur, is the femur's axial rotation (the third angle of a hip joint coordinate
    system). Internal rotation turns the left knee's axis forward and the right knee's
    backward, hence the side-dependent sign.

    Values beyond ``femoral_ir_plausible_max_deg`` either way are outside the hip's
    range of motion (about 35-45 deg each way): they come from a failed depth estimate
    (seen on renders filmed from behind) and are left empty.

    No validated method exists for femoral rotation from one 2D view: this rests on
    MediaPipe's estimated depth, which is the least reliable of its outputs, and on a
    flexed knee. Report it with its confidence.
    """
    config = config or AngleConfig()
    thigh = knee - hip
    shank = ankle - knee
    up = _unit(hip - knee)
    knee_axis = np.cross(thigh, shank)
    pelvis_left = left_hip - right_hip
    a = _unit(pelvis_left - _dot(pelvis_left, up)[:, None] * up)
    b = _unit(knee_axis - _dot(knee_axis, up)[:, None] * up)
    phi = np.degrees(np.arctan2(_dot(np.cross(a, b), up), _dot(a, b)))
    ir = -phi if side == "left" else phi
    flexion = knee_flexion_deg(hip, knee, ankle)
    lowest = config.femoral_ir_min_flexion_deg
    span = config.femoral_ir_full_confidence_flexion_deg - lowest
    confidence = np.clip((flexion - lowest) / span, 0.0, 1.0)
    with np.errstate(invalid="ignore"):
        unmeasurable = ~(flexion >= lowest)
        implausible = np.abs(ir) > config.femoral_ir_plausible_max_deg
    ir = np.where(unmeasurable | implausible, np.nan, ir)
    confidence = np.where(np.isfinite(ir), confidence, 0.0)
    return np.asarray(ir), np.asarray(confidence)


def squat_depth_in_image(pose: PoseSequence, side: str) -> FloatArray:
    """How far the mid-hip has dropped, per frame, as a fraction of the standing
    mid-hip-to-ankle height of leg ``side`` in the image.

    Parameters
    ----------
    pose
        Cleaned, upright landmarks.
    side
        The leg whose ankle marks the floor (a single-leg squat's stance leg).

    Returns
    -------
    ndarray
        0 standing, about 0.2 at a knee flexion of 70-80 deg in a single-leg squat; NaN
        throughout when the clip gives no standing height.

    Notes
    -----
    Standing is the mid-hip's 5th percentile of height in the image (image rows grow
    downward) and the floor the ankle's median row: a clip that never stands up, or whose
    stance ankle moves, reads shallower than it is. In the image, so the camera's height
    and distance shape it (a camera above the hips sees less drop); it gates FPPA from
    behind (:class:`screener.config.AngleConfig`), where it was measured.
    """
    hip_y = 0.5 * (pose.xy("left_hip")[:, 1] + pose.xy("right_hip")[:, 1])
    ankle_y = pose.xy(f"{side}_ankle")[:, 1]
    if not (np.isfinite(hip_y).any() and np.isfinite(ankle_y).any()):
        return np.full(pose.n_frames, np.nan)
    top = float(np.nanpercentile(hip_y, 5))
    leg = float(np.nanmedian(ankle_y)) - top
    if not leg > 0:
        return np.full(pose.n_frames, np.nan)
    return np.asarray((hip_y - top) / leg, dtype=float)


def foreshortened_thigh(
    pose: PoseSequence, config: AngleConfig | None = None
) -> dict[str, BoolArray]:
    """Frames where a thigh looks too short in the image for frontal-plane angles.

    Parameters
    ----------
    pose
        Cleaned landmarks.
    config
        ``thigh_min_visible_fraction``; the defaults if None.

    Returns
    -------
    dict
        ``{"left": mask, "right": mask}``: True where the hip-knee segment is shorter
        than ``thigh_min_visible_fraction`` of its standing length (its 90th
        percentile over the clip), both measured in hip widths in the same frame so
        that walking toward the camera does not count.

    Notes
    -----
    The knee frontal plane projection angle and 2D hip adduction assume a camera at
    about knee height, square to the subject's frontal plane. A flexed thigh pointing
    away from a camera above it (typically a squat filmed from behind and above)
    shrinks in the image; a small sideways offset of the knee then reads as a large
    angle, and MediaPipe's knee is least reliable there. On renders with exact truth,
    thighs under half their standing length gave FPPA errors of 10-22 deg, thighs at
    0.7 and more errors of 1-3 deg (docs/accuracy.md).
    """
    config = config or AngleConfig()
    out: dict[str, BoolArray] = {}
    hip_width = np.linalg.norm(pose.xy("left_hip") - pose.xy("right_hip"), axis=1)
    for side in SIDES:
        thigh = np.linalg.norm(pose.xy(f"{side}_hip") - pose.xy(f"{side}_knee"), axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            length = thigh / hip_width  # in hip widths: the subject's distance cancels
        finite = np.isfinite(length)
        if not finite.any():
            out[side] = np.zeros(pose.n_frames, dtype=bool)
            continue
        standing = float(np.percentile(length[finite], 90))
        with np.errstate(invalid="ignore"):
            out[side] = finite & (length < config.thigh_min_visible_fraction * standing)
    return out


def foot_below_picture(
    pose: PoseSequence, swapped: BoolArray, config: AngleConfig | None = None
) -> dict[str, BoolArray]:
    """Frames where a foot reaches below the picture's bottom edge.

    Parameters
    ----------
    pose
        Landmarks in the picture's pixels (before any roll correction), labelled as the
        landmarks the cleaning started from, before its swap repair.
    swapped
        ``(frame,)``: the frames whose leg labels the cleaning exchanged
        (:attr:`screener.cleaning.CleanedPose.swapped`); the result is labelled as the
        cleaned legs are.
    config
        ``foot_below_picture_fraction``; the defaults if None.

    Returns
    -------
    dict
        ``{"left": mask, "right": mask}``: True where the leg's ankle, heel or toe lies
        farther below the bottom edge than ``foot_below_picture_fraction`` of the
        picture's height.

    Notes
    -----
    The pose model places the landmarks of a foot the frame cuts off below the edge
    (guesses), where the cleaning step drops them; the frame model then reads that leg
    with its foot inputs missing. On renders whose stance foot the frame cut, the frame
    model's knee FPPA was read 4-18 deg off; with the toes at the edge but not beyond it,
    no worse than with the feet well inside (docs/capture.md).
    """
    config = config or AngleConfig()
    limit = (1.0 + config.foot_below_picture_fraction) * pose.image_size_px[1]
    below = {}
    for side in SIDES:
        cols = [INDEX[f"{side}_{part}"] for part in ("ankle", "heel", "foot_index")]
        with np.errstate(invalid="ignore"):
            below[side] = np.asarray((pose.image_xy_px[:, cols, 1] > limit).any(axis=1))
    swapped = np.asarray(swapped, dtype=bool)
    return {
        "left": np.where(swapped, below["right"], below["left"]),
        "right": np.where(swapped, below["left"], below["right"]),
    }


def compute_frame_angles(pose: PoseSequence, config: AngleConfig | None = None) -> pd.DataFrame:
    """Every per-frame angle column of the output spec.

    Parameters
    ----------
    pose
        Cleaned landmarks (labels anatomically correct).
    config
        Where femoral rotation is measurable; the defaults if None.

    Returns
    -------
    DataFrame
        One row per frame: ``pelvic_obliquity_deg``, ``trunk_lean_deg`` and, per side,
        ``{side}_knee_fppa_deg``, ``{side}_hip_adduction_deg``, ``{side}_femoral_ir_deg``,
        ``{side}_femoral_ir_confidence``, ``{side}_knee_flexion_deg``.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        columns: dict[str, FloatArray] = {
            "pelvic_obliquity_deg": pelvic_obliquity_deg(pose.xy("left_hip"), pose.xy("right_hip")),
            "trunk_lean_deg": trunk_lean_deg(
                pose.xy("left_hip"),
                pose.xy("right_hip"),
                pose.xy("left_shoulder"),
                pose.xy("right_shoulder"),
            ),
        }
        for side in SIDES:
            other = "right" if side == "left" else "left"
            hip, knee, ankle = (pose.xy(f"{side}_{p}") for p in ("hip", "knee", "ankle"))
            columns[f"{side}_knee_fppa_deg"] = knee_fppa_deg(
                hip, knee, ankle, pose.xy(f"{other}_hip")
            )
            columns[f"{side}_hip_adduction_deg"] = hip_adduction_deg(
                hip, knee, pose.xy(f"{other}_hip")
            )
            hip3, knee3, ankle3 = (pose.xyz(f"{side}_{p}") for p in ("hip", "knee", "ankle"))
            ir, ir_conf = femoral_internal_rotation_deg(
                hip3, knee3, ankle3, pose.xyz("left_hip"), pose.xyz("right_hip"), side, config
            )
            columns[f"{side}_femoral_ir_deg"] = ir
            columns[f"{side}_femoral_ir_confidence"] = ir_conf
            columns[f"{side}_knee_flexion_deg"] = knee_flexion_deg(hip3, knee3, ankle3)
    return pd.DataFrame(columns)
