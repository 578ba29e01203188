"""A second pose model's keypoints as the real-video check's reference (bench), known answers.

Synthetic lab cameras see a body whose frontal angles are known; its COCO keypoints,
projected into each camera and written as the CSV ``bench.detector_keypoints`` writes,
must triangulate back to those angles; a camera whose labels are exchanged must be put
right; the crop helpers must map a point into MoveNet's crop and back.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.detector_keypoints import CROP_PX, crop_box, cut_crop, to_image_px
from bench.multiview import reference_angles
from bench.real_video_agreement import (
    COCO_KEYPOINTS,
    JOINTS,
    LAB_UP,
    detector_reference,
    label_as_subject,
    read_detector_keypoints,
)
from screener.landmarks import INDEX, LANDMARK_NAMES
from tests.test_multiview import _lab

N_FRAMES = 30


def _body(n_frames: int) -> dict[str, np.ndarray]:
    """A standing body, pelvis dropping 0 -> 6 deg to its right over the frames (the
    left hip higher), the left thigh adducted 8 deg, facing -y."""
    drop = np.radians(np.linspace(0.0, 6.0, n_frames))
    mid = np.array([0.1, -0.4, 0.95])
    hip_dir = np.stack([np.cos(drop), np.zeros(n_frames), np.sin(drop)], axis=1)  # to the left
    lhip, rhip = mid + 0.1 * hip_dir, mid - 0.1 * hip_dir
    down = np.array([0.0, 0.0, -1.0])
    add = np.radians(8.0)
    lthigh = np.cos(add) * down + np.sin(add) * np.array([-1.0, 0.0, 0.0])
    body = {
        "left_hip": lhip,
        "right_hip": rhip,
        "left_knee": lhip + 0.45 * lthigh,
        "right_knee": rhip + 0.45 * down,
    }
    body["left_ankle"] = body["left_knee"] + 0.42 * down
    body["right_ankle"] = body["right_knee"] + 0.42 * down
    body["left_shoulder"] = np.tile(mid + np.array([0.18, 0.0, 0.5]), (n_frames, 1))
    body["right_shoulder"] = np.tile(mid + np.array([-0.18, 0.0, 0.5]), (n_frames, 1))
    return body


def _write_keypoints(
    path: Path, cameras, body: dict[str, np.ndarray], swapped_camera: int | None = None
) -> None:
    rows = []
    for c, cam in enumerate(cameras):
        for name in COCO_KEYPOINTS:
            if name not in body:
                continue
            seen_as = name
            if c == swapped_camera:  # this camera calls the left hip the right one
                seen_as = name.replace("left", "L").replace("right", "left").replace("L", "right")
            px = cam.project(body[name])
            rows += [(cam.name, f, seen_as, x, y, 0.9) for f, (x, y) in enumerate(px)]
    pd.DataFrame(rows, columns=["camera", "frame", "keypoint", "x_px", "y_px", "score"]).to_csv(
        path, index=False
    )
    path.with_name(path.name.removesuffix(".csv") + ".json").write_text(
        json.dumps({"source": "projected known joints"}), encoding="utf-8"
    )


def _subject_points(body: dict[str, np.ndarray]) -> np.ndarray:
    points = np.full((N_FRAMES, len(LANDMARK_NAMES), 3), np.nan)
    for name, xyz in body.items():
        points[:, INDEX[name]] = xyz
    return points


def test_second_models_keypoints_triangulate_to_the_known_angles(tmp_path):
    cameras = _lab(tmp_path)
    body = _body(N_FRAMES)
    path = tmp_path / "kp.csv"
    _write_keypoints(path, cameras, body, swapped_camera=2)
    detector = read_detector_keypoints(path, cameras)
    assert detector.source == "projected known joints"
    assert detector.keypoints.shape == (4, N_FRAMES, 17, 3)

    labelled, swapped = label_as_subject(detector.keypoints, cameras, _subject_points(body))
    assert swapped == {"cam01": 0, "cam02": 0, "cam03": N_FRAMES, "cam04": 0}

    truth = reference_angles({j: body[j] for j in JOINTS}, LAB_UP)
    every_frame = np.ones(N_FRAMES, dtype=bool)
    for use in ([0, 1, 2, 3], [0, 2, 3], [1, 3]):  # leave-one-camera-out, two views suffice
        angles, ok = detector_reference(
            labelled, cameras, use, every_frame, fps=60.0, cutoff_hz=6.0
        )
        assert ok.all()
        for col in ("pelvic_obliquity_deg", "left_hip_adduction_deg", "left_knee_fppa_deg"):
            np.testing.assert_allclose(angles[col], truth[col], atol=0.05, err_msg=col)
    # the spec's sign: positive when the left hip is lower; here the left hip is higher
    assert truth["pelvic_obliquity_deg"].iloc[-1] == pytest.approx(-6.0, abs=1e-6)
    assert truth["left_hip_adduction_deg"].iloc[0] == pytest.approx(8.0, abs=1e-6)


def test_low_scores_and_single_views_leave_frames_out(tmp_path):
    cameras = _lab(tmp_path)
    path = tmp_path / "kp.csv"
    _write_keypoints(path, cameras, _body(N_FRAMES))
    keypoints = read_detector_keypoints(path, cameras).keypoints
    keypoints[1:, :5, COCO_KEYPOINTS.index("left_knee"), 2] = 0.1  # one view left: not placed
    _, ok = detector_reference(
        keypoints, cameras, [0, 1, 2, 3], np.ones(N_FRAMES, dtype=bool), 60.0, 6.0
    )
    assert not ok[:5].any() and ok[5:].all()


def test_keypoint_files_name_what_is_wrong(tmp_path):
    cameras = _lab(tmp_path)
    path = tmp_path / "kp.csv"
    _write_keypoints(path, cameras, _body(3))
    table = pd.read_csv(path)
    table.loc[0, "keypoint"] = "left_elbow_tip"
    table.to_csv(path, index=False)
    with pytest.raises(ValueError, match="left_elbow_tip"):
        read_detector_keypoints(path, cameras)
    path.with_name("kp.json").unlink()
    with pytest.raises(ValueError, match=r"kp\.json"):
        read_detector_keypoints(path, cameras)


def test_a_point_goes_into_movenets_crop_and_back():
    image = np.zeros((1920, 1088, 3), dtype=np.uint8)
    body_px = np.array([[400.0, 300.0], [700.0, 1500.0], [np.nan, np.nan]])
    box = crop_box(body_px)
    assert box is not None
    left, top, side = box
    assert side == pytest.approx(1.3 * 1200.0)  # centred on the box (550, 900)
    assert (left, top) == pytest.approx((550.0 - side / 2, 900.0 - side / 2))
    x, y = 640.0, 900.0
    image[int(y) - 6 : int(y) + 6, int(x) - 6 : int(x) + 6] = 255
    crop = cut_crop(image, box)
    assert crop.shape == (CROP_PX, CROP_PX, 3)
    rows, cols = np.nonzero(crop[..., 0] > 100)
    fraction = np.array([[rows.mean() / CROP_PX, cols.mean() / CROP_PX, 0.8]])  # MoveNet: y, x
    back = to_image_px(fraction, box)[0]
    assert back[0] == pytest.approx(x, abs=side / CROP_PX) and back[1] == pytest.approx(
        y, abs=side / CROP_PX
    )
    assert back[2] == 0.8
    assert crop_box(np.full((3, 2), np.nan)) is None
