"""The lens-height research trainer's geometry (bench/train_lens_model.py).

Known answers: the elevation of a rendered camera above the point it looks at; a lab
camera's landmarks re-aimed at the subject land where a level pinhole camera at the same
place, aimed at her, projects the same points.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.accuracy import camera_elevation_deg
from bench.multiview import Camera
from bench.train_lens_model import reaimed
from screener.keypoints import PoseSequence

LAB_DISTORTION = np.array([-0.046, 0.14, 0.0006, 0.0007, 0.0])  # k1, k2, p1, p2, k3
SIZE = (1088, 1920)


def _aimed_rotation(position, target, roll_deg: float = 0.0) -> np.ndarray:
    """World-to-camera rotation (OpenCV axes) of a camera at ``position`` looking at
    ``target``, turned by ``roll_deg`` about its viewing axis."""
    forward = np.asarray(target, float) - position
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    r = np.stack([right, np.cross(forward, right), forward])
    a = np.radians(roll_deg)
    roll = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    return roll @ r


def _camera(position, target, roll_deg, distortion, centre) -> Camera:
    rotation = _aimed_rotation(np.asarray(position, float), target, roll_deg)
    matrix = np.array([[1500.0, 0.0, centre[0]], [0.0, 1510.0, centre[1]], [0.0, 0.0, 1.0]])
    return Camera(
        name="cam",
        size_px=SIZE,
        matrix=matrix,
        distortion=np.asarray(distortion, float),
        rotation=rotation,
        translation_m=-rotation @ np.asarray(position, float),
    )


@pytest.mark.parametrize(
    ("position", "target", "expected"),
    [
        ((0.0, -3.0, 1.8), (0.0, 0.0, 0.9), np.degrees(np.arctan2(0.9, 3.0))),
        ((1.0, -2.0, 0.5), (0.0, 0.0, 0.9), -np.degrees(np.arctan2(0.4, np.sqrt(5.0)))),
    ],
)
def test_camera_elevation_is_the_lens_angle_above_its_aim(position, target, expected) -> None:
    camera = {"position_m": list(position), "target_m": list(target)}
    assert camera_elevation_deg(camera) == pytest.approx(expected, abs=1e-9)


def test_reaimed_landmarks_are_those_of_a_level_camera_aimed_at_the_target() -> None:
    rng = np.random.default_rng(3)
    position, hips = np.array([0.4, -4.0, 1.9]), np.array([0.0, 0.0, 0.85])
    # the lab's way: a camera pitched down at a point beside and below the subject, rolled,
    # with the lab lenses' distortion and its principal point off the frame's centre
    lab = _camera(position, (0.9, 0.5, 0.2), 4.0, LAB_DISTORTION, (530.0, 980.0))
    ideal = _camera(position, hips, 0.0, np.zeros(5), (SIZE[0] / 2, SIZE[1] / 2))
    points = hips + rng.uniform([-0.3, -0.2, -0.85], [0.3, 0.2, 0.85], size=(5, 33, 3))
    world = rng.normal(size=(5, 33, 3))  # MediaPipe's axes follow the camera's
    pose = PoseSequence(
        time_s=np.arange(5) / 30.0,
        image_xy_px=lab.project(points),
        world_xyz_m=world,
        visibility=np.ones((5, 33)),
        detected=np.ones(5, dtype=bool),
        image_size_px=SIZE,
    )

    out = reaimed(pose, lab, hips)

    np.testing.assert_allclose(out.image_xy_px, ideal.project(points), atol=1e-6)
    turn = ideal.rotation @ lab.rotation.T
    np.testing.assert_allclose(out.world_xyz_m, world @ turn.T, atol=1e-12)
    # the camera compared with is aimed at the hips (the frame's centre) and level (the
    # vertical through the hips stays vertical in its image)
    centre, above = ideal.project(np.stack([hips, hips + np.array([0.0, 0.0, 0.5])]))
    np.testing.assert_allclose(centre, np.array(SIZE) / 2, atol=1e-9)
    assert above[0] == pytest.approx(centre[0], abs=1e-9)
