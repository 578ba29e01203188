"""TRC, MOT and C3D exports, read back by readers independent of the writers.

``read_trc_spec`` and ``read_mot_spec`` below follow the published formats (OpenSim's
TRC marker file and storage ``.mot`` file), written from the format descriptions, not from
the screener's writer; the TRC is also read by ``trc-data-reader`` and the C3D by
``ezc3d`` (independent implementations).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from screener.batch.export import (
    angle_columns,
    marker_positions,
    parse_exports,
    write_c3d,
    write_exports,
    write_mot,
    write_trc,
)
from screener.landmarks import INDEX, LANDMARK_NAMES


def read_trc_spec(path: Path) -> dict:
    """TRC: 3 header lines (file type; header keys; values), a marker-name line
    (``Frame#``, ``Time``, then each name above its X column), a line of X1 Y1 Z1...,
    then tab-separated rows ``frame time x y z ...``."""
    lines = path.read_text().split("\n")
    assert lines[0].split("\t")[0] == "PathFileType" and lines[0].split("\t")[1] == "4"
    header = dict(zip(lines[1].split("\t"), lines[2].split("\t"), strict=True))
    names_row = lines[3].split("\t")
    assert names_row[:2] == ["Frame#", "Time"]
    markers = [names_row[i] for i in range(2, len(names_row), 3)]
    assert all(names_row[i] == "" for i in range(len(names_row)) if i >= 2 and (i - 2) % 3)
    coords = lines[4].split("\t")[2:]
    assert coords[:3] == ["X1", "Y1", "Z1"]
    rows = [ln.split("\t") for ln in lines[5:] if ln.strip()]
    data = np.array([[float(v) for v in r] for r in rows])
    return {
        "header": header,
        "markers": markers,
        "frame": data[:, 0].astype(int),
        "time": data[:, 1],
        "xyz": data[:, 2:].reshape(len(rows), len(markers), 3),
    }


def read_mot_spec(path: Path) -> dict:
    """OpenSim storage: ``key=value`` header lines up to ``endheader``, then a tab-separated
    column-label line and numeric rows."""
    lines = path.read_text().split("\n")
    end = lines.index("endheader")
    header = dict(ln.split("=", 1) for ln in lines[1:end] if "=" in ln)
    labels = lines[end + 1].split("\t")
    data = np.array([[float(v) for v in ln.split("\t")] for ln in lines[end + 2 :] if ln.strip()])
    assert data.shape == (int(header["nRows"]), int(header["nColumns"]))
    return {"name": lines[0], "header": header, "labels": labels, "data": data}


@pytest.fixture(scope="module")
def pose_with_gap(jog_result):
    """The cleaned pose with one landmark missing in a few frames."""
    world = jog_result.pose.world_xyz_m.copy()
    image = jog_result.pose.image_xy_px.copy()
    world[5:8, INDEX["left_knee"]] = np.nan
    image[5:8, INDEX["left_knee"]] = np.nan
    return jog_result.pose.with_arrays(world_xyz_m=world, image_xy_px=image)


def test_parse_exports():
    assert parse_exports("mot, TRC") == ("trc", "mot")
    assert parse_exports("") == ()
    with pytest.raises(ValueError, match="unknown export"):
        parse_exports("trc,fbx")


def test_trc_world_coordinates_read_back_by_spec_reader(tmp_path, pose_with_gap):
    pose = pose_with_gap
    trc = read_trc_spec(write_trc(tmp_path / "v.trc", pose, "world"))
    assert trc["header"]["Units"] == "m"
    assert int(trc["header"]["NumFrames"]) == pose.n_frames == len(trc["time"])
    assert int(trc["header"]["NumMarkers"]) == 33
    assert float(trc["header"]["DataRate"]) == pytest.approx(pose.fps, rel=1e-6)
    assert trc["markers"] == list(LANDMARK_NAMES)
    assert trc["frame"].tolist() == list(range(1, pose.n_frames + 1))
    np.testing.assert_allclose(trc["time"], pose.time_s, atol=1e-6)
    # Y up, Z toward the camera: MediaPipe's y (down) and z (away) change sign
    mp = pose.world_xyz_m
    np.testing.assert_allclose(trc["xyz"][..., 0], mp[..., 0], atol=1e-6)
    np.testing.assert_allclose(trc["xyz"][..., 1], -mp[..., 1], atol=1e-6)
    np.testing.assert_allclose(trc["xyz"][..., 2], -mp[..., 2], atol=1e-6)
    knee = INDEX["left_knee"]
    assert np.isnan(trc["xyz"][5:8, knee]).all() and np.isfinite(trc["xyz"][8, knee]).all()
    # shoulders are above the hips (Y up) in the exported frame
    assert (trc["xyz"][:, INDEX["left_shoulder"], 1] > trc["xyz"][:, INDEX["left_hip"], 1]).all()


def test_trc_read_by_trc_data_reader(tmp_path, pose_with_gap):
    import trc as trc_reader  # trc-data-reader (dev extra)

    path = write_trc(tmp_path / "v.trc", pose_with_gap, "image")
    data = trc_reader.TRCData()
    data.load(str(path))
    assert data["NumFrames"] == pose_with_gap.n_frames
    assert data["Units"] == "px"
    assert data["Markers"] == list(LANDMARK_NAMES)
    ankle = np.array(data["right_ankle"])
    xy = pose_with_gap.image_xy_px[:, INDEX["right_ankle"]]
    np.testing.assert_allclose(ankle[:, 0], xy[:, 0], atol=1e-5)
    np.testing.assert_allclose(ankle[:, 1], pose_with_gap.image_size_px[1] - xy[:, 1], atol=1e-5)
    assert (ankle[:, 2] == 0).all()


def test_mot_read_back_by_spec_reader(tmp_path, jog_result):
    frames = jog_result.frames
    mot = read_mot_spec(write_mot(tmp_path / "angles.mot", frames))
    assert mot["name"] == "angles"
    assert mot["header"]["inDegrees"] == "yes"
    cols = angle_columns(frames)
    assert mot["labels"] == ["time", *cols]
    assert "pelvic_obliquity_deg" in cols and "left_knee_fppa_deg" in cols
    np.testing.assert_allclose(mot["data"][:, 0], frames["time_s"], atol=1e-6)
    np.testing.assert_allclose(
        mot["data"][:, 1:], frames[cols].to_numpy(float), atol=1e-6, equal_nan=True
    )


def test_c3d_read_by_ezc3d(tmp_path, pose_with_gap):
    import ezc3d  # dev extra; the writer uses the c3d package (batch extra)

    path = write_c3d(tmp_path / "v.c3d", pose_with_gap, "world")
    c = ezc3d.c3d(str(path))
    assert c["parameters"]["POINT"]["LABELS"]["value"] == list(LANDMARK_NAMES)
    assert c["header"]["points"]["frame_rate"] == pytest.approx(pose_with_gap.fps, rel=1e-4)
    points = c["data"]["points"]  # (4, markers, frames), homogeneous
    assert points.shape[1:] == (33, pose_with_gap.n_frames)
    expected, _ = marker_positions(pose_with_gap, "world")
    got = np.moveaxis(points[:3], 0, -1).transpose(1, 0, 2)  # (frames, markers, 3)
    np.testing.assert_allclose(got, expected, atol=1e-5, equal_nan=True)


def test_write_exports_names_files_after_the_video(tmp_path, jog_result):
    files = write_exports(
        tmp_path, "s01__walk.mp4", ("trc", "mot"), jog_result.pose, jog_result.frames
    )
    assert [p.name for p in files] == ["s01__walk.mp4.trc", "s01__walk.mp4.mot"]
    assert all(p.stat().st_size > 0 for p in files)
