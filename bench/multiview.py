"""Calibrated cameras, triangulation and body-frame angles for the real-video benchmark.

Pure functions over NumPy arrays, used by ``bench/real_video_agreement.py`` and checked
with known answers in ``tests/test_multiview.py``:

- :func:`read_qca` parses a Qualisys Track Manager calibration (``*.qca.txt``, XML) into
  :class:`Camera` objects (intrinsics, Brown-Conrady distortion, world-to-camera pose);
- :meth:`Camera.project` and :meth:`Camera.normalize` map world points to distorted
  pixels and pixels back to undistorted normalised image coordinates;
- :func:`triangulate` is a linear (DLT) triangulation weighted per view, and
  :func:`triangulate_robust` drops, point by point, the view that reprojects worst;
- :func:`consistent_views` decides per frame which cameras see the same person;
- :func:`reference_angles` computes the output spec's angles from 3D joints in a body
  frame (the lab's vertical, the pelvis' medio-lateral axis) with the screener's own
  angle functions applied to the projection on that frontal plane;
- :func:`camera_placement` gives a camera's yaw, pitch, height and distance relative to
  the subject.

Axes: world points are ``(..., 3)`` in metres in the calibration's frame; pixels are
``(..., 2)``, x right, y down.
"""

from __future__ import annotations

import itertools
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from screener.angles import (
    femoral_internal_rotation_deg,
    hip_adduction_deg,
    knee_flexion_deg,
    knee_fppa_deg,
    pelvic_obliquity_deg,
    trunk_lean_deg,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Qualisys stores sensor coordinates in sub-pixels: 64 per pixel.
QCA_SUBPIXELS = 64.0
#: Qualisys' camera frame has y up and looks along -z; OpenCV's has y down and looks
#: along +z: the two differ by a half turn about x.
QCA_TO_OPENCV = np.diag([1.0, -1.0, -1.0])


class CalibrationError(ValueError):
    """A calibration file that cannot be read (the message names the file)."""


@dataclass(frozen=True)
class Camera:
    """One calibrated camera in OpenCV's conventions.

    Parameters
    ----------
    name
        The camera's serial / label (``cam01``).
    size_px
        ``(width, height)`` of its video frames.
    matrix
        Intrinsic matrix ``K`` (3, 3), pixels.
    distortion
        ``(k1, k2, p1, p2, k3)``: Brown-Conrady radial and tangential coefficients.
    rotation
        World-to-camera rotation ``R`` (3, 3): ``x_cam = R @ x_world + t``.
    translation_m
        World-to-camera translation ``t`` (3,), metres.
    """

    name: str
    size_px: tuple[int, int]
    matrix: FloatArray
    distortion: FloatArray
    rotation: FloatArray
    translation_m: FloatArray

    @property
    def position_m(self) -> FloatArray:
        """The optical centre in world coordinates, metres."""
        return np.asarray(-self.rotation.T @ self.translation_m)

    @property
    def optical_axis(self) -> FloatArray:
        """Unit vector of the viewing direction in world coordinates."""
        return np.asarray(self.rotation[2])

    @property
    def extrinsic(self) -> FloatArray:
        """``[R | t]`` (3, 4): the projection matrix in normalised image coordinates."""
        return np.hstack([self.rotation, self.translation_m[:, None]])

    def to_camera(self, points_m: FloatArray) -> FloatArray:
        """World points ``(..., 3)`` in the camera frame (z forward, metres)."""
        return np.asarray(points_m @ self.rotation.T + self.translation_m)

    def project(self, points_m: FloatArray) -> FloatArray:
        """Distorted pixel coordinates ``(..., 2)`` of world points ``(..., 3)``.

        Points behind the camera (z <= 0) give NaN.
        """
        cam = self.to_camera(np.asarray(points_m, dtype=float))
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.where(cam[..., 2] > 0, cam[..., 2], np.nan)
            xy = cam[..., :2] / z[..., None]
        return self._to_pixels(distort(xy, self.distortion))

    def normalize(self, pixels: FloatArray) -> FloatArray:
        """Undistorted normalised image coordinates ``(..., 2)`` of pixels ``(..., 2)``."""
        k = self.matrix
        px = np.asarray(pixels, dtype=float)
        y = (px[..., 1] - k[1, 2]) / k[1, 1]
        x = (px[..., 0] - k[0, 2] - k[0, 1] * y) / k[0, 0]
        return undistort(np.stack([x, y], axis=-1), self.distortion)

    def _to_pixels(self, xy: FloatArray) -> FloatArray:
        k = self.matrix
        u = k[0, 0] * xy[..., 0] + k[0, 1] * xy[..., 1] + k[0, 2]
        v = k[1, 1] * xy[..., 1] + k[1, 2]
        return np.stack([u, v], axis=-1)


def distort(xy: FloatArray, coeffs: FloatArray) -> FloatArray:
    """Apply Brown-Conrady distortion ``(k1, k2, p1, p2, k3)`` to normalised points."""
    k1, k2, p1, p2, k3 = coeffs
    x, y = xy[..., 0], xy[..., 1]
    r2 = x * x + y * y
    radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
    xd = x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x)
    yd = y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y
    return np.stack([xd, yd], axis=-1)


def undistort(xy_distorted: FloatArray, coeffs: FloatArray, iterations: int = 30) -> FloatArray:
    """Invert :func:`distort` by fixed-point iteration (exact to < 1e-9 for lens-like values).

    Notes
    -----
    The iteration ``x = (x_d - tangential(x)) / radial(x)`` converges for the mild
    distortion of measurement cameras (|k1 r^2| well below 1); it is checked in the tests
    by a round trip.
    """
    k1, k2, p1, p2, k3 = coeffs
    xd, yd = xy_distorted[..., 0], xy_distorted[..., 1]
    x, y = xd.copy(), yd.copy()
    for _ in range(iterations):
        r2 = x * x + y * y
        radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
        dx = 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x)
        dy = p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y
        x = (xd - dx) / radial
        y = (yd - dy) / radial
    return np.stack([x, y], axis=-1)


def read_qca(path: str | Path) -> list[Camera]:
    """Read a Qualisys calibration (``.qca.txt``, XML) into cameras, in file order.

    Parameters
    ----------
    path
        The calibration file.

    Returns
    -------
    list of Camera
        Active cameras, in OpenCV's conventions, world units metres.

    Raises
    ------
    CalibrationError
        The file is missing, not XML, or a camera lacks a field.

    Notes
    -----
    What the file holds, per ``<camera>``:

    - ``<intrinsic>``: focal lengths and principal point in sensor sub-pixels (64 per
      pixel); the principal point is relative to the sensor, so the video window's
      ``<fov_video>`` left/top offset is subtracted. ``radialDistortion1-3`` and
      ``tangentalDistortion1-2`` are the Brown-Conrady ``k1, k2, k3, p1, p2``.
    - ``<transform>``: ``x, y, z`` is the camera's position in the world, millimetres;
      ``r11..r33`` (row-major) is a matrix M whose ROWS are the camera's axes in world
      coordinates (world-to-camera), for Qualisys' camera frame, which looks along -z
      with y up. So ``R_world_to_cam = diag(1, -1, -1) @ M`` (OpenCV's frame looks along
      +z with y down) and ``t = -R @ position``. This is also how Pose2Sim reads it.

    The convention is checked on the real recordings by triangulating and reprojecting
    (``tests/test_multiview.py``, ``docs/real_video_agreement.md``): this reading
    reprojects MediaPipe's landmarks to a median 3.5-10 px; M transposed, or without
    the half turn, gives errors of tens to thousands of pixels.
    """
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError as exc:
        raise CalibrationError(f"{path}: calibration file not found") from exc
    except ET.ParseError as exc:
        raise CalibrationError(f"{path}: not a Qualisys XML calibration ({exc})") from exc
    cameras = []
    for i, node in enumerate(root.iter("camera")):
        if node.get("active", "1") != "1":
            continue
        name = node.get("serial") or f"camera{i + 1}"
        try:
            cameras.append(_qca_camera(node, name))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise CalibrationError(
                f"{path}: camera {name}: missing or invalid field ({exc})"
            ) from exc
    if not cameras:
        raise CalibrationError(f"{path}: no active <camera> in the calibration")
    return cameras


def _qca_camera(node: ET.Element, name: str) -> Camera:
    fov = node.find("fov_video")
    intr = node.find("intrinsic")
    tr = node.find("transform")
    if fov is None or intr is None or tr is None:
        raise KeyError("fov_video, intrinsic and transform are required")
    left, top = float(fov.attrib["left"]), float(fov.attrib["top"])
    width = int(fov.attrib["right"]) - int(left) + 1
    height = int(fov.attrib["bottom"]) - int(top) + 1

    def f(key: str) -> float:
        return float(intr.attrib[key])

    matrix = np.array(
        [
            [
                f("focalLengthU") / QCA_SUBPIXELS,
                f("skew"),
                f("centerPointU") / QCA_SUBPIXELS - left,
            ],
            [0.0, f("focalLengthV") / QCA_SUBPIXELS, f("centerPointV") / QCA_SUBPIXELS - top],
            [0.0, 0.0, 1.0],
        ]
    )
    distortion = np.array(
        [
            f("radialDistortion1"),
            f("radialDistortion2"),
            f("tangentalDistortion1"),
            f("tangentalDistortion2"),
            f("radialDistortion3"),
        ]
    )
    m = np.array([[float(tr.attrib[f"r{i}{j}"]) for j in (1, 2, 3)] for i in (1, 2, 3)])
    position_m = np.array([float(tr.attrib[k]) for k in ("x", "y", "z")]) / 1000.0
    rotation = QCA_TO_OPENCV @ m
    return Camera(
        name=name,
        size_px=(width, height),
        matrix=matrix,
        distortion=distortion,
        rotation=rotation,
        translation_m=-rotation @ position_m,
    )


# --------------------------------------------------------------------------- triangulation


def _nanmax(values: FloatArray) -> FloatArray:
    """Maximum over the first axis ignoring NaN; NaN where all are NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanmax(values, axis=0))


def nanmedian(values: FloatArray, axis: int) -> FloatArray:
    """Median over ``axis`` ignoring NaN; NaN (and no warning) where all are NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanmedian(values, axis=axis))


def triangulate(normalized: FloatArray, extrinsics: FloatArray, weights: FloatArray) -> FloatArray:
    """Weighted linear (DLT) triangulation of points seen by several cameras.

    Parameters
    ----------
    normalized
        ``(n_views, n_points, 2)`` undistorted normalised image coordinates; NaN = unseen.
    extrinsics
        ``(n_views, 3, 4)``: each camera's ``[R | t]``.
    weights
        ``(n_views, n_points)``, >= 0 (e.g. MediaPipe visibility); 0 leaves a view out.

    Returns
    -------
    ndarray
        ``(n_points, 3)`` world points; NaN where fewer than two views have weight.

    Notes
    -----
    Each view contributes ``w (x P3 - P1)`` and ``w (y P3 - P2)``; the point is the right
    singular vector of the smallest singular value. Working in normalised coordinates
    keeps the system well conditioned without further scaling.
    """
    xy = np.asarray(normalized, dtype=float)
    w = np.where(np.isfinite(xy).all(axis=-1), np.asarray(weights, dtype=float), 0.0)
    xy = np.nan_to_num(xy)
    p = np.asarray(extrinsics, dtype=float)
    rows_x = xy[..., 0, None] * p[:, None, 2, :] - p[:, None, 0, :]
    rows_y = xy[..., 1, None] * p[:, None, 2, :] - p[:, None, 1, :]
    a = np.concatenate([rows_x * w[..., None], rows_y * w[..., None]], axis=0)
    a = np.transpose(a, (1, 0, 2))  # (n_points, 2 n_views, 4)
    _, _, vh = np.linalg.svd(a)
    hom = vh[:, -1, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        points = hom[:, :3] / hom[:, 3:]
    enough = (w > 0).sum(axis=0) >= 2
    return np.where(enough[:, None], points, np.nan)


def reprojection_error_px(
    points_m: FloatArray, cameras: list[Camera], pixels: FloatArray
) -> FloatArray:
    """Distance in pixels between each camera's projection of ``points_m`` ``(n, 3)`` and
    its observations ``pixels`` ``(n_views, n, 2)``: ``(n_views, n)``."""
    return np.stack(
        [
            np.linalg.norm(cam.project(points_m) - pixels[i], axis=-1)
            for i, cam in enumerate(cameras)
        ]
    )


def triangulate_robust(
    pixels: FloatArray,
    cameras: list[Camera],
    weights: FloatArray,
    max_error_px: float,
) -> tuple[FloatArray, BoolArray, FloatArray]:
    """:func:`triangulate` from pixels, leaving out views that disagree.

    Parameters
    ----------
    pixels
        ``(n_views, n_points, 2)`` distorted pixel observations; NaN = unseen.
    cameras
        The ``n_views`` cameras.
    weights
        ``(n_views, n_points)`` view weights (visibility); 0 = unused.
    max_error_px
        While a point's worst used view reprojects farther than this and more than two
        views remain, one view is dropped and the point triangulated again: the view
        without which the others agree best (a wrong view pulls the point, so the worst
        reprojecting view is not always the wrong one).

    Returns
    -------
    points
        ``(n_points, 3)``.
    used
        ``(n_views, n_points)``: the views each point was triangulated from.
    error_px
        ``(n_views, n_points)`` reprojection error of every view with an observation
        (NaN where unseen).
    """
    norm = np.stack([cam.normalize(pixels[i]) for i, cam in enumerate(cameras)])
    extr = np.stack([cam.extrinsic for cam in cameras])
    used = (np.asarray(weights) > 0) & np.isfinite(pixels).all(axis=-1)
    points = triangulate(norm, extr, np.where(used, weights, 0.0))
    n_views = len(cameras)
    for _ in range(n_views - 2):
        error = np.where(used, reprojection_error_px(points, cameras, pixels), np.nan)
        bad = (_nanmax(error) > max_error_px) & (used.sum(axis=0) > 2)
        if not bad.any():
            break
        # leave each view out in turn; drop the one whose absence fits the rest best
        residual = np.full((n_views, points.shape[0]), np.inf)
        for v in range(n_views):
            keep = used.copy()
            keep[v] = False
            trial = triangulate(norm, extr, np.where(keep, weights, 0.0))
            err_v = np.where(keep, reprojection_error_px(trial, cameras, pixels), np.nan)
            residual[v] = np.where(used[v], np.nan_to_num(_nanmax(err_v), nan=np.inf), np.inf)
        drop = np.argmin(residual, axis=0)
        used[drop[bad], np.flatnonzero(bad)] = False
        points = triangulate(norm, extr, np.where(used, weights, 0.0))
    return points, used, reprojection_error_px(points, cameras, pixels)


def consistent_views(
    pixels: FloatArray,
    cameras: list[Camera],
    weights: FloatArray,
    max_error_px: float,
) -> tuple[BoolArray, npt.NDArray[np.int_], FloatArray]:
    """Per frame, the largest set of cameras whose landmarks belong to one 3D body.

    Parameters
    ----------
    pixels
        ``(n_views, n_options, n_frames, n_landmarks, 2)``: each camera's landmarks of the
        person it tracks (MediaPipe follows one person per camera, not necessarily the
        same one), under ``n_options`` labellings (e.g. as given and with left and right
        exchanged: a pose model may mirror a subject seen from behind).
    cameras
        The ``n_views`` cameras.
    weights
        ``(n_views, n_options, n_frames, n_landmarks)`` view weights (visibility).
    max_error_px
        A set is consistent when, in each of its cameras, the median reprojection error
        over the landmarks is below this.

    Returns
    -------
    members
        ``(n_views, n_frames)``: True for the cameras of the chosen set (none when no
        pair agrees).
    option
        ``(n_views, n_frames)``: the labelling chosen for each member (0 elsewhere).
    error_px
        ``(n_frames,)``: the chosen set's worst per-camera median error (NaN if none).

    Notes
    -----
    Larger sets win; among sets of one size, the smallest error. Exchanging left and
    right in EVERY camera of a set gives the same error (the mirror-image body): which
    of the two is anatomically right is for the caller to decide (e.g. from the face).
    With two people in view, two disjoint pairs could each be consistent; the caller
    checks that the chosen body stays the same from frame to frame.
    """
    n_views, n_opt, n_frames, n_lm, _ = pixels.shape
    best_size = np.zeros(n_frames, dtype=int)
    best_err = np.full(n_frames, np.inf)
    members = np.zeros((n_views, n_frames), dtype=bool)
    option = np.zeros((n_views, n_frames), dtype=int)
    for size in range(2, n_views + 1):
        for subset in itertools.combinations(range(n_views), size):
            cams = [cameras[i] for i in subset]
            extr = np.stack([c.extrinsic for c in cams])
            for opts in itertools.product(range(n_opt), repeat=size):
                if opts[0] != 0:
                    continue  # the mirror image of a combination already tried
                px = np.stack([pixels[i, o] for i, o in zip(subset, opts, strict=True)])
                px = px.reshape(size, n_frames * n_lm, 2)
                w = np.stack([weights[i, o] for i, o in zip(subset, opts, strict=True)])
                norm = np.stack([c.normalize(px[k]) for k, c in enumerate(cams)])
                pts = triangulate(norm, extr, w.reshape(size, n_frames * n_lm))
                err = reprojection_error_px(pts, cams, px).reshape(size, n_frames, n_lm)
                per_cam = nanmedian(err, axis=2)
                worst = np.nan_to_num(per_cam, nan=np.inf).max(axis=0)
                better = (worst < max_error_px) & (
                    (size > best_size) | ((size == best_size) & (worst < best_err))
                )
                best_size[better] = size
                best_err[better] = worst[better]
                members[:, better] = False
                option[:, better] = 0
                for i, o in zip(subset, opts, strict=True):
                    members[i, better] = True
                    option[i, better] = o
    return members, option, np.where(np.isfinite(best_err), best_err, np.nan)


# --------------------------------------------------------------------------- body frame


def body_axes(
    left_hip: FloatArray, right_hip: FloatArray, up: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The body's horizontal medio-lateral (to the LEFT) and anterior axes, ``(n, 3)`` each.

    The frontal plane contains the lab vertical ``up`` and the inter-hip line; the
    anterior axis is its normal, ``left x up``.
    """
    up = np.asarray(up, dtype=float) / np.linalg.norm(up)
    d = left_hip - right_hip
    horiz = d - (d @ up)[:, None] * up
    with np.errstate(invalid="ignore", divide="ignore"):
        left = horiz / np.linalg.norm(horiz, axis=1, keepdims=True)
    forward = np.cross(left, up)
    return left, forward


def frontal_projection(
    points: dict[str, FloatArray], left: FloatArray, up: FloatArray
) -> dict[str, FloatArray]:
    """Orthographic 'image' of 3D points on the frontal plane, seen from in front.

    Parameters
    ----------
    points
        Named world points ``(n, 3)``.
    left
        ``(n, 3)`` the body's horizontal left axis (:func:`body_axes`).
    up
        The lab vertical.

    Returns
    -------
    dict
        The same names, ``(n, 2)``: x = along the subject's left (which an anterior camera
        sees on its right), y = down, metres: the image an ideal camera square to the
        pelvis, at infinity, would take.
    """
    up = np.asarray(up, dtype=float) / np.linalg.norm(up)
    return {k: np.stack([np.sum(p * left, axis=1), -(p @ up)], axis=1) for k, p in points.items()}


def reference_angles(joints: dict[str, FloatArray], up: FloatArray) -> pd.DataFrame:
    """The output spec's frame angles from 3D joints, in the body frame.

    Parameters
    ----------
    joints
        World points ``(n, 3)`` named ``{left,right}_{hip,knee,ankle,shoulder}``.
    up
        The lab vertical (unit or not).

    Returns
    -------
    DataFrame
        ``pelvic_obliquity_deg``, ``trunk_lean_deg`` and per side ``{side}_knee_fppa_deg``,
        ``{side}_hip_adduction_deg``, ``{side}_knee_flexion_deg``,
        ``{side}_femoral_ir_deg`` and its ``_confidence``, with the screener's sign conventions.

    Notes
    -----
    Frontal-plane angles are the screener's own 2D definitions
    (:mod:`screener.angles`) applied to :func:`frontal_projection`: the plane holds the
    lab vertical and the inter-hip line, so pelvic obliquity is the inter-hip line's
    elevation, and hip adduction, FPPA and trunk lean are what a camera square to the
    pelvis at knee height and infinitely far away would read. Knee flexion and femoral
    rotation are 3D (:func:`screener.angles.knee_flexion_deg`,
    :func:`screener.angles.femoral_internal_rotation_deg`).
    """
    left, _ = body_axes(joints["left_hip"], joints["right_hip"], up)
    p = frontal_projection(joints, left, up)
    with np.errstate(invalid="ignore", divide="ignore"):
        cols: dict[str, FloatArray] = {
            "pelvic_obliquity_deg": pelvic_obliquity_deg(p["left_hip"], p["right_hip"]),
            "trunk_lean_deg": trunk_lean_deg(
                p["left_hip"], p["right_hip"], p["left_shoulder"], p["right_shoulder"]
            ),
        }
        for side in ("left", "right"):
            other = "right" if side == "left" else "left"
            hip, knee, ankle = (p[f"{side}_{j}"] for j in ("hip", "knee", "ankle"))
            cols[f"{side}_knee_fppa_deg"] = knee_fppa_deg(hip, knee, ankle, p[f"{other}_hip"])
            cols[f"{side}_hip_adduction_deg"] = hip_adduction_deg(hip, knee, p[f"{other}_hip"])
            hip3, knee3, ankle3 = (joints[f"{side}_{j}"] for j in ("hip", "knee", "ankle"))
            cols[f"{side}_knee_flexion_deg"] = knee_flexion_deg(hip3, knee3, ankle3)
            ir, ir_conf = femoral_internal_rotation_deg(
                hip3, knee3, ankle3, joints["left_hip"], joints["right_hip"], side
            )
            cols[f"{side}_femoral_ir_deg"] = ir
            cols[f"{side}_femoral_ir_confidence"] = ir_conf
    return pd.DataFrame(cols)


def camera_placement(
    camera: Camera, pelvis_m: FloatArray, left: FloatArray, up: FloatArray, floor_m: float
) -> dict[str, float | str]:
    """Where a camera stands relative to the subject.

    Parameters
    ----------
    camera
        The camera.
    pelvis_m
        ``(3,)`` the mid-hip point.
    left
        ``(3,)`` the body's horizontal left axis.
    up
        The lab vertical.
    floor_m
        Height of the floor along ``up`` (same origin as the points).

    Returns
    -------
    dict
        ``yaw_deg``: horizontal angle from the subject's anterior axis to the camera,
        positive toward the subject's left (0 = straight in front, ±180 = straight
        behind); ``off_axis_deg``: the angle to the nearer of the two frontal directions
        (0 = square to the frontal plane, front or back); ``view``: ``anterior`` or
        ``posterior``; ``pitch_deg``: elevation of the lens above the mid-hip seen from
        the subject (positive = camera above the hips); ``lens_height_m`` above the
        floor; ``distance_m`` (horizontal) to the mid-hip; ``image_tilt_deg``: the lab
        vertical through the mid-hip as the camera sees it, from the image's vertical,
        positive when its top leans to the image's right (camera roll plus the
        perspective of a tilted camera: what a 2D angle against the image vertical or
        horizontal reads in excess).
    """
    up = np.asarray(up, dtype=float) / np.linalg.norm(up)
    forward = np.cross(left, up)
    d = camera.position_m - pelvis_m
    vertical = float(d @ up)
    horiz = d - vertical * up
    dist = float(np.linalg.norm(horiz))
    yaw = float(np.degrees(np.arctan2(horiz @ left, horiz @ forward)))
    base, top = camera.project(np.stack([pelvis_m, pelvis_m + 0.3 * up]))
    tilt = float(np.degrees(np.arctan2(top[0] - base[0], base[1] - top[1])))
    return {
        "yaw_deg": yaw,
        "off_axis_deg": float(min(abs(yaw), 180.0 - abs(yaw))),
        "view": "anterior" if abs(yaw) < 90.0 else "posterior",
        "pitch_deg": float(np.degrees(np.arctan2(vertical, dist))),
        "lens_height_m": float(camera.position_m @ up - floor_m),
        "distance_m": dist,
        "image_tilt_deg": tilt,
    }
