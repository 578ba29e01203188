"""Calibration parsing, triangulation and body-frame angles of the real-video benchmark.

Known answers: a camera written into a Qualisys calibration file projects known points
where a pinhole must; synthetic 3D points projected through the parsed cameras
triangulate back within 1 mm; a body built with known angles gives them back in any
heading. ``*_real_videos`` tests read the Pose2Sim 4-camera clip from
``../shared/real_videos`` (skipped where that folder is absent).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from bench.multiview import (
    QCA_SUBPIXELS,
    CalibrationError,
    Camera,
    camera_placement,
    consistent_views,
    distort,
    read_qca,
    reference_angles,
    triangulate_robust,
    undistort,
)
from bench.real_video_agreement import (
    CALIBRATION,
    JOINTS,
    LAB_UP,
    associate,
    load_poses,
    triangulate_person,
)
from screener.config import AnalysisConfig
from screener.landmarks import INDEX

LAB_DISTORTION = (-0.046, 0.14, 0.0006, 0.0007, 0.0)  # k1, k2, p1, p2, k3 of the lab's lenses
POSE2SIM = "pose2sim_multiperson"


def _qualisys_rotation(position_m, target_m, roll_deg: float = 0.0) -> np.ndarray:
    """Rows: Qualisys camera axes (x right, y up, z backward) in world coordinates."""
    z_cv = np.asarray(target_m, float) - position_m
    z_cv /= np.linalg.norm(z_cv)
    x_cv = np.cross(z_cv, [0.0, 0.0, 1.0])
    x_cv /= np.linalg.norm(x_cv)
    y_cv = np.cross(z_cv, x_cv)
    r_cv = np.stack([x_cv, y_cv, z_cv])
    a = np.radians(roll_deg)
    roll = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    r_cv = roll @ r_cv
    return np.diag([1.0, -1.0, -1.0]) @ r_cv


def _qca_camera_xml(name, position_m, m, focal_px, centre_px, dist, left=0, top=0) -> str:
    k1, k2, p1, p2, k3 = dist
    rot = " ".join(f'r{i + 1}{j + 1}="{m[i, j]!r}"' for i in range(3) for j in range(3))
    x, y, z = (1000.0 * np.asarray(position_m)).tolist()
    return f"""
    <camera active="1" serial="{name}" viewrotation="0">
      <fov_video bottom="{top + 1919}" left="{left}" right="{left + 1087}" top="{top}"/>
      <transform {rot} x="{x!r}" y="{y!r}" z="{z!r}"/>
      <intrinsic centerPointU="{(centre_px[0] + left) * QCA_SUBPIXELS!r}"
        centerPointV="{(centre_px[1] + top) * QCA_SUBPIXELS!r}"
        focalLengthU="{focal_px * QCA_SUBPIXELS!r}" focalLengthV="{focal_px * QCA_SUBPIXELS!r}"
        radialDistortion1="{k1}" radialDistortion2="{k2}" radialDistortion3="{k3}"
        skew="0" tangentalDistortion1="{p1}" tangentalDistortion2="{p2}"/>
    </camera>"""


def _write_qca(path: Path, cameras_xml: list[str]) -> Path:
    path.write_text(
        "<?xml version='1.0' encoding='ASCII'?>\n<calibration><cameras>"
        + "".join(cameras_xml)
        + "\n</cameras></calibration>\n",
        encoding="ascii",
    )
    return path


def _lab(tmp_path: Path, roll_deg: float = 0.0) -> list[Camera]:
    """Four cameras around a capture volume, 1.7-2.1 m high, like the Pose2Sim lab."""
    positions = [(1.5, -1.9, 1.9), (2.6, 0.7, 1.7), (-3.2, 2.2, 2.1), (-3.8, -1.4, 1.9)]
    xml = [
        _qca_camera_xml(
            f"cam0{i + 1}",
            p,
            _qualisys_rotation(np.array(p), (0.1, -0.4, 0.9), roll_deg),
            1680.0,
            (533.0 + 3 * i, 950.0 - 2 * i),
            LAB_DISTORTION,
            left=10 * i,
            top=5 * i,
        )
        for i, p in enumerate(positions)
    ]
    return read_qca(_write_qca(tmp_path / "lab.qca.txt", xml))


def _volume_points(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform([-0.5, -0.9, 0.0], [0.7, 0.1, 1.9], size=(n, 3))


# --------------------------------------------------------------------------- calibration


def test_parsed_camera_projects_known_points_like_a_pinhole(tmp_path):
    pos = np.array([0.0, -3.0, 1.0])  # looking along +y at a target 3 m away, no roll
    m = _qualisys_rotation(pos, (0.0, 0.0, 1.0))
    xml = _qca_camera_xml("c1", pos, m, 1600.0, (540.0, 960.0), (0, 0, 0, 0, 0), left=64, top=32)
    (cam,) = read_qca(_write_qca(tmp_path / "c.qca.txt", [xml]))
    assert cam.name == "c1" and cam.size_px == (1088, 1920)
    np.testing.assert_allclose(cam.matrix[:2, 2], [540.0, 960.0])  # window offset removed
    np.testing.assert_allclose(cam.position_m, pos, atol=1e-12)
    np.testing.assert_allclose(cam.rotation @ cam.rotation.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(cam.rotation) == pytest.approx(1.0)
    px = cam.project(np.array([[0.0, 0.0, 1.0], [0.3, 0.0, 1.2], [0.0, 0.0, 0.4]]))
    # on the axis: the principal point; right and up in the world: right and up on screen
    np.testing.assert_allclose(px[0], [540.0, 960.0], atol=1e-9)
    np.testing.assert_allclose(px[1], [540.0 + 1600 * 0.3 / 3, 960.0 - 1600 * 0.2 / 3], atol=1e-9)
    np.testing.assert_allclose(px[2], [540.0, 960.0 + 1600 * 0.6 / 3], atol=1e-9)
    assert np.isnan(cam.project(np.array([[0.0, -4.0, 1.0]]))).all()  # behind the camera


def test_bad_calibration_files_name_the_file(tmp_path):
    with pytest.raises(CalibrationError, match="not found"):
        read_qca(tmp_path / "missing.qca.txt")
    bad = tmp_path / "bad.qca.txt"
    bad.write_text("<calibration><cameras>", encoding="ascii")
    with pytest.raises(CalibrationError, match=r"bad\.qca\.txt: not a Qualisys"):
        read_qca(bad)
    bad.write_text('<calibration><cameras><camera serial="c"/></cameras></calibration>')
    with pytest.raises(CalibrationError, match="camera c: missing"):
        read_qca(bad)


def test_undistort_inverts_distort():
    rng = np.random.default_rng(1)
    xy = rng.uniform(-0.45, 0.45, size=(500, 2))
    coeffs = np.array(LAB_DISTORTION)
    back = undistort(distort(xy, coeffs), coeffs)
    assert np.abs(back - xy).max() < 1e-9
    assert np.abs(distort(xy, coeffs) - xy).max() > 1e-3  # the distortion is not nothing


# --------------------------------------------------------------------------- triangulation


@pytest.mark.parametrize("roll_deg", [0.0, 12.0])
def test_synthetic_points_triangulate_back_within_1mm(tmp_path, roll_deg):
    cams = _lab(tmp_path, roll_deg)
    pts = _volume_points(400)
    px = np.stack([c.project(pts) for c in cams])
    weights = np.random.default_rng(2).uniform(0.3, 1.0, size=px.shape[:2])
    back, used, err = triangulate_robust(px, cams, weights, max_error_px=5.0)
    assert np.linalg.norm(back - pts, axis=1).max() < 1e-3
    assert used.all() and np.nanmax(err) < 0.01


def test_a_disagreeing_view_is_dropped_and_two_views_suffice(tmp_path):
    cams = _lab(tmp_path)
    pts = _volume_points(50, seed=3)
    px = np.stack([c.project(pts) for c in cams])
    px[2] += [60.0, -40.0]  # camera 3 sees something else
    px[3, :10] = np.nan  # camera 4 misses ten points
    back, used, _ = triangulate_robust(px, cams, np.ones(px.shape[:2]), max_error_px=10.0)
    assert np.linalg.norm(back - pts, axis=1).max() < 1e-3
    assert not used[2].any() and not used[3, :10].any() and used[3, 10:].all()
    one_view = px.copy()
    one_view[1:] = np.nan
    single, _, _ = triangulate_robust(one_view, cams, np.ones(px.shape[:2]), 10.0)
    assert np.isnan(single).all()  # one view cannot place a point


def _body(offset) -> np.ndarray:
    """Eight landmarks (shoulders, hips, knees, ankles) of a standing person."""
    pts = np.array(
        [
            [0.18, 0, 1.45],
            [-0.18, 0, 1.45],
            [0.1, 0, 0.95],
            [-0.1, 0, 0.95],
            [0.1, 0, 0.5],
            [-0.1, 0, 0.5],
            [0.1, 0, 0.08],
            [-0.1, 0, 0.08],
        ]
    )
    return pts + np.asarray(offset)


def test_cameras_tracking_another_person_or_mirrored_labels_are_told_apart(tmp_path):
    cams = _lab(tmp_path)
    a = np.stack([_body((0.0, -0.4, 0.0)) + 0.01 * k for k in range(5)])  # 5 frames
    b = np.stack([_body((-1.2, 0.6, 0.0)) for _ in range(5)])
    swap = [1, 0, 3, 2, 5, 4, 7, 6]
    views = []
    for i, cam in enumerate(cams):
        body = b if i == 3 else a
        px = cam.project(body.reshape(-1, 3)).reshape(5, 8, 2)
        seen = px[:, swap] if i == 2 else px  # camera 3 labels left as right
        views.append([seen, seen[:, swap]])
    px = np.array(views)
    members, option, err = consistent_views(px, cams, np.ones(px.shape[:-1]), 5.0)
    assert members[:3].all() and not members[3].any()
    assert (option[0] == option[1]).all() and (option[2] != option[0]).all()
    assert np.nanmax(err) < 0.01


# --------------------------------------------------------------------------- angles


def _rot_z(deg: float) -> np.ndarray:
    a = np.radians(deg)
    return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])


@pytest.mark.parametrize("heading_deg", [0.0, 37.0, 160.0, -100.0])
def test_reference_angles_are_known_answers_in_any_heading(heading_deg):
    """Body frame x = subject's left, y = backward, z = up (forward = left x up = -y)."""
    o, a10, a5, a30 = (np.radians(d) for d in (6.0, 10.0, 5.0, 30.0))
    mid = np.array([0.0, 0.0, 1.0])
    lhip = mid + 0.1 * np.array([np.cos(o), 0, -np.sin(o)])  # left hip lower: +6
    rhip = mid - 0.1 * np.array([np.cos(o), 0, -np.sin(o)])
    medial_left = np.array([-np.cos(o), 0, np.sin(o)])
    down = np.array([-np.sin(o), 0, -np.cos(o)])  # perpendicular to the hip line
    thigh = np.cos(a10) * down + np.sin(a10) * medial_left  # left adducted 10 deg
    lknee, rknee = lhip + 0.45 * thigh, rhip + np.array([0, 0, -0.45])
    lankle = lknee + 0.45 * thigh  # straight left leg
    rankle = rknee + 0.45 * np.array([0, np.sin(a30), -np.cos(a30)])  # shank back: 30 flexion
    mid_sh = mid + 0.5 * np.array([np.sin(a5), 0, np.cos(a5)])  # trunk 5 deg to the left
    shoulder = np.array([0.18, 0.0, 0.0])
    lsh, rsh = mid_sh + shoulder, mid_sh - shoulder
    body = dict(
        left_hip=lhip,
        right_hip=rhip,
        left_knee=lknee,
        right_knee=rknee,
        left_ankle=lankle,
        right_ankle=rankle,
        left_shoulder=lsh,
        right_shoulder=rsh,
    )
    turn, shift = _rot_z(heading_deg), np.array([1.3, -0.7, 0.02])
    joints = {k: (turn @ v + shift)[None, :] for k, v in body.items()}
    ref = reference_angles(joints, LAB_UP).iloc[0]
    assert ref["pelvic_obliquity_deg"] == pytest.approx(6.0, abs=1e-9)
    assert ref["trunk_lean_deg"] == pytest.approx(5.0, abs=1e-9)
    assert ref["left_hip_adduction_deg"] == pytest.approx(10.0, abs=1e-9)
    assert ref["right_hip_adduction_deg"] == pytest.approx(6.0, abs=1e-9)  # vertical thigh
    assert ref["left_knee_fppa_deg"] == pytest.approx(0.0, abs=1e-5)
    assert ref["right_knee_fppa_deg"] == pytest.approx(0.0, abs=1e-5)  # flexion is sagittal
    assert ref["left_knee_flexion_deg"] == pytest.approx(0.0, abs=1e-5)
    assert ref["right_knee_flexion_deg"] == pytest.approx(30.0, abs=1e-9)
    # the mirror image reads the same magnitudes with the other hip lower
    mirrored = {
        k.replace("left", "L").replace("right", "left").replace("L", "right"): v
        for k, v in joints.items()
    }
    assert reference_angles(mirrored, LAB_UP).iloc[0]["pelvic_obliquity_deg"] == pytest.approx(-6.0)


def test_camera_placement_known_answers():
    left, up = np.array([1.0, 0.0, 0.0]), LAB_UP
    forward = np.cross(left, up)
    pelvis = np.array([0.5, 0.5, 0.95])
    yaw = np.radians(30.0)
    pos = pelvis + 3.0 * (np.cos(yaw) * forward + np.sin(yaw) * left) + np.array([0, 0, 1.0])

    def camera(roll_deg: float) -> Camera:
        r = np.diag([1.0, -1.0, -1.0]) @ _qualisys_rotation(pos, pelvis, roll_deg)
        k = np.array([[1600.0, 0.0, 544.0], [0.0, 1600.0, 960.0], [0.0, 0.0, 1.0]])
        return Camera("c", (1088, 1920), k, np.zeros(5), r, -r @ pos)

    p = camera(0.0)
    got = camera_placement(p, pelvis, left, up, floor_m=-0.05)
    assert got["yaw_deg"] == pytest.approx(30.0)
    assert got["off_axis_deg"] == pytest.approx(30.0) and got["view"] == "anterior"
    assert got["pitch_deg"] == pytest.approx(np.degrees(np.arctan2(1.0, 3.0)))
    assert got["distance_m"] == pytest.approx(3.0)
    assert got["lens_height_m"] == pytest.approx(0.95 + 1.0 + 0.05)
    assert got["image_tilt_deg"] == pytest.approx(0.0, abs=1e-9)  # aimed at the hips, level
    rolled = camera_placement(camera(10.0), pelvis, left, up, floor_m=0.0)
    assert rolled["image_tilt_deg"] == pytest.approx(10.0, abs=1e-6)
    behind = camera_placement(p, pelvis, -left, up, floor_m=0.0)  # the subject turned round
    assert behind["view"] == "posterior" and behind["off_axis_deg"] == pytest.approx(30.0)


# --------------------------------------------------------------------------- real videos


@pytest.fixture(scope="module")
def pose2sim_dir(real_videos_dir: Path) -> Path:
    folder = real_videos_dir / POSE2SIM
    if not (folder / CALIBRATION).is_file():
        pytest.skip(f"real_videos: {folder / CALIBRATION} is absent")
    return folder


@pytest.mark.real_videos
def test_real_videos_calibration_parses_and_round_trips(pose2sim_dir):
    cams = read_qca(pose2sim_dir / CALIBRATION)
    assert [c.name for c in cams] == ["cam01", "cam02", "cam03", "cam04"]
    assert all(c.size_px == (1088, 1920) for c in cams)
    assert cams[0].matrix[0, 0] == pytest.approx(107599.671875 / 64)
    assert cams[0].matrix[0, 2] == pytest.approx(34110.316406 / 64)
    np.testing.assert_allclose(cams[0].position_m, [1.4602324, -1.9091590, 1.8965059], atol=1e-6)
    for cam in cams:  # every camera 1.6-2.2 m high, looking down toward the volume
        assert 1.6 < cam.position_m[2] < 2.2 and cam.optical_axis[2] < 0
    pts = _volume_points(300, seed=4)
    px = np.stack([c.project(pts) for c in cams])
    back, _, _ = triangulate_robust(px, cams, np.ones(px.shape[:2]), 5.0)
    assert np.linalg.norm(back - pts, axis=1).max() < 1e-3


#: Median reprojection error a camera's landmarks must stay under (measured: 3.6-10 px on
#: 1088 x 1920 frames; MediaPipe's joints are not the same anatomical point in every view).
REAL_MAX_MEDIAN_ERROR_PX = 15.0


@pytest.mark.real_videos
def test_real_videos_triangulation_reprojects_within_15_px(pose2sim_dir, tmp_path_factory):
    cams = read_qca(pose2sim_dir / CALIBRATION)
    config = AnalysisConfig(cache_dir=tmp_path_factory.mktemp("pose_cache"))
    poses = load_poses(pose2sim_dir, cams, config)
    members, option, _ = associate(poses, cams, 40.0)
    # cam01, cam02 and cam04 follow the woman standing in front; cam03's tracker follows
    # the other person (or a mix of both) and is left out
    share = members.mean(axis=1)
    assert (share[[0, 1, 3]] > 0.9).all() and share[2] < 0.2
    tri = triangulate_person(poses, cams, members, option, 20.0)
    joints = [INDEX[n] for n in JOINTS]
    for c in (0, 1, 3):
        err = np.where(tri["used"][c], tri["error_px"][c], np.nan)[members[c]][:, joints]
        assert np.nanmedian(err) < REAL_MAX_MEDIAN_ERROR_PX, cams[c].name
    pts = tri["points"]
    # upright along the lab's z, anatomical labels: the nose in front of the hips
    height = np.nanmedian(pts[:, INDEX["nose"], 2] - pts[:, INDEX["left_ankle"], 2])
    assert 1.0 < height < 1.9
    hips = pts[:, INDEX["left_hip"]] - pts[:, INDEX["right_hip"]]
    forward = np.cross(hips, LAB_UP)
    mid = 0.5 * (pts[:, INDEX["left_hip"]] + pts[:, INDEX["right_hip"]])
    assert np.nanmedian(np.sum((pts[:, INDEX["nose"]] - mid) * forward, axis=1)) > 0
    # the other reading of the file's rotation (M transposed) does not fit the video
    flip = np.diag([1.0, -1.0, -1.0])
    wrong = []
    for cam in cams:
        r = flip @ (flip @ cam.rotation).T
        wrong.append(dataclasses.replace(cam, rotation=r, translation_m=-r @ cam.position_m))
    bad = triangulate_person(poses, wrong, members, option, np.inf)
    bad_err = np.where(bad["used"], bad["error_px"], np.nan)[:, :, joints]
    assert np.nanmedian(bad_err) > 5 * REAL_MAX_MEDIAN_ERROR_PX


def _camera_entry(geometric_rmse: float, model_rmse: float, leave_out: bool = True) -> dict:
    """One camera's result as ``bench.real_video_agreement.run`` writes it (frame model
    applied to every target), with the leave-one-camera-out RMSE given."""
    from screener.frame_model import TARGET_GROUPS

    def frames(rmse: float) -> dict:
        return {m: {"rmse_deg": rmse, "bias_deg": 0.0, "r": 0.5, "n": 90} for m in TARGET_GROUPS}

    targets = [t for ts in TARGET_GROUPS.values() for t in ts]
    return {
        "placement": {"off_axis_deg": 10.0, "lens_height_m": 1.0},
        # against the full reference the model looks better: the check must not use it
        "without_corrections": {
            "frames": frames(9.0),
            "frames_leave_out": frames(geometric_rmse) if leave_out else None,
        },
        "frame_model": {
            "frame_model_targets": targets,
            "frames": frames(1.0),
            "frames_leave_out": frames(model_rmse) if leave_out else None,
        },
    }


def test_frame_model_verified_only_when_closer_to_the_other_cameras_on_every_camera():
    from bench.real_video_agreement import verify_frame_model

    closer = {"cameras": {"cam01": _camera_entry(5.0, 3.0), "cam02": _camera_entry(6.0, 4.0)}}
    assert all(v["verified"] for v in verify_frame_model(closer).values())
    one_worse = {"cameras": {**closer["cameras"], "cam04": _camera_entry(4.0, 4.5)}}
    outcome = verify_frame_model(one_worse)
    assert not any(v["verified"] for v in outcome.values())
    assert outcome["pelvic_obliquity_deg"]["cameras"]["cam04"]["model_rmse_deg"] == 4.5
    # a camera with no reference from the others does not count, and one camera is not enough
    lone = {"cameras": {"cam01": _camera_entry(5.0, 3.0), "cam02": _camera_entry(4.0, 9.0, False)}}
    outcome = verify_frame_model(lone)
    assert not any(v["verified"] for v in outcome.values())
    assert set(outcome["knee_fppa_deg"]["cameras"]) == {"cam01"}


def test_the_check_can_analyse_with_a_candidate_frame_model_and_refuses_no_camera(tmp_path):
    """``--frame-model-path``: a candidate model is checked on the real cameras before it
    replaces the shipped one; without it the shipped model is checked. Either way the lab
    cameras, all outside the envelope, are analysed (its refusals opened, not its warnings)."""
    import tomllib

    from bench.real_video_agreement import check_config

    candidate = tmp_path / "candidate_frame_model.npz"
    config = check_config(tmp_path, cache_dir=tmp_path / "cache", frame_model_path=candidate)
    assert config.frame_model_path == candidate
    assert config.frame_model_by_task == {}  # the candidate for every task
    assert config.cache_dir == tmp_path / "cache"
    assert check_config(tmp_path).frame_model_path == AnalysisConfig().frame_model_path
    opened = config.capture.envelope_path
    assert opened.parent == tmp_path
    shipped = tomllib.loads(AnalysisConfig().capture.envelope_path.read_text(encoding="utf-8"))
    limits = tomllib.loads(opened.read_text(encoding="utf-8"))
    assert limits.keys() == shipped.keys()

    def refusals(table: dict, out: dict) -> dict:
        for key, value in table.items():
            if isinstance(value, dict):
                refusals(value, out)
            elif key in ("refuse_abs", "refuse_min"):
                out.setdefault(key, []).append(value)
        return out

    assert refusals(shipped, {}) != refusals(limits, {})
    opened_limits = refusals(limits, {})
    assert set(opened_limits["refuse_abs"]) == {1000.0}
    assert set(opened_limits["refuse_min"]) == {0.0}


@pytest.mark.real_videos
def test_real_videos_check_compares_every_camera_tracking_the_subject_whatever_its_timing(
    pose2sim_dir, tmp_path_factory
):
    """The frame model's real-video check reads cam01, cam02 and cam04 (the cameras that
    follow the reference person), each against the other cameras' triangulation, however
    the standing subject's stance phases come out: in session 15 the default stance
    timing silently dropped cam01 from it. The same run also triangulates the committed
    MoveNet keypoints of the clip (bench/data) as a second reference, not from MediaPipe."""
    from bench.detector_keypoints import DEFAULT_OUT
    from bench.real_video_agreement import (
        check_config,
        read_detector_keypoints,
        run,
        verify_frame_model,
    )

    tmp = tmp_path_factory.mktemp("check")
    config = check_config(tmp, cache_dir=tmp / "pose_cache")
    detector = read_detector_keypoints(DEFAULT_OUT, read_qca(pose2sim_dir / CALIBRATION))
    result = run(pose2sim_dir, config, detector=detector)
    for name in ("cam01", "cam02", "cam04"):
        learned = result["cameras"][name]["frame_model"]
        assert "error" not in learned, (name, learned)
        assert learned["stance_timing"] in ("default", "rule")
        assert learned["frames_leave_out"]["knee_fppa_deg"]["n"] > 50, name
        assert learned["frames_detector_leave_out"]["pelvic_obliquity_deg"]["n"] > 50, name
    outcome = verify_frame_model(result)
    assert set(outcome["knee_fppa_deg"]["cameras"]) == {"cam01", "cam02", "cam04"}
    second = result["detector_reference"]
    assert "MoveNet" in second["source"] and second["frames_triangulated"] >= 90
    # the two references are made apart yet see the same standing body: trunk lean agrees
    assert second["against_mediapipe_reference"]["trunk_lean_deg"]["rmse_deg"] < 4.0
    by_second = verify_frame_model(result, "frames_detector_leave_out")
    assert set(by_second["pelvic_obliquity_deg"]["cameras"]) == {"cam01", "cam02", "cam04"}
