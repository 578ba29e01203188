"""Is the person upright in the image? A clip filmed upside down or sideways, without a
rotation tag, is turned upright (clean quarter turns) or refused.

A phone held upside down, or a clip exported without its rotation tag, shows the subject
head-down or lying. MediaPipe often still finds the body, so every later stage would run
on it and report nonsense (a 180° trunk lean, a "posterior" view). The body axis (mid-hip
to mid-shoulder) in the image tells: it points up in an upright clip.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from screener.errors import ViewError
from screener.keypoints import PoseSequence
from screener.landmarks import INDEX

#: Clockwise quarter turns that make a frame upright.
QUARTER_TURNS: tuple[int, ...] = (0, 90, 180, 270)


@dataclass(frozen=True)
class UprightEstimate:
    """Where the subject's head points in the image.

    Attributes
    ----------
    axis_deg
        Mean direction of the body axis (mid-hip to mid-shoulder), degrees clockwise from
        the image's up direction: 0 upright, 90 head to the right, ±180 head down, -90
        head to the left.
    rotate_cw_deg
        Clockwise turn of the frames that makes the subject upright (0, 90, 180 or 270).
    off_axis_deg
        How far the axis is from the nearest quarter turn, degrees.
    n_frames
        Frames the estimate is based on.
    """

    axis_deg: float
    rotate_cw_deg: int
    off_axis_deg: float
    n_frames: int


def estimate_upright(pose: PoseSequence) -> UprightEstimate:
    """Direction of the body axis in the image over the clip.

    Parameters
    ----------
    pose
        Landmarks in image pixels (raw or cleaned).

    Returns
    -------
    UprightEstimate
        ``n_frames`` 0 (and everything else 0) when no frame has both hips and shoulders.

    Notes
    -----
    The per-frame axis directions are averaged as unit vectors (a circular mean), so a
    head-down clip whose directions straddle ±180° averages to 180°, not 0°.
    """
    xy = pose.image_xy_px
    shoulders = 0.5 * (xy[:, INDEX["left_shoulder"]] + xy[:, INDEX["right_shoulder"]])
    hips = 0.5 * (xy[:, INDEX["left_hip"]] + xy[:, INDEX["right_hip"]])
    axis = shoulders - hips
    length = np.linalg.norm(axis, axis=1)
    ok = np.isfinite(length) & (length > 0)
    if not ok.any():
        return UprightEstimate(0.0, 0, 0.0, 0)
    unit = axis[ok] / length[ok, None]
    # Image y points down: "up" is -y; clockwise from up is +x.
    mean_x, mean_up = float(unit[:, 0].mean()), float(-unit[:, 1].mean())
    axis_deg = float(np.degrees(np.arctan2(mean_x, mean_up)))
    nearest = round(axis_deg / 90.0) * 90
    return UprightEstimate(
        axis_deg=axis_deg,
        rotate_cw_deg=int(-nearest) % 360,
        off_axis_deg=abs(axis_deg - nearest),
        n_frames=int(ok.sum()),
    )


def check_upright(pose: PoseSequence, name: str, max_tilt_deg: float) -> UprightEstimate:
    """The turn that makes the subject upright; an error when no quarter turn does.

    Parameters
    ----------
    pose
        Landmarks as estimated from the frames as decoded.
    name
        The file, for messages.
    max_tilt_deg
        Largest angle between the body axis and the nearest quarter turn that is still
        accepted (a tilted camera, a leaning trunk).

    Returns
    -------
    UprightEstimate
        ``rotate_cw_deg`` 0 when the subject is upright.

    Raises
    ------
    ViewError
        The body axis is tilted by more than ``max_tilt_deg`` from every quarter turn: the
        camera was held at a slant, and frontal-plane angles cannot be read.
    """
    estimate = estimate_upright(pose)
    if estimate.n_frames and estimate.off_axis_deg > max_tilt_deg:
        raise ViewError(
            f"the subject is not upright in the image: the body axis is tilted "
            f"{estimate.axis_deg:.0f}° from vertical (more than {max_tilt_deg:.0f}° from any "
            "quarter turn), so frontal-plane angles cannot be measured",
            path=name,
            remedy="Film with the phone held level (upright or on its side), square to the "
            "subject, or rotate the video to upright before uploading.",
        )
    return estimate


def rotate_image(rgb: np.ndarray, cw_deg: int) -> np.ndarray:
    """Turn an image clockwise by a quarter-turn multiple (a contiguous copy if turned)."""
    if cw_deg % 360 == 0:
        return rgb
    if cw_deg % 90:
        raise ValueError(f"only quarter turns are supported, got {cw_deg}")
    # np.rot90 turns counter-clockwise for k > 0.
    return np.ascontiguousarray(np.rot90(rgb, k=-(cw_deg // 90) % 4))


def frames_as_posed(
    frames: Mapping[int, np.ndarray], pose: PoseSequence, rotate_cw_deg: int = 0
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Frames as the pose model saw them, with the scale from the pose's pixels to theirs.

    Parameters
    ----------
    frames
        Frames by index, at any size, as read from the video (before the turn the pose
        model's frames were given); indices outside the pose are skipped.
    pose
        The landmarks (``image_size_px`` is the turned full-size frame's).
    rotate_cw_deg
        The turn the pose model's frames were given.

    Yields
    ------
    index, image, scale
        The frame turned, and ``(sx, sy)``: landmark pixels times ``scale`` are the
        image's pixels.
    """
    width, height = pose.image_size_px
    for index in sorted(frames):
        if not 0 <= index < pose.n_frames:
            continue
        image = rotate_image(frames[index], rotate_cw_deg)
        yield index, image, np.array([image.shape[1] / width, image.shape[0] / height])


def pose_settings(pose: PoseSequence) -> dict[str, Any]:
    """The pose settings the landmarks were estimated with (empty when not recorded)."""
    recorded = pose.source.get("pose", {})
    settings = recorded.get("settings", {}) if isinstance(recorded, dict) else {}
    return settings if isinstance(settings, dict) else {}


def pose_rotation_cw(pose: PoseSequence) -> int:
    """The extra clockwise turn the landmarks were estimated with (0 if none)."""
    return int(pose_settings(pose).get("rotate_cw_deg", 0) or 0)
