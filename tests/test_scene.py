"""The picture's tilt read from the room's vertical lines (screener.scene)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from screener.keypoints import PoseSequence
from screener.landmarks import INDEX, N_LANDMARKS
from screener.scene import MIN_SEGMENTS, estimate_scene_tilt, tilt_at_deg
from tests.synthetic import still_pose

W, H = 640, 360
HIP = np.array([W / 2, H / 2 + 20])


def _pose(
    n_frames: int = 4, box: tuple[float, float, float, float] = (280, 60, 360, 330)
) -> PoseSequence:
    """A still subject standing in ``box`` (x0, y0, x1, y1): landmarks spread over it,
    the hips at :data:`HIP`."""
    x0, y0, x1, y1 = box
    rng = np.random.default_rng(1)
    xy = np.column_stack([rng.uniform(x0, x1, N_LANDMARKS), rng.uniform(y0, y1, N_LANDMARKS)])
    xy[[0, 1]] = (x0, y0), (x1, y1)  # the box's corners
    offset = np.array([10.0, 0.0])
    xy[INDEX["left_hip"]], xy[INDEX["right_hip"]] = HIP + offset, HIP - offset
    return still_pose(xy, n_frames, (W, H))


def _room(lines: list[tuple[tuple[float, float], tuple[float, float]]]) -> np.ndarray:
    """A grey RGB frame with dark lines drawn between the given end points."""
    import cv2

    img = np.full((H, W, 3), 170, dtype=np.uint8)
    for (ax, ay), (bx, by) in lines:
        cv2.line(img, (round(ax), round(ay)), (round(bx), round(by)), (40, 40, 40), 2)
    return img


def _verticals(
    roll_deg: float, xs: Sequence[float]
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Lines of a level room's verticals at ``xs``, the picture rolled by ``roll_deg``
    (top toward the image's right) about its centre."""
    a = math.radians(roll_deg)
    out = []
    for x in xs:
        top, bottom = np.array([x, 10.0]), np.array([x, H - 10.0])
        centre = np.array([W / 2, H / 2])
        rot = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]]).T
        # rotate clockwise on screen (y down): top moves right for a positive roll
        t, b = ((p - centre) @ rot.T + centre for p in (top, bottom))
        out.append(((float(t[0]), float(t[1])), (float(b[0]), float(b[1]))))
    return out


XS = [30, 60, 95, 130, 170, 210, 250, 400, 440, 480, 520, 560, 600, 620]


@pytest.mark.parametrize("roll_deg", [-8.0, 0.0, 4.0])
def test_the_verticals_of_a_rolled_picture_give_its_roll(roll_deg: float) -> None:
    frames = {i: _room(_verticals(roll_deg, XS)) for i in range(4)}
    scene = estimate_scene_tilt(frames, _pose())
    assert scene.read and scene.segments >= MIN_SEGMENTS
    assert scene.tilt_deg == pytest.approx(roll_deg, abs=0.3)


def test_converging_verticals_give_the_tilt_at_the_subject() -> None:
    """A camera pitched down: the verticals meet far below the picture, and the tilt at
    the subject is that of the line from the hips to that point."""
    vp = np.array([W / 2 + 400.0, H + 2500.0])
    lines = []
    for x in XS:
        top = np.array([x, 5.0])
        d = (vp - top) / np.linalg.norm(vp - top)
        bottom = top + d * (H - 15) / d[1]
        lines.append(((float(top[0]), 5.0), (float(bottom[0]), float(bottom[1]))))
    frames = {i: _room(lines) for i in range(4)}
    scene = estimate_scene_tilt(frames, _pose())
    expected = tilt_at_deg(np.array([vp[0], vp[1], 1.0]), HIP)
    assert scene.read
    assert scene.tilt_deg == pytest.approx(expected, abs=0.3)
    assert abs(expected) > 5.0  # the perspective matters here


def test_a_plain_wall_gives_no_reading() -> None:
    scene = estimate_scene_tilt({i: _room([]) for i in range(4)}, _pose())
    assert not scene.read
    assert scene.as_dict()["tilt_deg"] is None


def test_lines_on_the_subject_are_not_the_room() -> None:
    on_subject = _verticals(6.0, [290, 300, 310, 320, 330, 340, 350])
    scene = estimate_scene_tilt({i: _room(on_subject) for i in range(4)}, _pose())
    assert not scene.read


def test_floor_lines_running_away_from_the_camera_are_not_verticals() -> None:
    """Lines that meet near the middle of the picture (the horizon's vanishing point of a
    floor's edges) are not the room's verticals, however near vertical they look."""
    horizon_vp = np.array([W / 2 + 30.0, 40.0])
    lines = []
    for x in np.linspace(20, W - 20, 16):
        if 250 < x < 390:
            continue
        bottom = np.array([x, H - 5.0])
        d = (horizon_vp - bottom) / np.linalg.norm(horizon_vp - bottom)
        top = bottom + d * 200
        lines.append(((float(bottom[0]), float(bottom[1])), (float(top[0]), float(top[1]))))
    scene = estimate_scene_tilt({i: _room(lines) for i in range(4)}, _pose())
    assert not scene.read


@pytest.mark.real_videos
def test_real_videos_the_lab_cameras_tilt_is_read_from_the_room(
    real_videos_dir: Path, tmp_path: Path
) -> None:
    """The Pose2Sim lab's calibrated cameras: the tilt at the tracked subject read from
    the room agrees with the calibration (measured within 0.3° on these two; the
    subject's long axis read them 1-2° off: docs/capture.md)."""
    from bench.multiview import read_qca
    from bench.scene_tilt import mid_hip_px, searched_frames, true_tilt_deg
    from screener.config import AnalysisConfig
    from screener.pose import estimate_pose

    folder = real_videos_dir / "pose2sim_multiperson"
    cameras = {c.name: c for c in read_qca(folder / "Calib.qca.txt")}
    config = AnalysisConfig()
    for name in ("cam02", "cam04"):
        video = folder / f"{name}.mp4"
        raw = estimate_pose(video, config.pose, tmp_path)
        frames = searched_frames(video, raw)
        scene = estimate_scene_tilt(frames, raw, 0, config.capture.assumed_long_side_fov_deg)
        truth = true_tilt_deg(cameras[name], mid_hip_px(raw, sorted(frames)))
        assert scene.read, name
        assert scene.tilt_deg == pytest.approx(truth, abs=1.5), name
