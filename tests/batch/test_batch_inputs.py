"""Folder discovery and manifest reading: which files are videos, ids, carried columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from screener.batch.inputs import (
    JobDefaults,
    discover_videos,
    is_video_candidate,
    make_video_ids,
    read_manifest,
    safe_id,
    sniff_video,
)
from screener.errors import ConfigError

MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
AVI_HEAD = b"RIFF\x00\x10\x00\x00AVI LIST"
MKV_HEAD = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81"


def _touch(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (MP4_HEAD, True),
        (AVI_HEAD, True),
        (MKV_HEAD, True),
        (b"hello, world\n", False),
        (b"", False),
    ],
)
def test_sniff_video_by_magic_bytes(tmp_path, content, expected):
    assert sniff_video(_touch(tmp_path / "f.bin", content)) is expected


def test_discovery_is_recursive_by_extension_and_content(tmp_path):
    root = tmp_path / "in"
    _touch(root / "s01" / "walk.mp4", MP4_HEAD)
    _touch(root / "s01" / "deep" / "SLS.MOV", MP4_HEAD)  # upper-case extension
    _touch(root / "s02" / "IMG_0001", MP4_HEAD)  # a video without an extension
    _touch(root / "s02" / "clip.webm", MKV_HEAD)
    _touch(root / "notes.mp4", b"not a video at all\n")  # kept: reported as a failure later
    _touch(root / "readme.txt", b"hello")  # ignored
    _touch(root / "walk.truth.json", b"{}")  # ignored
    _touch(root / ".hidden" / "x.mp4", MP4_HEAD)  # hidden folder skipped
    _touch(root / ".x.mp4", MP4_HEAD)  # hidden file skipped
    _touch(root / "out" / "videos" / "y.mp4", MP4_HEAD)  # the batch's own output folder

    jobs = discover_videos(root, JobDefaults(task="walk"), exclude=[root / "out"])

    rels = [j.meta["path"] for j in jobs]
    assert rels == [
        "notes.mp4",
        "s01/deep/SLS.MOV",
        "s01/walk.mp4",
        "s02/IMG_0001",
        "s02/clip.webm",
    ]
    assert all(j.path.is_absolute() and j.path.is_file() for j in jobs)
    assert all(j.task == "walk" and j.side == "auto" for j in jobs)
    ids = [j.video_id for j in jobs]
    assert len(set(ids)) == len(ids)
    assert ids[2] == "s01__walk.mp4"
    assert all("/" not in i and " " not in i for i in ids)


def test_not_a_folder_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not a folder"):
        discover_videos(tmp_path / "missing")


def test_is_video_candidate_keeps_mislabelled_files(tmp_path):
    assert is_video_candidate(_touch(tmp_path / "a.avi", b"text"))
    assert not is_video_candidate(_touch(tmp_path / "a.csv", b"text"))


def test_ids_are_safe_unique_and_independent_of_order():
    names = ["a b.mp4", "a_b.mp4", "x/Clip.mp4", "x/clip.mp4", "plain.mov"]
    ids = make_video_ids(names)
    assert len(set(i.lower() for i in ids)) == len(ids)
    assert ids[-1] == "plain.mov"
    assert make_video_ids(list(reversed(names))) == list(reversed(ids))
    assert safe_id("../../etc/passwd") == "etc__passwd"


def test_manifest_resolves_paths_applies_defaults_and_carries_extra_columns(tmp_path):
    _touch(tmp_path / "videos" / "a.mp4", MP4_HEAD)
    manifest = tmp_path / "study" / "manifest.csv"
    manifest.parent.mkdir()
    manifest.write_text(
        "path,task,side,view,subject,session,pain,age,group,first_line_done\n"
        "../videos/a.mp4,sls,right,anterior,S01,pre,4,34,control,yes\n"
        "../videos/b.mp4,,,,S02,post,,51,patient,\n"
    )
    jobs = read_manifest(manifest, JobDefaults(task="walk", pain=2.0))

    a, b = jobs
    assert a.path == (tmp_path / "videos" / "a.mp4").resolve()
    assert (a.task, a.side, a.view, a.pain, a.first_line_done) == (
        "sls",
        "right",
        "anterior",
        4.0,
        True,
    )
    assert (b.task, b.side, b.view, b.pain, b.first_line_done) == (
        "walk",
        "auto",
        "auto",
        2.0,
        False,
    )
    assert list(a.meta) == ["path", "subject", "session", "pain", "age", "group"]
    assert a.meta["subject"] == "S01" and a.meta["age"] == 34 and a.meta["group"] == "control"
    assert a.meta["path"] == "../videos/a.mp4"
    assert a.error is None and b.error is None
    assert a.video_id != b.video_id


def test_manifest_bad_rows_become_failed_jobs_not_a_stop(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,task,pain,side\na.mp4,run,4,left\nb.mp4,walk,12,left\n,walk,,\n")
    jobs = read_manifest(manifest)
    assert len(jobs) == 3
    assert "task='run'" in (jobs[0].error or "")
    assert "pain" in (jobs[1].error or "")
    assert "no path" in (jobs[2].error or "")


def test_manifest_lens_height_in_centimetres_reaches_the_analysis(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,lens_height_cm\na.mp4,55\nb.mp4,\nc.mp4,0.55\nd.mp4,high\n")
    a, b, c, d = read_manifest(manifest, JobDefaults(lens_height_m=0.8))
    assert a.error is None and a.lens_height_m == pytest.approx(0.55)
    assert a.analysis_args()["lens_height_m"] == pytest.approx(0.55)
    assert b.error is None and b.lens_height_m == pytest.approx(0.8)  # the default
    assert "lens_height_cm='0.55': the lens height must be 10-300 cm" in (c.error or "")
    assert "lens_height_cm='high': the lens height must be a number" in (d.error or "")
    # not given: the analysis arguments (hashed into a batch's settings) are unchanged
    (plain,) = read_manifest(tmp_path / "m.csv")[1:2]
    assert "lens_height_m" not in plain.analysis_args()


def test_manifest_camera_distance_in_metres_reaches_the_analysis(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,camera_distance_m\na.mp4,2.5\nb.mp4,\nc.mp4,250\nd.mp4,far\n")
    a, b, c, d = read_manifest(manifest, JobDefaults(camera_distance_m=3.0))
    assert a.error is None and a.camera_distance_m == pytest.approx(2.5)
    assert a.analysis_args()["camera_distance_m"] == pytest.approx(2.5)
    assert b.error is None and b.camera_distance_m == pytest.approx(3.0)  # the default
    assert "camera_distance_m='250': the camera distance must be 0.3-20 m" in (c.error or "")
    assert "camera_distance_m='far': the camera distance must be a number" in (d.error or "")
    assert "camera_distance_m" not in d.meta  # an interpreted column, not carried as is
    # not given: the analysis arguments (hashed into a batch's settings) are unchanged
    (plain,) = read_manifest(manifest)[1:2]
    assert "camera_distance_m" not in plain.analysis_args()


def test_manifest_patient_height_in_centimetres_reaches_the_analysis(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,patient_height_cm\na.mp4,150\nb.mp4,\nc.mp4,1.5\nd.mp4,tall\n")
    a, b, c, d = read_manifest(manifest, JobDefaults(patient_height_m=1.7))
    assert a.error is None and a.patient_height_m == pytest.approx(1.5)
    assert a.analysis_args()["patient_height_m"] == pytest.approx(1.5)
    assert b.error is None and b.patient_height_m == pytest.approx(1.7)  # the default
    assert "patient_height_cm='1.5': the patient's height must be 90-250 cm" in (c.error or "")
    assert "patient_height_cm='tall': the patient's height must be a number" in (d.error or "")
    assert "patient_height_cm" not in d.meta  # an interpreted column, not carried as is
    # not given: the analysis arguments (hashed into a batch's settings) are unchanged
    (plain,) = read_manifest(manifest)[1:2]
    assert "patient_height_m" not in plain.analysis_args()


def test_manifest_without_path_column_is_an_error(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("file,task\na.mp4,walk\n")
    with pytest.raises(ConfigError, match="no 'path' column"):
        read_manifest(manifest)


def test_manifest_ids_are_used_and_must_be_unique(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("id,path\nS01 walk,a.mp4\nS02-walk,b.mp4\n")
    assert [j.video_id for j in read_manifest(manifest)] == ["S01_walk", "S02-walk"]
    manifest.write_text("id,path\nS01,a.mp4\nS01,b.mp4\n")
    with pytest.raises(ConfigError, match="repeats the id"):
        read_manifest(manifest)
