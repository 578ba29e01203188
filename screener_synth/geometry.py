"""Rotations, the render camera's projection and the angle definitions of the truth files.

Pure NumPy, vectorised over frames. World frame (anny's): +X = the subject's left,
+Y = posterior, +Z = up, metres; the subject faces -Y in the neutral pose. Image frame:
x right, y down, pixels, continuous coordinates (pixel ``i`` covers ``[i, i + 1)``), the
convention of MediaPipe's normalised landmarks times the frame size.

The 2D definitions are those of ``shared/spec/outputs.md`` as the screener implements them
(``screener/angles.py``); they are re-implemented here so that the truth does not depend on
the code it checks.
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
def _unit(v: FloatArray) -> FloatArray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _dot(a: FloatArray, b: FloatArray) -> FloatArray:
    return np.sum(a * b, axis=-1)


def pelvic_obliquity_deg(left_hip: FloatArray, right_hip: FloatArray) -> FloatArray:
    """``atan2(yL - yR, |xL - xR|)`` in degrees: positive when the LEFT hip is lower."""
    d = np.asarray(left_hip) - np.asarray(right_hip)
    return np.degrees(np.arctan2(d[..., 1], np.abs(d[..., 0])))


def knee_fppa_deg(
    hip: FloatArray, knee: FloatArray, ankle: FloatArray, other_hip: FloatArray
) -> FloatArray:
    """Frontal plane projection angle ``180 - angle(hip, knee, ankle)``, positive = valgus.

    The sign is that of ``e · u``, ``e`` the knee's offset from the hip-ankle line and
    ``u`` the unit vector from this hip to the other hip (medial).
    """
    inner = np.degrees(np.arccos(np.clip(_dot(_unit(hip - knee), _unit(ankle - knee)), -1.0, 1.0)))
    line = ankle - hip
    t = _dot(knee - hip, line) / _dot(line, line)
    offset = knee - (hip + t[..., None] * line)
    sign = np.sign(_dot(offset, _unit(other_hip - hip)))
    return np.where(sign < 0, -(180.0 - inner), 180.0 - inner)


def hip_adduction_2d_deg(hip: FloatArray, knee: FloatArray, other_hip: FloatArray) -> FloatArray:
    """Femur against the perpendicular of the inter-hip line (pointing down the image).

    ``u`` = unit(other_hip - hip) (medial), ``n`` ⟂ ``u`` with a positive y component,
    ``t`` = knee - hip; adduction = ``atan2(t·u, t·n)``, positive toward the midline.
    """
    u = _unit(other_hip - hip)
    n = np.stack([-u[..., 1], u[..., 0]], axis=-1)
    n = np.where((n[..., 1] < 0)[..., None], -n, n)
    t = knee - hip
    return np.degrees(np.arctan2(_dot(t, u), _dot(t, n)))


def trunk_lean_deg(
    left_hip: FloatArray,
    right_hip: FloatArray,
    left_shoulder: FloatArray,
    right_shoulder: FloatArray,
) -> FloatArray:
    """Mid-hip to mid-shoulder line from the image vertical, positive toward the subject's LEFT."""
    v = 0.5 * (left_shoulder + right_shoulder) - 0.5 * (left_hip + right_hip)
    lx = np.sign(left_hip[..., 0] - right_hip[..., 0])
    return np.degrees(np.arctan2(v[..., 0] * lx, -v[..., 1]))


# --------------------------------------------------------------------------- 3D angles
def knee_flexion_deg(hip: FloatArray, knee: FloatArray, ankle: FloatArray) -> FloatArray:
    """``180 - angle(hip, knee, ankle)`` from 3D joint centres; 0 = straight."""
    inner = np.degrees(np.arccos(np.clip(_dot(_unit(hip - knee), _unit(ankle - knee)), -1.0, 1.0)))
    return 180.0 - inner


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
