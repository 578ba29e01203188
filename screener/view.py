"""Camera view: anterior, posterior or sagittal, from the landmarks.

Frontal-plane measures (pelvic drop, knee FPPA, hip adduction) need a frontal view. A
side (sagittal) view is refused for them with a clear message.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from screener.keypoints import PoseSequence

#: Median (shoulder + hip width) / 2 divided by torso length below which the view is
#: taken as sagittal. Frontal views give about 0.45-0.7, side views about 0.05-0.2.
SAGITTAL_WIDTH_RATIO = 0.25


@dataclass(frozen=True)
class ViewEstimate:
    """The camera view of a clip.

    Attributes
    ----------
    view
        ``"anterior"`` (subject faces the camera), ``"posterior"`` or ``"sagittal"``.
    confidence
        0-1.
    width_ratio
        Median half of (shoulder width + hip width) over torso length, in the image.
    facing_fraction
        Fraction of frames whose left/right labels place the subject's left on the image
        right (as when facing the camera).
    face_visibility
        Median visibility of the nose and eyes.
    """

    view: str
    confidence: float
    width_ratio: float
    facing_fraction: float
    face_visibility: float


def detect_view(pose: PoseSequence) -> ViewEstimate:
    """Tell anterior, posterior and sagittal views apart.

    Parameters
    ----------
    pose
        Landmarks (masked is best; unfiltered is fine).

    Returns
    -------
    ViewEstimate

    Notes
    -----
    Frontal against sagittal: in a frontal view the shoulders and hips are wide in the
    image relative to the torso's length; from the side they nearly overlap.

    Anterior against posterior: the pose model labels the subject's own left and right,
    so a subject facing the camera has the left hip on the image's right. A model can
    mislabel a subject seen from behind as facing the camera; the face's visibility is
    used as a second cue and lowers the confidence when the two disagree.
    """
    lh, rh = pose.xy("left_hip"), pose.xy("right_hip")
    ls, rs = pose.xy("left_shoulder"), pose.xy("right_shoulder")
    with np.errstate(invalid="ignore"):
        hip_w = np.abs(lh[:, 0] - rh[:, 0])
        sh_w = np.abs(ls[:, 0] - rs[:, 0])
        torso = np.linalg.norm(0.5 * (ls + rs) - 0.5 * (lh + rh), axis=1)
        ratio = 0.5 * (hip_w + sh_w) / torso
        facing = (lh[:, 0] - rh[:, 0]) + (ls[:, 0] - rs[:, 0]) > 0
    ok = np.isfinite(ratio)
    if not ok.any():
        return ViewEstimate("anterior", 0.0, float("nan"), float("nan"), float("nan"))
    width_ratio = float(np.median(ratio[ok]))
    facing_fraction = float(np.mean(facing[ok]))
    face_vis = float(
        np.nanmedian(np.concatenate([pose.vis(n)[ok] for n in ("nose", "left_eye", "right_eye")]))
    )
    if width_ratio < SAGITTAL_WIDTH_RATIO:
        confidence = float(np.clip(1.0 - width_ratio / SAGITTAL_WIDTH_RATIO, 0.0, 1.0))
        return ViewEstimate("sagittal", confidence, width_ratio, facing_fraction, face_vis)
    view = "anterior" if facing_fraction >= 0.5 else "posterior"
    confidence = float(abs(facing_fraction - 0.5) * 2.0)
    confidence *= float(np.clip((width_ratio - SAGITTAL_WIDTH_RATIO) / 0.15, 0.0, 1.0))
    return ViewEstimate(view, confidence, width_ratio, facing_fraction, face_vis)
