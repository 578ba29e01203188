"""The camera's tilt read from the room: the vertical lines of the background.

The capture checks (:mod:`screener.capture`) read the camera's roll from the subject's
long axis, which assumes the subject stands upright: a patient who leans the same way
throughout is read as a tilted camera, and a tilted camera with a patient leaning the
other way as a level one. Door frames, wall corners and cabinets are vertical whatever
the patient does. This module reads the image's tilt at the subject from them, as a
second opinion on the body's reading.

Pure functions over frames and landmarks; OpenCV's line segment detector (shipped with
OpenCV, offline) finds the lines.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from screener.keypoints import FloatArray, PoseSequence
from screener.landmarks import INDEX

log = logging.getLogger(__name__)

#: Segments shorter than this fraction of the frame's long side are not used.
SEGMENT_MIN_LONG_SIDE = 0.04
#: Segments further than this from the image's vertical are not candidates (a camera
#: tilted more is refused whatever the room says).
SEGMENT_MAX_TILT_DEG = 30.0
#: A segment supports a vanishing point when it points at it within this angle.
INLIER_TOL_DEG = 1.0
#: The vertical vanishing point of a camera pitched up or down by at most this much
#: (with the assumed field of view) is at least ``f / tan`` of it from the image centre:
#: nearer ones are the horizon's (floor lines running away from the camera).
MAX_PITCH_DEG = 27.0
#: Fewer supporting segments than this give no reading (measured: 14-25 on the lab
#: camera whose reading was wrong, 22-89 on those within 1.5°; renders' plain walls
#: give at most 16; docs/capture.md).
MIN_SEGMENTS = 20
#: Random pairs of segments tried as vanishing points (seeded: the same video reads the
#: same).
RANSAC_PAIRS = 400
#: The subject's landmark box is widened by these fractions of its width and height
#: before its segments are dropped (limbs are not vertical lines of the room).
SUBJECT_MARGIN_X, SUBJECT_MARGIN_Y = 0.3, 0.15


@dataclass(frozen=True)
class SceneTilt:
    """The image's tilt at the subject, read from the room's vertical lines.

    Attributes
    ----------
    tilt_deg
        Angle of the room's vertical through the subject's mid-hip from the image's
        vertical, positive when its top leans to the image's right (the sign of
        :attr:`screener.capture.CameraEstimate.roll_deg`); None when no vanishing point
        was found (it is not :attr:`read` either when too few segments support it).
    segments
        Line segments that support the vertical vanishing point.
    frames
        Frames searched.
    """

    tilt_deg: float | None
    segments: int
    frames: int

    @property
    def read(self) -> bool:
        """Enough segments agree on one vertical direction."""
        return self.tilt_deg is not None and self.segments >= MIN_SEGMENTS

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (NaN becomes None)."""
        return {
            "tilt_deg": self.tilt_deg if self.read else None,
            "segments": self.segments,
            "frames": self.frames,
            "method": "vertical vanishing point of the background's line segments",
        }


def find_candidate_segments(
    grey: npt.NDArray[np.uint8], exclude_box_px: tuple[float, float, float, float]
) -> FloatArray:
    """Line segments near the image's vertical, outside a box.

    Parameters
    ----------
    grey
        One frame, greyscale.
    exclude_box_px
        ``(x0, y0, x1, y1)``: segments whose midpoint falls inside are dropped.

    Returns
    -------
    numpy.ndarray
        ``(n, 4)``: ``x0, y0, x1, y1`` per segment, pixels.
    """
    import cv2

    found = cv2.createLineSegmentDetector().detect(grey)[0]
    if found is None:
        return np.empty((0, 4))
    seg = found.reshape(-1, 4).astype(np.float64)
    d = seg[:, 2:] - seg[:, :2]
    length = np.hypot(d[:, 0], d[:, 1])
    tilt = (np.degrees(np.arctan2(d[:, 0], -d[:, 1])) + 90.0) % 180.0 - 90.0
    mid = 0.5 * (seg[:, :2] + seg[:, 2:])
    x0, y0, x1, y1 = exclude_box_px
    inside = (mid[:, 0] > x0) & (mid[:, 0] < x1) & (mid[:, 1] > y0) & (mid[:, 1] < y1)
    keep = (
        (length >= SEGMENT_MIN_LONG_SIDE * max(grey.shape))
        & (np.abs(tilt) <= SEGMENT_MAX_TILT_DEG)
        & ~inside
    )
    return np.asarray(seg[keep])


def _pointing_at(segments: FloatArray, points: FloatArray) -> npt.NDArray[np.bool_]:
    """``(n_points, n_segments)``: segment ``j``'s line points at the homogeneous point
    ``i`` within :data:`INLIER_TOL_DEG`."""
    direction = segments[:, 2:] - segments[:, :2]
    direction /= np.linalg.norm(direction, axis=1)[:, None]
    mid = 0.5 * (segments[:, :2] + segments[:, 2:])
    points = np.atleast_2d(points)
    # toward each point from each midpoint, homogeneous: p_xy - w * mid (w = 0 at infinity)
    toward = points[:, None, :2] - points[:, None, 2:3] * mid[None]
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.abs((toward * direction[None]).sum(axis=2)) / np.linalg.norm(toward, axis=2)
    return np.asarray(np.degrees(np.arccos(np.clip(cos, 0.0, 1.0))) < INLIER_TOL_DEG)


def _vertical_enough(
    points: FloatArray, centre: FloatArray, focal_px: float
) -> npt.NDArray[np.bool_]:
    """Which homogeneous points a camera within the pitch and tilt limits could have as
    the vertical's vanishing point."""
    points = np.atleast_2d(points)
    w = points[:, 2]
    at_infinity = np.abs(w) < 1e-12 * np.linalg.norm(points[:, :2], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        offset = np.where(at_infinity[:, None], points[:, :2], points[:, :2] / w[:, None] - centre)
        far = at_infinity | (
            np.hypot(offset[:, 0], offset[:, 1]) >= focal_px / math.tan(math.radians(MAX_PITCH_DEG))
        )
        upright = np.abs(np.degrees(np.arctan2(offset[:, 0], np.abs(offset[:, 1]))))
    return np.asarray(far & (offset[:, 1] != 0) & (upright <= SEGMENT_MAX_TILT_DEG))


def vertical_vanishing_point(
    segments: FloatArray, centre_px: FloatArray, focal_px: float
) -> tuple[FloatArray | None, int]:
    """The vanishing point most segments point at (homogeneous), and their number.

    Notes
    -----
    RANSAC over :data:`RANSAC_PAIRS` pairs of segments drawn in proportion to their
    length (a seeded generator), scored by the total length of the segments pointing at
    the pair's intersection; the winner is refined by a length-weighted least-squares
    fit to its supporters (the smallest singular vector of their line equations).
    Candidates a camera within :data:`MAX_PITCH_DEG` and :data:`SEGMENT_MAX_TILT_DEG`
    could not have are skipped.
    """
    n = len(segments)
    if n < 2:
        return None, 0
    ones = np.ones((n, 1))
    lines = np.cross(np.hstack([segments[:, :2], ones]), np.hstack([segments[:, 2:], ones]))
    lines /= np.linalg.norm(lines[:, :2], axis=1)[:, None]
    length = np.hypot(*(segments[:, 2:] - segments[:, :2]).T)
    rng = np.random.default_rng(0)
    pairs = rng.choice(n, size=(RANSAC_PAIRS, 2), p=length / length.sum())
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    candidates = np.cross(lines[pairs[:, 0]], lines[pairs[:, 1]])
    usable = np.isfinite(candidates).all(axis=1) & np.any(candidates != 0, axis=1)
    candidates = candidates[usable]
    candidates = candidates[_vertical_enough(candidates, centre_px, focal_px)]
    if not len(candidates):
        return None, 0
    scores = _pointing_at(segments, candidates) @ length
    best = candidates[int(np.argmax(scores))]
    support = _pointing_at(segments, best)[0]
    refined = np.linalg.svd(lines[support] * length[support, None])[2][-1]
    if _vertical_enough(refined, centre_px, focal_px)[0]:
        best = refined
    return best, int(_pointing_at(segments, best)[0].sum())


def tilt_at_deg(point: FloatArray, at_px: FloatArray) -> float:
    """The tilt from the image's vertical of the line from ``at_px`` to the homogeneous
    vanishing point ``point`` (positive: top to the image's right)."""
    if abs(point[2]) < 1e-12 * np.linalg.norm(point[:2]):
        d = point[:2]
    else:
        d = point[:2] / point[2] - at_px
    return float((math.degrees(math.atan2(d[0], -d[1])) + 90.0) % 180.0 - 90.0)


def estimate_scene_tilt(
    frames: Mapping[int, npt.NDArray[np.uint8]],
    pose: PoseSequence,
    rotate_cw_deg: int = 0,
    long_side_fov_deg: float = 65.0,
) -> SceneTilt:
    """The image's tilt at the subject from the room's vertical lines.

    Parameters
    ----------
    frames
        RGB frames by index, as decoded (any size; the landmarks are scaled to it).
    pose
        The landmarks (the subject's box is left out; the mid-hip is where the tilt is
        read).
    rotate_cw_deg
        The turn the pose model's frames were given.
    long_side_fov_deg
        The assumed field of view (it bounds the camera's pitch, :data:`MAX_PITCH_DEG`).

    Returns
    -------
    SceneTilt
        Not :attr:`~SceneTilt.read` when fewer than :data:`MIN_SEGMENTS` segments agree.

    Notes
    -----
    The room's verticals meet at one vanishing point: far above or below the image for
    a camera held level, and rotated about the image centre by the camera's roll. The
    tilt a 2D angle at the subject reads in excess is that of the line from the
    subject's mid-hip to it (roll plus the perspective of a pitched camera), which is
    what the body's long axis gives for an upright subject
    (:func:`screener.capture.estimate_roll_deg`). The background is still, so the
    segments of all frames are pooled. It fails quietly (no reading) in front of a
    plain wall, and can be fooled by a room whose most numerous near-vertical lines are
    not vertical (a slanted pattern); measured on real footage in docs/capture.md.
    """
    import cv2

    from screener.upright import rotate_image

    width, height = pose.image_size_px
    pooled, hips, used = [], [], 0
    shape: tuple[int, ...] = ()
    for index, frame_rgb in sorted(frames.items()):
        rgb = rotate_image(frame_rgb, rotate_cw_deg)
        shape = rgb.shape
        scale = np.array([rgb.shape[1] / width, rgb.shape[0] / height])
        xy = pose.image_xy_px[index] * scale
        seen = np.isfinite(xy).all(axis=1)
        if seen.sum() < 10:
            continue
        (x0, y0), (x1, y1) = xy[seen].min(axis=0), xy[seen].max(axis=0)
        mx, my = SUBJECT_MARGIN_X * (x1 - x0), SUBJECT_MARGIN_Y * (y1 - y0)
        grey = np.asarray(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY), np.uint8)
        pooled.append(find_candidate_segments(grey, (x0 - mx, y0 - my, x1 + mx, y1 + my)))
        hips.append(0.5 * (xy[INDEX["left_hip"]] + xy[INDEX["right_hip"]]))
        used += 1
    if not used:
        return SceneTilt(None, 0, 0)
    segments = np.vstack(pooled)
    centre = np.array([shape[1] / 2.0, shape[0] / 2.0])
    focal = 0.5 * max(shape[:2]) / math.tan(math.radians(long_side_fov_deg / 2.0))
    point, support = vertical_vanishing_point(segments, centre, focal)
    hip = np.nanmedian(np.array(hips), axis=0) if np.isfinite(hips).all(axis=1).any() else None
    if point is None or hip is None:
        return SceneTilt(None, support, used)
    tilt = tilt_at_deg(point, hip)
    log.info("room's verticals: tilt %.1f° at the subject from %d segments", tilt, support)
    return SceneTilt(tilt, support, used)
