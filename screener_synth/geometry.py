"""Rotations, the render camera's projection and the angle definitions of the truth files.

Pure NumPy, vectorised over frames. World frame (anny's): +X = the subject's left,
+Y = posterior, +Z = up, metres; the subject faces -Y in the neutral pose. Image frame:
x right, y down, pixels, continuous coordinates (pixel ``i`` covers ``[i, i + 1)``), the
convention of MediaPipe's normalised landmarks times the frame size.

The angle definitions are those of ``shared/spec/outputs.md``, computed here with other
constructions than the screener's (``screener/angles.py``), so that the truth neither
depends on the code it checks nor shares a wrong formula with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------- rotations
def rot_x(angle_deg: FloatArray | float) -> FloatArray:
    """Rotation matrices about +X (right-handed), shape ``(..., 3, 3)``."""
    a = np.radians(np.asarray(angle_deg, dtype=float))
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack(
        [np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2
    )


def rot_y(angle_deg: FloatArray | float) -> FloatArray:
    """Rotation matrices about +Y (right-handed), shape ``(..., 3, 3)``."""
    a = np.radians(np.asarray(angle_deg, dtype=float))
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack(
        [np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2
    )


def rot_z(angle_deg: FloatArray | float) -> FloatArray:
    """Rotation matrices about +Z (right-handed), shape ``(..., 3, 3)``."""
    a = np.radians(np.asarray(angle_deg, dtype=float))
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack(
        [np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2
    )


def hip_rotation(
    flexion_deg: FloatArray, adduction_deg: FloatArray, internal_rotation_deg: FloatArray, side: str
) -> FloatArray:
    """Rotation of the femur relative to the pelvis from anatomical hip angles.

    Parameters
    ----------
    flexion_deg, adduction_deg, internal_rotation_deg
        Hip angles, positive = flexion, adduction, internal rotation.
    side
        ``"left"`` or ``"right"``.

    Returns
    -------
    ndarray
        ``(..., 3, 3)`` rotation, in the pelvis frame (world axes in the neutral pose).

    Notes
    -----
    An ISB-like joint coordinate system: flexion about the pelvis' medio-lateral axis,
    then adduction about the floating antero-posterior axis, then axial rotation about the
    femur's long axis: ``R = Rx(-flex) Ry(±add) Rz(∓ir)``. Flexion brings the knee forward
    (-Y); left adduction moves the knee toward -X, right adduction toward +X; internal
    rotation turns the front of the knee medially. :func:`hip_angles` inverts it.
    """
    sign = 1.0 if side == "left" else -1.0
    return (
        rot_x(-np.asarray(flexion_deg))
        @ rot_y(sign * np.asarray(adduction_deg))
        @ rot_z(-sign * np.asarray(internal_rotation_deg))
    )


def hip_angles(
    relative_rotation: FloatArray, side: str
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Anatomical hip angles from the femur's rotation relative to the pelvis.

    Parameters
    ----------
    relative_rotation
        ``(n, 3, 3)`` = ``G_pelvis^T G_femur``, both rotations from the neutral pose.
    side
        ``"left"`` or ``"right"``.

    Returns
    -------
    flexion_deg, adduction_deg, internal_rotation_deg
        The X-Y'-Z'' Cardan angles with the signs of :func:`hip_rotation`; the third is the
        femur's rotation about its own long axis (femoral internal rotation).
    """
    r = np.asarray(relative_rotation, dtype=float)
    # R = Rx(a) Ry(b) Rz(c): r02 = sin b, r12 = -sin a cos b, r22 = cos a cos b,
    # r01 = -cos b sin c, r00 = cos b cos c.
    a = np.degrees(np.arctan2(-r[..., 1, 2], r[..., 2, 2]))
    b = np.degrees(np.arcsin(np.clip(r[..., 0, 2], -1.0, 1.0)))
    c = np.degrees(np.arctan2(-r[..., 0, 1], r[..., 0, 0]))
    sign = 1.0 if side == "left" else -1.0
    return -a, sign * b, -sign * c


# --------------------------------------------------------------------------- camera
@dataclass(frozen=True)
class PinholeCamera:
    """A pyrender-compatible perspective camera (OpenGL convention, looks along its -Z).

    Parameters
    ----------
    position
        Camera centre in world coordinates (m).
    target
        The point it looks at (m).
    yfov_deg
        Vertical field of view of the rendered (upright) frame, degrees.
    width, height
        Upright frame size in pixels.
    roll_deg
        Rotation of the camera about its viewing axis, positive = the camera's top turned
        toward its right (a phone held tilted clockwise from the user's view): the world's
        vertical then appears turned counter-clockwise in the image. 0 = level.
    """

    position: tuple[float, float, float]
    target: tuple[float, float, float]
    yfov_deg: float
    width: int
    height: int
    roll_deg: float = 0.0

    def pose(self) -> FloatArray:
        """Camera-to-world 4x4 matrix (pyrender's ``camera_pose``)."""
        pos = np.asarray(self.position, dtype=float)
        z = pos - np.asarray(self.target, dtype=float)
        z /= np.linalg.norm(z)
        x = np.cross([0.0, 0.0, 1.0], z)
        x /= np.linalg.norm(x)
        y = np.cross(z, x)
        if self.roll_deg:
            a = np.radians(self.roll_deg)
            x, y = np.cos(a) * x - np.sin(a) * y, np.sin(a) * x + np.cos(a) * y
        m = np.eye(4)
        m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, y, z, pos
        return m

    def project(self, points: FloatArray) -> FloatArray:
        """Pixel coordinates ``(..., 2)`` (x right, y down) of world points ``(..., 3)``."""
        pose = self.pose()
        rel = np.asarray(points, dtype=float) - pose[:3, 3]
        cam = rel @ pose[:3, :3]  # R^T p for row vectors
        depth = -cam[..., 2]
        f = 1.0 / np.tan(np.radians(self.yfov_deg) / 2.0)
        aspect = self.width / self.height
        x_ndc = cam[..., 0] / depth * f / aspect
        y_ndc = cam[..., 1] / depth * f
        u = (x_ndc + 1.0) / 2.0 * self.width
        v = (1.0 - y_ndc) / 2.0 * self.height
        return np.stack([u, v], axis=-1)


# --------------------------------------------------------------------------- 2D angles
# Written from the definitions of ``shared/spec/outputs.md``, deliberately NOT with the
# screener's formulas (``screener/angles.py``): other constructions of the same quantities
# (arcsine of the rise, the turning angle between segments, sides of a line, angles
# against the vertical), so that a wrong formula in either does not cancel out in the
# bench. ``tests/synth/test_geometry.py`` checks the two agree on the committed truth files.


def _angle_between_deg(a: FloatArray, b: FloatArray) -> FloatArray:
    """Unsigned angle between vectors, ``atan2(|a x b|, a . b)`` (2D or 3D), degrees."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape[-1] == 2:
        cross = np.abs(a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0])
    else:
        cross = np.linalg.norm(np.cross(a, b), axis=-1)
    return np.degrees(np.arctan2(cross, np.sum(a * b, axis=-1)))


def _side_of_line(start: FloatArray, end: FloatArray, point: FloatArray) -> FloatArray:
    """Sign of the 2D cross product: which side of the line start->end ``point`` lies on."""
    d, e = end - start, point - start
    return np.sign(d[..., 0] * e[..., 1] - d[..., 1] * e[..., 0])


def pelvic_obliquity_deg(left_hip: FloatArray, right_hip: FloatArray) -> FloatArray:
    """Hip line against the horizontal: ``asin(rise / length)``, positive when the subject's
    LEFT hip is lower (larger image y), in any view."""
    d = np.asarray(left_hip, dtype=float) - np.asarray(right_hip, dtype=float)
    length = np.hypot(d[..., 0], d[..., 1])
    return np.degrees(np.arcsin(np.clip(d[..., 1] / length, -1.0, 1.0)))


def knee_fppa_deg(
    hip: FloatArray, knee: FloatArray, ankle: FloatArray, other_hip: FloatArray
) -> FloatArray:
    """``180 - angle(hip, knee, ankle)``: the turn from the thigh's direction to the shank's,
    positive = valgus, i.e. the knee on the same side of the hip-ankle line as the other
    hip (medial)."""
    turn = _angle_between_deg(knee - hip, ankle - knee)
    medial = _side_of_line(hip, ankle, knee) * _side_of_line(hip, ankle, other_hip)
    return np.where(medial < 0, -turn, turn)


def hip_adduction_2d_deg(hip: FloatArray, knee: FloatArray, other_hip: FloatArray) -> FloatArray:
    """Femur against the pelvis in the image: 90° minus the angle between the thigh
    (hip -> knee) and the direction to the other hip; positive = adduction (knee toward
    the midline), 0 when the thigh is perpendicular to the hip line."""
    return 90.0 - _angle_between_deg(knee - hip, other_hip - hip)


def trunk_lean_deg(
    left_hip: FloatArray,
    right_hip: FloatArray,
    left_shoulder: FloatArray,
    right_shoulder: FloatArray,
) -> FloatArray:
    """Mid-hip to mid-shoulder line against the image's up direction, positive when it
    leans toward the subject's LEFT (the side of the left hip); empty (NaN) when the hips
    coincide in x, so that the subject's left is unknown."""
    trunk = 0.5 * (left_shoulder + right_shoulder) - 0.5 * (left_hip + right_hip)
    up = np.broadcast_to(np.array([0.0, -1.0]), trunk.shape)
    leftward = np.sign(left_hip[..., 0] - right_hip[..., 0])
    toward_left = np.sign(trunk[..., 0]) * leftward
    lean = _angle_between_deg(trunk, up)
    return np.where(leftward == 0, np.nan, np.where(toward_left < 0, -lean, lean))


# --------------------------------------------------------------------------- 3D angles
def knee_flexion_deg(hip: FloatArray, knee: FloatArray, ankle: FloatArray) -> FloatArray:
    """Angle between the thigh's and the shank's directions in 3D; 0 = straight knee."""
    return _angle_between_deg(knee - hip, ankle - knee)


def _unit(v: FloatArray) -> FloatArray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _dot(a: FloatArray, b: FloatArray) -> FloatArray:
    return np.sum(a * b, axis=-1)


def femoral_ir_plane_deg(
    hip: FloatArray,
    knee: FloatArray,
    ankle: FloatArray,
    left_hip: FloatArray,
    right_hip: FloatArray,
    side: str,
) -> FloatArray:
    """Femoral rotation read from joint centres alone (what a landmark method can see).

    The knee's flexion axis is the normal of the hip-knee-ankle plane; its angle about the
    femur's long axis from the pelvis' left-pointing axis, positive = internal.

    Notes
    -----
    Undefined for a straight knee (the plane degenerates); it also absorbs any knee
    ab/adduction or rotation. Anatomical truth is :func:`hip_angles`; this column tells
    how far joint centres alone can get.
    """
    up = _unit(hip - knee)
    knee_axis = np.cross(knee - hip, ankle - knee)
    pelvis_left = left_hip - right_hip
    a = _unit(pelvis_left - _dot(pelvis_left, up)[..., None] * up)
    b = _unit(knee_axis - _dot(knee_axis, up)[..., None] * up)
    phi = np.degrees(np.arctan2(_dot(np.cross(a, b), up), _dot(a, b)))
    return -phi if side == "left" else phi
